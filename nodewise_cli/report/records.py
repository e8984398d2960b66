"""The run records: loading them, choosing one configuration, and the summary rows.

Global scores are the per-node confusion matrices summed (exact, since every
node scores every model on its own test part). Every table of the report is
built from the one summary frame these rows make, so no two tables disagree.
"""

from __future__ import annotations

import collections
import glob
import json
import os

import pandas as pd

from nodewise import combining, metrics, runs, schema
from nodewise.names import COMBINED, DEFAULT_CLASSIFIER, current_name
from nodewise_cli import reference, split

SUMMARY_COLUMNS = [
    "run_id", "model", "seed", "eval_set", "train_rows", "test_rows", "f1", "accuracy",
    "fit_seconds", "total_seconds", "executor_cpu_seconds", "peak_memory_bytes",
    "eval_nodes", "classifier", "app_id", "finished_at",
    # further resource figures of the run (Spark's monitoring REST API)
    "gc_seconds", "input_bytes", "shuffle_read_bytes", "shuffle_write_bytes", "task_count",
    "cores", "driver_python_peak_rss_bytes", "peak_jvm_heap_bytes", "peak_python_rss_bytes",
    "feature_set", "engine",
]


RESOURCE_COLUMNS = ("gc_seconds", "input_bytes", "shuffle_read_bytes", "shuffle_write_bytes",
                    "task_count", "cores", "driver_python_peak_rss_bytes", "peak_jvm_heap_bytes",
                    "peak_python_rss_bytes")


REFERENCE = reference.MODEL


DEFAULT_FEATURE_SET = schema.DEFAULT_FEATURE_SET


def load_records(runs_dir: str) -> tuple[list[dict], list[dict]]:
    """Training and evaluation records found in `runs_dir`, each model under its name of
    today (an old "federated" record is the average's)."""
    trains, evaluations = [], []
    for path in sorted(glob.glob(os.path.join(runs_dir, "*.json"))):
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        if "model" in record:
            record["model"] = current_name(record["model"])
        if record.get("kind") == "train":
            trains.append(record)
        elif record.get("kind") == "evaluation":
            evaluations.append(record)
    return trains, evaluations


def configuration(record: dict) -> tuple[str, str]:
    """(classifier, feature set) of a training record; absent keys mean the defaults."""
    return (record.get("classifier") or DEFAULT_CLASSIFIER,
            record.get("feature_set") or DEFAULT_FEATURE_SET)


def split_words(record: dict) -> str:
    """The split a record's run trained on, as the make variables that give it."""
    return split.words_of(record.get("split"))


def _group(record: dict) -> tuple[str, str, str]:
    return (*configuration(record), combining.split_key(record))


def select_configuration(trains: list[dict], classifier: str | None = None,
                         feature_set: str | None = None) -> tuple[list[dict], list[str]]:
    """The records of one configuration and split (by default the latest run's), and
    what was left out.

    Models of different classifiers, features or splits are not comparable row by row,
    so one report covers one of each and says how to get the others.
    """
    candidates = [r for r in trains if classifier in (None, configuration(r)[0])
                  and feature_set in (None, configuration(r)[1])]
    if not candidates:
        return [], []
    chosen = _group(max(candidates, key=lambda r: r["finished_at"]))
    left_out = collections.defaultdict(list)
    for record in trains:
        if _group(record) != chosen:
            left_out[_group(record)].append(record)
    notes = []
    for (c, f, split_key), records in sorted(left_out.items()):
        if split_key == chosen[2]:
            notes.append(f"Left out: {len(records)} training run(s) with classifier {c} and "
                         f"feature set {f}; `make report MODEL={c} FEATURES={f}` reports them.")
        else:
            notes.append(f"Left out: {len(records)} training run(s) of classifier {c} and "
                         f"feature set {f} on another split of the data "
                         f"({split_words(records[0])}); a report covers one split.")
    return [r for r in trains if _group(r) == chosen], notes


def model_order(model: str) -> tuple:
    """Report order: unified, fedavg, average, vote, then the nodes by name, then the reference."""
    if model in COMBINED:
        return (0, COMBINED.index(model), "")
    return (2, 0, "") if model == REFERENCE else (1, 0, model)


