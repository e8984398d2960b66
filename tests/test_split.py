"""Cutting the dataset into one slice per inventory host (nodewise_cli/split.py)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from click.testing import CliRunner

from nodewise import manifest
from nodewise_cli import inventory as ansible_inventory
from nodewise_cli import split
from nodewise_cli.cli import main

INVENTORY = """\
[spark_master]
master ansible_connection=local

[spark_workers]
w1 ansible_connection=local
w2 ansible_connection=local
"""

TWO_MASTERS = """\
[spark_master]
m1
m2

[spark_workers]
w1
"""


def _source(path, rows: int) -> list[str]:
    """A header plus `rows` numbered data lines; returns the data lines."""
    data = [f"job{i},{i}\n" for i in range(rows)]
    path.write_text("Job_Title,n\n" + "".join(data), encoding="utf-8")
    return data


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "inventory.ini"
    path.write_text(INVENTORY, encoding="utf-8")
    return path


def test_slice_bounds_ten_rows_in_three_parts():
    assert split.slice_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]


@pytest.mark.parametrize("total, parts", [(0, 2), (1, 3), (7, 7), (3000, 3), (3001, 4), (11, 5)])
def test_slice_bounds_are_contiguous_near_equal_and_cover_every_row(total, parts):
    bounds = split.slice_bounds(total, parts)
    sizes = [end - start for start, end in bounds]
    assert len(bounds) == parts
    assert bounds[0][0] == 0 and bounds[-1][1] == total
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(parts - 1))
    assert sum(sizes) == total
    assert max(sizes) - min(sizes) <= 1


def test_split_file_gives_each_node_the_header_and_its_rows_in_order(tmp_path):
    data = _source(tmp_path / "src.csv", 10)
    counts = split.split_file(str(tmp_path / "src.csv"), ["master", "w1", "w2"],
                              str(tmp_path / "split"))
    assert counts == {"master": 3, "w1": 3, "w2": 4}
    assert sorted(os.listdir(tmp_path / "split")) == ["jobs_master.csv", "jobs_w1.csv",
                                                      "jobs_w2.csv", "manifest.json"]
    joined = []
    for node in ["master", "w1", "w2"]:
        lines = (tmp_path / "split" / f"jobs_{node}.csv").read_text(encoding="utf-8").splitlines(True)
        assert lines[0] == "Job_Title,n\n"
        assert len(lines) - 1 == counts[node]
        joined += lines[1:]
    assert joined == data
    written = json.loads((tmp_path / "split" / "manifest.json").read_text(encoding="utf-8"))
    assert written["slices"]["w2"] == {
        "rows": 4, "sha256": hashlib.sha256(
            (tmp_path / "split" / "jobs_w2.csv").read_bytes()).hexdigest()}
    assert manifest.read(str(tmp_path / "split" / "manifest.json")) == counts


def test_split_file_replaces_the_directory_whole(tmp_path):
    out_dir = tmp_path / "split"
    out_dir.mkdir()
    (out_dir / "jobs_old.csv").write_text("stale\n", encoding="utf-8")
    _source(tmp_path / "src.csv", 4)
    split.split_file(str(tmp_path / "src.csv"), ["a", "b"], str(out_dir))
    assert sorted(os.listdir(out_dir)) == ["jobs_a.csv", "jobs_b.csv", "manifest.json"]
    assert sorted(os.listdir(tmp_path)) == ["split", "src.csv"]  # no staging left behind


def test_split_file_rerun_with_fewer_nodes_drops_the_old_slices(tmp_path):
    data = _source(tmp_path / "src.csv", 5)
    out_dir = str(tmp_path / "split")
    split.split_file(str(tmp_path / "src.csv"), ["a", "b", "c"], out_dir)
    counts = split.split_file(str(tmp_path / "src.csv"), ["a"], out_dir)
    assert counts == {"a": 5}
    assert sorted(os.listdir(out_dir)) == ["jobs_a.csv", "manifest.json"]
    assert (tmp_path / "split" / "jobs_a.csv").read_text(encoding="utf-8") == "Job_Title,n\n" + "".join(data)


def test_inventory_nodes_lists_the_master_first_then_the_workers(inventory):
    assert ansible_inventory.nodes(str(inventory)) == ["master", "w1", "w2"]


def test_inventory_with_two_masters_is_refused(tmp_path):
    path = tmp_path / "two.ini"
    path.write_text(TWO_MASTERS, encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[spark_master\] must hold exactly one host, it holds 2"):
        ansible_inventory.nodes(str(path))


def test_cli_nodes_prints_the_nodes(inventory):
    result = CliRunner().invoke(main, ["nodes", "--inventory", str(inventory)])
    assert result.exit_code == 0, result.output
    assert result.output == "master w1 w2\n"


def test_cli_nodes_fails_on_two_masters(tmp_path):
    path = tmp_path / "two.ini"
    path.write_text(TWO_MASTERS, encoding="utf-8")
    result = CliRunner().invoke(main, ["nodes", "--inventory", str(path)])
    assert result.exit_code != 0
    assert "error: " in result.output and "spark_master" in result.output


def test_cli_split_writes_the_slices_and_echoes_the_counts(tmp_path, inventory):
    _source(tmp_path / "src.csv", 7)
    out_dir = tmp_path / "split"
    result = CliRunner().invoke(main, ["split", "--inventory", str(inventory),
                                       "--source", str(tmp_path / "src.csv"),
                                       "--out-dir", str(out_dir)])
    assert result.exit_code == 0, result.output
    assert result.output == "split: SPLIT=iid\nmaster: 2 rows\nw1: 2 rows\nw2: 3 rows\n"
    assert [len((out_dir / f"jobs_{n}.csv").read_text(encoding="utf-8").splitlines()) - 1
            for n in ["master", "w1", "w2"]] == [2, 2, 3]
