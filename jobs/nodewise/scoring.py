"""Scoring a fitted model on a DataFrame: confusion matrix and unseen categories."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nodewise import metrics, schema
from nodewise.features import LABEL_INDEX


def confusion_matrix(model: PipelineModel, rows: DataFrame) -> list[list[int]]:
    """Counts of (true label, predicted label) in `schema.LABELS` order."""
    predictions = model.transform(rows)
    counts = (predictions.groupBy(LABEL_INDEX, "prediction").count().collect())
    matrix = metrics.empty_matrix(len(schema.LABELS))
    for row in counts:
        matrix[int(row[LABEL_INDEX])][int(row["prediction"])] += row["count"]
    return matrix


def unseen_category_counts(rows: DataFrame) -> dict[str, int]:
    """Rows per categorical feature whose value the feature schema lacks."""
    aggregates = [
        F.sum((~F.col(column).isin(list(categories))).cast("long")).alias(column)
        for column, categories in schema.FEATURE_CATEGORICAL.items()
    ]
    result = rows.agg(*aggregates).first()
    return {column: int(result[column] or 0) for column in schema.FEATURE_CATEGORICAL}


def evaluation(model: PipelineModel, rows: DataFrame, eval_set: str,
               unseen_categories: dict[str, int] | None = None) -> dict:
    """The evaluation block of a record: scores from the confusion matrix.
    `unseen_categories`: `rows`' counts, when already known (`TestPart`)."""
    block = metrics.scores(confusion_matrix(model, rows), schema.LABELS)
    block["eval_set"] = eval_set
    block["unseen_categories"] = (unseen_category_counts(rows) if unseen_categories is None
                                  else unseen_categories)
    return block


@dataclass
class TestPart:
    """Rows that many models are scored on: their unseen-category counts, which do
    not depend on the model, are counted once (one Spark job per model saved)."""

    rows: DataFrame

    @cached_property
    def unseen_categories(self) -> dict[str, int]:
        return unseen_category_counts(self.rows)
