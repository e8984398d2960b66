"""The report's tables, each built from the summary frame or the records, and as markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nodewise import schema
from nodewise.names import COMBINED, FEDAVG, UNIFIED
from nodewise_cli.report.records import REFERENCE, is_per_node, latest_per_model_and_seed

MIB = 2**20


def mean_std(values: pd.Series, digits: int) -> str:
    if values.dropna().empty:
        return "–"
    if values.count() < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def _fixed(values: pd.Series, digits: int) -> list[str]:
    """Numbers with `digits` decimals, "–" where missing."""
    return ["–" if pd.isna(v) else f"{v:.{digits}f}" for v in pd.to_numeric(values)]


def _per_model(summary: pd.DataFrame):
    """(model, its summary rows, one row per run) in the summary's order."""
    for model, rows in summary.groupby("model", sort=False):
        yield model, rows, rows.drop_duplicates("run_id")


def f1_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per model: dataset count and F1, mean ± std over seeds (the first of the two tables
    of the original Docker and Jupyter project)."""
    return pd.DataFrame([{
        "model": model, "seeds": per_run.seed.nunique(),
        "training rows (dataset count)": int(round(per_run.train_rows.mean())),
        "F1 global test set": mean_std(rows[rows.eval_set == "global"].f1, 4),
        "F1 own test part": mean_std(rows[rows.eval_set == "local"].f1, 4),
    } for model, rows, per_run in _per_model(summary)])


def time_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per model: dataset count and training time, mean ± std (that project's second table)."""
    return pd.DataFrame([{
        "model": model, "engine": " / ".join(per_run.engine.dropna().unique()),
        "training rows (dataset count)": int(round(per_run.train_rows.mean())),
        "fit s": mean_std(per_run.fit_seconds, 2),
        "end-to-end s": mean_std(per_run.total_seconds, 2),
        "executor CPU s": mean_std(per_run.executor_cpu_seconds, 2),
    } for model, rows, per_run in _per_model(summary)])


def resources_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per Spark run: what it used, from Spark's monitoring REST API."""
    runs = summary.drop_duplicates("run_id")
    runs = runs[runs.model != REFERENCE]
    return pd.DataFrame({
        "run_id": runs.run_id, "model": runs.model, "seed": runs.seed,
        "executor CPU s": _fixed(runs.executor_cpu_seconds, 2), "GC s": _fixed(runs.gc_seconds, 2),
        "peak memory MiB": _fixed(runs.peak_memory_bytes / MIB, 0),
        "of which JVM heap MiB": _fixed(runs.peak_jvm_heap_bytes / MIB, 0),
        "Python workers MiB": _fixed(runs.peak_python_rss_bytes / MIB, 0),
        "input MiB": _fixed(runs.input_bytes / MIB, 2),
        "shuffle read MiB": _fixed(runs.shuffle_read_bytes / MIB, 2),
        "shuffle write MiB": _fixed(runs.shuffle_write_bytes / MIB, 2),
        "tasks": _fixed(runs.task_count, 0), "cores": _fixed(runs.cores, 0),
    })


WORK_COLUMNS = ["run_id", "node", "executors", "tasks", "input_rows", "cpu_seconds",
                "run_seconds", "peak_memory_mib"]


def work_per_node(trains: list[dict]) -> pd.DataFrame:
    """One row per run and node of how a unified run's work spread over the nodes."""
    rows = []
    for record in latest_per_model_and_seed(trains):
        if record["model"] != UNIFIED:  # fedavg's work per node is its rounds'
            continue
        for node, work in (record.get("work_per_node") or {}).items():
            rows.append({"run_id": record["run_id"], "node": node,
                         "executors": len(work.get("executors") or []),
                         "tasks": work.get("tasks"), "input_rows": work.get("input_rows"),
                         "cpu_seconds": work.get("cpu_seconds"),
                         "run_seconds": work.get("run_seconds"),
                         "peak_memory_mib": (work.get("peak_memory_bytes") or np.nan) / MIB})
    return pd.DataFrame(rows, columns=WORK_COLUMNS)


def work_table(work: pd.DataFrame) -> pd.DataFrame:
    """Per node, the mean over unified runs (the Executors page of Spark's web UI, per node)."""
    grouped = work.groupby("node", sort=False)
    means = grouped[WORK_COLUMNS[2:]].mean()
    total_cpu = means.cpu_seconds.sum()
    return pd.DataFrame({
        "node": means.index, "runs": grouped.run_id.nunique().values,
        "executors": _fixed(means.executors, 1), "tasks": _fixed(means.tasks, 1),
        "input rows": _fixed(means.input_rows, 0), "CPU s": _fixed(means.cpu_seconds, 2),
        "share of CPU": [f"{share:.0%}" if total_cpu else "–"
                         for share in means.cpu_seconds / (total_cpu or 1)],
        "run s": _fixed(means.run_seconds, 2), "peak memory MiB": _fixed(means.peak_memory_mib, 0),
    })