def is_per_node(model: str) -> bool:
    return model not in COMBINED and model != REFERENCE


def latest_per_model_and_seed(trains: list[dict]) -> list[dict]:
    """A re-run of the same model and seed replaces the earlier one."""
    latest: dict = {}
    for record in sorted(trains, key=lambda r: r["finished_at"]):
        latest[(record["model"], record["seed"])] = record
    return sorted(latest.values(), key=lambda r: (model_order(r["model"]), r["seed"]))


def _engine(record: dict) -> str:
    """Where the model was trained, from the record's Spark master URL."""
    master = record.get("master") or ""
    if record.get("engine"):
        return record["engine"]
    if master.startswith("local"):
        return "Spark local mode, one node"
    return "Spark cluster" if master else "–"


def _row(record: dict, eval_set: str, matrix, eval_nodes: list[str]) -> dict:
    scores = metrics.scores(matrix, schema.LABELS)
    resources = record.get("resources") or {}
    classifier, feature_set = configuration(record)
    return {
        "run_id": record["run_id"], "model": record["model"], "seed": record["seed"],
        "eval_set": eval_set, "train_rows": record["train_rows"], "test_rows": scores["rows"],
        "f1": scores["f1"], "accuracy": scores["accuracy"],
        "fit_seconds": record["fit_seconds"], "total_seconds": record["total_seconds"],
        "executor_cpu_seconds": resources.get("executor_cpu_seconds"),
        "peak_memory_bytes": resources.get("peak_memory_bytes"),
        "eval_nodes": " ".join(eval_nodes), "classifier": classifier,
        "app_id": resources.get("app_id"), "finished_at": record["finished_at"],
        **{column: resources.get(column) for column in RESOURCE_COLUMNS},
        "feature_set": feature_set, "engine": _engine(record),
    }


def _evaluations_by_run(evaluations: list[dict]) -> dict:
    by_run: dict = {}
    for evaluation in evaluations:
        by_run.setdefault(evaluation["run_id"], {})[evaluation["node"]] = evaluation
    return by_run


def summary_rows(trains: list[dict], evaluations: list[dict]) -> list[dict]:
    """One row per run and evaluation set (global; local for per-node models).

    Fedavg, average and vote records carry no evaluation of their own (`evaluation: null`):
    they get a global row once evaluation records score them on the nodes.
    """
    by_run = _evaluations_by_run(evaluations)
    rows = []
    for record in latest_per_model_and_seed(trains):
        scored = by_run.get(record["run_id"], {})
        own = record.get("evaluation") or {}
        if scored:
            nodes = sorted(scored)
            total = metrics.empty_matrix(len(schema.LABELS))
            for node in nodes:
                total = metrics.add_matrices(total, scored[node]["confusion_matrix"])
            rows.append(_row(record, "global", total, nodes))
        elif own.get("eval_set") == "global":
            rows.append(_row(record, "global", own["confusion_matrix"], record["train_nodes"]))
        if is_per_node(record["model"]):
            local = scored.get(record["model"], own).get("confusion_matrix")
            if local is not None:
                rows.append(_row(record, "local", local, [record["model"]]))
    return rows


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def unscored_notes(trains: list[dict], evaluations: list[dict]) -> list[str]:
    """Combined models that have no score yet (fedavg, average and vote are scored by evaluate)."""
    by_run = _evaluations_by_run(evaluations)
    waiting = [f"{r['model']} (seed {r['seed']})" for r in latest_per_model_and_seed(trains)
               if not r.get("evaluation") and r["run_id"] not in by_run]
    if not waiting:
        return []
    return [f"No evaluation records yet for {', '.join(waiting)}: `make evaluate` scores them."]


def skipped_model_notes(reports_dir: str) -> list[str]:
    """The models fetched into `reports_dir`/models that evaluate and combine leave out."""
    _, skipped = runs.read_model_infos(reports_dir)
    if not skipped:
        return []
    return [f"Models left out, not scored or combined: {'; '.join(skipped)}."]
