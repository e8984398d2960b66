"""Cutting the dataset into one slice per inventory host."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from nodewise.slices import slice_path
from nodewise_cli.files import atomic_directory

MASTER_GROUP = "spark_master"
WORKER_GROUP = "spark_workers"


def _ansible_inventory_command() -> str:
    beside_python = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    return beside_python if os.path.exists(beside_python) else "ansible-inventory"


def inventory_nodes(inventory: str) -> list[str]:
    """The hosts of `inventory`: the master first, then the workers, in order."""
    result = subprocess.run(
        [_ansible_inventory_command(), "-i", inventory, "--list"],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ValueError(f"cannot read inventory {inventory}: {result.stderr.strip()}")
    groups = json.loads(result.stdout)
    masters = groups.get(MASTER_GROUP, {}).get("hosts", [])
    if len(masters) != 1:
        raise ValueError(f"inventory {inventory}: group [{MASTER_GROUP}] must hold exactly "
                         f"one host, it holds {len(masters)}")
    workers = groups.get(WORKER_GROUP, {}).get("hosts", [])
    return list(dict.fromkeys(masters + workers))


def slice_bounds(total_rows: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous, near-equal [start, end) row ranges, sizes differing by at most one."""
    return [(total_rows * i // parts, total_rows * (i + 1) // parts) for i in range(parts)]


def _count_rows(source: str) -> int:
    with open(source, "rb") as handle:
        return sum(1 for _ in handle) - 1


def split_file(source: str, nodes: list[str], out_dir: str) -> dict[str, int]:
    """Write `jobs_<node>.csv` per node into `out_dir` (replaced whole); rows per node."""
    bounds = slice_bounds(_count_rows(source), len(nodes))
    counts = {}
    with atomic_directory(out_dir) as staging, open(source, encoding="utf-8") as rows:
        header = next(rows)
        for node, (start, end) in zip(nodes, bounds):
            with open(slice_path(staging, node), "w", encoding="utf-8") as out:
                out.write(header)
                for _ in range(end - start):
                    out.write(next(rows))
            counts[node] = end - start
    return counts
