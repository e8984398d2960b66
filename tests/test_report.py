"""Run records into summary.csv and report.md (nodewise_cli/report.py, `nodewise report`)."""

from __future__ import annotations

import csv
import json
import statistics

import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import accuracy_score, f1_score

from nodewise_cli import report
from nodewise_cli.cli import main

REQUIRED_COLUMNS = ["run_id", "model", "seed", "eval_set", "train_rows", "test_rows", "f1",
                    "accuracy", "fit_seconds", "total_seconds", "executor_cpu_seconds",
                    "peak_memory_bytes"]

# The unified model's own global evaluation, and its evaluations on each node.
UNIFIED_OWN = [[50, 1, 0], [2, 95, 3], [0, 1, 48]]
UNIFIED_ON = {"master": [[17, 0, 0], [1, 32, 0], [0, 0, 16]],
              "w1": [[16, 1, 0], [0, 33, 1], [0, 0, 17]],
              "w2": [[17, 0, 0], [0, 30, 2], [0, 1, 15]]}
# Worker w1's model: its own local evaluation, and its evaluations on each node.
W1_OWN = [[15, 2, 0], [1, 32, 1], [0, 0, 17]]
W1_ON = {"master": [[14, 3, 0], [2, 30, 1], [0, 1, 15]],
         "w1": [[15, 1, 0], [1, 33, 0], [0, 0, 18]],
         "w2": [[13, 4, 0], [3, 28, 1], [0, 2, 14]]}


def _labels(matrix):
    """Label vectors that give `matrix` (true label i predicted as j, matrix[i][j] times)."""
    y_true, y_pred = [], []
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            y_true += [i] * count
            y_pred += [j] * count
    return y_true, y_pred


def _f1(matrix) -> float:
    return f1_score(*_labels(matrix), labels=[0, 1, 2], average="weighted", zero_division=0)


def _accuracy(matrix) -> float:
    return accuracy_score(*_labels(matrix))


def _sum(*matrices):
    return [[sum(m[i][j] for m in matrices) for j in range(3)] for i in range(3)]


def _train(runs_dir, run_id, model, seed, matrix, *, eval_set, finished_at="2026-01-01T10:00:00.000000Z",
           train_nodes=None, train_rows=400, fit_seconds=10.0, total_seconds=20.0, cpu_seconds=5.0,
           **extra):
    record = {
        "kind": "train", "run_id": run_id, "model": model, "seed": seed,
        "classifier": "logistic_regression",
        "master": "spark://127.0.0.1:7077" if model == "unified" else "local[*]",
        "train_nodes": train_nodes or [model], "rows_per_node": {model: train_rows},
        "train_rows": train_rows, "test_rows": sum(map(sum, matrix)),
        "fit_seconds": fit_seconds, "total_seconds": total_seconds, "finished_at": finished_at,
        "evaluation": {"eval_set": eval_set, "confusion_matrix": matrix, "f1": _f1(matrix),
                       "accuracy": _accuracy(matrix), "per_class_f1": {},
                       "rows": sum(map(sum, matrix)), "unseen_categories": {}},
        "resources": {"app_id": f"app-{run_id}", "executor_cpu_seconds": cpu_seconds,
                      "peak_memory_bytes": 1_000_000},
        **extra,
    }
    runs_dir.mkdir(exist_ok=True)
    (runs_dir / f"{run_id}.json").write_text(json.dumps(record), encoding="utf-8")
    return record


def _evaluation(runs_dir, run_id, model, seed, node, matrix):
    record = {"kind": "evaluation", "run_id": run_id, "model": model, "seed": seed,
              "node": node, "confusion_matrix": matrix, "test_rows": sum(map(sum, matrix))}
    runs_dir.mkdir(exist_ok=True)
    (runs_dir / f"eval-{run_id}-on-{node}.json").write_text(json.dumps(record), encoding="utf-8")


def _rows(runs_dir):
    return report.summary_rows(*report.load_records(str(runs_dir)))


def _row(rows, run_id, eval_set):
    [match] = [r for r in rows if r["run_id"] == run_id and r["eval_set"] == eval_set]
    return match


