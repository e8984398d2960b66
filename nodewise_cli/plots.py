"""The report's figures as PNG files: F1, time and resources per model, resources per
node, and the learning curve."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from nodewise.names import COMBINED  # noqa: E402
from nodewise_cli.paths import (  # noqa: E402,F401
    CURVE_PNG,
    F1_PNG,
    LABELS_PNG,
    NODES_PNG,
    RESOURCES_PNG,
    ROUNDS_PNG,
    SWEEP_PNG,
    TIME_PNG,
)


def _per_model(frame: pd.DataFrame, column: str, by: str = "model") -> pd.DataFrame:
    """Mean and standard deviation of `column` per model (or `by`), in the frame's order."""
    grouped = frame.groupby(by, sort=False)[column]
    return pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1).fillna(0.0)})


def _bars(axis, stats: pd.DataFrame, offset: float, width: float, label: str) -> None:
    positions = [i + offset for i in range(len(stats))]
    axis.bar(positions, stats["mean"], width, yerr=stats["std"], capsize=4, label=label)


def save_figure(figure, path: str) -> str:
    """Save through a temporary file, so a failed run never leaves half a picture."""
    figure.tight_layout()
    partial = path + ".partial"
    try:
        figure.savefig(partial, dpi=110, format="png")
        os.replace(partial, path)
    finally:
        plt.close(figure)
        if os.path.exists(partial):
            os.remove(partial)
    return path


def f1_plot(summary: pd.DataFrame, path: str) -> str:
    """Weighted F1 per model on the global test set (and own test part), ± std over seeds."""
    figure, axis = plt.subplots(figsize=(7, 4))
    models = list(dict.fromkeys(summary.model))
    for eval_set, offset, label in (("global", -0.2, "global test set"),
                                    ("local", 0.2, "own test part")):
        rows = summary[summary.eval_set == eval_set]
        if not rows.empty:
            _bars(axis, _per_model(rows, "f1").reindex(models), offset, 0.4, label)
    axis.set_xticks(range(len(models)), models)
    low = max(0.0, float(summary.f1.min() - 0.02))
    axis.set_ylim(low, 1.0)
    axis.set_ylabel("weighted F1 (mean ± std over seeds)")
    axis.set_title("F1 per model")
    # Below the axis: inside, it covers the bars of whichever models sit in its corner.
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    return save_figure(figure, path)


def time_plot(runs: pd.DataFrame, path: str) -> str:
    """Fit and end-to-end seconds per model, ± std over seeds."""
    figure, axis = plt.subplots(figsize=(7, 4))
    fit = _per_model(runs, "fit_seconds")
    _bars(axis, fit, -0.2, 0.4, "Pipeline.fit")
    _bars(axis, _per_model(runs, "total_seconds").reindex(fit.index), 0.2, 0.4, "end to end")
    axis.set_xticks(range(len(fit)), fit.index)
    axis.set_ylabel("seconds (mean ± std over seeds)")
    axis.set_title("Training time per model")
    axis.legend()
    return save_figure(figure, path)


def resources_plot(runs: pd.DataFrame, path: str) -> str:
    """Executor CPU seconds and peak memory per model (Spark runs only)."""
    runs = runs.dropna(subset=["executor_cpu_seconds"])
    figure, (cpu_axis, memory_axis) = plt.subplots(1, 2, figsize=(9, 4))
    cpu = _per_model(runs, "executor_cpu_seconds")
    _bars(cpu_axis, cpu, 0.0, 0.6, "executor CPU")
    cpu_axis.set_xticks(range(len(cpu)), cpu.index)
    cpu_axis.set_ylabel("executor CPU seconds")
    memory = runs.assign(peak_memory_mib=runs.peak_memory_bytes / 2**20)
    peak = _per_model(memory, "peak_memory_mib").reindex(cpu.index)
    _bars(memory_axis, peak, 0.0, 0.6, "peak memory")
    memory_axis.set_xticks(range(len(peak)), peak.index)
    memory_axis.set_ylabel("peak JVM + Python memory, MiB")
    figure.suptitle("Resources per model (mean ± std over seeds)")
    return save_figure(figure, path)


def nodes_plot(per_node: pd.DataFrame, path: str) -> str:
    """Per node: the unified run's share beside the node's own model (CPU, tasks, memory)."""
    figure, axes = plt.subplots(1, 3, figsize=(11, 4))
    nodes = list(dict.fromkeys(per_node.node))
    sources = list(dict.fromkeys(per_node.source))
    width = 0.8 / len(sources)
    for axis, (column, label) in zip(axes, (("cpu_seconds", "executor CPU seconds"),
                                            ("tasks", "tasks"),
                                            ("peak_memory_mib", "peak memory, MiB")), strict=True):
        for i, source in enumerate(sources):
            stats = _per_model(per_node[per_node.source == source], column, "node").reindex(nodes)
            _bars(axis, stats, (i - (len(sources) - 1) / 2) * width, width, source)
        axis.set_xticks(range(len(nodes)), nodes)
        axis.set_ylabel(label)
    axes[0].legend(fontsize="small")
    figure.suptitle("Resources per node (mean ± std over runs)")
    return save_figure(figure, path)


