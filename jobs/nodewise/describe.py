"""What a fitted tree model learned, in words a report can show.

A tree's debug string names features by vector index ("feature 6"); the
assembled vector's metadata maps each index to its column (or column and
category), so the top of the tree reads like a rule.
"""

from __future__ import annotations

import re

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from nodewise import schema
from nodewise.features import FEATURES

TOP_LEVELS = 3  # decision levels shown of a single tree
TOP_FEATURES = 5  # features shown by importance for a forest


def feature_names(fitted: PipelineModel, rows: DataFrame) -> list[str]:
    """The name of every position of the feature vector (no Spark job runs)."""
    features_stages = PipelineModel(fitted.stages[:-1])
    field = features_stages.transform(rows).schema[FEATURES]
    attributes = [a for group in field.metadata["ml_attr"]["attrs"].values() for a in group]
    names = [""] * field.metadata["ml_attr"]["num_attrs"]
    for attribute in attributes:
        names[attribute["idx"]] = attribute["name"].replace("_vector_", " = ")
    return names


def readable_tree(debug: str, names: list[str], levels: int = TOP_LEVELS) -> list[str]:
    """The first `levels` levels of a tree's debug string, with names and labels."""
    lines = []
    for line in debug.splitlines()[1:]:
        depth = (len(line) - len(line.lstrip())) - 2  # the root's lines are indented by 2
        if depth >= levels:
            continue
        line = re.sub(r"feature (\d+)", lambda m: names[int(m.group(1))], line)
        line = re.sub(r"Predict: (\d+)\.0", lambda m: f"Predict: {schema.LABELS[int(m.group(1))]}",
                      line)
        lines.append(line.rstrip())
    return lines


def describe(fitted: PipelineModel, rows: DataFrame) -> list[str] | None:
    """Top splits of a decision tree, top features of a forest; None for other models."""
    classifier = fitted.stages[-1]
    kind = type(classifier).__name__
    if kind == "DecisionTreeClassificationModel":
        names = feature_names(fitted, rows)
        return [f"depth {classifier.depth}, {classifier.numNodes} nodes"] + \
            readable_tree(classifier.toDebugString, names)
    if kind == "RandomForestClassificationModel":
        names = feature_names(fitted, rows)
        importances = classifier.featureImportances.toArray()
        top = sorted(range(len(names)), key=lambda i: -importances[i])[:TOP_FEATURES]
        return [f"{len(classifier.trees)} trees; most important features:"] + \
            [f"{names[i]}: {importances[i]:.3f}" for i in top]
    return None