@pytest.fixture
def evaluated_runs(tmp_path):
    runs_dir = tmp_path / "runs"
    _train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
           train_nodes=["master", "w1", "w2"], train_rows=800)
    _train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local", train_rows=270)
    for node in ["master", "w1", "w2"]:
        _evaluation(runs_dir, "unified-s1-a", "unified", 1, node, UNIFIED_ON[node])
        _evaluation(runs_dir, "w1-s1-a", "w1", 1, node, W1_ON[node])
    return runs_dir


def test_load_records_separates_training_and_evaluation(evaluated_runs):
    trains, evaluations = report.load_records(str(evaluated_runs))
    assert sorted(r["run_id"] for r in trains) == ["unified-s1-a", "w1-s1-a"]
    assert len(evaluations) == 6


def test_per_node_models_global_row_sums_the_node_evaluations(evaluated_runs):
    row = _row(_rows(evaluated_runs), "w1-s1-a", "global")
    total = _sum(*W1_ON.values())
    assert row["test_rows"] == sum(map(sum, total)) == 66 + 68 + 65
    assert row["f1"] == pytest.approx(_f1(total))
    assert row["accuracy"] == pytest.approx(_accuracy(total))
    assert row["eval_nodes"] == "master w1 w2"
    assert row["train_rows"] == 270


def test_per_node_models_local_row_uses_its_own_nodes_evaluation(evaluated_runs):
    row = _row(_rows(evaluated_runs), "w1-s1-a", "local")
    assert row["f1"] == pytest.approx(_f1(W1_ON["w1"]))
    assert row["f1"] != pytest.approx(_f1(W1_OWN))
    assert row["test_rows"] == 68
    assert row["eval_nodes"] == "w1"


def test_unified_model_with_evaluations_gets_one_summed_global_row(evaluated_runs):
    rows = [r for r in _rows(evaluated_runs) if r["model"] == "unified"]
    assert [r["eval_set"] for r in rows] == ["global"]
    assert rows[0]["f1"] == pytest.approx(_f1(_sum(*UNIFIED_ON.values())))


def test_rows_put_the_unified_model_first(evaluated_runs):
    assert [(r["model"], r["eval_set"]) for r in _rows(evaluated_runs)] == [
        ("unified", "global"), ("w1", "global"), ("w1", "local")]


def test_without_evaluations_the_records_own_scores_are_used(tmp_path):
    runs_dir = tmp_path / "runs"
    _train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
           train_nodes=["master", "w1", "w2"])
    _train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local")
    rows = _rows(runs_dir)
    assert [(r["run_id"], r["eval_set"]) for r in rows] == [
        ("unified-s1-a", "global"), ("w1-s1-a", "local")]
    assert rows[0]["f1"] == pytest.approx(_f1(UNIFIED_OWN))
    assert rows[0]["eval_nodes"] == "master w1 w2"
    assert rows[1]["f1"] == pytest.approx(_f1(W1_OWN))


def test_a_later_rerun_of_the_same_model_and_seed_replaces_the_earlier(tmp_path):
    runs_dir = tmp_path / "runs"
    # The earlier run sorts last by file name, so only finished_at can order them.
    _train(runs_dir, "w1-s1-zzz", "w1", 1, W1_OWN, eval_set="local",
           finished_at="2026-01-01T10:00:00.000000Z")
    _train(runs_dir, "w1-s1-aaa", "w1", 1, W1_ON["w1"], eval_set="local",
           finished_at="2026-01-02T10:00:00.000000Z")
    _train(runs_dir, "w1-s2-a", "w1", 2, W1_OWN, eval_set="local")
    rows = _rows(runs_dir)
    assert sorted(r["run_id"] for r in rows) == ["w1-s1-aaa", "w1-s2-a"]
    assert _row(rows, "w1-s1-aaa", "local")["f1"] == pytest.approx(_f1(W1_ON["w1"]))


def _run_cli(runs_dir, out_dir, *options, split_dir=None):
    # never the project's data/split: without slices the reference is skipped
    split_dir = split_dir or runs_dir.parent / "no-slices"
    return CliRunner().invoke(main, ["report", "--runs-dir", str(runs_dir), "--out-dir", str(out_dir),
                                     "--split-dir", str(split_dir), *options])


