"""The role's filters, called as Ansible calls them."""

from __future__ import annotations

import importlib.util
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
