"""The report's tables from one summary frame (nodewise_cli/report/tables.py)."""

from __future__ import annotations

import statistics

from nodewise_cli.report import records, tables, verdicts
from report_support import (
    AVERAGE_ON,
    LABEL_SPLIT,
    SKLEARN_S1,
    UNIFIED_ON,
    UNIFIED_S2,
    W1_ON,
    curve_of,
    every_kind_summary,
    node_work,
    summed,
    weighted_f1,
    write_combined,
    write_fedavg,
)


def test_the_original_projects_two_tables_from_one_summary(every_kind):
    summary = every_kind_summary(every_kind)
    unified = [weighted_f1(summed(*UNIFIED_ON.values())), weighted_f1(UNIFIED_S2)]
    f1 = tables.f1_table(summary)
    assert f1.to_dict("records") == [
        {"model": "unified", "seeds": 2, "training rows (dataset count)": 810,
         "F1 global test set": f"{statistics.mean(unified):.4f} ± {statistics.stdev(unified):.4f}",
         "F1 own test part": "–"},
        {"model": "average", "seeds": 1, "training rows (dataset count)": 810,
         "F1 global test set": f"{weighted_f1(summed(*AVERAGE_ON.values())):.4f}", "F1 own test part": "–"},
        {"model": "w1", "seeds": 1, "training rows (dataset count)": 270,
         "F1 global test set": f"{weighted_f1(summed(*W1_ON.values())):.4f}",
         "F1 own test part": f"{weighted_f1(W1_ON['w1']):.4f}"},
        {"model": "sklearn", "seeds": 1, "training rows (dataset count)": 810,
         "F1 global test set": f"{weighted_f1(SKLEARN_S1):.4f}", "F1 own test part": "–"}]
    times = tables.time_table(summary)
    assert times.to_dict("records") == [
        {"model": "unified", "engine": "Spark cluster", "training rows (dataset count)": 810,
         "fit s": "11.00 ± 1.41", "end-to-end s": "22.00 ± 2.83", "executor CPU s": "6.00 ± 1.41"},
        {"model": "average", "engine": "–", "training rows (dataset count)": 810,
         "fit s": "0.50", "end-to-end s": "3.00", "executor CPU s": "–"},
        {"model": "w1", "engine": "Spark local mode, one node", "training rows (dataset count)": 270,
         "fit s": "10.00", "end-to-end s": "20.00", "executor CPU s": "5.00"},
        {"model": "sklearn", "engine": "scikit-learn, one machine",
         "training rows (dataset count)": 810, "fit s": "0.02", "end-to-end s": "0.05",
         "executor CPU s": "–"}]
    # the two tables count the same rows per model
    assert f1["training rows (dataset count)"].tolist() == times["training rows (dataset count)"].tolist()


def test_resources_table_per_run_in_readable_units():
    summary = records.summary_frame([
        {"run_id": "unified-1", "model": "unified", "seed": 1, "eval_set": "global",
         "executor_cpu_seconds": 4.853, "gc_seconds": 1.344, "peak_memory_bytes": 3 * 2**20,
         "peak_jvm_heap_bytes": 2 * 2**20, "peak_python_rss_bytes": 2**19,
         "input_bytes": 2**20 + 2**19, "shuffle_read_bytes": 2**18, "shuffle_write_bytes": 0,
         "task_count": 112, "cores": 3},
        {"run_id": "sklearn-s1", "model": "sklearn", "seed": 1, "eval_set": "global"}])
    assert tables.resources_table(summary).to_dict("records") == [
        {"run_id": "unified-1", "model": "unified", "seed": 1, "executor CPU s": "4.85",
         "GC s": "1.34", "peak memory MiB": "3", "of which JVM heap MiB": "2",
         "Python workers MiB": "0", "input MiB": "1.50", "shuffle read MiB": "0.25",
         "shuffle write MiB": "0.00", "tasks": "112", "cores": "3"}]


def test_work_per_node_is_the_mean_over_unified_runs(unified_work):
    trains, _ = records.load_records(str(unified_work))
    assert tables.work_table(tables.work_per_node(trains)).to_dict("records") == [
        {"node": "master", "runs": 2, "executors": "1.0", "tasks": "15.0", "input rows": "500",
         "CPU s": "1.50", "share of CPU": "33%", "run s": "3.00", "peak memory MiB": "2048"},
        {"node": "w1", "runs": 2, "executors": "1.0", "tasks": "30.0", "input rows": "500",
         "CPU s": "3.00", "share of CPU": "67%", "run s": "6.00", "peak memory MiB": "1024"}]


