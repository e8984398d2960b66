"""Safe extraction of the project's own archives (models), standard library only.

`tarfile`'s `filter="data"` came in Python 3.11.4; Debian 12's own python3
is 3.11.2, so there this module extracts by itself, and as strictly: only
regular files and folders whose paths stay inside the target folder; an
absolute path, `..` out of it, a link or a device is refused, naming the
member, before anything is written. Files get no owner, set-id bits or
group/other write permission from the archive.
"""

from __future__ import annotations

import os
import shutil
import tarfile


class UnsafeArchive(ValueError):
    """An archive member that extraction refuses; the message names it."""


def _destination(member: tarfile.TarInfo, target: str) -> str:
    """The path `member` extracts to, or UnsafeArchive unless it is a plain file or folder in `target`."""
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "device or special file"
        raise UnsafeArchive(f"archive member {member.name!r} is a {kind}, not a plain file or folder")
    if os.path.isabs(member.name) or member.name.startswith(("/", "\\")):
        raise UnsafeArchive(f"archive member {member.name!r} has an absolute path")
    path = os.path.realpath(os.path.join(target, member.name))
    if os.path.commonpath([path, target]) != target:
        raise UnsafeArchive(f"archive member {member.name!r} points outside {target}")
    return path


def _extract_plain(archive: tarfile.TarFile, members: list, paths: list[str]) -> None:
    """Write checked members: folders and file contents only, modes from the umask."""
    for member, path in zip(members, paths, strict=True):
        if member.isdir():
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        source = archive.extractfile(member)
        with source, open(path, "wb") as out:
            shutil.copyfileobj(source, out)
        if member.mode & 0o100:     # keep "executable", like filter="data"
            os.chmod(path, os.stat(path).st_mode | 0o111 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def extract_all(archive_path: str, target: str) -> None:
    """Extract the .tar.gz `archive_path` into `target`; UnsafeArchive if a member is refused."""
    os.makedirs(target, exist_ok=True)
    target = os.path.realpath(target)
    with tarfile.open(archive_path, "r:gz") as archive:
        members = archive.getmembers()
        paths = [_destination(member, target) for member in members]
        if hasattr(tarfile, "data_filter"):
            archive.extractall(target, members=members, filter="data")
        else:
            _extract_plain(archive, members, paths)
