"""Model archives extract safely on every node Python, Debian 12's 3.11.2 included.

Each case runs with this venv's Python and, as a subprocess, with
/usr/bin/python3: on this machine (as on a fresh Debian 12 node) that is
3.11.2, whose tarfile has no filter= argument, so the module's own
extraction runs there. In-process cases also force that path here.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import tarfile

import pytest

from nodewise import archive as archive_module
from nodewise.archive import UnsafeArchive, extract_all

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_PYTHON = "/usr/bin/python3"


def make_archive(path, *members):
    with tarfile.open(path, "w:gz") as out:
        for member, data in members:
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def regular(name, data=b"x", mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    return info, data


def folder(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info, None


def special(name, kind, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


GOOD = [folder("model"), folder("model/metadata"), regular("model/metadata/part-0", b"{}"),
        regular("model/stages/0_lr/data.parquet", b"PAR1", mode=0o6755)]
BAD = {
    "parent": ([regular("model/ok"), regular("../evil")], "'../evil' points outside"),
    "nested parent": ([regular("model/../../evil")], "'model/../../evil' points outside"),
    "absolute": ([regular("/tmp/nodewise-evil")], "'/tmp/nodewise-evil' has an absolute path"),
    "symlink": ([special("model/link", tarfile.SYMTYPE, "/etc/passwd")], "'model/link' is a link"),
    "hard link": ([regular("model/a"), special("model/b", tarfile.LNKTYPE, "model/a")],
                  "'model/b' is a link"),
    "device": ([special("model/null", tarfile.CHRTYPE)], "'model/null' is a device"),
    "fifo": ([special("model/pipe", tarfile.FIFOTYPE)], "'model/pipe' is a device"),
}


def debian_python():
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        pytest.skip(f"{DEBIAN_PYTHON} does not exist here: the Debian 12 Python check needs it")
    return DEBIAN_PYTHON


PYTHONS = [pytest.param(lambda: sys.executable, id="venv"), pytest.param(debian_python, id="debian")]


def extract_with(python, archive, target):
    code = ("import sys; from nodewise.archive import extract_all; "
            "extract_all(sys.argv[1], sys.argv[2])")
    env = {**os.environ, "PYTHONPATH": os.path.join(PROJECT, "jobs")}
    return subprocess.run([python, "-c", code, str(archive), str(target)],
                          capture_output=True, text=True, env=env, check=False)


def test_debian_python_is_the_one_without_the_filter_argument():
    python = debian_python()
    result = subprocess.run([python, "-c", "import sys, tarfile; "
                             "print(sys.version.split()[0], hasattr(tarfile, 'data_filter'))"],
                            capture_output=True, text=True, check=True)
    version, has_filter = result.stdout.split()
    if version != "3.11.2":
        pytest.skip(f"{python} is Python {version}, not Debian 12's 3.11.2")
    assert has_filter == "False"


@pytest.mark.parametrize("python", PYTHONS)
def test_a_model_archive_extracts(python, tmp_path):
    archive = make_archive(tmp_path / "model.tar.gz", *GOOD)
    result = extract_with(python(), archive, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out" / "model"
    assert (out / "metadata" / "part-0").read_bytes() == b"{}"
    data = out / "stages" / "0_lr" / "data.parquet"
    assert data.read_bytes() == b"PAR1"
    mode = stat.S_IMODE(data.stat().st_mode)
    assert not mode & (stat.S_ISUID | stat.S_ISGID | 0o022) and mode & 0o100


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_member_outside_the_target_a_link_or_a_device_is_refused(python, kind, tmp_path):
    members, message = BAD[kind]
    archive = make_archive(tmp_path / "bad.tar.gz", *members)
    result = extract_with(python(), archive, tmp_path / "sub" / "out")
    assert result.returncode != 0
    assert "UnsafeArchive" in result.stderr and message in result.stderr, result.stderr
    # Checked before anything is written: not even the good members land.
    assert os.listdir(tmp_path / "sub" / "out") == []
    assert not (tmp_path / "sub" / "evil").exists() and not (tmp_path / "evil").exists()
    assert not os.path.exists("/tmp/nodewise-evil")


@pytest.mark.parametrize("has_filter", [True, False], ids=["filter", "own-extraction"])
def test_in_process_both_ways_extract_the_same_and_refuse_the_same(has_filter, monkeypatch,
                                                                    tmp_path):
    if not has_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python's tarfile has no filter= argument")
    extract_all(str(make_archive(tmp_path / "good.tar.gz", *GOOD)), str(tmp_path / "good"))
    found = sorted(os.path.relpath(os.path.join(root, name), tmp_path / "good")
                   for root, dirs, files in os.walk(tmp_path / "good") for name in dirs + files)
    assert found == ["model", "model/metadata", "model/metadata/part-0", "model/stages",
                     "model/stages/0_lr", "model/stages/0_lr/data.parquet"]
    for kind, (members, message) in BAD.items():
        bad = make_archive(tmp_path / "bad.tar.gz", *members)
        with pytest.raises(UnsafeArchive, match=message.replace(".", r"\.")):
            extract_all(str(bad), str(tmp_path / kind))


def test_the_module_needs_no_pyspark():
    # Node code: importable with the standard library alone.
    code = "import sys, nodewise.archive; print(sorted(m for m in sys.modules if 'spark' in m))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": os.path.join(PROJECT, "jobs")},
                            check=True)
    assert result.stdout.strip() == "[]"
    assert archive_module.UnsafeArchive.__mro__[1] is ValueError
