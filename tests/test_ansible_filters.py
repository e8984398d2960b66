"""The role's filters, called as Ansible calls them."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import tarfile
from pathlib import Path

PLUGIN = Path(__file__).parent.parent / "ansible/roles/nodewise/filter_plugins/nodewise_files.py"


def load_filters() -> dict:
    spec = importlib.util.spec_from_file_location("nodewise_files", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


def test_files_missing_compares_names_and_sizes_not_folders():
    missing = load_filters()["nodewise_files_missing"]
    node = [{"path": "/opt/nodewise/models/a.json", "size": 10},
            {"path": "/opt/nodewise/models/b.tar.gz", "size": 300},
            {"path": "/opt/nodewise/models/c.json", "size": 12}]
    controller = [{"path": "/home/u/reports/models/a.json", "size": 10},
                  {"path": "/home/u/reports/models/b.tar.gz", "size": 100}]
    assert [f["path"] for f in missing(node, controller)] == [
        "/opt/nodewise/models/b.tar.gz", "/opt/nodewise/models/c.json"]
    assert missing(node, node) == []
    assert missing([], controller) == []


UNPACK = Path(__file__).parent.parent / "ansible/roles/nodewise/files/unpack_records.py"


def pack(tmp_path, members: dict) -> Path:
    """A tar of `members` (name: bytes, or None for a symbolic link to /etc/passwd)."""
    archive = tmp_path / "records.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return archive


def unpack(archive, dest, *names):
    return subprocess.run([sys.executable, str(UNPACK), str(archive), str(dest), *names],
                          capture_output=True, text=True, check=False)


def test_unpack_records_writes_the_named_files_private_and_nothing_else(tmp_path):
    archive = pack(tmp_path, {"m.tar.gz": b"model", "m.json": b"{}", "extra.json": b"x"})
    dest = tmp_path / "models"
    dest.mkdir()
    result = unpack(archive, dest, "m.tar.gz", "m.json")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["m.json", "m.tar.gz"]
    assert (dest / "m.tar.gz").read_bytes() == b"model"
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in dest.iterdir())
    assert not archive.exists()


def test_unpack_records_refuses_links_paths_and_absent_names_naming_them(tmp_path):
    dest = tmp_path / "runs"
    dest.mkdir()
    members = {"ok.json": b"{}", "link.json": None, "sub/x.json": b"{}"}
    for name, says in [("link.json", "not a plain file"), ("sub/x.json", "not a plain file name"),
                       ("gone.json", "is not in")]:
        result = unpack(pack(tmp_path, members), dest, "ok.json", name)
        assert result.returncode != 0 and f"'{name}'" in result.stderr and says in result.stderr
        assert not (tmp_path / "records.tar").exists()
    assert sorted(p.name for p in dest.iterdir()) == ["ok.json"]  # no partial file left
