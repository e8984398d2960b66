"""Run records built by hand for the report's tests (tests/test_report_*.py): confusion
matrices, the records that carry them, and fixtures of whole runs folders."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import accuracy_score, f1_score

from nodewise_cli.cli import main
from nodewise_cli.report import records

REQUIRED_COLUMNS = ["run_id", "model", "seed", "eval_set", "train_rows", "test_rows", "f1",
                    "accuracy", "fit_seconds", "total_seconds", "executor_cpu_seconds",
                    "peak_memory_bytes"]

# The unified model's own global evaluation, and its evaluations on each node.
UNIFIED_OWN = [[50, 1, 0], [2, 95, 3], [0, 1, 48]]
UNIFIED_ON = {"master": [[17, 0, 0], [1, 32, 0], [0, 0, 16]],
              "w1": [[16, 1, 0], [0, 33, 1], [0, 0, 17]],
              "w2": [[17, 0, 0], [0, 30, 2], [0, 1, 15]]}
# Worker w1's model: its own local evaluation, and its evaluations on each node.
W1_OWN = [[15, 2, 0], [1, 32, 1], [0, 0, 17]]
W1_ON = {"master": [[14, 3, 0], [2, 30, 1], [0, 1, 15]],
         "w1": [[15, 1, 0], [1, 33, 0], [0, 0, 18]],
         "w2": [[13, 4, 0], [3, 28, 1], [0, 2, 14]]}
# The average's evaluations on each node, unified's second seed, the reference's.
AVERAGE_ON = {"master": [[16, 1, 0], [1, 31, 1], [0, 0, 16]],
              "w1": [[17, 0, 0], [1, 32, 1], [0, 1, 16]],
              "w2": [[16, 1, 0], [0, 31, 1], [0, 0, 16]]}
# A label split of 300 rows: master holds mostly Low, w1 only High, w2 a mix.
LABEL_SPLIT = {"kind": "label", "alpha": 0.3, "seed": 42, "draws": 2, "manifest_sha256": "b" * 64,
               "labels_per_node": {"master": {"Low": 80, "Medium": 20, "High": 0},
                                   "w1": {"Low": 0, "Medium": 0, "High": 60},
                                   "w2": {"Low": 30, "Medium": 30, "High": 80}}}
UNIFIED_S2 = [[48, 3, 0], [4, 90, 6], [0, 2, 47]]
SKLEARN_S1 = [[49, 2, 0], [2, 96, 2], [0, 1, 48]]


def labels_of(matrix):
    """Label vectors that give `matrix` (true label i predicted as j, matrix[i][j] times)."""
    y_true, y_pred = [], []
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            y_true += [i] * count
            y_pred += [j] * count
    return y_true, y_pred


def weighted_f1(matrix) -> float:
    return f1_score(*labels_of(matrix), labels=[0, 1, 2], average="weighted", zero_division=0)


def accuracy_of(matrix) -> float:
    return accuracy_score(*labels_of(matrix))


def summed(*matrices):
    return [[sum(m[i][j] for m in matrices) for j in range(3)] for i in range(3)]


def write_train(runs_dir, run_id, model, seed, matrix, *, eval_set, finished_at="2026-01-01T10:00:00.000000Z",
                train_nodes=None, train_rows=400, fit_seconds=10.0, total_seconds=20.0, cpu_seconds=5.0,
                **extra):
    record = {
        "kind": "train", "run_id": run_id, "model": model, "seed": seed,
        "classifier": "logistic_regression",
        "master": "spark://127.0.0.1:7077" if model == "unified" else "local[*]",
        "train_nodes": train_nodes or [model], "rows_per_node": {model: train_rows},
        "train_rows": train_rows, "test_rows": sum(map(sum, matrix)),
        "fit_seconds": fit_seconds, "total_seconds": total_seconds, "finished_at": finished_at,
        "evaluation": {"eval_set": eval_set, "confusion_matrix": matrix, "f1": weighted_f1(matrix),
                       "accuracy": accuracy_of(matrix), "per_class_f1": {},
                       "rows": sum(map(sum, matrix)), "unseen_categories": {}},
        "resources": {"app_id": f"app-{run_id}", "executor_cpu_seconds": cpu_seconds,
                      "peak_memory_bytes": 1_000_000},
        **extra,
    }
    runs_dir.mkdir(exist_ok=True)
    (runs_dir / f"{run_id}.json").write_text(json.dumps(record), encoding="utf-8")
    return record


def write_evaluation(runs_dir, run_id, model, seed, node, matrix):
    record = {"kind": "evaluation", "run_id": run_id, "model": model, "seed": seed,
              "node": node, "confusion_matrix": matrix, "test_rows": sum(map(sum, matrix))}
    runs_dir.mkdir(exist_ok=True)
    (runs_dir / f"eval-{run_id}-on-{node}.json").write_text(json.dumps(record), encoding="utf-8")


def write_combined(runs_dir, run_id, model, seed, built_from, train_rows=810, fit_seconds=0.5,
                   **extra):
    """A fedavg, average or vote record: no evaluation of its own, scored only by
    evaluations."""
    record = {"kind": "train", "run_id": run_id, "model": model, "seed": seed,
              "classifier": "logistic_regression", "evaluation": None, "built_from": built_from,
              "train_nodes": ["master", "w1", "w2"], "rows_per_node": {}, "train_rows": train_rows,
              "fit_seconds": fit_seconds, "total_seconds": 3.0, "resources": {},
              "finished_at": "2026-01-01T11:00:00.000000Z", **extra}
    runs_dir.mkdir(exist_ok=True)
    (runs_dir / f"{run_id}.json").write_text(json.dumps(record), encoding="utf-8")


def sklearn_record(seed, matrix, fit_seconds=0.02, train_rows=810):
    """What reference.run returns for one seed."""
    return {"kind": "train", "run_id": f"sklearn-s{seed}", "model": "sklearn", "seed": seed,
            "classifier": "logistic_regression", "feature_set": "default",
            "engine": "scikit-learn, one machine", "train_nodes": ["master", "w1", "w2"],
            "train_rows": train_rows, "fit_seconds": fit_seconds, "total_seconds": 0.05,
            "finished_at": "", "resources": {},
            "evaluation": {"eval_set": "global", "confusion_matrix": matrix}}


def summary_rows_of(runs_dir):
    return records.summary_rows(*records.load_records(str(runs_dir)))


def row_of(rows, run_id, eval_set):
    [match] = [r for r in rows if r["run_id"] == run_id and r["eval_set"] == eval_set]
    return match


def summary_of(rows):
    return records.summary_frame([
        {"run_id": f"{model}-{seed}", "model": model, "seed": seed, "eval_set": "global",
         "f1": f1, "fit_seconds": 1.0 + seed, "total_seconds": 10.0, "train_rows": 100,
         "executor_cpu_seconds": 2.0, "peak_memory_bytes": 2**20}
        for model, seed, f1 in rows])


def run_report(runs_dir, out_dir, *options, split_dir=None):
    # never the project's data/split: without slices the reference is skipped
    split_dir = split_dir or runs_dir.parent / "no-slices"
    return CliRunner().invoke(main, ["report", "--runs-dir", str(runs_dir), "--out-dir", str(out_dir),
                                     "--split-dir", str(split_dir), *options])


def node_work(cpu, tasks, rows, memory=2**30):
    return {"executors": ["1"], "tasks": tasks, "input_rows": rows, "cpu_seconds": cpu,
            "run_seconds": 2 * cpu, "peak_memory_bytes": memory}


def curve_of(points):
    return pd.DataFrame([{"seed": seed, "train_rows": rows, "all_rows": every, "repeat": repeat,
                          "f1": f1} for seed, rows, every, repeat, f1 in points])


@pytest.fixture
def evaluated_runs(tmp_path):
    runs_dir = tmp_path / "runs"
    write_train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
                train_nodes=["master", "w1", "w2"], train_rows=800)
    write_train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local", train_rows=270)
    for node in ["master", "w1", "w2"]:
        write_evaluation(runs_dir, "unified-s1-a", "unified", 1, node, UNIFIED_ON[node])
        write_evaluation(runs_dir, "w1-s1-a", "w1", 1, node, W1_ON[node])
    return runs_dir


def write_fedavg(runs_dir, seed, losses):
    """A federated-averaging run of len(losses) rounds, 10 local steps each."""
    write_combined(runs_dir, f"fedavg-s{seed}-a", "fedavg", seed, None, fit_seconds=4.0,
                   rounds=[{"round": i + 1, "loss": loss} for i, loss in enumerate(losses)],
                   params={"rounds": len(losses), "local_steps": 10})


@pytest.fixture
def every_kind(evaluated_runs):
    """unified (seeds 1, 2), average (seed 1, evaluated), vote (not evaluated), w1 (seed 1)."""
    write_train(evaluated_runs, "unified-s2-a", "unified", 2, UNIFIED_S2, eval_set="global",
                train_nodes=["master", "w1", "w2"], train_rows=820, fit_seconds=12.0,
                total_seconds=24.0, cpu_seconds=7.0)
    write_combined(evaluated_runs, "average-s1-a", "average", 1, ["w1-s1-a"])
    write_combined(evaluated_runs, "vote-s1-a", "vote", 1, ["w1-s1-a"])
    for node, matrix in AVERAGE_ON.items():
        write_evaluation(evaluated_runs, "average-s1-a", "average", 1, node, matrix)
    return evaluated_runs


def every_kind_summary(runs_dir):
    trains, evaluations = records.load_records(str(runs_dir))
    return records.summary_frame(records.summary_rows(trains + [sklearn_record(1, SKLEARN_S1)],
                                                      evaluations))


@pytest.fixture
def unified_work(tmp_path):
    runs_dir = tmp_path / "runs"
    write_train(runs_dir, "unified-s1-a", "unified", 1, UNIFIED_OWN, eval_set="global",
                train_nodes=["master", "w1"], work_per_node={"master": node_work(1.0, 10, 500),
                                                             "w1": node_work(3.0, 30, 500)})
    write_train(runs_dir, "unified-s2-a", "unified", 2, UNIFIED_OWN, eval_set="global",
                train_nodes=["master", "w1"], work_per_node={"master": node_work(2.0, 20, 500, 3 * 2**30),
                                                             "w1": node_work(3.0, 30, 500)})
    write_train(runs_dir, "w1-s1-a", "w1", 1, W1_OWN, eval_set="local", cpu_seconds=0.8)
    return runs_dir