def curve_plot(stats: pd.DataFrame, points: pd.DataFrame, path: str) -> str:
    """The reference's F1 against training rows (mean ± std), with the Spark runs as points."""
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.errorbar(stats.train_rows, stats["mean"], yerr=stats["std"].fillna(0.0), capsize=4,
                  marker="o", label="scikit-learn reference")
    for kind, runs in points.groupby("kind", sort=False):
        axis.scatter(runs.train_rows, runs.f1, marker="x", zorder=3, label=f"Spark: {kind}")
    axis.set_xscale("log")
    axis.set_xlabel("training rows (log scale)")
    axis.set_ylabel("weighted F1, global test set")
    axis.set_title("Learning curve")
    axis.legend(loc="lower right", fontsize="small")
    return save_figure(figure, path)


def labels_plot(counts: pd.DataFrame, path: str) -> str:
    """Each node's rows as a bar stacked by label: who owns which labels."""
    figure, axis = plt.subplots(figsize=(max(5, 1.2 * len(counts) + 2), 4))
    bottom = pd.Series(0, index=counts.index)
    for label in counts.columns:
        axis.bar(counts.index, counts[label], 0.6, bottom=bottom, label=label)
        bottom += counts[label]
    axis.set_ylabel("rows")
    axis.legend(title="label")
    axis.set_title("Rows per node and label")
    return save_figure(figure, path)


def rounds_plot(rounds: pd.DataFrame, path: str) -> str:
    """The federated-averaging runs' global training loss against the round, one line per seed."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for seed, run in rounds.groupby("seed"):
        axis.plot(run["round"], run["loss"], marker="o", markersize=3, label=f"seed {seed}")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole
    axis.set_xlabel("round")
    axis.set_ylabel("global training loss")
    axis.legend()
    axis.set_title("Federated averaging: loss after each round")
    return save_figure(figure, path)


def sweep_plot(means: pd.DataFrame, path: str) -> str:
    """Mean F1 on the global test set against alpha (log scale, most unlike slices on the
    right), a line per model: solid for the models of every node's data, dashed per node.
    `means` has a row per alpha and a column per model, in report order."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for model in means.columns:
        style = "--" if model not in COMBINED else "-"
        axis.plot(means.index, means[model], style, marker="o", markersize=4, label=model)
    axis.set_xscale("log")
    axis.invert_xaxis()
    axis.set_xlabel("alpha (smaller: nodes' labels less alike)")
    axis.set_ylabel("weighted F1, global test set")
    axis.legend(fontsize="small")
    axis.set_title("F1 against the split's alpha (mean over seeds)")
    return save_figure(figure, path)


def all_plots(summary: pd.DataFrame, out_dir: str, per_node: pd.DataFrame | None = None,
              curve: pd.DataFrame | None = None, points: pd.DataFrame | None = None,
              labels: pd.DataFrame | None = None,
              rounds: pd.DataFrame | None = None) -> list[str]:
    """Write every figure there is data for into `out_dir`; return their file names.

    `per_node` is tables.node_resources, `curve` tables.curve_stats, `points`
    tables.spark_points, `labels` tables.label_counts, `rounds` tables.fedavg_rounds.
    """
    runs = summary.drop_duplicates("run_id")
    paths = [f1_plot(summary, os.path.join(out_dir, F1_PNG)),
             time_plot(runs, os.path.join(out_dir, TIME_PNG))]
    if runs.executor_cpu_seconds.notna().any():
        paths.append(resources_plot(runs, os.path.join(out_dir, RESOURCES_PNG)))
    if per_node is not None and not per_node.empty:
        paths.append(nodes_plot(per_node, os.path.join(out_dir, NODES_PNG)))
    if curve is not None and not curve.empty:
        empty = pd.DataFrame(columns=["kind", "train_rows", "f1"])
        paths.append(curve_plot(curve, empty if points is None else points,
                                os.path.join(out_dir, CURVE_PNG)))
    if labels is not None and not labels.empty:
        paths.append(labels_plot(labels, os.path.join(out_dir, LABELS_PNG)))
    if rounds is not None and not rounds.empty:
        paths.append(rounds_plot(rounds, os.path.join(out_dir, ROUNDS_PNG)))
    return [os.path.basename(p) for p in paths]
