"""How rows go to nodes (nodewise_cli/split.py): iid, label skew, quantity skew and a
column's values per node, on generated data with the real file's structure."""

from __future__ import annotations

import collections
import csv
import json

import pytest
from click.testing import CliRunner

from nodewise import manifest, schema
from nodewise_cli import generate, split
from nodewise_cli.cli import main

NODES = ["master", "w1", "w2"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "jobs.csv"
    generate.write_csv(str(path), 3000, 42)
    return str(path)


def slices(out_dir) -> dict[str, list[dict]]:
    rows = {}
    for node in NODES:
        with open(out_dir / f"jobs_{node}.csv", encoding="utf-8", newline="") as handle:
            rows[node] = list(csv.DictReader(handle))
    return rows


def label_shares(rows: list[dict]) -> dict[str, float]:
    counts = collections.Counter(row[schema.LABEL] for row in rows)
    return {label: counts[label] / len(rows) for label in schema.LABELS}


def distance(p: dict[str, float], q: dict[str, float]) -> float:
    """Total variation distance of two label distributions."""
    return sum(abs(p[label] - q[label]) for label in schema.LABELS) / 2


def skews(out_dir) -> dict[str, float]:
    per_node = slices(out_dir)
    everyone = label_shares([row for rows in per_node.values() for row in rows])
    return {node: distance(label_shares(rows), everyone) for node, rows in per_node.items()}


def split_into(dataset, out_dir, **how) -> dict[str, int]:
    return split.split_file(dataset, NODES, str(out_dir), split.Split(**how))


def read_manifest(out_dir) -> dict:
    return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))


def test_a_large_alpha_comes_out_close_to_iid(dataset, tmp_path):
    counts = split_into(dataset, tmp_path, kind="label", alpha=1000)
    assert sum(counts.values()) == 3000
    assert all(900 <= rows <= 1100 for rows in counts.values()), counts
    assert max(skews(tmp_path).values()) < 0.05


def test_a_small_alpha_gives_nodes_few_labels(dataset, tmp_path):
    split_into(dataset, tmp_path, kind="label", alpha=0.1)
    assert max(skews(tmp_path).values()) > 0.3


def test_quantity_skew_changes_sizes_not_label_shares(dataset, tmp_path):
    counts = split_into(dataset, tmp_path, kind="quantity", alpha=0.5)
    assert max(counts.values()) > 2 * min(counts.values()), counts
    large = [node for node, rows in counts.items() if rows >= 300]
    assert large and all(skews(tmp_path)[node] < 0.1 for node in large)


def test_with_column_each_value_lies_on_one_node(dataset, tmp_path):
    counts = split_into(dataset, tmp_path, kind="column", column=schema.JOB_TITLE)
    owners = collections.defaultdict(set)
    for node, rows in slices(tmp_path).items():
        for row in rows:
            owners[row[schema.JOB_TITLE]].add(node)
    assert all(len(nodes) == 1 for nodes in owners.values())
    assert len(owners) == len(schema.JOB_TITLES)
    assert sum(counts.values()) == 3000
    assert max(counts.values()) < 1.5 * min(counts.values()), counts  # largest values spread first


@pytest.mark.parametrize("how", [dict(kind="label", alpha=0.3), dict(kind="quantity", alpha=0.5),
                                 dict(kind="column", column=schema.JOB_TITLE)])
def test_a_split_is_fixed_by_its_seed(dataset, tmp_path, how):
    digests = []
    for seed, folder in ((42, "a"), (42, "b"), (7, "c")):
        split_into(dataset, tmp_path / folder, seed=seed, **how)
        digests.append({n: s["sha256"] for n, s in read_manifest(tmp_path / folder)["slices"].items()})
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_the_manifest_records_the_split_and_matches_the_slices(dataset, tmp_path):
    counts = split_into(dataset, tmp_path, kind="label", alpha=0.3)
    written = read_manifest(tmp_path)
    assert written["split"] == {"kind": "label", "alpha": 0.3, "seed": 42, "draws": 1}
    for node, rows in slices(tmp_path).items():
        entry = written["slices"][node]
        assert entry["rows"] == counts[node] == len(rows)
        assert entry["labels"] == {label: sum(r[schema.LABEL] == label for r in rows)
                                   for label in schema.LABELS}
        assert entry["sha256"] == manifest.sha256_of(str(tmp_path / f"jobs_{node}.csv"))
    assert manifest.read(str(tmp_path / "manifest.json")) == counts