def test_cli_writes_summary_csv_with_the_required_columns(evaluated_runs, tmp_path):
    out_dir = tmp_path / "reports"
    result = _run_cli(evaluated_runs, out_dir)
    assert result.exit_code == 0, result.output
    assert f"({3} rows)" in result.output
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:len(REQUIRED_COLUMNS)] == REQUIRED_COLUMNS
    assert [(r["run_id"], r["eval_set"]) for r in rows] == [
        ("unified-s1-a", "global"), ("w1-s1-a", "global"), ("w1-s1-a", "local")]
    assert float(rows[1]["f1"]) == pytest.approx(_f1(_sum(*W1_ON.values())))
    assert rows[1]["executor_cpu_seconds"] == "5.0"
    assert rows[1]["peak_memory_bytes"] == "1000000"
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "f1_per_model.png", "report.html", "report.md", "resources_per_model.png",
        "resources_per_node.png", "summary.csv", "time_per_model.png"]


def test_report_md_shows_mean_and_std_over_seeds(tmp_path):
    runs_dir = tmp_path / "runs"
    second = [[48, 3, 0], [4, 90, 6], [0, 2, 47]]
    _train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
           train_nodes=["master", "w1", "w2"], train_rows=1000,
           fit_seconds=10.0, total_seconds=20.0, cpu_seconds=5.0)
    _train(runs_dir, "unified-s2-a", "unified", 2, second, eval_set="global",
           train_nodes=["master", "w1", "w2"], train_rows=1000,
           fit_seconds=12.0, total_seconds=24.0, cpu_seconds=7.0)
    result = _run_cli(runs_dir, tmp_path / "reports")
    assert result.exit_code == 0, result.output
    f1s = [_f1(UNIFIED_OWN), _f1(second)]
    cell = f"{statistics.mean(f1s):.4f} ± {statistics.stdev(f1s):.4f}"
    lines = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8").splitlines()
    assert f"| unified | 2 | 1000 | {cell} | – |" in lines
    assert "| unified | Spark cluster | 1000 | 11.00 ± 1.41 | 22.00 ± 2.83 | 6.00 ± 1.41 |" in lines


def test_a_single_nodes_record_is_enough(tmp_path):
    runs_dir = tmp_path / "runs"
    _train(runs_dir, "w2-s1-a", "w2", 1, W1_OWN, eval_set="local", train_rows=300)
    out_dir = tmp_path / "reports"
    result = _run_cli(runs_dir, out_dir)
    assert result.exit_code == 0, result.output
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["model"], r["eval_set"]) for r in rows] == [("w2", "local")]
    f1 = f"{_f1(W1_OWN):.4f}"
    lines = (out_dir / "report.md").read_text(encoding="utf-8").splitlines()
    assert f"| w2 | 1 | 300 | – | {f1} |" in lines
    assert "| w2 | Spark local mode, one node | 300 | 10.00 | 20.00 | 5.00 |" in lines


def test_empty_runs_dir_asks_to_train_first(tmp_path):
    (tmp_path / "runs").mkdir()
    result = _run_cli(tmp_path / "runs", tmp_path / "reports")
    assert result.exit_code != 0
    assert "no training records" in result.output and "first" in result.output
    assert not (tmp_path / "reports").exists()


def test_evaluations_alone_are_not_enough(tmp_path):
    runs_dir = tmp_path / "runs"
    _evaluation(runs_dir, "w1-s1-a", "w1", 1, "w1", W1_ON["w1"])
    result = _run_cli(runs_dir, tmp_path / "reports")
    assert result.exit_code != 0
    assert "no training records" in result.output


def _summary(rows):
    from nodewise_cli import report as report_module

    return report_module.summary_frame([
        {"run_id": f"{model}-{seed}", "model": model, "seed": seed, "eval_set": "global",
         "f1": f1, "fit_seconds": 1.0 + seed, "total_seconds": 10.0, "train_rows": 100,
         "executor_cpu_seconds": 2.0, "peak_memory_bytes": 2**20}
        for model, seed, f1 in rows])


