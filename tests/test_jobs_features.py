"""The shared feature schema and pipeline, on tiny inline data."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import OneHotEncoder, StringIndexerModel, VectorAssembler

from nodewise import features, names, schema

N_FEATURES = (len(schema.FEATURE_NUMERIC)
              + sum(len(v) + 1 for v in schema.FEATURE_CATEGORICAL.values()))


def make_row(job="Nurse", education="PhD", automation=0.2, salary=50_000):
    return (job, salary, 3, education, 0.1, 1.0, automation,
            schema.risk_category(automation), *[0.5] * 10)


def frame(spark, rows):
    return spark.createDataFrame(rows, list(schema.COLUMNS))


def test_pipeline_has_the_seeds_stages_in_order(spark):
    stages = features.build_pipeline().getStages()
    kinds = [type(stage) for stage in stages]
    assert kinds == [StringIndexerModel, StringIndexerModel, OneHotEncoder,
                     VectorAssembler, StringIndexerModel, LogisticRegression]
    classifier = stages[-1]
    assert classifier.getRegParam() == features.REG_PARAM
    assert classifier.getElasticNetParam() == features.ELASTIC_NET_PARAM
    assert classifier.getFamily() == "multinomial"


def test_automation_probability_is_not_a_feature(spark):
    assembler = features.build_pipeline().getStages()[3]
    assert schema.AUTOMATION_PROBABILITY not in assembler.getInputCols()


def test_feature_vector_is_the_same_whatever_the_data(spark):
    one_job = frame(spark, [make_row("Nurse"), make_row("Chef", automation=0.5)])
    other_jobs = frame(spark, [make_row("Truck Driver", "High School", 0.9),
                               make_row("Lawyer", "Master's", 0.4)])
    sizes = set()
    for rows in (one_job, other_jobs):
        model = features.build_pipeline().fit(rows)
        sizes |= {r.features.size for r in model.transform(rows).select("features").collect()}
        assert model.stages[-1].coefficientMatrix.numRows == len(schema.LABELS)
        assert model.stages[-1].coefficientMatrix.numCols == N_FEATURES
    assert sizes == {N_FEATURES}


def test_label_indices_follow_the_schema_not_the_data(spark):
    rows = frame(spark, [make_row(automation=0.9), make_row(automation=0.9), make_row(automation=0.1)])
    indexed = features.label_indexer().transform(rows).select(schema.LABEL, "label").collect()
    assert {(r[schema.LABEL], r["label"]) for r in indexed} == {("High", 2.0), ("Low", 0.0)}


def test_unseen_category_goes_to_the_keep_bucket(spark):
    rows = frame(spark, [make_row("Astronaut"), make_row("Nurse")])
    model = features.build_pipeline().fit(rows)
    vectors = {r[schema.JOB_TITLE]: r.features.toArray()
               for r in model.transform(rows).select(schema.JOB_TITLE, "features").collect()}
    job_offset = len(schema.FEATURE_NUMERIC)
    keep_index = job_offset + len(schema.JOB_TITLES)
    nurse_index = job_offset + schema.JOB_TITLES.index("Nurse")
    assert vectors["Astronaut"][keep_index] == 1.0
    assert vectors["Astronaut"][job_offset:keep_index].sum() == 0.0
    assert vectors["Nurse"][nurse_index] == 1.0
    assert vectors["Nurse"][keep_index] == 0.0


def test_unknown_label_is_an_error(spark):
    rows = spark.createDataFrame([("Extreme",)], [schema.LABEL])
    with pytest.raises(Exception, match="Extreme|unseen|Unseen"):
        features.label_indexer().transform(rows).collect()


def job_group_rows(spark, n=300):
    """Rows whose label follows from the job title's group."""
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(n):
        (low, high), titles = schema.JOB_GROUPS[rng.integers(0, 3)]
        rows.append(make_row(titles[rng.integers(0, len(titles))],
                             automation=round(float(rng.uniform(low + 0.01, high - 0.01)), 2),
                             salary=int(rng.integers(30_000, 150_000))))
    return frame(spark, rows)


def test_a_fitted_pipeline_learns_the_job_groups(spark):
    data = job_group_rows(spark)
    model = features.build_pipeline().fit(data)
    predicted = model.transform(data).select("label", "prediction").collect()
    accuracy = sum(r.label == r.prediction for r in predicted) / len(predicted)
    assert accuracy == 1.0


@pytest.mark.parametrize("classifier", [names.LOGISTIC_REGRESSION, names.DECISION_TREE])
def test_small_data_fit_reads_a_checkpoint_and_gives_the_same_model(spark, classifier):
    data = job_group_rows(spark)
    plain = features.fit_pipeline(data, classifier, small=False)
    checkpointed = features.fit_pipeline(data, classifier, small=True)
    assert [type(s) for s in checkpointed.stages] == [type(s) for s in plain.stages]
    probabilities = [[row.probability.toArray() for row in
                      model.transform(data).select("probability").collect()]
                     for model in (plain, checkpointed)]
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-9)
    if classifier == names.LOGISTIC_REGRESSION:
        read = checkpointed.stages[-1].summary.predictions._jdf.queryExecution().analyzed()
        assert "LogicalRDD" in read.toString() and "VectorAssembler" not in read.toString()
