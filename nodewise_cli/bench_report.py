"""reports/bench.csv, bench.md and bench.png from the benchmark's rows."""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import pandas as pd

from nodewise.names import AVERAGE, FEDAVG, UNIFIED, current_name
from nodewise_cli.bench import COLUMNS, FEDAVG_LOCAL_STEPS, FEDAVG_ROUNDS
from nodewise_cli.files import atomic_path
from nodewise_cli.plots import save_figure  # importing plots selects the file-only backend
from nodewise_cli.report.tables import markdown_table

PNG = "bench.png"
AVERAGE_WORDS = ("The average row times jobs/combine.py on the master: it averages the "
                 "nodes' newest models into one (and builds the vote); the members' own fits "
                 "are the per-node rows.")
FEDAVG_WORDS = (f"The fedavg row is federated averaging on the cluster with make's defaults: "
                f"{FEDAVG_ROUNDS} rounds of {FEDAVG_LOCAL_STEPS} L-BFGS steps on each node's own "
                f"rows, one all-gather per round through the driver (nodewise/exchange.py).")
GIB = 1024 ** 3


def frame(results: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(results, columns=COLUMNS)


def growth_words(table: pd.DataFrame) -> list[str]:
    """How each engine's fit time grows from the smallest to the largest dataset."""
    lines = []
    main = table[table.model.isin([UNIFIED, FEDAVG, "all nodes' rows"])
                 | ((table.engine == "spark-local") & (table.model != AVERAGE))]
    for (engine, model), runs in main.groupby(["engine", "model"], sort=False):
        runs = runs.sort_values("rows")
        if len(runs) < 2:
            continue
        small, large = runs.iloc[0], runs.iloc[-1]
        lines.append(
            f"{model} ({engine}): {large.rows / small.rows:.0f}× the rows "
            f"({small.rows:,} to {large.rows:,}) took "
            f"{large.fit_seconds_median / small.fit_seconds_median:.1f}× "
            f"the fit time ({small.fit_seconds_median:.2f} s to {large.fit_seconds_median:.2f} s) "
            f"and {large.peak_rss_bytes / small.peak_rss_bytes:.1f}× the peak memory "
            f"({small.peak_rss_bytes / GIB:.2f} to {large.peak_rss_bytes / GIB:.2f} GiB).")
    return lines


def markdown(table: pd.DataFrame) -> str:
    shown = pd.DataFrame({
        "rows": table.rows.map("{:,}".format), "model": table.model, "engine": table.engine,
        "training rows": table.train_rows.map("{:,}".format),
        "fit s (median)": table.fit_seconds_median.map("{:.2f}".format),
        "end-to-end s (median)": table.total_seconds_median.map("{:.2f}".format),
        "rows/s (fit)": table.rows_per_second.map(lambda r: "–" if pd.isna(r) else f"{r:,.0f}"),
        "peak RSS GiB": (table.peak_rss_bytes / GIB).map("{:.2f}".format),
        "runs": table.runs})
    first = table.iloc[0]
    runs = "/".join(str(r) for r in sorted(set(table.runs)))
    return "\n".join([
        "# nodewise benchmark", "",
        f"Machine: {first.cores} cores, {first.memory_bytes / GIB:.1f} GiB. Medians of "
        f"{runs} runs (column `runs`) after one warm-up each. `rows` is the whole generated dataset; a "
        "per-node model trains on its node's slice of it. End-to-end is the wall time of the "
        "spark-submit (or Python) process; peak RSS sums every process of the run (for the "
        "cluster jobs: driver, master, workers, executors and Python workers).",
        *([FEDAVG_WORDS] if FEDAVG in set(table.model) else []),
        *([AVERAGE_WORDS] if AVERAGE in set(table.model) else []), "",
        markdown_table(shown), "", *growth_words(table), "", f"![fit time against rows]({PNG})", ""])


def plot(table: pd.DataFrame, path: str) -> None:
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for (engine, model), runs in table.groupby(["engine", "model"], sort=False):
        runs = runs.sort_values("rows")
        axis.plot(runs.rows, runs.fit_seconds_median, marker="o", label=f"{model} ({engine})")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("rows in the dataset")
    axis.set_ylabel("fit seconds (median)")
    axis.set_title("Fit time against dataset size")
    axis.legend(fontsize="small")
    save_figure(figure, path)


def merged(results: list[dict], csv_path: str) -> pd.DataFrame:
    """`results` with the rows of bench.csv whose dataset sizes they did not measure (an
    old "federated" row is the average's)."""
    table = frame(results)
    if os.path.exists(csv_path):
        kept = pd.read_csv(csv_path)
        kept["model"] = kept.model.map(current_name)
        kept = kept[~kept.rows.isin(table.rows)]
        parts = [part for part in (kept[COLUMNS], table) if len(part)]
        table = pd.concat(parts, ignore_index=True) if parts else table
    return table.sort_values("rows", kind="stable").reset_index(drop=True)


def write(results: list[dict], out_dir: str) -> list[str]:
    """bench.csv, bench.md and bench.png in `out_dir`, keeping other sizes' rows; their paths."""
    table = merged(results, os.path.join(out_dir, "bench.csv"))
    csv_path, md_path = os.path.join(out_dir, "bench.csv"), os.path.join(out_dir, "bench.md")
    with atomic_path(csv_path) as partial:
        table.to_csv(partial, index=False)
    plot(table, os.path.join(out_dir, PNG))
    with atomic_path(md_path) as partial, open(partial, "w", encoding="utf-8") as out:
        out.write(markdown(table))
    return [csv_path, md_path, os.path.join(out_dir, PNG)]
