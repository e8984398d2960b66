"""The classifiers, the tree descriptions, the one-shot average, the vote and their planning."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.classification import DecisionTreeClassifier, LogisticRegressionModel, RandomForestClassifier

from nodewise import combining, describe, features, federation, model_io, names, schema, scoring
from nodewise.slices import IS_TEST, read_slice
from nodewise_cli import generate


@pytest.fixture(scope="module")
def slices(spark, tmp_path_factory):
    """Two generated slices of 600 rows each, as (train, test) DataFrames."""
    parts = {}
    for node, seed in (("a", 11), ("b", 12)):
        path = tmp_path_factory.mktemp("slices") / f"jobs_{node}.csv"
        generate.write_csv(str(path), 600, seed)
        rows = spark.createDataFrame(read_slice(str(path), node, 1)).cache()
        parts[node] = (rows.filter(~rows[IS_TEST]), rows.filter(rows[IS_TEST]))
    return parts


def test_classifier_names_build_their_estimators(spark):
    assert isinstance(features.build_classifier(names.DECISION_TREE), DecisionTreeClassifier)
    forest = features.build_classifier(names.RANDOM_FOREST)
    assert isinstance(forest, RandomForestClassifier)
    assert forest.getNumTrees() == names.FOREST_TREES
    with pytest.raises(ValueError, match="unknown classifier 'svm'"):
        features.build_classifier("svm")


def test_full_feature_set_adds_only_the_labels_source():
    assert set(schema.feature_numeric("full")) - set(schema.feature_numeric()) == \
        {schema.AUTOMATION_PROBABILITY}
    with pytest.raises(ValueError, match="unknown feature set 'all'"):
        schema.feature_numeric("all")


def test_a_tree_on_the_full_feature_set_rediscovers_the_label_rule(slices):
    train, test = slices["a"]
    model = features.build_pipeline(names.DECISION_TREE, "full").fit(train)
    lines = describe.describe(model, test)
    assert lines[0] == "depth 2, 5 nodes"
    assert [line.strip() for line in lines[1:]] == [
        "If (Automation_Probability_2030 <= 0.305)", "Predict: Low",
        "Else (Automation_Probability_2030 > 0.305)",
        "If (Automation_Probability_2030 <= 0.705)", "Predict: Medium",
        "Else (Automation_Probability_2030 > 0.705)", "Predict: High"]
    assert scoring.evaluation(model, test, "local")["f1"] == 1.0


def test_a_forest_names_its_most_important_features(slices):
    train, test = slices["a"]
    model = features.build_pipeline(names.RANDOM_FOREST).fit(train)
    lines = describe.describe(model, test)
    assert lines[0].startswith(f"{names.FOREST_TREES} trees")
    assert len(lines) == 1 + describe.TOP_FEATURES
    assert all(line.startswith("Job_Title = ") for line in lines[1:3])
    assert describe.describe(features.build_pipeline().fit(train), test) is None


def test_the_average_is_the_row_weighted_mean_and_scores(spark, slices, tmp_path):
    pipelines = [features.build_pipeline().fit(slices[n][0]) for n in ("a", "b")]
    weights = [300, 100]  # unequal on purpose: the weights must matter
    model = federation.average(spark, pipelines, weights)
    members = [p.stages[-1] for p in pipelines]
    expected = (members[0].coefficientMatrix.toArray() * 0.75
                + members[1].coefficientMatrix.toArray() * 0.25)
    averaged = model.stages[-1]
    assert isinstance(averaged, LogisticRegressionModel)
    np.testing.assert_allclose(averaged.coefficientMatrix.toArray(), expected, atol=1e-12)
    np.testing.assert_allclose(
        averaged.interceptVector.toArray(),
        members[0].interceptVector.toArray() * 0.75 + members[1].interceptVector.toArray() * 0.25,
        atol=1e-12)
    archive = str(tmp_path / "average.tar.gz")
    model_io.save_model(model, archive)
    loaded = model_io.load_model(spark, archive)
    np.testing.assert_allclose(loaded.stages[-1].coefficientMatrix.toArray(), expected, atol=1e-12)
    assert scoring.evaluation(loaded, slices["b"][1], "local")["f1"] > 0.9


def test_averaging_refuses_trees_and_a_single_model(spark, slices):
    tree = features.build_pipeline(names.DECISION_TREE).fit(slices["a"][0])
    logistic = features.build_pipeline().fit(slices["b"][0])
    with pytest.raises(ValueError, match="needs logistic regressions"):
        federation.average(spark, [logistic, tree], [1, 1])
    with pytest.raises(ValueError, match="at least two"):
        federation.average(spark, [logistic], [1])


def _info(model, seed, stamp, classifier=names.LOGISTIC_REGRESSION, **extra):
    return {"run_id": f"{model}-s{seed}-{stamp}-000000", "model": model, "seed": seed,
            "classifier": classifier, "feature_set": "default", "train_rows": 100, **extra}


def _planned(planned):
    return [(model, [m["run_id"] for m in members]) for model, members in planned]


def test_plan_takes_each_nodes_latest_model_and_skips_what_cannot_be_combined():
    infos = [_info("a", 1, "20260101T100000"), _info("a", 1, "20260101T110000"),
             _info("b", 1, "20260101T100000"),
             _info("a", 2, "20260101T100000"),  # b has no seed-2 model
             _info("a", 3, "20260101T100000"),
             _info("b", 3, "20260101T100000", classifier=names.DECISION_TREE)]
    planned, skipped = combining.plan(infos, ["a", "b"])
    seed_1 = ["a-s1-20260101T110000-000000", "b-s1-20260101T100000-000000"]
    seed_3 = ["a-s3-20260101T100000-000000", "b-s3-20260101T100000-000000"]
    assert _planned(planned) == [("average", seed_1), ("vote", seed_1), ("vote", seed_3)]
    assert skipped[0] == "seed 2: no per-node model from b"
    assert skipped[1].startswith("seed 3: no average: the latest per-node models are "
                                 "not logistic regressions")


def test_plan_skips_what_is_already_combined_from_the_same_runs():
    members = [_info("a", 1, "20260101T100000"), _info("b", 1, "20260101T100000")]
    key = sorted(m["run_id"] for m in members)
    built = [_info(names.AVERAGE, 1, "20260101T120000", built_from=key),
             _info(names.VOTE, 1, "20260101T120000", built_from=key)]
    assert combining.plan([*members, *built], ["a", "b"]) == ([], [])
    newer = _info("b", 1, "20260101T130000")
    planned, _ = combining.plan([*members, *built, newer], ["a", "b"])
    assert [m[1][1] for m in _planned(planned)] == [newer["run_id"]] * 2


def test_plan_takes_an_average_built_under_its_old_name_as_built():
    members = [_info("a", 1, "20260101T100000"), _info("b", 1, "20260101T100000")]
    key = sorted(m["run_id"] for m in members)
    old = _info(names.LEGACY_AVERAGE, 1, "20260101T120000", built_from=key)
    assert old["model"] == "federated"
    planned, _ = combining.plan([*members, old], ["a", "b"])
    assert _planned(planned) == [("vote", key)]


def test_vote_takes_the_majority_and_breaks_ties_by_summed_probability(spark, slices):
    test = slices["b"][1]
    members = [features.build_pipeline().fit(slices["a"][0]),
               features.build_pipeline(names.DECISION_TREE).fit(slices["b"][0]),
               features.build_pipeline(names.RANDOM_FOREST).fit(slices["a"][0])]
    scored = [m.transform(test).select("row", "prediction", "probability").collect()
              for m in members]
    expected = {}
    for rows in zip(*scored, strict=True):
        votes = [sum(r.prediction == k for r in rows) for k in range(3)]
        probabilities = [sum(r.probability[k] for r in rows) for k in range(3)]
        expected[rows[0].row] = max(range(3), key=lambda k: (votes[k], probabilities[k]))
    vote = federation.VoteModel(members).transform(test)
    got = {r.row: int(r.prediction) for r in vote.select("row", "prediction").collect()}
    assert got == expected
    assert len({r.prediction for r in scored[0]}) == 3  # a real three-class vote
    assert scoring.evaluation(federation.VoteModel(members), test, "local")["f1"] > 0.9
    with pytest.raises(ValueError, match="at least two"):
        federation.VoteModel(members[:1])


def test_small_slices_train_in_one_partition_large_ones_on_every_core():
    from nodewise.slices import partitions_for

    assert partitions_for(300_000, 2) == 1  # 3000 rows
    assert partitions_for(25_000_000, 8) == 3
    assert partitions_for(500_000_000, 4) == 4


def test_small_data_fits_without_adaptive_execution_in_one_shuffle_partition(spark):
    from nodewise.jobcli import SMALL_DATA_CONF, tune_for_size

    small, large, untouched = (spark.newSession() for _ in range(3))  # own SQL settings
    assert tune_for_size(small, 300_000)  # 3000 rows
    assert not tune_for_size(large, 300_000_000)  # 3M rows
    assert {key: small.conf.get(key) for key in SMALL_DATA_CONF} == {
        "spark.sql.adaptive.enabled": "false", "spark.sql.shuffle.partitions": "1"}
    assert {key: large.conf.get(key) for key in SMALL_DATA_CONF} == {
        key: untouched.conf.get(key) for key in SMALL_DATA_CONF}
    assert large.conf.get("spark.sql.adaptive.enabled") == "true"


def test_the_sandbox_inventory_mirrors_the_embedded_default():
    """bench and e2e run a copy of inventories/local.ini: same settings, own paths and ports."""
    import os
    import re

    from nodewise_cli import sandbox

    def settings(text):
        return dict(re.findall(r"^(nodewise_\w+)=(.*)$", text, re.M))

    with open(os.path.join(sandbox.PROJECT, "inventories", "local.ini"), encoding="utf-8") as f:
        local = settings(f.read())
    copy = settings(sandbox.inventory_text("/tmp/x", 37000))
    own = {"nodewise_root", "nodewise_venv", "nodewise_class_archive"}
    assert {k: v for k, v in local.items() if k not in own} == \
        {k: copy[k] for k in local if k not in own}


def test_plan_does_not_combine_models_of_different_splits():
    label = {"kind": "label", "alpha": 0.3, "seed": 42, "manifest_sha256": "b" * 64}
    members = [_info("a", 1, "20260101T100000", split={"kind": "iid", "manifest_sha256": "a" * 64}),
               _info("b", 1, "20260101T110000", split=label)]
    planned, skipped = combining.plan(members, ["a", "b"])
    assert planned == []
    assert skipped == ["seed 1: the latest per-node models were trained on different splits of "
                       "the data (make data since): run make train-nodes again"]
    retrained = _info("a", 1, "20260101T120000", split=label)
    planned, _ = combining.plan([*members, retrained], ["a", "b"])
    assert [model for model, _ in planned] == ["average", "vote"]