def test_node_resources_put_the_unified_share_beside_the_nodes_own_model(unified_work):
    trains, evaluations = records.load_records(str(unified_work))
    summary = records.summary_frame(records.summary_rows(trains, evaluations))
    per_node = tables.node_resources(summary, tables.work_per_node(trains))
    means = per_node.groupby(["source", "node"]).cpu_seconds.mean().to_dict()
    assert means == {("the node's own model", "w1"): 0.8,
                     ("unified run, its share on the node", "master"): 1.5,
                     ("unified run, its share on the node", "w1"): 3.0}


def test_curve_stats_group_draws_and_call_every_seeds_full_size_all():
    curve = curve_of([(1, 50, False, 0, 0.6), (1, 50, False, 1, 0.8), (2, 50, False, 0, 0.7),
                      (1, 100, False, 0, 0.95), (1, 100, False, 1, 0.97), (2, 100, False, 0, 0.96),
                      (1, 790, True, 0, 0.99), (2, 810, True, 0, 0.98)])
    stats = tables.curve_stats(curve)
    assert tables.curve_table(stats).to_dict("records") == [
        {"training rows": "50", "fits": 3, "F1 global test set": "0.7000 ± 0.1000"},
        {"training rows": "100", "fits": 3, "F1 global test set": "0.9600 ± 0.0100"},
        {"training rows": "all (800)", "fits": 2, "F1 global test set": "0.9850 ± 0.0071"}]
    assert verdicts.curve_words(stats) == (
        "Small training sets vary more: the standard deviation over 3 draws is 0.1000 at 50 "
        "training rows (mean F1 0.7000) and 0.0100 at 100 rows (mean F1 0.9600). With fewer "
        "rows, which rows a model gets decides more of its score.")


def test_the_ownership_table_counts_labels_and_how_far_each_node_is_from_the_whole():
    counts = tables.label_counts(LABEL_SPLIT)
    assert list(counts.columns) == ["Low", "Medium", "High"]
    # the whole: Low 110, Medium 50, High 140 of 300; master's shares 0.8, 0.2, 0
    assert tables.ownership_table(counts).to_dict("records") == [
        {"node": "master", "rows": 100, "Low": 80, "Medium": 20, "High": 0,
         "label distance from the whole": f"{(0.8 - 110 / 300 + 0.2 - 50 / 300 + 140 / 300) / 2:.3f}"},
        {"node": "w1", "rows": 60, "Low": 0, "Medium": 0, "High": 60,
         "label distance from the whole": f"{1 - 140 / 300:.3f}"},
        {"node": "w2", "rows": 140, "Low": 30, "Medium": 30, "High": 80,
         "label distance from the whole":
             f"{(110 / 300 - 30 / 140 + 30 / 140 - 50 / 300 + 80 / 140 - 140 / 300) / 2:.3f}"}]
    assert tables.label_counts({"kind": "iid"}).empty


def test_the_rounds_table_shows_the_first_rounds_every_fifth_and_the_last(tmp_path):
    runs_dir = tmp_path / "runs"
    losses = [1.0 / r for r in range(1, 13)]
    write_fedavg(runs_dir, 1, losses)
    write_fedavg(runs_dir, 2, [loss + 0.02 for loss in losses])
    trains, _ = records.load_records(str(runs_dir))
    rounds = tables.fedavg_rounds(trains)
    assert len(rounds) == 24 and rounds["round"].max() == 12
    assert tables.rounds_table(rounds).to_dict("records") == [
        {"round": r, "runs": 2, "global training loss": f"{1 / r + 0.01:.4f} ± 0.0141"}
        for r in (1, 2, 3, 5, 10, 12)]


def test_the_work_per_node_table_is_the_unified_runs_only(unified_work):
    write_combined(unified_work, "fedavg-s1-a", "fedavg", 1, None, task_slots=3,
                   work_per_node={"master": node_work(9.0, 90, 500)})
    trains, _ = records.load_records(str(unified_work))
    assert sorted(set(tables.work_per_node(trains).run_id)) == ["unified-s1-a", "unified-s2-a"]
    assert verdicts.gathered_words(trains) == ""