def test_verdict_says_who_wins_and_whether_it_beats_the_spread():
    from nodewise_cli.report import verdict

    summary = _summary([("unified", 1, 0.99), ("unified", 2, 0.99),
                        ("w1", 1, 0.95), ("w1", 2, 0.97), ("w2", 1, 0.96), ("w2", 2, 0.96)])
    assert verdict(summary) == [
        "On the global test set the best mean F1 is unified's, 0.9900 over 2 seed(s).",
        "The unified model is 0.0300 above the per-node models' mean (0.9600); the largest "
        "standard deviation over seeds is 0.0141, so the difference exceeds the spread over seeds."]


def test_verdict_reports_a_tie_within_the_spread():
    from nodewise_cli.report import verdict

    summary = _summary([("unified", 1, 0.99), ("w1", 1, 0.99), ("unified", 2, 0.98),
                        ("w1", 2, 0.98)])
    lines = verdict(summary)
    assert lines[0] == "On the global test set unified, w1 tie at a mean F1 of 0.9850 over 2 seed(s)."
    assert lines[1].endswith("so the difference does not exceed the spread over seeds.")


def test_plots_are_png_files_linked_from_the_report(tmp_path):
    from nodewise_cli import plots

    summary = _summary([("unified", 1, 0.99), ("unified", 2, 0.98), ("w1", 1, 0.95)])
    names = plots.all_plots(summary, str(tmp_path))
    assert names == [plots.F1_PNG, plots.TIME_PNG, plots.RESOURCES_PNG]
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no partial files


def test_plots_work_with_one_nodes_local_run_alone(tmp_path):
    from nodewise_cli import plots
    from nodewise_cli import report as report_module

    summary = report_module.summary_frame([
        {"run_id": "w1-1", "model": "w1", "seed": 1, "eval_set": "local", "f1": 0.97,
         "fit_seconds": 1.0, "total_seconds": 9.0, "executor_cpu_seconds": 1.0,
         "peak_memory_bytes": 2**20}])
    assert len(plots.all_plots(summary, str(tmp_path))) == 3


def test_report_html_is_one_self_contained_page(tmp_path):
    import re

    from nodewise_cli import html, plots

    summary = _summary([("unified", 1, 0.99), ("unified", 2, 0.98), ("w1", 1, 0.95)])
    figures = plots.all_plots(summary, str(tmp_path))
    markdown = ("# Title\n\nSome words.\n\n| model | F1 |\n|---|---|\n| unified | 0.99 |\n"
                "| w1 | 0.95 |\n\n" + "\n".join(f"![{n}]({n})" for n in figures) + "\n")
    page = html.markdown_to_html(markdown, str(tmp_path))
    assert "<h1>Title</h1>" in page and "<p>Some words.</p>" in page
    assert "<tr><td>unified</td><td>0.99</td></tr>" in page
    assert page.count('src="data:image/png;base64,') == 3
    assert re.findall(r'(?:src|href)="(?!data:)', page) == []  # nothing to fetch


def test_report_files_are_readable_by_others(tmp_path):
    import os
    import stat

    from nodewise_cli.files import atomic_path

    target = tmp_path / "out.txt"
    old = os.umask(0o022)
    try:
        with atomic_path(str(target)) as partial:
            open(partial, "w").write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644


# --- federated and vote models, the seed's two tables, the verdict -------------------------

FEDERATED_ON = {"master": [[16, 1, 0], [1, 31, 1], [0, 0, 16]],
                "w1": [[17, 0, 0], [1, 32, 1], [0, 1, 16]],
                "w2": [[16, 1, 0], [0, 31, 1], [0, 0, 16]]}
UNIFIED_S2 = [[48, 3, 0], [4, 90, 6], [0, 2, 47]]
SKLEARN_S1 = [[49, 2, 0], [2, 96, 2], [0, 1, 48]]


def _combined(runs_dir, run_id, model, seed, built_from, train_rows=810, fit_seconds=0.5):
    """A federated or vote record: no evaluation of its own, scored only by evaluations."""
    record = {"kind": "train", "run_id": run_id, "model": model, "seed": seed,
              "classifier": "logistic_regression", "evaluation": None, "built_from": built_from,
              "train_nodes": ["master", "w1", "w2"], "rows_per_node": {}, "train_rows": train_rows,
              "fit_seconds": fit_seconds, "total_seconds": 3.0, "resources": {},
              "finished_at": "2026-01-01T11:00:00.000000Z"}
    runs_dir.mkdir(exist_ok=True)
    (runs_dir / f"{run_id}.json").write_text(json.dumps(record), encoding="utf-8")


