"""The sweep's table, sentence, figure and CSV (nodewise_cli/report/sweep.py), from records
built by hand: known matrices at known alphas in, known cells out."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from nodewise_cli.report import records, sweep
from report_support import run_report, weighted_f1, write_evaluation, write_train

GOOD = [[50, 0, 0], [0, 100, 0], [0, 0, 50]]           # F1 1
FAIR = [[45, 5, 0], [5, 90, 5], [0, 5, 45]]             # 0.9
POOR = [[20, 30, 0], [10, 80, 10], [0, 30, 20]]         # about 0.6
ONE_LABEL = [[0, 50, 0], [0, 100, 0], [0, 50, 0]]       # predicts Medium only


def _split(alpha, sha="a", rows=300):
    return {"kind": "label", "alpha": alpha, "seed": 42,
            "manifest_sha256": f"{sha}{alpha:g}{rows}".ljust(64, "0"),  # each make data's own
            "labels_per_node": {"master": {"Low": rows // 3}, "w1": {"High": rows - rows // 3}}}


def _runs(runs_dir, alpha, seed, unified, node, *, sha="a", finished="2026-01-01T10:00:00Z",
          classifier="logistic_regression", rows=300):
    """A unified run and w1's run (scored on the nodes) on the label split at `alpha`."""
    tag = f"{alpha:g}-{seed}-{sha}-{classifier[0]}-{rows}"
    split = _split(alpha, sha, rows)
    write_train(runs_dir, f"unified-{tag}", "unified", seed, unified, eval_set="global",
                train_nodes=["master", "w1"], split=split, finished_at=finished,
                classifier=classifier)
    write_train(runs_dir, f"w1-{tag}", "w1", seed, node, eval_set="local", split=split,
                finished_at=finished, classifier=classifier)
    write_evaluation(runs_dir, f"w1-{tag}", "w1", seed, "master", node)


@pytest.fixture
def swept(tmp_path):
    """alpha 100: unified GOOD, w1 FAIR (seeds 1, 2); alpha 0.1: unified GOOD and FAIR,
    w1 POOR and ONE_LABEL; and runs no sweep may count."""
    runs_dir = tmp_path / "runs"
    for seed in (1, 2):
        _runs(runs_dir, 100, seed, GOOD, FAIR)
    _runs(runs_dir, 0.1, 1, GOOD, POOR, finished="2026-01-02T10:00:00Z")  # the latest: reported
    _runs(runs_dir, 0.1, 2, FAIR, ONE_LABEL, finished="2026-01-02T10:00:00Z")
    _runs(runs_dir, 0.1, 1, POOR, POOR, sha="o", finished="2025-12-01T10:00:00Z")  # older slices
    _runs(runs_dir, 1, 1, POOR, POOR, classifier="decision_tree")  # another classifier
    _runs(runs_dir, 1, 1, POOR, POOR, rows=30000)  # another dataset (ROWS=30000)
    write_train(runs_dir, "unified-iid", "unified", 1, POOR, eval_set="global")  # no split named
    return runs_dir


def _frame(runs_dir):
    trains, evaluations = records.load_records(str(runs_dir))
    chosen = max((t for t in trains if t["classifier"] == "logistic_regression"
                  and t.get("split")), key=lambda t: t["finished_at"])
    runs_by_alpha, notes = sweep.sweep_runs(trains, chosen)
    return sweep.sweep_frame(runs_by_alpha, evaluations), notes


def test_the_sweep_takes_each_alphas_latest_slices_of_one_configuration_and_split(swept):
    frame, notes = _frame(swept)
    assert sorted(set(frame.alpha)) == [0.1, 100.0]
    assert len(frame) == 8  # 2 alphas x 2 models x 2 seeds: no tree, iid run, other rows, old slices
    assert notes == ["Sweep: left out 2 run(s) at alpha 0.1 on older slices of the same split "
                     "(another make data); the latest slices' runs count."]


def test_the_sweep_table_has_a_column_per_alpha_largest_first(swept):
    frame, _ = _frame(swept)
    table = sweep.sweep_table(frame)
    assert list(table.columns) == ["model", "seeds", "alpha 100", "alpha 0.1"]
    unified, w1 = table.to_dict("records")
    fair, poor, one = weighted_f1(FAIR), weighted_f1(POOR), weighted_f1(ONE_LABEL)
    spread = (1.0 - fair) / 2 ** 0.5  # std (ddof 1) of two values
    assert unified == {"model": "unified", "seeds": "2", "alpha 100": "1.0000 ± 0.0000",
                       "alpha 0.1": f"{(1 + fair) / 2:.4f} ± {spread:.4f}"}
    assert w1["alpha 100"] == f"{fair:.4f} ± 0.0000"
    assert w1["alpha 0.1"] == f"{(poor + one) / 2:.4f} ± {abs(poor - one) / 2 ** 0.5:.4f}"


