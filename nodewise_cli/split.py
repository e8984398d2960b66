"""Cutting the dataset into one slice per inventory host."""

from __future__ import annotations

import json
import os

from nodewise import manifest
from nodewise.slices import slice_path
from nodewise_cli.files import atomic_directory


def slice_bounds(total_rows: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous, near-equal [start, end) row ranges, sizes differing by at most one."""
    return [(total_rows * i // parts, total_rows * (i + 1) // parts) for i in range(parts)]


def _count_rows(source: str) -> int:
    with open(source, "rb") as handle:
        return sum(1 for _ in handle) - 1


def split_file(source: str, nodes: list[str], out_dir: str) -> dict[str, int]:
    """Write `jobs_<node>.csv` per node and their manifest into `out_dir` (replaced
    whole); rows per node."""
    bounds = slice_bounds(_count_rows(source), len(nodes))
    counts = {}
    with atomic_directory(out_dir) as staging, open(source, encoding="utf-8") as rows:
        header = next(rows)
        for node, (start, end) in zip(nodes, bounds, strict=True):
            with open(slice_path(staging, node), "w", encoding="utf-8") as out:
                out.write(header)
                for _ in range(end - start):
                    out.write(next(rows))
            counts[node] = end - start
        sha256 = {node: manifest.sha256_of(slice_path(staging, node)) for node in nodes}
        with open(manifest.manifest_path(staging), "w", encoding="utf-8") as out:
            json.dump(manifest.build(counts, sha256), out, indent=2, sort_keys=True)
            out.write("\n")
        for name in os.listdir(staging):  # the folder is 0700 (mkdtemp); its files 0600
            os.chmod(os.path.join(staging, name), 0o600)
    return counts
