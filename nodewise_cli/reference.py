"""A scikit-learn reference on the same splits and features as the Spark models.

One machine, all slices: one-hot categories from the shared feature schema,
standard scaling, logistic regression (DATASET.md's reference setting).
Readers see what Spark costs or gains against it.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from nodewise import schema
from nodewise.slices import IS_TEST, read_slice, slice_path


def read_all(split_dir: str, nodes: list[str], seed: int):
    """Every node's slice with the shared split, as one pandas frame."""
    tables = [read_slice(slice_path(split_dir, node), node, seed) for node in nodes]
    return pa.concat_tables(tables).to_pandas()


def build_model(c: float = 1.0) -> Pipeline:
    categorical = list(schema.FEATURE_CATEGORICAL)
    encoder = OneHotEncoder(categories=[list(v) for v in schema.FEATURE_CATEGORICAL.values()],
                            handle_unknown="ignore")
    features = ColumnTransformer([("categories", encoder, categorical),
                                  ("numbers", StandardScaler(), list(schema.FEATURE_NUMERIC))])
    return Pipeline([("features", features), ("classifier", LogisticRegression(C=c, max_iter=1000))])


def fit_and_score(frame, c: float = 1.0) -> dict:
    """Fit on the train side, score on the test side; a confusion matrix and timings."""
    train, test = frame[~frame[IS_TEST]], frame[frame[IS_TEST]]
    model = build_model(c)
    start = time.perf_counter()
    model.fit(train, train[schema.LABEL])
    fit_seconds = time.perf_counter() - start
    predicted = model.predict(test)
    matrix = confusion_matrix(test[schema.LABEL], predicted, labels=list(schema.LABELS))
    return {"confusion_matrix": np.asarray(matrix).tolist(), "fit_seconds": fit_seconds,
            "train_rows": len(train), "test_rows": len(test)}
