"""Turning run records into reports/summary.csv and reports/report.md.

No Spark needed: the records hold confusion matrices, and global scores are
the per-node matrices summed (exact, since every node scores every model on
its own test part). Works with whatever records exist.
"""

from __future__ import annotations

import glob
import json
import os

import pandas as pd

from nodewise import metrics, schema

SUMMARY_COLUMNS = [
    "run_id", "model", "seed", "eval_set", "train_rows", "test_rows", "f1", "accuracy",
    "fit_seconds", "total_seconds", "executor_cpu_seconds", "peak_memory_bytes",
    "eval_nodes", "classifier", "app_id", "finished_at",
    # further resource figures of the run (Spark's monitoring REST API)
    "gc_seconds", "input_bytes", "shuffle_read_bytes", "shuffle_write_bytes", "task_count",
    "cores", "driver_python_peak_rss_bytes",
]
RESOURCE_COLUMNS = ("gc_seconds", "input_bytes", "shuffle_read_bytes", "shuffle_write_bytes",
                    "task_count", "cores", "driver_python_peak_rss_bytes")
UNIFIED = "unified"


def load_records(runs_dir: str) -> tuple[list[dict], list[dict]]:
    """Training and evaluation records found in `runs_dir`."""
    trains, evaluations = [], []
    for path in sorted(glob.glob(os.path.join(runs_dir, "*.json"))):
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        if record.get("kind") == "train":
            trains.append(record)
        elif record.get("kind") == "evaluation":
            evaluations.append(record)
    return trains, evaluations


def latest_per_model_and_seed(trains: list[dict]) -> list[dict]:
    """A re-run of the same model and seed replaces the earlier one."""
    latest: dict = {}
    for record in sorted(trains, key=lambda r: r["finished_at"]):
        latest[(record["model"], record["seed"])] = record
    return sorted(latest.values(), key=lambda r: (r["model"] != UNIFIED, r["model"], r["seed"]))


def _row(record: dict, eval_set: str, matrix, eval_nodes: list[str]) -> dict:
    scores = metrics.scores(matrix, schema.LABELS)
    resources = record.get("resources", {})
    return {
        "run_id": record["run_id"], "model": record["model"], "seed": record["seed"],
        "eval_set": eval_set, "train_rows": record["train_rows"], "test_rows": scores["rows"],
        "f1": scores["f1"], "accuracy": scores["accuracy"],
        "fit_seconds": record["fit_seconds"], "total_seconds": record["total_seconds"],
        "executor_cpu_seconds": resources.get("executor_cpu_seconds"),
        "peak_memory_bytes": resources.get("peak_memory_bytes"),
        "eval_nodes": " ".join(eval_nodes), "classifier": record.get("classifier"),
        "app_id": resources.get("app_id"), "finished_at": record["finished_at"],
        **{column: resources.get(column) for column in RESOURCE_COLUMNS},
    }


def summary_rows(trains: list[dict], evaluations: list[dict]) -> list[dict]:
    """One row per run and evaluation set (global; local for per-node models)."""
    by_run: dict = {}
    for evaluation in evaluations:
        by_run.setdefault(evaluation["run_id"], {})[evaluation["node"]] = evaluation
    rows = []
    for record in latest_per_model_and_seed(trains):
        scored = by_run.get(record["run_id"], {})
        own = record["evaluation"]
        if scored:
            nodes = sorted(scored)
            total = metrics.empty_matrix(len(schema.LABELS))
            for node in nodes:
                total = metrics.add_matrices(total, scored[node]["confusion_matrix"])
            rows.append(_row(record, "global", total, nodes))
        elif own["eval_set"] == "global":
            rows.append(_row(record, "global", own["confusion_matrix"], record["train_nodes"]))
        if record["model"] != UNIFIED:
            local = scored.get(record["model"], {}).get("confusion_matrix", own["confusion_matrix"])
            rows.append(_row(record, "local", local, [record["model"]]))
    return rows


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _mean_std(values: pd.Series, digits: int) -> str:
    if values.dropna().empty:
        return "–"
    if values.count() < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def comparison_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The seed's table, per model: rows, F1 (mean ± std over seeds), training time."""
    table = []
    for model, runs in summary.groupby("model", sort=False):
        global_runs = runs[runs.eval_set == "global"]
        local_runs = runs[runs.eval_set == "local"]
        per_run = runs.drop_duplicates("run_id")
        table.append({
            "model": model,
            "seeds": per_run.seed.nunique(),
            "training rows": int(per_run.train_rows.mean()),
            "F1 global test set": _mean_std(global_runs.f1, 4),
            "F1 own test part": _mean_std(local_runs.f1, 4) if model != UNIFIED else "–",
            "fit s": _mean_std(per_run.fit_seconds, 2),
            "end-to-end s": _mean_std(per_run.total_seconds, 2),
            "executor CPU s": _mean_std(per_run.executor_cpu_seconds, 2),
        })
    return pd.DataFrame(table)


