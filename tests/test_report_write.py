"""`nodewise report`: summary.csv, report.md, report.html and the figures, written whole
(nodewise_cli/report/__init__.py and render.py, plots.py, html.py)."""

from __future__ import annotations

import csv
import os
import re
import stat
import statistics

import pytest

from nodewise_cli import html, plots
from nodewise_cli.files import atomic_path
from nodewise_cli.report import records
from report_support import (
    AVERAGE_ON,
    LABEL_SPLIT,
    REQUIRED_COLUMNS,
    UNIFIED_ON,
    UNIFIED_OWN,
    W1_ON,
    W1_OWN,
    run_report,
    summary_of,
    summed,
    weighted_f1,
    write_combined,
    write_evaluation,
    write_fedavg,
    write_train,
)


def test_cli_writes_summary_csv_with_the_required_columns(evaluated_runs, tmp_path):
    out_dir = tmp_path / "reports"
    result = run_report(evaluated_runs, out_dir)
    assert result.exit_code == 0, result.output
    assert f"({3} rows)" in result.output
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:len(REQUIRED_COLUMNS)] == REQUIRED_COLUMNS
    assert [(r["run_id"], r["eval_set"]) for r in rows] == [
        ("unified-s1-a", "global"), ("w1-s1-a", "global"), ("w1-s1-a", "local")]
    assert float(rows[1]["f1"]) == pytest.approx(weighted_f1(summed(*W1_ON.values())))
    assert rows[1]["executor_cpu_seconds"] == "5.0"
    assert rows[1]["peak_memory_bytes"] == "1000000"
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "f1_per_model.png", "report.html", "report.md", "resources_per_model.png",
        "resources_per_node.png", "summary.csv", "time_per_model.png"]


def test_report_md_shows_mean_and_std_over_seeds(tmp_path):
    runs_dir = tmp_path / "runs"
    second = [[48, 3, 0], [4, 90, 6], [0, 2, 47]]
    write_train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
                train_nodes=["master", "w1", "w2"], train_rows=1000,
                fit_seconds=10.0, total_seconds=20.0, cpu_seconds=5.0)
    write_train(runs_dir, "unified-s2-a", "unified", 2, second, eval_set="global",
                train_nodes=["master", "w1", "w2"], train_rows=1000,
                fit_seconds=12.0, total_seconds=24.0, cpu_seconds=7.0)
    result = run_report(runs_dir, tmp_path / "reports")
    assert result.exit_code == 0, result.output
    f1s = [weighted_f1(UNIFIED_OWN), weighted_f1(second)]
    cell = f"{statistics.mean(f1s):.4f} ± {statistics.stdev(f1s):.4f}"
    lines = (tmp_path / "reports" / "report.md").read_text(encoding="utf-8").splitlines()
    assert f"| unified | 2 | 1000 | {cell} | – |" in lines
    assert "| unified | Spark cluster | 1000 | 11.00 ± 1.41 | 22.00 ± 2.83 | 6.00 ± 1.41 |" in lines


def test_a_single_nodes_record_is_enough(tmp_path):
    runs_dir = tmp_path / "runs"
    write_train(runs_dir, "w2-s1-a", "w2", 1, W1_OWN, eval_set="local", train_rows=300)
    out_dir = tmp_path / "reports"
    result = run_report(runs_dir, out_dir)
    assert result.exit_code == 0, result.output
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["model"], r["eval_set"]) for r in rows] == [("w2", "local")]
    f1 = f"{weighted_f1(W1_OWN):.4f}"
    lines = (out_dir / "report.md").read_text(encoding="utf-8").splitlines()
    assert f"| w2 | 1 | 300 | – | {f1} |" in lines
    assert "| w2 | Spark local mode, one node | 300 | 10.00 | 20.00 | 5.00 |" in lines


def test_empty_runs_dir_asks_to_train_first(tmp_path):
    (tmp_path / "runs").mkdir()
    result = run_report(tmp_path / "runs", tmp_path / "reports")
    assert result.exit_code != 0
    assert "no training records" in result.output and "first" in result.output
    assert not (tmp_path / "reports").exists()


def test_evaluations_alone_are_not_enough(tmp_path):
    runs_dir = tmp_path / "runs"
    write_evaluation(runs_dir, "w1-s1-a", "w1", 1, "w1", W1_ON["w1"])
    result = run_report(runs_dir, tmp_path / "reports")
    assert result.exit_code != 0
    assert "no training records" in result.output


