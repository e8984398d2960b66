"""The records into summary rows (nodewise_cli/report/records.py): global scores are the
nodes' confusion matrices summed, re-runs replace earlier runs, rows in report order."""

from __future__ import annotations

import pytest

from nodewise_cli.report import records
from report_support import (
    AVERAGE_ON,
    UNIFIED_ON,
    UNIFIED_OWN,
    W1_ON,
    W1_OWN,
    accuracy_of,
    every_kind_summary,
    row_of,
    summary_rows_of,
    summed,
    weighted_f1,
    write_combined,
    write_evaluation,
    write_train,
)


def test_load_records_separates_training_and_evaluation(evaluated_runs):
    trains, evaluations = records.load_records(str(evaluated_runs))
    assert sorted(r["run_id"] for r in trains) == ["unified-s1-a", "w1-s1-a"]
    assert len(evaluations) == 6


def test_per_node_models_global_row_sums_the_node_evaluations(evaluated_runs):
    row = row_of(summary_rows_of(evaluated_runs), "w1-s1-a", "global")
    total = summed(*W1_ON.values())
    assert row["test_rows"] == sum(map(sum, total)) == 66 + 68 + 65
    assert row["f1"] == pytest.approx(weighted_f1(total))
    assert row["accuracy"] == pytest.approx(accuracy_of(total))
    assert row["eval_nodes"] == "master w1 w2"
    assert row["train_rows"] == 270


def test_per_node_models_local_row_uses_its_own_nodes_evaluation(evaluated_runs):
    row = row_of(summary_rows_of(evaluated_runs), "w1-s1-a", "local")
    assert row["f1"] == pytest.approx(weighted_f1(W1_ON["w1"]))
    assert row["f1"] != pytest.approx(weighted_f1(W1_OWN))
    assert row["test_rows"] == 68
    assert row["eval_nodes"] == "w1"


def test_unified_model_with_evaluations_gets_one_summed_global_row(evaluated_runs):
    rows = [r for r in summary_rows_of(evaluated_runs) if r["model"] == "unified"]
    assert [r["eval_set"] for r in rows] == ["global"]
    assert rows[0]["f1"] == pytest.approx(weighted_f1(summed(*UNIFIED_ON.values())))


def test_rows_put_the_unified_model_first(evaluated_runs):
    assert [(r["model"], r["eval_set"]) for r in summary_rows_of(evaluated_runs)] == [
        ("unified", "global"), ("w1", "global"), ("w1", "local")]


def test_without_evaluations_the_records_own_scores_are_used(tmp_path):
    runs_dir = tmp_path / "runs"
    write_train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
                train_nodes=["master", "w1", "w2"])
    write_train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local")
    rows = summary_rows_of(runs_dir)
    assert [(r["run_id"], r["eval_set"]) for r in rows] == [
        ("unified-s1-a", "global"), ("w1-s1-a", "local")]
    assert rows[0]["f1"] == pytest.approx(weighted_f1(UNIFIED_OWN))
    assert rows[0]["eval_nodes"] == "master w1 w2"
    assert rows[1]["f1"] == pytest.approx(weighted_f1(W1_OWN))


def test_a_later_rerun_of_the_same_model_and_seed_replaces_the_earlier(tmp_path):
    runs_dir = tmp_path / "runs"
    # The earlier run sorts last by file name, so only finished_at can order them.
    write_train(runs_dir, "w1-s1-zzz", "w1", 1, W1_OWN, eval_set="local",
                finished_at="2026-01-01T10:00:00.000000Z")
    write_train(runs_dir, "w1-s1-aaa", "w1", 1, W1_ON["w1"], eval_set="local",
                finished_at="2026-01-02T10:00:00.000000Z")
    write_train(runs_dir, "w1-s2-a", "w1", 2, W1_OWN, eval_set="local")
    rows = summary_rows_of(runs_dir)
    assert sorted(r["run_id"] for r in rows) == ["w1-s1-aaa", "w1-s2-a"]
    assert row_of(rows, "w1-s1-aaa", "local")["f1"] == pytest.approx(weighted_f1(W1_ON["w1"]))


