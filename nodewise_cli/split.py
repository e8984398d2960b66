"""Cutting the dataset into one slice per inventory host.

How rows go to nodes (`make data SPLIT=...`):
- `iid`: contiguous near-equal cuts of the file as it is (the generated file is
  shuffled), so every node sees the same distribution;
- `label`: each label's rows are shared across the nodes in Dirichlet(alpha)
  proportions, as NIID-Bench's `p_k ~ Dir(beta)`: a small alpha gives each
  node a few labels;
- `quantity`: the node sizes are Dirichlet(alpha) proportions of the rows;
- `column`: every distinct value of one column lies wholly on one node, as
  Flower's NaturalIdPartitioner does with ids.
Every kind is deterministic given the split seed. Rows keep their file order
within a slice.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import dataclasses
import json
import os

import numpy as np

from nodewise import manifest, schema
from nodewise.slices import slice_path
from nodewise_cli.files import atomic_directory

IID, LABEL, QUANTITY, COLUMN = "iid", "label", "quantity", "column"
KINDS = (IID, LABEL, QUANTITY, COLUMN)
DEFAULT_ALPHA = 0.5
DEFAULT_SEED = 42
# Dirichlet draws that leave a node without rows are drawn again, this many times at most.
MAX_DRAWS = 100


class SplitError(ValueError):
    """The split cannot be made as asked; the message says why and what to change."""


@dataclasses.dataclass(frozen=True)
class Split:
    """How rows go to nodes: the kind and only the parameters it uses."""

    kind: str = IID
    alpha: float = DEFAULT_ALPHA
    column: str | None = None
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SplitError(f"unknown split {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.kind in (LABEL, QUANTITY) and not self.alpha > 0:
            raise SplitError(f"ALPHA must be above 0, not {self.alpha}")
        if self.kind == COLUMN and not self.column:
            raise SplitError("SPLIT=column needs SPLIT_COLUMN= (for example Job_Title)")

    def identity(self, draws: int = 1) -> dict:
        """What the manifest records of the split: the kind and its parameters."""
        if self.kind == IID:
            return {"kind": IID}
        if self.kind == COLUMN:
            return {"kind": COLUMN, "column": self.column, "seed": self.seed}
        return {"kind": self.kind, "alpha": self.alpha, "seed": self.seed, "draws": draws}

    def words(self) -> str:
        """The split as the make variables that give it."""
        if self.kind == IID:
            return "SPLIT=iid"
        if self.kind == COLUMN:
            return f"SPLIT=column SPLIT_COLUMN={self.column} SPLIT_SEED={self.seed}"
        return f"SPLIT={self.kind} ALPHA={self.alpha:g} SPLIT_SEED={self.seed}"


def words_of(identity: dict | None) -> str:
    """A manifest's or a record's split (None: from before records named it, iid) as the
    make variables that give it."""
    identity = identity or {"kind": IID}
    try:
        return Split(**{key: identity[key] for key in ("kind", "alpha", "column", "seed")
                        if key in identity}).words()
    except (TypeError, ValueError):
        return f"SPLIT={identity.get('kind')}"


def slice_bounds(total_rows: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous, near-equal [start, end) row ranges, sizes differing by at most one."""
    return [(total_rows * i // parts, total_rows * (i + 1) // parts) for i in range(parts)]


def iid_nodes(total_rows: int, parts: int) -> np.ndarray:
    """The node index of every row under today's contiguous cut."""
    nodes = np.empty(total_rows, dtype=int)
    for node, (start, end) in enumerate(slice_bounds(total_rows, parts)):
        nodes[start:end] = node
    return nodes


def _dirichlet_cut(rows: np.ndarray, parts: int, alpha: float, rng: np.random.Generator,
                   nodes: np.ndarray) -> None:
    """Give `rows` (indices, in a random order) to the nodes in Dirichlet(alpha) shares."""
    shares = rng.dirichlet(np.full(parts, alpha))
    cuts = (np.cumsum(shares)[:-1] * len(rows)).astype(int)
    for node, part in enumerate(np.split(rows, cuts)):
        nodes[part] = node


def label_nodes(labels: np.ndarray, parts: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Each label's rows shared across the nodes in Dirichlet(alpha) proportions."""
    nodes = np.empty(len(labels), dtype=int)
    for label in sorted(set(labels)):
        _dirichlet_cut(rng.permutation(np.flatnonzero(labels == label)), parts, alpha, rng, nodes)
    return nodes


def quantity_nodes(total_rows: int, parts: int, alpha: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Node sizes in Dirichlet(alpha) proportions; which rows, at random."""
    nodes = np.empty(total_rows, dtype=int)
    _dirichlet_cut(rng.permutation(total_rows), parts, alpha, rng, nodes)
    return nodes


def column_nodes(values: np.ndarray, parts: int, rng: np.random.Generator) -> np.ndarray:
    """Every distinct value on one node: values in a random order, the most frequent
    first, each to the node with the fewest rows so far (so sizes stay close)."""
    distinct, counts = np.unique(values, return_counts=True)
    order = rng.permutation(len(distinct))
    order = order[np.argsort(-counts[order], kind="stable")]
    sizes, owner = np.zeros(parts, dtype=int), {}
    for index in order:
        node = int(np.argmin(sizes))
        owner[distinct[index]] = node
        sizes[node] += counts[index]
    return np.array([owner[value] for value in values], dtype=int)


def _empty_nodes(nodes: np.ndarray, names: list[str]) -> list[str]:
    return [name for index, name in enumerate(names) if not np.any(nodes == index)]


def _column(source: str, name: str, what: str) -> np.ndarray:
    """One column's values, row by row, read as a stream (the file may be large)."""
    with open(source, encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if name not in header:
            raise SplitError(f"{what} is not a column of {source} (its columns: "
                             f"{', '.join(header)})")
        index = header.index(name)
        return np.array([row[index] for row in reader])


def _count_rows(source: str) -> int:
    with open(source, "rb") as handle:
        return sum(1 for _ in handle) - 1


def assign(split: Split, source: str, names: list[str]) -> tuple[np.ndarray, int]:
    """(node index of every row, Dirichlet draws it took); SplitError when a node would
    get no rows."""
    parts = len(names)
    if split.kind == IID:
        return iid_nodes(_count_rows(source), parts), 1
    rng = np.random.default_rng(split.seed)
    total = _count_rows(source)
    if total < parts:
        raise SplitError(f"{source} has {total} row(s), fewer than the {parts} nodes")
    if split.kind == COLUMN:
        values = _column(source, split.column, f"SPLIT_COLUMN={split.column}")
        if len(set(values)) < parts:
            raise SplitError(f"SPLIT_COLUMN={split.column} has {len(set(values))} distinct "
                             f"value(s), fewer than the {parts} nodes: choose a column with "
                             f"more (for example {schema.JOB_TITLE})")
        return column_nodes(values, parts, rng), 1
    labels = _column(source, schema.LABEL, f"the label, {schema.LABEL},")
    for draw in range(1, MAX_DRAWS + 1):
        if split.kind == LABEL:
            nodes = label_nodes(labels, parts, split.alpha, rng)
        else:
            nodes = quantity_nodes(len(labels), parts, split.alpha, rng)
        empty = _empty_nodes(nodes, names)
        if not empty:
            return nodes, draw
    raise SplitError(f"{split.words()}: each of {MAX_DRAWS} draws left a node with no rows "
                     f"(the last: {', '.join(empty)}): choose a larger ALPHA (for example "
                     f"{max(1.0, split.alpha * 4):g})")


def _write_slices(source: str, owners: np.ndarray, nodes: list[str],
                  staging: str) -> dict[str, collections.Counter]:
    """Every row into its node's slice, in file order; rows per label per node."""
    labels = {node: collections.Counter() for node in nodes}
    with contextlib.ExitStack() as stack, open(source, encoding="utf-8") as rows:
        outs = [stack.enter_context(open(slice_path(staging, node), "w", encoding="utf-8"))
                for node in nodes]
        header = next(rows)
        fields = next(csv.reader([header]))
        label = fields.index(schema.LABEL) if schema.LABEL in fields else None
        for out in outs:
            out.write(header)
        for owner, line in zip(owners, rows, strict=True):
            outs[owner].write(line)
            if label is not None:
                labels[nodes[owner]][next(csv.reader([line]))[label]] += 1
    return labels


def _label_counts(counter: collections.Counter) -> dict[str, int]:
    """Rows per label, every label of the schema listed (0 when absent)."""
    return {**dict.fromkeys(schema.LABELS, 0), **counter} if counter else {}


def split_file(source: str, nodes: list[str], out_dir: str,
               split: Split = Split()) -> dict[str, int]:
    """Write `jobs_<node>.csv` per node and their manifest into `out_dir` (replaced
    whole); rows per node. SplitError, with nothing written, when the split cannot be made."""
    owners, draws = assign(split, source, nodes)
    counts = {node: int(np.sum(owners == index)) for index, node in enumerate(nodes)}
    with atomic_directory(out_dir) as staging:
        labels = _write_slices(source, owners, nodes, staging)
        sha256 = {node: manifest.sha256_of(slice_path(staging, node)) for node in nodes}
        per_label = {node: _label_counts(labels[node]) for node in nodes}
        with open(manifest.manifest_path(staging), "w", encoding="utf-8") as out:
            json.dump(manifest.build(counts, sha256, split.identity(draws), per_label), out,
                      indent=2, sort_keys=True)
            out.write("\n")
        for name in os.listdir(staging):  # the folder is 0700 (mkdtemp); its files 0600
            os.chmod(os.path.join(staging, name), 0o600)
    return counts