def test_plots_are_png_files_linked_from_the_report(tmp_path):
    summary = summary_of([("unified", 1, 0.99), ("unified", 2, 0.98), ("w1", 1, 0.95)])
    names = plots.all_plots(summary, str(tmp_path))
    assert names == [plots.F1_PNG, plots.TIME_PNG, plots.RESOURCES_PNG]
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no partial files


def test_plots_work_with_one_nodes_local_run_alone(tmp_path):
    from nodewise_cli import plots
    summary = records.summary_frame([
        {"run_id": "w1-1", "model": "w1", "seed": 1, "eval_set": "local", "f1": 0.97,
         "fit_seconds": 1.0, "total_seconds": 9.0, "executor_cpu_seconds": 1.0,
         "peak_memory_bytes": 2**20}])
    assert len(plots.all_plots(summary, str(tmp_path))) == 3


def test_report_html_is_one_self_contained_page(tmp_path):
    summary = summary_of([("unified", 1, 0.99), ("unified", 2, 0.98), ("w1", 1, 0.95)])
    figures = plots.all_plots(summary, str(tmp_path))
    markdown = ("# Title\n\nSome words.\n\n| model | F1 | engine |\n|---|---|---|\n"
                "| unified | 0.99 ± 0.01 | Spark |\n| w1 | -0.5 | `local[*]` |\n\n"
                + "\n".join(f"![{n}]({n})" for n in figures) + "\n")
    page = html.markdown_to_html(markdown, str(tmp_path))
    assert "<h1>Title</h1>" in page and "<p>Some words.</p>" in page
    # Numbers right-aligned, text left-aligned.
    assert '<tr><td>unified</td><td class="number">0.99 ± 0.01</td><td>Spark</td></tr>' in page
    assert '<tr><td>w1</td><td class="number">-0.5</td><td><code>local[*]</code></td></tr>' in page
    assert page.count('src="data:image/png;base64,') == 3
    assert re.findall(r'(?:src|href)="(?!data:)', page) == []  # nothing to fetch


def test_report_files_are_readable_by_others(tmp_path):
    target = tmp_path / "out.txt"
    old = os.umask(0o022)
    try:
        with atomic_path(str(target)) as partial, open(partial, "w") as out:
            out.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644


def test_a_report_covers_the_latest_runs_classifier_and_says_what_it_left_out(tmp_path):
    runs_dir = tmp_path / "runs"
    write_train(runs_dir, "w1-s1-lr", "w1", 1, W1_OWN, eval_set="local")
    write_train(runs_dir, "w1-s1-tree", "w1", 1, W1_ON["w1"], eval_set="local",
                finished_at="2026-01-02T10:00:00.000000Z", classifier="decision_tree",
                feature_set="full", model_description=["If Automation_Probability_2030 <= 0.305: Low"])
    out_dir = tmp_path / "reports"
    assert run_report(runs_dir, out_dir).exit_code == 0
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "Classifier: decision tree; features: full (also Automation_Probability_2030" in text
    assert ("Left out: 1 training run(s) with classifier logistic_regression and feature set "
            "default; `make report MODEL=logistic_regression FEATURES=default` "
            "reports them.") in text.splitlines()
    assert f"| w1 | 1 | 400 | – | {weighted_f1(W1_ON['w1']):.4f} |" in text.splitlines()
    assert ("## What the trees learned\n\nw1 (seed 1):\n\n```\n"
            "If Automation_Probability_2030 <= 0.305: Low\n```") in text
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "<pre>If Automation_Probability_2030 &lt;= 0.305: Low</pre>" in page
    assert "<code>make report MODEL=logistic_regression FEATURES=default</code>" in page

    result = run_report(runs_dir, out_dir, "--classifier", "logistic_regression")
    assert result.exit_code == 0, result.output
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert f"| w1 | 1 | 400 | – | {weighted_f1(W1_OWN):.4f} |" in text.splitlines()
    assert "What the trees learned" not in text


def test_a_classifier_without_runs_fails_clearly(evaluated_runs, tmp_path):
    result = run_report(evaluated_runs, tmp_path / "reports", "--classifier", "random_forest")
    assert result.exit_code != 0
    assert "no training records" in result.output and "random_forest" in result.output


