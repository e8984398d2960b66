"""Pack the job files into one tar archive, run on the controller by the role.

Usage: python pack_jobs.py ARCHIVE JOBS_DIR FILE...

Each FILE (a path under JOBS_DIR) goes in under its path relative to JOBS_DIR,
in sorted order, with no owner and fixed modes (files 0640, folders 0750):
the same files give the same bytes, so one checksum tells whether a node has
them all. The modification times stay the files' own, so Python's caches see
an edit.
"""

from __future__ import annotations

import os
import sys
import tarfile


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o750 if info.isdir() else 0o640
    return info


def pack(archive: str, jobs_dir: str, files: list[str]) -> None:
    names = sorted(os.path.relpath(path, jobs_dir) for path in files)
    folders = sorted({os.path.dirname(name) for name in names} - {""})
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
        for name in folders + names:
            tar.add(os.path.join(jobs_dir, name), arcname=name, recursive=False,
                    filter=_normalised)


if __name__ == "__main__":
    pack(sys.argv[1], sys.argv[2], sys.argv[3:])
