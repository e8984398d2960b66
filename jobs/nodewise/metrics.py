"""Scores from confusion matrices, so that per-node matrices can be summed.

`matrix[i][j]` counts rows of true label i predicted as label j, in the label
order of `schema.LABELS`. Weighted F1 is scikit-learn's `average="weighted"`.
"""

from __future__ import annotations

from collections.abc import Sequence

Matrix = Sequence[Sequence[int]]


def empty_matrix(n_labels: int) -> list[list[int]]:
    return [[0] * n_labels for _ in range(n_labels)]


def add_matrices(a: Matrix, b: Matrix) -> list[list[int]]:
    if len(a) != len(b):
        raise ValueError(f"confusion matrices differ in size: {len(a)} and {len(b)}")
    return [[x + y for x, y in zip(row_a, row_b, strict=True)] for row_a, row_b in zip(a, b, strict=True)]


def accuracy(matrix: Matrix) -> float:
    total = sum(map(sum, matrix))
    return sum(matrix[i][i] for i in range(len(matrix))) / total if total else 0.0


def per_class_f1(matrix: Matrix) -> list[float]:
    scores = []
    for k in range(len(matrix)):
        true_positive = matrix[k][k]
        predicted = sum(row[k] for row in matrix)
        actual = sum(matrix[k])
        denominator = predicted + actual
        scores.append(2 * true_positive / denominator if denominator else 0.0)
    return scores


def weighted_f1(matrix: Matrix) -> float:
    support = [sum(row) for row in matrix]
    total = sum(support)
    if not total:
        return 0.0
    return sum(f1 * n for f1, n in zip(per_class_f1(matrix), support, strict=True)) / total


def scores(matrix: Matrix, labels: Sequence[str]) -> dict:
    """The record fields derived from one confusion matrix."""
    return {
        "rows": sum(map(sum, matrix)),
        "f1": weighted_f1(matrix),
        "accuracy": accuracy(matrix),
        "per_class_f1": dict(zip(labels, per_class_f1(matrix), strict=True)),
        "confusion_matrix": [list(row) for row in matrix],
    }