def test_an_iid_manifest_says_iid_and_counts_labels(dataset, tmp_path):
    counts = split_into(dataset, tmp_path)
    assert counts == {"master": 1000, "w1": 1000, "w2": 1000}
    written = read_manifest(tmp_path)
    assert written["split"] == {"kind": "iid"}
    assert sum(sum(s["labels"].values()) for s in written["slices"].values()) == 3000


def test_a_draw_that_leaves_a_node_empty_is_drawn_again(dataset, tmp_path):
    split_into(dataset, tmp_path, kind="label", alpha=0.001)
    written = read_manifest(tmp_path)
    assert 1 < written["split"]["draws"] <= split.MAX_DRAWS
    assert all(entry["rows"] > 0 for entry in written["slices"].values())


def _cli_split(source, out_dir, *options):
    inventory = out_dir.parent / "inventory.ini"
    inventory.write_text("[spark_master]\nmaster\n\n[spark_workers]\nw1\nw2\n", encoding="utf-8")
    return CliRunner().invoke(main, ["split", "--inventory", str(inventory), "--source", str(source),
                                     "--out-dir", str(out_dir), *options])


@pytest.fixture
def earlier_split(tmp_path):
    out_dir = tmp_path / "split"
    out_dir.mkdir()
    (out_dir / "manifest.json").write_text("the earlier split\n", encoding="utf-8")
    return out_dir


def test_a_split_no_draw_can_make_is_refused_naming_the_node(dataset, tmp_path, earlier_split):
    few = tmp_path / "few.csv"
    with open(dataset, encoding="utf-8") as handle:
        few.write_text("".join(handle.readlines()[:5]), encoding="utf-8")  # header and 4 rows
    result = _cli_split(few, earlier_split, "--split", "quantity", "--alpha", "0.001")
    assert result.exit_code == 1
    assert (f"SPLIT=quantity ALPHA=0.001 SPLIT_SEED=42: each of {split.MAX_DRAWS} draws left a "
            f"node with no rows (the last: master, w1): choose a larger ALPHA (for example 1)"
            ) in result.output
    assert (earlier_split / "manifest.json").read_text(encoding="utf-8") == "the earlier split\n"


@pytest.mark.parametrize("options, message", [
    (["--split", "column", "--column", "Education_Level", "--split-seed", "1"], None),
    (["--split", "column", "--column", "Nope"], "SPLIT_COLUMN=Nope is not a column of"),
    (["--split", "column"], "SPLIT=column needs SPLIT_COLUMN="),
    (["--split", "label", "--alpha", "0"], "ALPHA must be above 0, not 0.0"),
])
def test_bad_split_options_are_named_and_change_nothing(dataset, earlier_split, options, message):
    result = _cli_split(dataset, earlier_split, *options)
    if message is None:  # 4 education levels on 3 nodes: fine
        assert result.exit_code == 0, result.output
        assert result.output.startswith("split: SPLIT=column SPLIT_COLUMN=Education_Level SPLIT_SEED=1\n")
        return
    assert result.exit_code == 1
    assert message in result.output and f"{earlier_split} was not changed" in result.output
    assert (earlier_split / "manifest.json").read_text(encoding="utf-8") == "the earlier split\n"


def test_a_column_with_fewer_values_than_nodes_is_refused(dataset, tmp_path):
    with pytest.raises(split.SplitError, match="SPLIT_COLUMN=Education_Level has 4 distinct value"):
        split.split_file(dataset, [f"n{i}" for i in range(5)], str(tmp_path / "split"),
                         split.Split("column", column="Education_Level"))
    assert not (tmp_path / "split").exists()