def _sklearn_record(seed, matrix, fit_seconds=0.02, train_rows=810):
    """What reference.run returns for one seed."""
    return {"kind": "train", "run_id": f"sklearn-s{seed}", "model": "sklearn", "seed": seed,
            "classifier": "logistic_regression", "feature_set": "default",
            "engine": "scikit-learn, one machine", "train_nodes": ["master", "w1", "w2"],
            "train_rows": train_rows, "fit_seconds": fit_seconds, "total_seconds": 0.05,
            "finished_at": "", "resources": {},
            "evaluation": {"eval_set": "global", "confusion_matrix": matrix}}


@pytest.fixture
def every_kind(evaluated_runs):
    """unified (seeds 1, 2), federated (seed 1, evaluated), vote (not evaluated), w1 (seed 1)."""
    _train(evaluated_runs, "unified-s2-a", "unified", 2, UNIFIED_S2, eval_set="global",
           train_nodes=["master", "w1", "w2"], train_rows=820, fit_seconds=12.0,
           total_seconds=24.0, cpu_seconds=7.0)
    _combined(evaluated_runs, "federated-s1-a", "federated", 1, ["w1-s1-a"])
    _combined(evaluated_runs, "vote-s1-a", "vote", 1, ["w1-s1-a"])
    for node, matrix in FEDERATED_ON.items():
        _evaluation(evaluated_runs, "federated-s1-a", "federated", 1, node, matrix)
    return evaluated_runs


def _every_kind_summary(runs_dir):
    trains, evaluations = report.load_records(str(runs_dir))
    return report.summary_frame(report.summary_rows(trains + [_sklearn_record(1, SKLEARN_S1)],
                                                    evaluations))


def test_federated_gets_one_global_row_summed_over_nodes_and_vote_none_without_evaluations(every_kind):
    rows = _rows(every_kind)
    federated = [r for r in rows if r["model"] == "federated"]
    assert [r["eval_set"] for r in federated] == ["global"]
    assert federated[0]["f1"] == pytest.approx(_f1(_sum(*FEDERATED_ON.values())))
    assert federated[0]["train_rows"] == 810 and federated[0]["executor_cpu_seconds"] is None
    assert not [r for r in rows if r["model"] == "vote"]
    trains, evaluations = report.load_records(str(every_kind))
    assert report.unscored_notes(trains, evaluations) == [
        "No evaluation records yet for vote (seed 1): `make evaluate` scores them."]


def test_rows_are_ordered_unified_federated_vote_nodes_reference(every_kind):
    _evaluation(every_kind, "vote-s1-a", "vote", 1, "w1", W1_ON["w1"])
    summary = _every_kind_summary(every_kind)
    assert list(zip(summary.model, summary.seed, summary.eval_set)) == [
        ("unified", 1, "global"), ("unified", 2, "global"), ("federated", 1, "global"),
        ("vote", 1, "global"), ("w1", 1, "global"), ("w1", 1, "local"), ("sklearn", 1, "global")]
    assert summary.engine.tolist()[-1] == "scikit-learn, one machine"


