"""The benchmark's measuring and reporting (nodewise_cli/bench.py, bench_report.py).

The Spark runs themselves are what `make bench` does; here: the memory
sampler on a real process, the medians, and the table and words.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from nodewise_cli import bench, bench_report

MIB = 1024 ** 2
HOST = {"cores": 2, "memory_bytes": 24 * 1024 ** 3}


def test_tree_finds_every_descendant_once():
    children = {1: [2, 3], 2: [4], 4: [5], 9: [10]}
    assert bench.tree([1], children) == {1, 2, 3, 4, 5}
    assert bench.tree([2, 4], children) == {2, 4, 5}


def test_peak_memory_sees_a_child_process_allocate():
    # A parent whose child holds 300 MiB: the sum over the tree must see it.
    script = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
              "'import time; b = bytearray(300 * 1024 * 1024); time.sleep(1.5)'])")
    measured = bench.measure([sys.executable, "-c", script])
    assert 300 * MIB < measured["peak_rss_bytes"] < 600 * MIB
    assert measured["total_seconds"] >= 1.5


def test_measure_names_a_failed_command():
    with pytest.raises(RuntimeError, match=r"failed \(3\)"):
        bench.measure([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"])


def test_run_series_drops_the_warm_up_and_summarise_takes_medians():
    fits = iter([9.0, 1.0, 3.0, 2.0])
    results = bench.run_series([sys.executable, "-c", "pass"], 3,
                               fit_of=lambda measured: (next(fits), 800))
    assert [r["fit_seconds"] for r in results] == [1.0, 3.0, 2.0]
    row = bench.summarise(3000, "unified", "spark-cluster", results, HOST)
    assert (row["fit_seconds_median"], row["train_rows"], row["runs"]) == (2.0, 800, 3)
    assert row["rows_per_second"] == 400.0
    assert bench.summarise(3000, "average", "spark-local", results, HOST)["rows_per_second"] is None
    assert row["peak_rss_bytes"] == max(r["peak_rss_bytes"] for r in results)
    assert list(row) == bench.COLUMNS


def test_each_average_run_combines_the_nodes_newest_models_afresh(tmp_path):
    import json
    import os
    import time

    def write(node, name, text="x"):
        path = tmp_path / "nodes" / node / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    for node in bench.sandbox.NODES:
        for age, run_id in ((2, f"{node}-s1-old"), (1, f"{node}-s1-new")):
            record = write(node, f"runs/{run_id}.json", json.dumps({"run_id": run_id}))
            os.utime(record, (time.time() - age, time.time() - age))
            write(node, f"models/{run_id}.json")
            write(node, f"models/{run_id}.tar.gz")
    write("master", "models/average-s1-a.tar.gz")
    write("master", "models/federated-s1-old.json")  # an average under its old name
    write("master", "models/vote-s1-a.json")
    bench.gather_node_models(str(tmp_path))
    bench.forget_combined(str(tmp_path))
    models = sorted(p.name for p in (tmp_path / "nodes" / "master" / "models").iterdir())
    assert models == sorted(f"{node}-s1-{age}.{ext}" for node in bench.sandbox.NODES
                            for age in ("old", "new") for ext in ("json", "tar.gz")
                            if node == "master" or age == "new")
    calls = []
    bench.run_series([sys.executable, "-c", "pass"], 2, fit_of=lambda measured: (1.0, 1),
                     before=lambda: calls.append(1))
    assert len(calls) == 3  # the warm-up too


def test_a_bench_forgets_earlier_event_logs_and_keeps_everything_else(tmp_path):
    for node in bench.sandbox.NODES:
        log_dir = tmp_path / "nodes" / node / "eventlogs" / f"eventlog_v2_app-{node}"
        log_dir.mkdir(parents=True)
        (log_dir / "events_1.zstd").write_bytes(b"x")
        (tmp_path / "nodes" / node / "eventlogs" / f"app-{node}.inprogress").write_text("x")
        (tmp_path / "nodes" / node / "runs").mkdir()
        (tmp_path / "nodes" / node / "runs" / "r.json").write_text("{}")
    bench.forget_event_logs(str(tmp_path))
    for node in bench.sandbox.NODES:
        assert list((tmp_path / "nodes" / node / "eventlogs").iterdir()) == []
        assert (tmp_path / "nodes" / node / "runs" / "r.json").read_text() == "{}"


def _row(rows, model, engine, fit, rss_gib):
    return {"rows": rows, "model": model, "engine": engine, "train_rows": int(rows * 0.8),
            "fit_seconds_median": fit, "total_seconds_median": fit + 10,
            "peak_rss_bytes": rss_gib * bench_report.GIB, "rows_per_second": rows * 0.8 / fit,
            "runs": 5, **HOST}


def test_growth_words_compare_the_smallest_and_largest_size():
    table = bench_report.frame([
        _row(3000, "unified", "spark-cluster", 4.0, 4.0),
        _row(3_000_000, "unified", "spark-cluster", 30.0, 6.0),
        _row(3000, "fedavg", "spark-cluster", 25.0, 3.0),
        _row(3_000_000, "fedavg", "spark-cluster", 50.0, 6.0),
        _row(3000, "all nodes' rows", "sklearn", 0.02, 0.2),
        _row(3_000_000, "all nodes' rows", "sklearn", 20.0, 2.0),
        _row(3000, "average", "spark-local", 0.02, 0.5),  # averaging: no growth to tell
        _row(3_000_000, "average", "spark-local", 0.02, 0.5)])
    assert bench_report.growth_words(table) == [
        "unified (spark-cluster): 1000× the rows (3,000 to 3,000,000) took 7.5× the fit time "
        "(4.00 s to 30.00 s) and 1.5× the peak memory (4.00 to 6.00 GiB).",
        "fedavg (spark-cluster): 1000× the rows (3,000 to 3,000,000) took 2.0× the fit time "
        "(25.00 s to 50.00 s) and 2.0× the peak memory (3.00 to 6.00 GiB).",
        "all nodes' rows (sklearn): 1000× the rows (3,000 to 3,000,000) took 1000.0× the fit "
        "time (0.02 s to 20.00 s) and 10.0× the peak memory (0.20 to 2.00 GiB)."]


def test_bench_files_hold_the_rows_and_the_machine(tmp_path):
    results = [_row(3000, "unified", "spark-cluster", 4.0, 4.0),
               _row(3000, "fedavg", "spark-cluster", 25.0, 3.0),
               {**_row(3000, "average", "spark-local", 0.02, 0.5), "rows_per_second": None}]
    paths = bench_report.write(results, str(tmp_path))
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == ["bench.csv", "bench.md", "bench.png"]
    text = (tmp_path / "bench.md").read_text()
    assert "Machine: 2 cores, 24.0 GiB. Medians of 5 runs (column `runs`) after one warm-up each." in text
    assert "| 3,000 | unified | spark-cluster | 2,400 | 4.00 | 14.00 | 600 | 4.00 | 5 |" in text
    assert "| 3,000 | average | spark-local | 2,400 | 0.02 | 10.02 | – | 0.50 | 5 |" in text
    assert "| 3,000 | fedavg | spark-cluster | 2,400 | 25.00 | 35.00 | 96 | 3.00 | 5 |" in text
    assert bench_report.AVERAGE_WORDS in text and bench_report.FEDAVG_WORDS in text
    header = (tmp_path / "bench.csv").read_text().splitlines()[0]
    assert header.split(",") == bench.COLUMNS


def test_an_earlier_benchs_federated_rows_are_kept_as_the_average(tmp_path):
    bench_report.write([_row(3_000_000, "average", "spark-local", 0.02, 0.5)], str(tmp_path))
    old = (tmp_path / "bench.csv").read_text().replace("3000000,average", "3000,federated")
    (tmp_path / "bench.csv").write_text(old)
    bench_report.write([_row(30_000, "average", "spark-local", 0.02, 0.5)], str(tmp_path))
    text = (tmp_path / "bench.md").read_text()
    assert "| 3,000 | average | spark-local |" in text and "federated |" not in text


def test_bench_refuses_a_dataset_too_small_to_split():
    result = subprocess.run([sys.executable, "-m", "nodewise_cli", "bench", "--rows", "10"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Invalid value for '--rows'" in result.stderr


def test_a_bench_of_some_sizes_keeps_the_rows_of_the_others(tmp_path):
    bench_report.write([_row(3000, "unified", "spark-cluster", 4.0, 4.0),
                        _row(30000, "unified", "spark-cluster", 5.0, 4.0)], str(tmp_path))
    bench_report.write([_row(3000, "unified", "spark-cluster", 3.0, 4.0)], str(tmp_path))
    table = bench_report.merged([], str(tmp_path / "bench.csv"))
    assert list(zip(table.rows, table.fit_seconds_median, strict=True)) == [(3000, 3.0), (30000, 5.0)]