def node_resources(summary: pd.DataFrame, work: pd.DataFrame) -> pd.DataFrame:
    """Per node and run: the unified run's share on it beside the node's own model."""
    shares = work.assign(source="unified run, its share on the node")
    own = summary.drop_duplicates("run_id")
    own = own[own.model.map(is_per_node)]
    own = pd.DataFrame({"run_id": own.run_id, "node": own.model, "tasks": own.task_count,
                        "cpu_seconds": own.executor_cpu_seconds,
                        "peak_memory_mib": own.peak_memory_bytes / MIB,
                        "source": "the node's own model"})
    columns = ["node", "source", "cpu_seconds", "tasks", "peak_memory_mib"]
    parts = [part[columns] for part in (shares, own) if not part.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def label_counts(split: dict | None) -> pd.DataFrame:
    """Rows per node (index) and label (columns, in the schema's order) of a record's split."""
    counts = pd.DataFrame((split or {}).get("labels_per_node") or {}).T
    if counts.empty:
        return counts
    columns = [label for label in schema.LABELS if label in counts.columns]
    return counts.reindex(columns=columns + sorted(set(counts.columns) - set(columns)))\
        .fillna(0).astype(int)


def label_distances(counts: pd.DataFrame) -> pd.Series:
    """Per node, the total variation distance of its label shares from the whole data's:
    0 when a node has the same shares, 1 when it has no label in common with the rest."""
    shares = counts.div(counts.sum(axis=1), axis=0)
    whole = counts.sum() / counts.to_numpy().sum()
    return (shares - whole).abs().sum(axis=1) / 2


def ownership_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Per node: its rows, rows per label, and how far its label shares are from the whole's."""
    return pd.DataFrame({"node": counts.index, "rows": counts.sum(axis=1).to_numpy(),
                         **{label: counts[label].to_numpy() for label in counts.columns},
                         "label distance from the whole": _fixed(label_distances(counts), 3)})


ROUNDS_COLUMNS = ["run_id", "seed", "round", "loss"]


def fedavg_rounds(trains: list[dict]) -> pd.DataFrame:
    """One row per federated-averaging run and round: the global training loss after it."""
    rows = [{"run_id": r["run_id"], "seed": r["seed"], "round": entry["round"], "loss": entry["loss"]}
            for r in latest_per_model_and_seed(trains) if r["model"] == FEDAVG
            for entry in r.get("rounds") or []]
    return pd.DataFrame(rows, columns=ROUNDS_COLUMNS)


def rounds_table(rounds: pd.DataFrame) -> pd.DataFrame:
    """The loss after rounds 1, 2, 3, 5 and every fifth, and the last, mean ± std over seeds."""
    last = rounds["round"].max()
    shown = rounds[rounds["round"].isin([1, 2, 3, last]) | (rounds["round"] % 5 == 0)]
    grouped = shown.groupby("round")
    return pd.DataFrame({"round": list(grouped.groups), "runs": grouped.run_id.nunique().to_numpy(),
                         "global training loss": [mean_std(g.loss, 4) for _, g in grouped]})


def curve_stats(curve: pd.DataFrame) -> pd.DataFrame:
    """The learning curve per training size: mean ± std of F1 over draws (and seeds)."""
    if curve.empty:
        return pd.DataFrame(columns=["size", "train_rows", "fits", "mean", "std"])
    # all training rows differ a little between seeds; they are one size, "all"
    size = curve.train_rows.astype(float).where(~curve.all_rows.astype(bool), np.inf)
    grouped = curve.assign(size=size).groupby("size")
    stats = grouped.f1.agg(["count", "mean", "std"]).rename(columns={"count": "fits"})
    stats["train_rows"] = grouped.train_rows.mean()
    return stats.reset_index()


def spark_points(summary: pd.DataFrame) -> pd.DataFrame:
    """(kind, train_rows, f1) of every Spark run on the global test set, for the curve."""
    rows = summary[(summary.eval_set == "global") & (summary.model != REFERENCE)]
    kind = rows.model.where(rows.model.isin(COMBINED), "per-node models")
    return pd.DataFrame({"kind": kind, "train_rows": rows.train_rows, "f1": rows.f1})


def curve_table(stats: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "training rows": [f"all ({row.train_rows:.0f})" if np.isinf(row.size)
                          else f"{row.size:.0f}" for row in stats.itertuples()],
        "fits": stats.fits.values,
        "F1 global test set": [f"{m:.4f}" if pd.isna(s) else f"{m:.4f} ± {s:.4f}"
                               for m, s in zip(stats["mean"], stats["std"], strict=True)],
    })


def markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        if pd.isna(value):
            return "–"
        if float(value).is_integer():
            return f"{value:.0f}"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)
