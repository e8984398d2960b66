"""Filters for moving write-once files (run records, models) between hosts."""

from __future__ import annotations

import os


def _key(file: dict) -> tuple[str, int]:
    return os.path.basename(file["path"]), int(file["size"])


def nodewise_files_missing(files: list[dict], present: list[dict]) -> list[dict]:
    """The `files` (ansible.builtin.find results) that `present` has not with the same
    name and size. Records and models are written once under unique names, so name
    and size tell a copied file from a missing or cut-short one."""
    have = {_key(file) for file in present}
    return [file for file in files if _key(file) not in have]


class FilterModule:
    def filters(self):
        return {"nodewise_files_missing": nodewise_files_missing}
