"""The report's figures: F1, time and resources per model, as PNG files."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

F1_PNG = "f1_per_model.png"
TIME_PNG = "time_per_model.png"
RESOURCES_PNG = "resources_per_model.png"


def _per_model(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean and standard deviation of `column` per model, in the frame's model order."""
    grouped = frame.groupby("model", sort=False)[column]
    return pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1).fillna(0.0)})


def _bars(axis, stats: pd.DataFrame, offset: float, width: float, label: str) -> None:
    positions = [i + offset for i in range(len(stats))]
    axis.bar(positions, stats["mean"], width, yerr=stats["std"], capsize=4, label=label)


def _save(figure, path: str) -> str:
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
    low = max(0.0, float((summary.f1.min() - 0.02)))
    axis.set_ylim(low, 1.0)
    axis.set_ylabel("weighted F1 (mean ± std over seeds)")
    axis.set_title("F1 per model")
    axis.legend(loc="lower right")
    return _save(figure, path)


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
    return _save(figure, path)


def resources_plot(runs: pd.DataFrame, path: str) -> str:
    """Executor CPU seconds and peak memory per model."""
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
    return _save(figure, path)


def all_plots(summary: pd.DataFrame, out_dir: str) -> list[str]:
    """Write every figure into `out_dir`; return their file names."""
    runs = summary.drop_duplicates("run_id")
    paths = [f1_plot(summary, os.path.join(out_dir, F1_PNG)),
             time_plot(runs, os.path.join(out_dir, TIME_PNG)),
             resources_plot(runs, os.path.join(out_dir, RESOURCES_PNG))]
    return [os.path.basename(p) for p in paths]
