"""A scikit-learn reference on the same splits and features as the Spark models.

One machine, all slices: one-hot categories from the shared feature schema,
standard scaling, and the records' classifier family (logistic regression,
decision tree or random forest). Readers see what Spark costs or gains
against it, and a learning curve (F1 against training rows) from the same
model shows how much a score depends on which rows a model got.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from nodewise import combining, manifest, metrics, names, schema
from nodewise.slices import IS_TEST, NODE, read_slice, slice_path
from nodewise_cli import split

MODEL = "sklearn"
ENGINE = "scikit-learn, one machine"
# The trainers' tree settings unless a record's params say otherwise.
TREE_DEFAULTS = {"max_depth": names.TREE_MAX_DEPTH, "num_trees": names.FOREST_TREES}
CURVE_COLUMNS = ["seed", "train_rows", "all_rows", "repeat", "f1"]
CURVE_REPEATS = 5
CURVE_SMALLEST = 50
# Repeated draws stop here: beyond it each fit costs seconds and the spread is long flat.
CURVE_LARGEST = 100_000


def read_all(split_dir: str, nodes: list[str], seed: int):
    """Every node's slice with the shared split, as one pandas frame."""
    tables = [read_slice(slice_path(split_dir, node), node, seed) for node in nodes]
    return pa.concat_tables(tables).to_pandas()


def _classifier(classifier: str, params: dict, seed: int, c: float):
    depth = params.get("max_depth", TREE_DEFAULTS["max_depth"])
    if classifier == names.LOGISTIC_REGRESSION:
        return LogisticRegression(C=c, max_iter=1000)
    if classifier == names.DECISION_TREE:
        return DecisionTreeClassifier(max_depth=depth, random_state=seed)
    if classifier == names.RANDOM_FOREST:
        trees = params.get("num_trees", TREE_DEFAULTS["num_trees"])
        return RandomForestClassifier(n_estimators=trees, max_depth=depth, max_features="sqrt",
                                      random_state=params.get("seed", seed))
    raise ValueError(f"no scikit-learn reference for classifier {classifier!r}")


def build_model(c: float = 1.0, classifier: str = names.LOGISTIC_REGRESSION,
                feature_set: str = schema.DEFAULT_FEATURE_SET, params: dict | None = None,
                seed: int = 0) -> Pipeline:
    categorical = list(schema.FEATURE_CATEGORICAL)
    encoder = OneHotEncoder(categories=[list(v) for v in schema.FEATURE_CATEGORICAL.values()],
                            handle_unknown="ignore")
    numeric = list(schema.feature_numeric(feature_set))
    features = ColumnTransformer([("categories", encoder, categorical),
                                  ("numbers", StandardScaler(), numeric)])
    return Pipeline([("features", features),
                     ("classifier", _classifier(classifier, params or {}, seed, c))])


def _fit_and_score(train, test, **options) -> dict:
    model = build_model(**options)
    start = time.perf_counter()
    model.fit(train, train[schema.LABEL])
    fit_seconds = time.perf_counter() - start
    predicted = model.predict(test)
    matrix = confusion_matrix(test[schema.LABEL], predicted, labels=list(schema.LABELS))
    return {"confusion_matrix": np.asarray(matrix).tolist(), "fit_seconds": fit_seconds,
            "train_rows": len(train), "test_rows": len(test)}


def fit_and_score(frame, c: float = 1.0, **options) -> dict:
    """Fit on the train side, score on the test side; a confusion matrix and timings."""
    return _fit_and_score(frame[~frame[IS_TEST]], frame[frame[IS_TEST]], c=c, **options)


def curve_sizes(train_rows: int) -> list[int]:
    """50, 100, 250, 500, 1000, 2500, ... below `train_rows` (up to 100 000), then all of them."""
    sizes, decade = [], CURVE_SMALLEST
    while True:
        for size in (decade, decade * 2, decade * 5):
            if size >= min(train_rows, CURVE_LARGEST + 1):
                return sizes + [train_rows]
            sizes.append(size)
        decade *= 10


def learning_curve(frame, seed: int, repeats: int = CURVE_REPEATS, **options) -> list[dict]:
    """Global-test F1 at growing training sizes, each drawn `repeats` times from the train side.

    Draws are fixed by (seed, size, repeat), so a report re-run gives the same curve. All
    training rows are one draw only: every repeat would be the same rows.
    """
    train, test = frame[~frame[IS_TEST]], frame[frame[IS_TEST]]
    points = []
    for size in curve_sizes(len(train)):
        for repeat in range(repeats if size < len(train) else 1):
            rng = np.random.default_rng([seed, size, repeat])
            sample = train.iloc[np.sort(rng.choice(len(train), size, replace=False))]
            scored = _fit_and_score(sample, test, seed=seed, **options)
            points.append({"seed": seed, "train_rows": size, "all_rows": size == len(train),
                           "repeat": repeat, "f1": metrics.weighted_f1(scored["confusion_matrix"])})
    return points