def test_the_average_gets_one_global_row_summed_over_nodes_and_vote_none_without_evaluations(every_kind):
    rows = summary_rows_of(every_kind)
    average = [r for r in rows if r["model"] == "average"]
    assert [r["eval_set"] for r in average] == ["global"]
    assert average[0]["f1"] == pytest.approx(weighted_f1(summed(*AVERAGE_ON.values())))
    assert average[0]["train_rows"] == 810 and average[0]["executor_cpu_seconds"] is None
    assert not [r for r in rows if r["model"] == "vote"]
    trains, evaluations = records.load_records(str(every_kind))
    assert records.unscored_notes(trains, evaluations) == [
        "No evaluation records yet for vote (seed 1): `make evaluate` scores them."]


def test_rows_are_ordered_unified_average_vote_nodes_reference(every_kind):
    write_evaluation(every_kind, "vote-s1-a", "vote", 1, "w1", W1_ON["w1"])
    summary = every_kind_summary(every_kind)
    assert list(zip(summary.model, summary.seed, summary.eval_set, strict=True)) == [
        ("unified", 1, "global"), ("unified", 2, "global"), ("average", 1, "global"),
        ("vote", 1, "global"), ("w1", 1, "global"), ("w1", 1, "local"), ("sklearn", 1, "global")]
    assert summary.engine.tolist()[-1] == "scikit-learn, one machine"


def test_an_old_federated_record_is_reported_as_the_average(evaluated_runs):
    # before issue 15 the one-shot average was named "federated"; its files keep that name
    write_combined(evaluated_runs, "federated-s1-old", "federated", 1, ["w1-s1-a"])
    write_combined(evaluated_runs, "vote-s1-a", "vote", 1, ["w1-s1-a"])
    for node, matrix in AVERAGE_ON.items():
        write_evaluation(evaluated_runs, "federated-s1-old", "federated", 1, node, matrix)
    trains, evaluations = records.load_records(str(evaluated_runs))
    assert {r["model"] for r in trains} == {"unified", "w1", "average", "vote"}
    assert {e["model"] for e in evaluations} == {"unified", "w1", "average"}
    rows = summary_rows_of(evaluated_runs)
    assert [(r["model"], r["eval_set"]) for r in rows] == [
        ("unified", "global"), ("average", "global"), ("w1", "global"), ("w1", "local")]
    assert row_of(rows, "federated-s1-old", "global")["f1"] == pytest.approx(
        weighted_f1(summed(*AVERAGE_ON.values())))
    assert records.unscored_notes(trains, evaluations) == [
        "No evaluation records yet for vote (seed 1): `make evaluate` scores them."]


def test_a_report_covers_the_latest_runs_split_and_names_the_other(tmp_path):
    runs_dir = tmp_path / "runs"
    iid = {"kind": "iid", "manifest_sha256": "a" * 64}
    label = {"kind": "label", "alpha": 0.3, "seed": 42, "draws": 1, "manifest_sha256": "b" * 64}
    write_train(runs_dir, "w1-s1-iid", "w1", 1, W1_OWN, eval_set="local", split=iid)
    write_train(runs_dir, "w2-s1-iid", "w2", 1, W1_OWN, eval_set="local", split=iid)
    write_train(runs_dir, "w1-s1-label", "w1", 1, W1_ON["w1"], eval_set="local", split=label,
                finished_at="2026-01-02T10:00:00.000000Z")
    trains, _ = records.load_records(str(runs_dir))
    chosen, notes = records.select_configuration(trains)
    assert [r["run_id"] for r in chosen] == ["w1-s1-label"]
    assert notes == ["Left out: 2 training run(s) of classifier logistic_regression and feature "
                     "set default on another split of the data (SPLIT=iid); a report covers "
                     "one split."]
    assert records.split_words(chosen[0]) == "SPLIT=label ALPHA=0.3 SPLIT_SEED=42"
