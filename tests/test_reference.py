"""The scikit-learn reference and the learning curve (nodewise_cli/reference.py)."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from nodewise import manifest, metrics, schema
from nodewise.slices import IS_TEST, NODE
from nodewise_cli import generate, reference, split
from nodewise_cli.cli import main

NODES = ["master", "w1", "w2"]


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
    """900 generated rows cut into three slices of 300, as `make data` would."""
    root = tmp_path_factory.mktemp("data")
    generate.write_csv(str(root / "jobs.csv"), 900, 7)
    split.split_file(str(root / "jobs.csv"), NODES, str(root / "split"))
    return str(root / "split")


def _train_rows(split_dir, seed):
    frame = reference.read_all(split_dir, NODES, seed)
    return frame[~frame[IS_TEST]].groupby(NODE).size().to_dict()


def _record(model, seed, rows_per_node, **extra):
    return {"kind": "train", "run_id": f"{model}-s{seed}", "model": model, "seed": seed,
            "classifier": "logistic_regression", "train_nodes": list(rows_per_node),
            "rows_per_node": rows_per_node, "train_rows": sum(rows_per_node.values()),
            "fit_seconds": 1.0, "total_seconds": 2.0, "finished_at": "2026-01-01T10:00:00Z",
            "evaluation": None, "resources": {}, **extra}


def test_curve_sizes_step_1_2_5_then_all_rows():
    assert reference.curve_sizes(2390) == [50, 100, 250, 500, 1000, 2390]
    assert reference.curve_sizes(250) == [50, 100, 250]
    assert reference.curve_sizes(30) == [30]
    assert reference.curve_sizes(8_000_000)[-3:] == [50_000, 100_000, 8_000_000]


@pytest.mark.parametrize("classifier, kind", [("logistic_regression", LogisticRegression),
                                              ("decision_tree", DecisionTreeClassifier),
                                              ("random_forest", RandomForestClassifier)])
def test_the_reference_uses_the_records_classifier_family(classifier, kind):
    model = reference.build_model(classifier=classifier, params={"max_depth": 3, "num_trees": 7})
    fitted = model.named_steps["classifier"]
    assert isinstance(fitted, kind)
    if classifier == "random_forest":
        assert (fitted.n_estimators, fitted.max_depth) == (7, 3)
    if classifier == "decision_tree":
        assert fitted.max_depth == 3


def test_an_unknown_classifier_has_no_reference():
    with pytest.raises(ValueError, match="svm"):
        reference.build_model(classifier="svm")
    run = reference.run([_record("w1", 1, {"w1": 1})], [], "nowhere", "svm", "default")
    assert run.records == [] and "classifier svm" in run.note


def test_a_depth_two_tree_on_the_full_feature_set_recovers_the_label_rule(split_dir):
    frame = reference.read_all(split_dir, NODES, 1)
    scored = reference.fit_and_score(frame, classifier="decision_tree", feature_set="full",
                                     params={"max_depth": 2})
    assert metrics.weighted_f1(scored["confusion_matrix"]) == 1.0
    scaled = reference.build_model(feature_set="default").named_steps["features"].transformers[1][2]
    assert schema.AUTOMATION_PROBABILITY not in scaled


def test_run_fits_on_every_node_the_runs_used_with_the_shared_split(split_dir):
    rows = _train_rows(split_dir, 2)
    # w1's model was scored on every node: the reference must cover all three slices
    trains = [_record("w1", 2, {"w1": rows["w1"]}, evaluation={"eval_set": "local"})]
    evaluations = [{"run_id": "w1-s2", "node": node} for node in NODES]
    run = reference.run(trains, evaluations, split_dir, "logistic_regression", "default")
    assert run.note == ""
    [record] = run.records
    expected = reference.fit_and_score(reference.read_all(split_dir, NODES, 2))
    assert record["evaluation"]["confusion_matrix"] == expected["confusion_matrix"]
    assert (record["model"], record["seed"], record["train_nodes"]) == ("sklearn", 2, NODES)
    assert record["train_rows"] == sum(rows.values()) and record["fit_seconds"] > 0
    assert sum(map(sum, record["evaluation"]["confusion_matrix"])) == 900 - sum(rows.values())


def test_run_says_why_it_skipped(split_dir, tmp_path):
    trains = [_record("unified", 1, {"master": 1, "w1": 1, "w9": 1})]
    run = reference.run(trains, [], split_dir, "logistic_regression", "default")
    assert run.records == [] and run.note.startswith(f"{split_dir}/jobs_w9.csv not found")
    rows = _train_rows(split_dir, 1)
    trains = [_record("unified", 1, {**rows, "w1": rows["w1"] + 1})]
    run = reference.run(trains, [], split_dir, "logistic_regression", "default")
    assert run.records == [] and run.note == (
        f"{split_dir} is not the data the runs used: the slice of w1 has {rows['w1']} training "
        f"rows for seed 1, the run unified-s1 used {rows['w1'] + 1}")


def test_run_skips_when_the_slices_are_another_split_than_the_runs(split_dir):
    rows = _train_rows(split_dir, 1)
    ours = manifest.split_identity(manifest.manifest_path(split_dir))
    assert ours["kind"] == "iid" and sum(map(sum, map(dict.values, ours["labels_per_node"].values()))) == 900
    assert ours["manifest_sha256"] == manifest.sha256_of(f"{split_dir}/manifest.json")
    theirs = {"kind": "label", "alpha": 0.3, "seed": 42, "draws": 1, "manifest_sha256": "b" * 64}
    run = reference.run([_record("unified", 1, rows, split=theirs)], [], split_dir,
                        "logistic_regression", "default")
    assert run.records == [] and run.note == (
        f"{split_dir} holds another split (SPLIT=iid) than the runs trained on (SPLIT=label "
        f"ALPHA=0.3 SPLIT_SEED=42): `make data` with theirs writes it again")
    run = reference.run([_record("unified", 1, rows, split=ours)], [], split_dir,
                        "logistic_regression", "default")
    assert run.note == "" and len(run.records) == 1


def test_learning_curve_draws_from_the_train_side_only_and_is_repeatable(split_dir, monkeypatch):
    frame = reference.read_all(split_dir, NODES, 1)
    train_rows = int((~frame[IS_TEST]).sum())
    seen = []
    real = reference._fit_and_score

    def spy(train, test, **options):
        seen.append((train, test))
        return real(train, test, **options)

    monkeypatch.setattr(reference, "_fit_and_score", spy)
    curve = reference.learning_curve(frame, 1, repeats=3)
    assert [(p["train_rows"], p["repeat"]) for p in curve] == [
        (50, 0), (50, 1), (50, 2), (100, 0), (100, 1), (100, 2), (250, 0), (250, 1), (250, 2),
        (500, 0), (500, 1), (500, 2), (train_rows, 0)]
    assert [p["all_rows"] for p in curve] == [False] * 12 + [True]
    assert all(not train[IS_TEST].any() and test[IS_TEST].all() and len(test) == 900 - train_rows
               for train, test in seen)
    assert seen[0][0].index.tolist() != seen[1][0].index.tolist()  # repeats draw other rows
    monkeypatch.undo()
    assert reference.learning_curve(frame, 1, repeats=3) == curve  # fixed draws
    full = reference.fit_and_score(frame, seed=1)
    assert curve[-1]["f1"] == metrics.weighted_f1(full["confusion_matrix"])


def test_report_adds_the_reference_row_and_the_learning_curve(split_dir, tmp_path):
    runs_dir, out_dir = tmp_path / "runs", tmp_path / "reports"
    runs_dir.mkdir()
    rows = _train_rows(split_dir, 1)
    matrix = [[60, 0, 0], [0, 60, 0], [0, 0, 60]]
    unified = _record("unified", 1, rows, master="spark://127.0.0.1:7077",
                      evaluation={"eval_set": "global", "confusion_matrix": matrix})
    (runs_dir / "unified-s1.json").write_text(json.dumps(unified), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--runs-dir", str(runs_dir), "--out-dir",
                                       str(out_dir), "--split-dir", split_dir])
    assert result.exit_code == 0, result.output
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        summary = list(csv.DictReader(handle))
    assert [(r["model"], r["eval_set"]) for r in summary] == [("unified", "global"),
                                                              ("sklearn", "global")]
    expected = reference.fit_and_score(reference.read_all(split_dir, NODES, 1), seed=1)
    assert float(summary[1]["f1"]) == pytest.approx(metrics.weighted_f1(expected["confusion_matrix"]))
    assert summary[1]["engine"] == "scikit-learn, one machine"
    text = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "## Learning curve" in text and "![learning curve](learning_curve.png)" in text
    assert f"| all ({sum(rows.values())}) | 1 |" in text
    assert "| sklearn | scikit-learn, one machine |" in text
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    pngs = sorted(p.name for p in out_dir.glob("*.png"))  # no Spark resources: no resource plots
    assert pngs == ["f1_per_model.png", "learning_curve.png", "time_per_model.png"]
    assert page.count('src="data:image/png;base64,') == len(pngs)
