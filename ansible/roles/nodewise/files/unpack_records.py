"""Unpack the records a node packed (tasks/fetch_records.yml), on the controller.

Usage: python unpack_records.py ARCHIVE DEST NAME...

Writes each NAME, in the order given, from the tar ARCHIVE into the folder
DEST, readable by its owner only, and removes ARCHIVE. Only the names asked for are taken, and each
must be a plain file in the archive: a missing name, a link or a path is an
error naming it, and nothing after it is written. Each file is written under
a temporary name and then renamed, so a file the controller lists is whole.
Standard library only: the controller's Python may be any 3.11.
"""

from __future__ import annotations

import os
import shutil
import sys
import tarfile


def _member(archive: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    if os.path.basename(name) != name or name in ("", ".", ".."):
        sys.exit(f"unpack_records: {name!r} is not a plain file name")
    try:
        member = archive.getmember(name)
    except KeyError:
        sys.exit(f"unpack_records: {name!r} is not in {archive.name}")
    if not member.isfile():
        sys.exit(f"unpack_records: {name!r} in {archive.name} is not a plain file")
    return member


def unpack(archive_path: str, dest: str, names: list[str]) -> None:
    with tarfile.open(archive_path) as archive:
        for name in names:
            source = archive.extractfile(_member(archive, name))
            partial = os.path.join(dest, f".{name}.part")
            with source, open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                shutil.copyfileobj(source, out)
            os.replace(partial, os.path.join(dest, name))


if __name__ == "__main__":
    try:
        unpack(sys.argv[1], sys.argv[2], sys.argv[3:])
    finally:
        os.remove(sys.argv[1])