def test_the_seeds_two_tables_from_one_summary(every_kind):
    summary = _every_kind_summary(every_kind)
    unified = [_f1(_sum(*UNIFIED_ON.values())), _f1(UNIFIED_S2)]
    f1 = report.f1_table(summary)
    assert f1.to_dict("records") == [
        {"model": "unified", "seeds": 2, "training rows (dataset count)": 810,
         "F1 global test set": f"{statistics.mean(unified):.4f} ± {statistics.stdev(unified):.4f}",
         "F1 own test part": "–"},
        {"model": "federated", "seeds": 1, "training rows (dataset count)": 810,
         "F1 global test set": f"{_f1(_sum(*FEDERATED_ON.values())):.4f}", "F1 own test part": "–"},
        {"model": "w1", "seeds": 1, "training rows (dataset count)": 270,
         "F1 global test set": f"{_f1(_sum(*W1_ON.values())):.4f}",
         "F1 own test part": f"{_f1(W1_ON['w1']):.4f}"},
        {"model": "sklearn", "seeds": 1, "training rows (dataset count)": 810,
         "F1 global test set": f"{_f1(SKLEARN_S1):.4f}", "F1 own test part": "–"}]
    times = report.time_table(summary)
    assert times.to_dict("records") == [
        {"model": "unified", "engine": "Spark cluster", "training rows (dataset count)": 810,
         "fit s": "11.00 ± 1.41", "end-to-end s": "22.00 ± 2.83", "executor CPU s": "6.00 ± 1.41"},
        {"model": "federated", "engine": "–", "training rows (dataset count)": 810,
         "fit s": "0.50", "end-to-end s": "3.00", "executor CPU s": "–"},
        {"model": "w1", "engine": "Spark local mode, one node", "training rows (dataset count)": 270,
         "fit s": "10.00", "end-to-end s": "20.00", "executor CPU s": "5.00"},
        {"model": "sklearn", "engine": "scikit-learn, one machine",
         "training rows (dataset count)": 810, "fit s": "0.02", "end-to-end s": "0.05",
         "executor CPU s": "–"}]
    # the two tables count the same rows per model
    assert f1["training rows (dataset count)"].tolist() == times["training rows (dataset count)"].tolist()


def test_verdict_compares_federated_with_unified_and_names_the_reference():
    summary = _summary([("unified", 1, 0.99), ("unified", 2, 0.98), ("federated", 1, 0.97),
                        ("federated", 2, 0.96), ("w1", 1, 0.95), ("w1", 2, 0.95),
                        ("sklearn", 1, 0.995), ("sklearn", 2, 0.995)])
    lines = report.verdict(summary)
    assert lines[0] == "On the global test set the best mean F1 is unified's, 0.9850 over 2 seed(s)."
    assert lines[2] == (
        "The federated model (per-node coefficients averaged by row count; no row moved) is "
        "0.0200 below the unified model (0.9850); the largest standard deviation over seeds is "
        "0.0071, so the difference exceeds the spread over seeds.")
    # the reference is not a contender, but its F1 and fit time are stated (fit 1 + seed)
    assert lines[3] == (
        "scikit-learn on one machine (same splits, features and classifier family) scores "
        "0.9950 against unified's 0.9850, and fits in 2.50 s against 2.50 s.")


def test_verdict_with_one_seed_does_not_claim_a_spread():
    lines = report.verdict(_summary([("unified", 1, 0.99), ("w1", 1, 0.95)]))
    assert lines[1] == ("The unified model is 0.0400 above the per-node models' mean (0.9500); "
                        "with one seed there is no spread over seeds to judge the difference by.")


# --- one configuration per report ---------------------------------------------------------

def test_a_report_covers_the_latest_runs_classifier_and_says_what_it_left_out(tmp_path):
    runs_dir = tmp_path / "runs"
    _train(runs_dir, "w1-s1-lr", "w1", 1, W1_OWN, eval_set="local")
    _train(runs_dir, "w1-s1-tree", "w1", 1, W1_ON["w1"], eval_set="local",
           finished_at="2026-01-02T10:00:00.000000Z", classifier="decision_tree",
           feature_set="full", model_description=["If Automation_Probability_2030 <= 0.305: Low"])
    out_dir = tmp_path / "reports"
    assert _run_cli(runs_dir, out_dir).exit_code == 0
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "Classifier: decision tree; features: full (also Automation_Probability_2030" in text
    assert ("Left out: 1 training run(s) with classifier logistic_regression and feature set "
            "default; `make report MODEL=logistic_regression FEATURES=default` "
            "reports them.") in text.splitlines()
    assert f"| w1 | 1 | 400 | – | {_f1(W1_ON['w1']):.4f} |" in text.splitlines()
    assert ("## What the trees learned\n\nw1 (seed 1):\n\n```\n"
            "If Automation_Probability_2030 <= 0.305: Low\n```") in text
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "<pre>If Automation_Probability_2030 &lt;= 0.305: Low</pre>" in page
    assert "<code>make report MODEL=logistic_regression FEATURES=default</code>" in page

    result = _run_cli(runs_dir, out_dir, "--classifier", "logistic_regression")
    assert result.exit_code == 0, result.output
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert f"| w1 | 1 | 400 | – | {_f1(W1_OWN):.4f} |" in text.splitlines()
    assert "What the trees learned" not in text