def test_report_md_has_the_work_table_and_every_figure_embedded_in_html(unified_work, tmp_path):
    out_dir = tmp_path / "reports"
    assert run_report(unified_work, out_dir).exit_code == 0
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "| master | 2 | 1.0 | 15.0 | 500 | 1.50 | 33% | 3.00 | 2048 |" in text.splitlines()
    pngs = sorted(p.name for p in out_dir.glob("*.png"))
    assert pngs == ["f1_per_model.png", "resources_per_model.png", "resources_per_node.png",
                    "time_per_model.png"]
    assert all(f"]({name})" in text for name in pngs)
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == len(pngs)
    assert "The scikit-learn reference was skipped: " in text and "not found" in text


def test_report_states_the_latest_unified_runs_cluster_capacity(tmp_path):
    runs_dir = tmp_path / "runs"
    write_train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
                cluster={"workers": 2, "cores": 2, "memory_mb": 2048}, versions={"spark": "4.3.0"})
    write_train(runs_dir, "unified-s1-b", "unified", 1, UNIFIED_OWN, eval_set="global",
                finished_at="2026-01-02T10:00:00.000000Z",
                cluster={"workers": 3, "cores": 6, "memory_mb": 4608}, versions={"spark": "4.3.0"})
    out_dir = tmp_path / "reports"
    assert run_report(runs_dir, out_dir).exit_code == 0
    assert ("Cluster capacity at the latest unified run: 3 alive worker(s), 6 core(s), "
            "4608 MB for executors; Spark 4.3.0.") in (out_dir / "report.md").read_text().splitlines()


def test_a_split_with_label_counts_gets_a_data_ownership_section_and_figure(tmp_path):
    runs_dir = tmp_path / "runs"
    write_train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local", split=LABEL_SPLIT)
    out_dir = tmp_path / "reports"
    assert run_report(runs_dir, out_dir).exit_code == 0
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    section = text.split("## Data ownership\n\n")[1].split("## ")[0]
    assert section.startswith("Split: SPLIT=label ALPHA=0.3 SPLIT_SEED=42 (drawn 2 times")
    assert ("| node | rows | Low | Medium | High | label distance from the whole |\n"
            "|---|---|---|---|---|---|\n| master | 100 | 80 | 20 | 0 | 0.467 |\n") in section
    assert "![labels per node](labels_per_node.png)" in section
    assert (out_dir / "labels_per_node.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fedavg_runs_get_a_rounds_section_and_figure(tmp_path):
    runs_dir = tmp_path / "runs"
    write_fedavg(runs_dir, 1, [0.9, 0.4, 0.3])
    for node, matrix in UNIFIED_ON.items():
        write_evaluation(runs_dir, "fedavg-s1-a", "fedavg", 1, node, matrix)
    out_dir = tmp_path / "reports"
    assert run_report(runs_dir, out_dir).exit_code == 0
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    section = text.split("## Federated averaging, round by round\n\n")[1].split("## ")[0]
    assert "| 3 | 1 | 0.3000 |" in section.splitlines()
    assert "![fedavg rounds](fedavg_rounds.png)" in section
    assert (out_dir / "fedavg_rounds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"| fedavg | 1 | 810 | {weighted_f1(summed(*UNIFIED_ON.values())):.4f} | – |" in text.splitlines()


def test_an_old_federated_record_is_reported_as_the_one_shot_average(evaluated_runs, tmp_path):
    write_combined(evaluated_runs, "federated-s1-old", "federated", 1, ["w1-s1-a"])
    for node, matrix in AVERAGE_ON.items():
        write_evaluation(evaluated_runs, "federated-s1-old", "federated", 1, node, matrix)
    out_dir = tmp_path / "reports"
    assert run_report(evaluated_runs, out_dir).exit_code == 0
    lines = (out_dir / "report.md").read_text(encoding="utf-8").splitlines()
    assert f"| average | 1 | 810 | {weighted_f1(summed(*AVERAGE_ON.values())):.4f} | – |" in lines
    assert not [line for line in lines if "| federated |" in line]  # run ids keep the old name
    assert [line for line in lines if line.startswith("The one-shot average of the per-node models")]
    assert "The average and vote models' times are the combining only; their per-node models' " \
           "training is in those models' rows." in lines