def _markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if pd.isna(value) else f"{value:.4g}"
    return str(value)


def _data_checks_section(trains: list[dict]) -> list[str]:
    lines = []
    for record in latest_per_model_and_seed(trains):
        checks = record.get("data_checks")
        if not checks:
            continue
        per_node = pd.DataFrame(checks["rows_per_node_and_label"]).T.fillna(0).astype(int)
        per_node = per_node.reindex(columns=[l for l in schema.LABELS if l in per_node.columns])
        per_node.insert(0, "node", per_node.index)
        lines += [f"### {record['run_id']}", "", _markdown(per_node), "",
                  f"Nulls: {sum(checks['nulls'].values())}; duplicate rows: "
                  f"{checks['duplicate_rows']}; values out of range: "
                  f"{sum(checks['out_of_range'].values())}.", ""]
    return lines


def verdict(summary: pd.DataFrame) -> list[str]:
    """Plain words on the global test set: who wins, by how much, beyond the spread?"""
    scores = summary[summary.eval_set == "global"].groupby("model").f1.agg(["mean", "std", "count"])
    if scores.empty:
        return []
    top = scores["mean"].max()
    best = [model for model in scores.index if top - scores.loc[model, "mean"] < 5e-5]
    seeds = int(scores["count"].max())
    if len(best) == 1:
        lines = [f"On the global test set the best mean F1 is {best[0]}'s, {top:.4f} "
                 f"over {seeds} seed(s)."]
    else:
        lines = [f"On the global test set {', '.join(best)} tie at a mean F1 of {top:.4f} "
                 f"over {seeds} seed(s)."]
    per_node = scores.drop(index=UNIFIED, errors="ignore")
    if UNIFIED in scores.index and not per_node.empty:
        gap = scores.loc[UNIFIED, "mean"] - per_node["mean"].mean()
        spread = scores["std"].fillna(0.0).max()
        direction = "above" if gap >= 0 else "below"
        lines.append(
            f"The unified model is {abs(gap):.4f} {direction} the per-node models' mean "
            f"({per_node['mean'].mean():.4f}); the largest standard deviation over seeds is "
            f"{spread:.4f}, so the difference "
            f"{'exceeds' if abs(gap) > spread else 'does not exceed'} the spread over seeds.")
    return lines


def render_markdown(trains: list[dict], summary: pd.DataFrame, figures: list[str] = ()) -> str:
    per_run = summary[["run_id", "model", "seed", "eval_set", "train_rows", "test_rows", "f1",
                       "accuracy", "fit_seconds", "total_seconds", "executor_cpu_seconds"]]
    classifiers = ", ".join(sorted({str(r.get("classifier")) for r in trains})) or "–"
    lines = [
        "# nodewise report", "",
        f"{summary.run_id.nunique()} training run(s); classifier: {classifiers}. "
        "F1 is weighted F1. The global test set is the union of every node's test part "
        "(scores from the nodes' confusion matrices summed); a per-node model's own test "
        "part is the test part of its node's slice. Mean ± standard deviation over seeds.", "",
        "## Per-node models against the unified model", "",
        _markdown(comparison_table(summary)), "", *verdict(summary), "",
        *[f"![{name[:-4].replace('_', ' ')}]({name})" for name in figures], "",
        "## Every run", "", _markdown(per_run), "",
    ]
    checks = _data_checks_section(trains)
    if checks:
        lines += ["## Data checks of the unified runs (Spark SQL, before training)", "", *checks]
    return "\n".join(lines) + "\n"