def test_a_classifier_without_runs_fails_clearly(evaluated_runs, tmp_path):
    result = _run_cli(evaluated_runs, tmp_path / "reports", "--classifier", "random_forest")
    assert result.exit_code != 0
    assert "no training records" in result.output and "random_forest" in result.output


# --- resources per run and per node --------------------------------------------------------

def test_resources_table_per_run_in_readable_units():
    summary = report.summary_frame([
        {"run_id": "unified-1", "model": "unified", "seed": 1, "eval_set": "global",
         "executor_cpu_seconds": 4.853, "gc_seconds": 1.344, "peak_memory_bytes": 3 * 2**20,
         "peak_jvm_heap_bytes": 2 * 2**20, "peak_python_rss_bytes": 2**19,
         "input_bytes": 2**20 + 2**19, "shuffle_read_bytes": 2**18, "shuffle_write_bytes": 0,
         "task_count": 112, "cores": 3},
        {"run_id": "sklearn-s1", "model": "sklearn", "seed": 1, "eval_set": "global"}])
    assert report.resources_table(summary).to_dict("records") == [
        {"run_id": "unified-1", "model": "unified", "seed": 1, "executor CPU s": "4.85",
         "GC s": "1.34", "peak memory MiB": "3", "of which JVM heap MiB": "2",
         "Python workers MiB": "0", "input MiB": "1.50", "shuffle read MiB": "0.25",
         "shuffle write MiB": "0.00", "tasks": "112", "cores": "3"}]


def _work(cpu, tasks, rows, memory=2**30):
    return {"executors": ["1"], "tasks": tasks, "input_rows": rows, "cpu_seconds": cpu,
            "run_seconds": 2 * cpu, "peak_memory_bytes": memory}


@pytest.fixture
def unified_work(tmp_path):
    runs_dir = tmp_path / "runs"
    _train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
           train_nodes=["master", "w1"], work_per_node={"master": _work(1.0, 10, 500),
                                                        "w1": _work(3.0, 30, 500)})
    _train(runs_dir, "unified-s2-a", "unified", 2, UNIFIED_OWN, eval_set="global",
           train_nodes=["master", "w1"], work_per_node={"master": _work(2.0, 20, 500, 3 * 2**30),
                                                        "w1": _work(3.0, 30, 500)})
    _train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local", cpu_seconds=0.8)
    return runs_dir


def test_work_per_node_is_the_mean_over_unified_runs(unified_work):
    trains, _ = report.load_records(str(unified_work))
    assert report.work_table(report.work_per_node(trains)).to_dict("records") == [
        {"node": "master", "runs": 2, "executors": "1.0", "tasks": "15.0", "input rows": "500",
         "CPU s": "1.50", "share of CPU": "33%", "run s": "3.00", "peak memory MiB": "2048"},
        {"node": "w1", "runs": 2, "executors": "1.0", "tasks": "30.0", "input rows": "500",
         "CPU s": "3.00", "share of CPU": "67%", "run s": "6.00", "peak memory MiB": "1024"}]


def test_unified_runs_gathered_into_fewer_partitions_than_slots_are_named():
    def unified(seed, partitions):
        return {"run_id": f"u{seed}", "model": "unified", "seed": seed, "finished_at": str(seed),
                "task_slots": 3, "params": {"train_partitions": partitions},
                "work_per_node": {"master": _work(1.0, 10, 500)}}

    assert report.gathered_words([unified(1, 3), unified(2, 3)]) == ""
    words = report.gathered_words([unified(1, 1), unified(2, 3), unified(3, 1)])
    assert words.startswith("2 of these runs trained in 1 partition(s), fewer than")
    assert report.gathered_words([unified(1, 2), unified(2, 1)]).startswith(
        "2 of these runs trained in 1 or 2 partition(s)")


def test_node_resources_put_the_unified_share_beside_the_nodes_own_model(unified_work):
    trains, evaluations = report.load_records(str(unified_work))
    summary = report.summary_frame(report.summary_rows(trains, evaluations))
    per_node = report.node_resources(summary, report.work_per_node(trains))
    means = per_node.groupby(["source", "node"]).cpu_seconds.mean().to_dict()
    assert means == {("the node's own model", "w1"): 0.8,
                     ("unified run, its share on the node", "master"): 1.5,
                     ("unified run, its share on the node", "w1"): 3.0}


