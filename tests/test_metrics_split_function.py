"""Scores from confusion matrices (nodewise.metrics) and the row split (nodewise.split)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from nodewise import metrics
from nodewise import split as row_split

LABELS = [0, 1, 2]
CASES = {
    "mixed": ([0, 0, 1, 1, 1, 2, 2, 2, 2, 0], [0, 1, 1, 1, 2, 2, 2, 0, 2, 0]),
    "perfect": ([0, 1, 2, 1, 2], [0, 1, 2, 1, 2]),
    "all_wrong": ([0, 1, 2, 0], [1, 2, 0, 2]),
    "class_never_true": ([0, 0, 1, 1], [0, 2, 1, 1]),
    "class_absent": ([0, 1, 1, 0, 1], [0, 1, 0, 0, 1]),
}


def _matrix(y_true, y_pred) -> list[list[int]]:
    return confusion_matrix(y_true, y_pred, labels=LABELS).tolist()


@pytest.mark.parametrize("name", CASES)
def test_weighted_f1_matches_sklearn(name):
    y_true, y_pred = CASES[name]
    expected = f1_score(y_true, y_pred, labels=LABELS, average="weighted", zero_division=0)
    assert metrics.weighted_f1(_matrix(y_true, y_pred)) == pytest.approx(expected)


@pytest.mark.parametrize("name", CASES)
def test_accuracy_matches_sklearn(name):
    y_true, y_pred = CASES[name]
    assert metrics.accuracy(_matrix(y_true, y_pred)) == pytest.approx(accuracy_score(y_true, y_pred))


@pytest.mark.parametrize("name", CASES)
def test_per_class_f1_matches_sklearn(name):
    y_true, y_pred = CASES[name]
    expected = f1_score(y_true, y_pred, labels=LABELS, average=None, zero_division=0)
    assert metrics.per_class_f1(_matrix(y_true, y_pred)) == pytest.approx(list(expected))


def test_hand_computed_weighted_f1():
    # Class 0: tp 2, predicted 3, actual 2 -> F1 0.8; class 1: tp 1, predicted 1,
    # actual 2 -> F1 2/3; class 2 never appears. Weighted: (0.8*2 + 2/3*2) / 4.
    matrix = [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert metrics.per_class_f1(matrix) == pytest.approx([0.8, 2 / 3, 0.0])
    assert metrics.weighted_f1(matrix) == pytest.approx((0.8 * 2 + 2 / 3 * 2) / 4)
    assert metrics.accuracy(matrix) == pytest.approx(0.75)


def test_add_matrices_sums_element_wise():
    a = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    b = [[10, 0, 1], [0, 20, 0], [2, 0, 30]]
    assert metrics.add_matrices(a, b) == [[11, 2, 4], [4, 25, 6], [9, 8, 39]]


def test_summed_matrices_score_like_the_pooled_labels():
    (t1, p1), (t2, p2) = CASES["mixed"], CASES["all_wrong"]
    pooled = f1_score(t1 + t2, p1 + p2, labels=LABELS, average="weighted", zero_division=0)
    summed = metrics.add_matrices(_matrix(t1, p1), _matrix(t2, p2))
    assert metrics.weighted_f1(summed) == pytest.approx(pooled)


def test_add_matrices_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="differ in size: 3 and 2"):
        metrics.add_matrices(metrics.empty_matrix(3), metrics.empty_matrix(2))


def test_empty_matrix_scores_zero():
    empty = metrics.empty_matrix(3)
    assert empty == [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert metrics.weighted_f1(empty) == 0.0
    assert metrics.accuracy(empty) == 0.0
    assert metrics.per_class_f1(empty) == [0.0, 0.0, 0.0]


def test_scores_gives_the_record_fields():
    matrix = [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    block = metrics.scores(matrix, ("Low", "Medium", "High"))
    assert block["rows"] == 4
    assert block["confusion_matrix"] == matrix
    assert block["per_class_f1"] == pytest.approx({"Low": 0.8, "Medium": 2 / 3, "High": 0.0})
    assert block["accuracy"] == pytest.approx(0.75)


def test_test_mask_is_deterministic():
    rows = np.arange(5000)
    assert np.array_equal(row_split.test_mask("w1", rows, 1), row_split.test_mask("w1", rows, 1))


def test_test_mask_depends_on_the_slice_name():
    rows = np.arange(5000)
    assert not np.array_equal(row_split.test_mask("w1", rows, 1), row_split.test_mask("w2", rows, 1))


def test_test_mask_depends_on_the_seed():
    rows = np.arange(5000)
    assert not np.array_equal(row_split.test_mask("w1", rows, 1), row_split.test_mask("w1", rows, 2))


@pytest.mark.parametrize("name, seed", [("master", 1), ("worker1", 2), ("w2", 12345)])
def test_test_mask_marks_about_a_fifth_as_test(name, seed):
    mask = row_split.test_mask(name, np.arange(100_000), seed)
    assert mask.dtype == bool
    assert 0.19 <= mask.mean() <= 0.21


def test_test_mask_honours_the_test_fraction():
    mask = row_split.test_mask("w1", np.arange(100_000), 3, test_fraction=0.5)
    assert 0.49 <= mask.mean() <= 0.51


def test_test_mask_is_independent_of_chunking():
    whole = row_split.test_mask("w1", np.arange(0, 1000), 4)
    parts = np.concatenate([row_split.test_mask("w1", np.arange(0, 500), 4),
                            row_split.test_mask("w1", np.arange(500, 1000), 4)])
    assert np.array_equal(whole, parts)