@dataclasses.dataclass
class ReferenceRun:
    records: list[dict]  # train-record-shaped, one per seed: they go through summary_rows
    curve: pd.DataFrame  # CURVE_COLUMNS, one row per fit
    note: str = ""  # why the reference was skipped, if it was


def _nodes_per_seed(trains: list[dict], evaluations: list[dict]) -> dict[int, list[str]]:
    """The nodes whose slices the runs of each seed trained or were scored on."""
    run_seeds = {record["run_id"]: record["seed"] for record in trains}
    nodes: dict[int, set] = {}
    for record in trains:
        trained_on = record.get("train_nodes") or [record["model"]]
        nodes.setdefault(record["seed"], set()).update(trained_on)
    for evaluation in evaluations:
        if evaluation["run_id"] in run_seeds:
            nodes[run_seeds[evaluation["run_id"]]].add(evaluation["node"])
    return {seed: sorted(found) for seed, found in sorted(nodes.items())}


def _other_split(split_dir: str, trains: list[dict]) -> str:
    """Why `split_dir` is not the split the runs trained on, if it is not."""
    path = manifest.manifest_path(split_dir)
    runs_splits = {combining.split_key(r) for r in trains} - {""}
    if not runs_splits or not os.path.exists(path) or manifest.sha256_of(path) in runs_splits:
        return ""
    with open(path, encoding="utf-8") as handle:
        current = split.words_of(json.load(handle).get("split"))
    return (f"{split_dir} holds another split ({current}) than the runs trained on "
            f"({split.words_of(trains[0].get('split'))}): `make data` with theirs writes it again")


def _mismatch(frame, trains: list[dict], seed: int) -> str:
    """A node whose slice holds other train rows than the runs of `seed` used, if any."""
    train_rows = frame[~frame[IS_TEST]].groupby(NODE).size()
    for record in trains:
        for node, rows in (record.get("rows_per_node") or {}).items():
            if record["seed"] == seed and train_rows.get(node) != rows:
                return (f"the slice of {node} has {train_rows.get(node, 0)} training rows for "
                        f"seed {seed}, the run {record['run_id']} used {rows}")
    return ""


def _record(frame, seed: int, nodes: list[str], started: float, **options) -> dict:
    scored = fit_and_score(frame, seed=seed, **options)
    return {
        "kind": "train", "run_id": f"{MODEL}-s{seed}", "model": MODEL, "seed": seed,
        "classifier": options["classifier"], "feature_set": options["feature_set"],
        "engine": ENGINE, "train_nodes": nodes, "train_rows": scored["train_rows"],
        "fit_seconds": scored["fit_seconds"], "total_seconds": time.perf_counter() - started,
        "finished_at": "", "resources": {},
        "evaluation": {"eval_set": "global", "confusion_matrix": scored["confusion_matrix"]},
    }


def run(trains: list[dict], evaluations: list[dict], split_dir: str,
        classifier: str, feature_set: str, params: dict | None = None) -> ReferenceRun:
    """The reference row and learning curve for every seed of `trains`, or why not."""
    empty = pd.DataFrame(columns=CURVE_COLUMNS)
    if classifier not in names.CLASSIFIERS:
        return ReferenceRun([], empty, f"no scikit-learn counterpart of classifier {classifier}")
    other_split = _other_split(split_dir, trains)
    if other_split:
        return ReferenceRun([], empty, other_split)
    options = {"classifier": classifier, "feature_set": feature_set, "params": params or {}}
    records, curve = [], []
    for seed, nodes in _nodes_per_seed(trains, evaluations).items():
        missing = [slice_path(split_dir, n) for n in nodes
                   if not os.path.exists(slice_path(split_dir, n))]
        if missing:
            return ReferenceRun([], empty, f"{', '.join(missing)} not found "
                                           f"(`make data` with the runs' inventory writes it)")
        started = time.perf_counter()
        frame = read_all(split_dir, nodes, seed)
        mismatch = _mismatch(frame, trains, seed)
        if mismatch:
            return ReferenceRun([], empty, f"{split_dir} is not the data the runs used: {mismatch}")
        records.append(_record(frame, seed, nodes, started, **options))
        curve += learning_curve(frame, seed, **options)
    return ReferenceRun(records, pd.DataFrame(curve, columns=CURVE_COLUMNS))