def test_report_md_has_the_work_table_and_every_figure_embedded_in_html(unified_work, tmp_path):
    out_dir = tmp_path / "reports"
    assert _run_cli(unified_work, out_dir).exit_code == 0
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "| master | 2 | 1.0 | 15.0 | 500 | 1.50 | 33% | 3.00 | 2048 |" in text.splitlines()
    pngs = sorted(p.name for p in out_dir.glob("*.png"))
    assert pngs == ["f1_per_model.png", "resources_per_model.png", "resources_per_node.png",
                    "time_per_model.png"]
    assert all(f"]({name})" in text for name in pngs)
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == len(pngs)
    assert "The scikit-learn reference was skipped: " in text and "not found" in text


# --- the learning curve, from hand-built points --------------------------------------------

def _curve(points):
    return pd.DataFrame([{"seed": seed, "train_rows": rows, "all_rows": every, "repeat": repeat,
                          "f1": f1} for seed, rows, every, repeat, f1 in points])


def test_curve_stats_group_draws_and_call_every_seeds_full_size_all():
    curve = _curve([(1, 50, False, 0, 0.6), (1, 50, False, 1, 0.8), (2, 50, False, 0, 0.7),
                    (1, 100, False, 0, 0.95), (1, 100, False, 1, 0.97), (2, 100, False, 0, 0.96),
                    (1, 790, True, 0, 0.99), (2, 810, True, 0, 0.98)])
    stats = report.curve_stats(curve)
    assert report.curve_table(stats).to_dict("records") == [
        {"training rows": "50", "fits": 3, "F1 global test set": "0.7000 ± 0.1000"},
        {"training rows": "100", "fits": 3, "F1 global test set": "0.9600 ± 0.0100"},
        {"training rows": "all (800)", "fits": 2, "F1 global test set": "0.9850 ± 0.0071"}]
    assert report.curve_words(stats) == (
        "Small training sets vary more: the standard deviation over 3 draws is 0.1000 at 50 "
        "training rows (mean F1 0.7000) and 0.0100 at 100 rows (mean F1 0.9600). With fewer "
        "rows, which rows a model gets decides more of its score.")


def test_curve_words_say_so_when_the_spread_does_not_shrink():
    stats = report.curve_stats(_curve([(1, 50, False, 0, 0.9), (1, 50, False, 1, 0.9),
                                       (1, 100, False, 0, 0.8), (1, 100, False, 1, 0.9)]))
    assert report.curve_words(stats).startswith("Here the spread does not shrink with more rows")


def test_verdict_compares_on_the_seeds_both_models_have():
    summary = _summary([("unified", 1, 0.99), ("unified", 2, 0.95), ("unified", 3, 0.94),
                        ("federated", 1, 0.98)])
    lines = report.verdict(summary)
    assert lines[0] == "On the global test set the best mean F1 is federated's, 0.9800 over 1 seed(s)."
    # seed 1 only: 0.98 against 0.99, not against unified's mean over three seeds (0.96)
    assert lines[1] == (
        "The federated model (per-node coefficients averaged by row count; no row moved) is "
        "0.0100 below the unified model (0.9900) on seed(s) 1, which both have; with one seed "
        "there is no spread over seeds to judge the difference by.")


def test_report_states_the_latest_unified_runs_cluster_capacity(tmp_path):
    runs_dir = tmp_path / "runs"
    _train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
           cluster={"workers": 2, "cores": 2, "memory_mb": 2048}, versions={"spark": "4.3.0"})
    _train(runs_dir, "unified-s1-b", "unified", 1, UNIFIED_OWN, eval_set="global",
           finished_at="2026-01-02T10:00:00.000000Z",
           cluster={"workers": 3, "cores": 6, "memory_mb": 4608}, versions={"spark": "4.3.0"})
    out_dir = tmp_path / "reports"
    assert _run_cli(runs_dir, out_dir).exit_code == 0
    assert ("Cluster capacity at the latest unified run: 3 alive worker(s), 6 core(s), "
            "4608 MB for executors; Spark 4.3.0.") in (out_dir / "report.md").read_text().splitlines()
