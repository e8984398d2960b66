"""Run records into summary.csv and report.md (nodewise_cli/report.py, `nodewise report`)."""

from __future__ import annotations

import csv
import json
import statistics

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
           train_nodes=None, train_rows=400, fit_seconds=10.0, total_seconds=20.0, cpu_seconds=5.0):
    record = {
        "kind": "train", "run_id": run_id, "model": model, "seed": seed,
        "classifier": "logistic_regression",
        "train_nodes": train_nodes or [model], "rows_per_node": {model: train_rows},
        "train_rows": train_rows, "test_rows": sum(map(sum, matrix)),
        "fit_seconds": fit_seconds, "total_seconds": total_seconds, "finished_at": finished_at,
        "evaluation": {"eval_set": eval_set, "confusion_matrix": matrix, "f1": _f1(matrix),
                       "accuracy": _accuracy(matrix), "per_class_f1": {},
                       "rows": sum(map(sum, matrix)), "unseen_categories": {}},
        "resources": {"app_id": f"app-{run_id}", "executor_cpu_seconds": cpu_seconds,
                      "peak_memory_bytes": 1_000_000},
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


def _run_cli(runs_dir, out_dir):
    return CliRunner().invoke(main, ["report", "--runs-dir", str(runs_dir), "--out-dir", str(out_dir)])


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
        "f1_per_model.png", "report.html", "report.md", "resources_per_model.png", "summary.csv",
        "time_per_model.png"]


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
    expected = f"| unified | 2 | 1000 | {cell} | – | 11.00 ± 1.41 | 22.00 ± 2.83 | 6.00 ± 1.41 |"
    text = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8")
    assert expected in text.splitlines()
    assert "| model | seeds | training rows | F1 global test set | F1 own test part |" in text


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
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert f"| w2 | 1 | 300 | – | {f1} | 10.00 | 20.00 | 5.00 |" in text.splitlines()


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
