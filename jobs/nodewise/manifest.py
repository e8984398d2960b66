"""The slices' manifest: rows and sha256 of every node's slice.

`make data` writes it beside the slices (data/split/manifest.json) and `make
up` puts a copy beside each node's slice. The playbooks compare each node's
slice with it before a job starts, and every trainer compares the rows it
read per node with it before the fit and after: a slice that is missing,
truncated or from another split stops the run, naming its node.
"""

from __future__ import annotations

import hashlib
import json
import os

MANIFEST = "manifest.json"
VERSION = 1


def manifest_path(data_dir: str) -> str:
    return os.path.join(data_dir, MANIFEST)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(rows: dict[str, int], sha256: dict[str, str], split: dict | None = None,
          labels: dict[str, dict[str, int]] | None = None) -> dict:
    """The manifest: per node its rows, sha256 and rows per label; and how the rows were
    split (the kind and its parameters)."""
    slices = {node: {"rows": rows[node], "sha256": sha256[node]} for node in rows}
    for node, counts in (labels or {}).items():
        if counts:
            slices[node]["labels"] = counts
    return {"version": VERSION, "split": split or {"kind": "iid"}, "slices": slices}


def read(path: str) -> dict:
    """The manifest at `path`; ValueError naming the file when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
        slices = manifest["slices"]
        return {node: int(entry["rows"]) for node, entry in slices.items()}
    except FileNotFoundError:
        raise ValueError(f"no slice manifest at {path}: run make data and make up") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"unreadable slice manifest {path}: {error}") from None


def split_identity(path: str) -> dict:
    """How the slices listed in the manifest at `path` were split: the kind, its
    parameters, each node's rows per label, and the manifest's sha256, which names these
    very slices. Every run record carries it, so that no table mixes runs of different
    splits and the report can show who owns which labels."""
    try:
        with open(path, encoding="utf-8") as handle:
            written = json.load(handle)
        split = written.get("split") or {"kind": "iid"}
        labels = {node: entry["labels"] for node, entry in written["slices"].items()
                  if entry.get("labels")}
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as error:
        raise ValueError(f"unreadable slice manifest {path}: {error}") from None
    return {**split, **({"labels_per_node": labels} if labels else {}),
            "manifest_sha256": sha256_of(path)}


def row_problems(expected: dict[str, int], read_rows: dict[str, int], nodes: list[str],
                 when: str, source: str = "the manifest has") -> list[str]:
    """What differs, for `nodes`, between the rows `read_rows` per node and `expected`
    (the manifest's, or those read before the fit)."""
    problems = []
    for node in nodes:
        want, got = expected.get(node), read_rows.get(node, 0)
        if want is None:
            problems.append(f"{node} has no slice in the manifest: run make data and make up")
        elif got != want:
            what = "its slice is missing" if got == 0 else "its slice is truncated or changed"
            problems.append(f"{node}: {got} rows {when}, {source} {want} ({what} on {node}: "
                            f"run make up to put it back)")
    return problems


def require_rows(expected: dict[str, int], read_rows: dict[str, int], nodes: list[str],
                 when: str, source: str = "the manifest has") -> None:
    """ValueError naming every node whose rows differ (see `row_problems`)."""
    problems = row_problems(expected, read_rows, nodes, when, source)
    if problems:
        raise ValueError("; ".join(problems))