def test_the_sweep_sentence_follows_each_kind_of_model_from_alike_to_unlike(swept):
    frame, _ = _frame(swept)
    fair, low_node = weighted_f1(FAIR), (weighted_f1(POOR) + weighted_f1(ONE_LABEL)) / 2
    assert sweep.sweep_words(frame) == (
        f"From alpha 100 (nearly alike slices) to alpha 0.1 (the most unlike), the mean F1 on "
        f"the global test set goes: the unified model's 1.0000 to {(1 + fair) / 2:.4f}; the "
        f"per-node model w1's {fair:.4f} to {low_node:.4f}.")


def test_one_alpha_or_a_split_without_alpha_makes_no_sweep(tmp_path):
    runs_dir = tmp_path / "runs"
    _runs(runs_dir, 0.3, 1, GOOD, FAIR)
    assert _frame(runs_dir)[0].empty
    trains, _ = records.load_records(str(runs_dir))
    column = {**trains[0], "split": {"kind": "column", "column": "Job_Title", "seed": 42}}
    assert sweep.sweep_runs(trains + [column], column) == ({}, [])


def test_make_report_writes_the_sweep_section_csv_and_figure(swept, tmp_path):
    out = tmp_path / "out"
    result = run_report(swept, out, "--classifier", "logistic_regression")
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text(encoding="utf-8")
    section = text.split("## F1 against alpha\n\n")[1].split("\n## ")[0]
    assert "| model | seeds | alpha 100 | alpha 0.1 |" in section
    assert "![f1 against alpha](f1_against_alpha.png)" in section
    assert "From alpha 100 (nearly alike slices)" in section
    assert "The sections above cover alpha 0.1 only." in section
    assert ("Left out: 4 training run(s) of classifier logistic_regression and feature set "
            "default on another split of the data (SPLIT=label ALPHA=100 SPLIT_SEED=42)") in text
    with open(out / "sweep.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and set(rows[0]) == {"alpha", "model", "seed", "f1"}
    assert (out / "f1_against_alpha.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a later report without a sweep takes the sweep's files away with its section
    for path in swept.glob("*-0.1-*"):
        path.unlink()
    assert run_report(swept, out, "--classifier", "logistic_regression").exit_code == 0
    assert "## F1 against alpha" not in (out / "report.md").read_text(encoding="utf-8")
    assert not (out / "sweep.csv").exists() and not (out / "f1_against_alpha.png").exists()


def test_with_several_nodes_the_sentence_names_the_worst_and_best_per_node_means():

    frame = pd.DataFrame([(a, m, 1, f) for a, m, f in (
        (1.0, "unified", 0.99), (1.0, "fedavg", 0.98), (1.0, "average", 0.97), (1.0, "n1", 0.9),
        (1.0, "n2", 0.8), (0.1, "unified", 0.95), (0.1, "fedavg", 0.94), (0.1, "average", 0.6),
        (0.1, "n1", 0.3), (0.1, "n2", 0.5))], columns=sweep.COLUMNS)
    assert sweep.sweep_words(frame) == (
        "From alpha 1 (nearly alike slices) to alpha 0.1 (the most unlike), the mean F1 on the "
        "global test set goes: the unified model's 0.9900 to 0.9500; fedavg's 0.9800 to 0.9400; "
        "the one-shot average's 0.9700 to 0.6000; the worst per-node model's 0.8000 to 0.3000 "
        "(the best's 0.9000 to 0.5000).")
    assert list(sweep.sweep_means(frame).columns) == ["unified", "fedavg", "average", "n1", "n2"]
    # a model missing at either end is left out of the sentence, never printed as nan
    partial = frame[~((frame.model.isin(["n2", "fedavg"])) & (frame.alpha == 0.1))]
    assert sweep.sweep_words(partial) == (
        "From alpha 1 (nearly alike slices) to alpha 0.1 (the most unlike), the mean F1 on the "
        "global test set goes: the unified model's 0.9900 to 0.9500; the one-shot average's "
        "0.9700 to 0.6000; the per-node model n1's 0.9000 to 0.3000.")


def test_fedavg_with_other_rounds_at_some_alphas_is_noted():
    def fedavg(alpha, rounds):
        return {"model": "fedavg", "params": {"rounds": rounds, "local_steps": 10}}
    assert sweep._fedavg_settings_notes({1.0: [fedavg(1.0, 20)], 0.1: [fedavg(0.1, 20)]}) == []
    assert sweep._fedavg_settings_notes({1.0: [fedavg(1.0, 20)], 0.1: [fedavg(0.1, 3)]}) == [
        "Sweep: fedavg ran with different settings at different alphas (ROUNDS, LOCAL_STEPS: "
        "20, 10, 3, 10)."]
