"""Models combined from the per-node models, no row moved: their one-shot average
(the logistic regressions averaged once) and their vote; and the pipeline that
holds fedavg's parameters.

Every per-node model shares the fixed feature schema, so position k of each
coefficient row means the same feature in every model, and the label indices
are the same: a weighted average of the coefficient matrices and intercepts
(weights: training rows, as in federated averaging) is a logistic regression
over the same features. Spark returns coefficients on the original feature
scale, and L2 keeps multinomial coefficients centred, so the averages are
comparable across nodes.
"""

from __future__ import annotations

import numpy as np
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegressionModel
from pyspark.ml.common import _py2java
from pyspark.ml.linalg import DenseMatrix, DenseVector

from nodewise import features, names, schema
from nodewise.slices import spark_schema


def weighted_average(arrays: list[np.ndarray], weights: list[int]) -> np.ndarray:
    total = float(sum(weights))
    if total <= 0:
        raise ValueError("averaging needs models trained on at least one row")
    return sum(array * (weight / total) for array, weight in zip(arrays, weights, strict=True))


def _logistic_regression(pipeline: PipelineModel) -> LogisticRegressionModel:
    classifier = pipeline.stages[-1]
    if not isinstance(classifier, LogisticRegressionModel):
        raise ValueError(f"averaging needs logistic regressions, "
                         f"not {type(classifier).__name__}")
    return classifier


def logistic_regression_model(spark, coefficients: np.ndarray, intercepts: np.ndarray,
                              uid: str, template: LogisticRegressionModel | None = None
                              ) -> LogisticRegressionModel:
    """A multinomial LogisticRegressionModel holding these parameters (classes x features,
    on the original feature scale), with `template`'s column names or the pipeline's."""
    rows, columns = coefficients.shape
    # DenseMatrix takes its values column by column.
    matrix = DenseMatrix(rows, columns, coefficients.flatten(order="F").tolist())
    sc = spark.sparkContext
    java_class = sc._jvm.org.apache.spark.ml.classification.LogisticRegressionModel
    java_model = java_class(uid, _py2java(sc, matrix), _py2java(sc, DenseVector(intercepts)),
                            rows, True)
    model = LogisticRegressionModel(java_model)
    if template is None:
        template = features.build_classifier(names.LOGISTIC_REGRESSION)
    java_model.setFeaturesCol(template.getFeaturesCol())
    java_model.setPredictionCol(template.getPredictionCol())
    java_model.setProbabilityCol(template.getProbabilityCol())
    java_model.setRawPredictionCol(template.getRawPredictionCol())
    return model


def average_logistic_regression(spark, members: list[LogisticRegressionModel],
                                weights: list[int]) -> LogisticRegressionModel:
    """One multinomial LogisticRegressionModel with the members' weighted mean parameters."""
    shapes = {(m.numClasses, m.numFeatures) for m in members}
    if len(shapes) != 1:
        raise ValueError(f"the models disagree on (classes, features): {sorted(shapes)}")
    coefficients = weighted_average([m.coefficientMatrix.toArray() for m in members], weights)
    intercepts = weighted_average([m.interceptVector.toArray() for m in members], weights)
    return logistic_regression_model(spark, coefficients, intercepts,
                                     f"average_{members[0].uid}", members[0])


def pipeline_of(spark, coefficients: np.ndarray, intercepts: np.ndarray, uid: str,
                feature_set: str = schema.DEFAULT_FEATURE_SET) -> PipelineModel:
    """The shared pipeline's stages with a logistic regression of these parameters: the
    feature stages are fitted on no rows (their categories are fixed by the schema)."""
    empty = spark.createDataFrame([], spark_schema())
    prepare = Pipeline(stages=[*features.feature_stages(feature_set),
                               features.label_indexer()]).fit(empty)
    return PipelineModel([*prepare.stages,
                          logistic_regression_model(spark, coefficients, intercepts, uid)])


def average(spark, pipelines: list[PipelineModel], weights: list[int]) -> PipelineModel:
    """The members' shared feature stages followed by their averaged classifier."""
    if len(pipelines) < 2:
        raise ValueError("averaging needs at least two per-node models")
    averaged = average_logistic_regression(
        spark, [_logistic_regression(p) for p in pipelines], weights)
    return PipelineModel([*pipelines[0].stages[:-1], averaged])


class VoteModel:
    """The majority vote of pipeline models; a tie goes to the larger summed probability.

    Has the one method scoring needs, `transform`: it adds `label` (the label
    index) and `prediction`, like a fitted pipeline.
    """

    def __init__(self, members: list[PipelineModel]):
        if len(members) < 2:
            raise ValueError("a vote needs at least two models")
        self.members = members

    def transform(self, rows):
        from pyspark.ml.functions import vector_to_array
        from pyspark.sql import functions as F

        from nodewise import features, schema

        columns = list(rows.columns)
        for i, member in enumerate(self.members):
            scored = member.transform(rows)
            rows = scored.select(*columns, F.col("prediction").alias(f"vote_{i}"),
                                 vector_to_array("probability").alias(f"probability_{i}"))
            columns += [f"vote_{i}", f"probability_{i}"]
        weight = len(self.members) + 1  # one vote outweighs any summed probability
        scores = [sum((F.col(f"vote_{i}") == k).cast("double") * weight
                      + F.col(f"probability_{i}")[k] for i in range(len(self.members)))
                  for k in range(len(schema.LABELS))]
        best = F.greatest(*scores)
        prediction = F.lit(float(len(scores) - 1))
        for k in reversed(range(len(scores) - 1)):
            prediction = F.when(scores[k] == best, float(k)).otherwise(prediction)
        return features.label_indexer().transform(rows.withColumn("prediction", prediction))
