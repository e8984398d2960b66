"""Turning run records into reports/summary.csv and reports/report.md.

No Spark needed: the records hold confusion matrices, and global scores are
the per-node matrices summed (exact, since every node scores every model on
its own test part). Works with whatever records exist. Every table is built
from the one summary frame, so no two tables can disagree.
"""

from __future__ import annotations

import collections
import glob
import json
import os

import numpy as np
import pandas as pd

from nodewise import metrics, names, runs, schema
from nodewise.names import COMBINED, DEFAULT_CLASSIFIER, FEDERATED, UNIFIED, VOTE
from nodewise_cli import plots, reference

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
CLASSIFIER_WORDS = {names.LOGISTIC_REGRESSION: "logistic regression",
                    names.DECISION_TREE: "decision tree", names.RANDOM_FOREST: "random forest"}
FEATURE_SET_WORDS = {
    "default": "job title, education and the numeric columns, without "
               "Automation_Probability_2030",
    "full": "also Automation_Probability_2030, from which the label is a threshold rule",
}
MIB = 2**20


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


def configuration(record: dict) -> tuple[str, str]:
    """(classifier, feature set) of a training record; absent keys mean the defaults."""
    return (record.get("classifier") or DEFAULT_CLASSIFIER,
            record.get("feature_set") or DEFAULT_FEATURE_SET)


def select_configuration(trains: list[dict], classifier: str | None = None,
                         feature_set: str | None = None) -> tuple[list[dict], list[str]]:
    """The records of one configuration (by default the latest run's), and what was left out.

    Models of different classifiers or features are not comparable row by row, so one
    report covers one configuration and says how to get the others.
    """
    candidates = [r for r in trains if classifier in (None, configuration(r)[0])
                  and feature_set in (None, configuration(r)[1])]
    if not candidates:
        return [], []
    chosen = configuration(max(candidates, key=lambda r: r["finished_at"]))
    others = collections.Counter(configuration(r) for r in trains if configuration(r) != chosen)
    notes = [f"Left out: {count} training run(s) with classifier {c} and feature set {f}; "
             f"`make report MODEL={c} FEATURES={f}` reports them."
             for (c, f), count in sorted(others.items())]
    return [r for r in trains if configuration(r) == chosen], notes


def model_order(model: str) -> tuple:
    """Report order: unified, federated, vote, then the nodes by name, then the reference."""
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

    Federated and vote records carry no evaluation of their own (`evaluation: null`):
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
    """Combined models that have no score yet (federated and vote are scored by evaluate)."""
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


def _mean_std(values: pd.Series, digits: int) -> str:
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
    """The seed's first table, per model: dataset count and F1 (mean ± std over seeds)."""
    return pd.DataFrame([{
        "model": model, "seeds": per_run.seed.nunique(),
        "training rows (dataset count)": int(round(per_run.train_rows.mean())),
        "F1 global test set": _mean_std(rows[rows.eval_set == "global"].f1, 4),
        "F1 own test part": _mean_std(rows[rows.eval_set == "local"].f1, 4),
    } for model, rows, per_run in _per_model(summary)])


def time_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The seed's second table, per model: dataset count and training time (mean ± std)."""
    return pd.DataFrame([{
        "model": model, "engine": " / ".join(per_run.engine.dropna().unique()),
        "training rows (dataset count)": int(round(per_run.train_rows.mean())),
        "fit s": _mean_std(per_run.fit_seconds, 2),
        "end-to-end s": _mean_std(per_run.total_seconds, 2),
        "executor CPU s": _mean_std(per_run.executor_cpu_seconds, 2),
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
        for node, work in (record.get("work_per_node") or {}).items():
            rows.append({"run_id": record["run_id"], "node": node,
                         "executors": len(work.get("executors") or []),
                         "tasks": work.get("tasks"), "input_rows": work.get("input_rows"),
                         "cpu_seconds": work.get("cpu_seconds"),
                         "run_seconds": work.get("run_seconds"),
                         "peak_memory_mib": (work.get("peak_memory_bytes") or np.nan) / MIB})
    return pd.DataFrame(rows, columns=WORK_COLUMNS)


def work_table(work: pd.DataFrame) -> pd.DataFrame:
    """Per node, the mean over unified runs (what the seed's Executors screenshot showed)."""
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


def gathered_words(trains: list[dict]) -> str:
    """Whether unified runs trained in fewer partitions than task slots, and so where."""
    gathered = [r for r in latest_per_model_and_seed(trains) if r.get("work_per_node")
                and (r.get("params") or {}).get("train_partitions", 0) < r.get("task_slots", 0)]
    if not gathered:
        return ""
    partitions = sorted({r["params"]["train_partitions"] for r in gathered})
    return (f"{len(gathered)} of these runs trained in {' or '.join(map(str, partitions))} "
            "partition(s), fewer than their task slots: each node read its own slice, then "
            "rows under about 10 MB per partition were gathered, so the fit's tasks ran on "
            "fewer nodes (each partition costs a task in every iteration).")


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
                               for m, s in zip(stats["mean"], stats["std"])],
    })


def curve_words(stats: pd.DataFrame) -> str:
    """One sentence on what the curve shows about the spread at small sizes."""
    sampled = stats[~np.isinf(stats["size"])].dropna(subset=["std"])
    if len(sampled) < 2:
        return ""
    small, large = sampled.iloc[0], sampled.iloc[-1]
    shown = (f"the standard deviation over {small.fits:.0f} draws is {small['std']:.4f} at "
             f"{small.train_rows:.0f} training rows (mean F1 {small['mean']:.4f}) and "
             f"{large['std']:.4f} at {large.train_rows:.0f} rows (mean F1 {large['mean']:.4f})")
    if small["std"] > large["std"]:
        return (f"Small training sets vary more: {shown}. With fewer rows, which rows a model "
                "gets decides more of its score.")
    return f"Here the spread does not shrink with more rows: {shown}."


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


def _data_checks_section(trains: list[dict]) -> list[str]:
    lines = []
    for record in latest_per_model_and_seed(trains):
        checks = record.get("data_checks")
        if not checks:
            continue
        per_node = pd.DataFrame(checks["rows_per_node_and_label"]).T.fillna(0).astype(int)
        per_node = per_node.reindex(columns=[l for l in schema.LABELS if l in per_node.columns])
        per_node.insert(0, "node", per_node.index)
        lines += [f"### {record['run_id']}", "", markdown_table(per_node), "",
                  f"Nulls: {sum(checks['nulls'].values())}; duplicate rows: "
                  f"{checks['duplicate_rows']}; values out of range: "
                  f"{sum(checks['out_of_range'].values())}.", ""]
    return lines


def _spread_words(gap: float, stds: pd.Series) -> str:
    """Whether `gap` exceeds the largest standard deviation over seeds of the models compared."""
    known = stds.dropna()
    if known.empty:
        return "with one seed there is no spread over seeds to judge the difference by."
    spread = known.max()
    return (f"the largest standard deviation over seeds is {spread:.4f}, so the difference "
            f"{'exceeds' if abs(gap) > spread else 'does not exceed'} the spread over seeds.")


def _shared_seed_scores(global_rows: pd.DataFrame, models: list[str]):
    """F1 mean and std per model over only the seeds every one of `models` has: a fair pairing."""
    rows = global_rows[global_rows.model.isin(models)]
    shared = set.intersection(*(set(rows.seed[rows.model == model]) for model in models))
    rows = rows[rows.seed.isin(shared)]
    return rows.groupby("model", sort=False).f1.agg(["mean", "std"]), sorted(shared)


def _comparison(global_rows: pd.DataFrame, subject: str, words: str, others: list[str],
                other_words: str) -> list[str]:
    """`subject`'s mean F1 against the mean of `others`, over the seeds they all have."""
    scores, seeds = _shared_seed_scores(global_rows, [subject, *others])
    if not seeds:
        return []
    other_mean = scores.loc[others, "mean"].mean()
    gap = scores.loc[subject, "mean"] - other_mean
    direction = "above" if gap >= 0 else "below"
    every_seed = set(global_rows.seed[global_rows.model.isin([subject, *others])])
    where = ("" if len(seeds) == len(every_seed) else
             f" on seed(s) {', '.join(map(str, seeds))}, which both have")
    return [f"{words} is {abs(gap):.4f} {direction} {other_words} ({other_mean:.4f}){where}; "
            + _spread_words(gap, scores["std"])]


def verdict(summary: pd.DataFrame) -> list[str]:
    """Plain words on the global test set: who wins, by how much, beyond the spread?"""
    global_rows = summary[summary.eval_set == "global"]
    scores = global_rows.groupby("model", sort=False).f1.agg(["mean", "std", "count"])
    spark = scores.drop(index=REFERENCE, errors="ignore")
    if spark.empty:
        return []
    top = spark["mean"].max()
    best = [model for model in spark.index if top - spark.loc[model, "mean"] < 5e-5]
    counts = sorted({int(spark.loc[model, "count"]) for model in best})
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    if len(best) == 1:
        lines = [f"On the global test set the best mean F1 is {best[0]}'s, {top:.4f} "
                 f"over {seeds} seed(s)."]
    else:
        lines = [f"On the global test set {', '.join(sorted(best))} tie at a mean F1 of "
                 f"{top:.4f} over {seeds} seed(s)."]
    if UNIFIED not in spark.index:
        return lines + _reference_words(summary, global_rows, best[0])
    per_node = [model for model in spark.index if is_per_node(model)]
    if per_node:
        lines += _comparison(global_rows, UNIFIED, "The unified model", per_node,
                             "the per-node models' mean")
    for model, words in ((FEDERATED, "The federated model (per-node coefficients averaged "
                                       "by row count; no row moved)"),
                         (VOTE, "The vote of the per-node models")):
        if model in spark.index:
            lines += _comparison(global_rows, model, words, [UNIFIED], "the unified model")
    return lines + _reference_words(summary, global_rows, UNIFIED)


def _reference_words(summary: pd.DataFrame, global_rows: pd.DataFrame, target: str) -> list[str]:
    """What Spark costs or gains against scikit-learn on one machine (on shared seeds)."""
    if REFERENCE not in set(global_rows.model):
        return []
    scores, _ = _shared_seed_scores(global_rows, [REFERENCE, target])
    fit = summary.drop_duplicates("run_id").groupby("model").fit_seconds.mean()
    return [f"scikit-learn on one machine (same splits, features and classifier family) "
            f"scores {scores.loc[REFERENCE, 'mean']:.4f} against {target}'s "
            f"{scores.loc[target, 'mean']:.4f}, and fits in {fit[REFERENCE]:.2f} s against "
            f"{fit[target]:.2f} s."]


def _descriptions_section(trains: list[dict]) -> list[str]:
    """The top splits of each tree model in words (first seed), if the records carry them."""
    lines, shown = [], set()
    for record in latest_per_model_and_seed(trains):
        if record.get("model_description") and record["model"] not in shown:
            shown.add(record["model"])
            lines += [f"{record['model']} (seed {record['seed']}):", "",
                      "```", *record["model_description"], "```", ""]
    return lines


def _images(figures, *names: str) -> list[str]:
    found = [f"![{name[:-4].replace('_', ' ')}]({name})" for name in names if name in figures]
    return [*found, ""] if found else []


def _introduction(trains: list[dict], notes) -> list[str]:
    classifier, feature_set = configuration(trains[0]) if trains else (DEFAULT_CLASSIFIER,
                                                                       DEFAULT_FEATURE_SET)
    seeds = sorted({r["seed"] for r in trains})
    return [
        f"{len(latest_per_model_and_seed(trains))} training run(s), seed(s) "
        f"{', '.join(map(str, seeds))}. Classifier: "
        f"{CLASSIFIER_WORDS.get(classifier, classifier)}; features: {feature_set} "
        f"({FEATURE_SET_WORDS.get(feature_set, 'as the records say')}).", "",
        "F1 is weighted F1. The global test set is the union of every node's test part "
        "(scores from the nodes' confusion matrices summed); a per-node model's own test "
        "part is the test part of its node's slice. Mean ± standard deviation over seeds.", "",
        *[line for note in notes for line in (note, "")],
        *_capacity(trains),
    ]


def _capacity(trains: list[dict]) -> list[str]:
    """The cluster the latest unified run had (the master's /json), as a sentence."""
    clusters = [r for r in trains if r.get("cluster")]
    if not clusters:
        return []
    latest = max(clusters, key=lambda r: r["finished_at"])
    cluster, spark = latest["cluster"], latest.get("versions", {}).get("spark", "?")
    return [f"Cluster capacity at the latest unified run: {cluster['workers']} alive worker(s), "
            f"{cluster['cores']} core(s), {cluster['memory_mb']} MB for executors; Spark {spark}.",
            ""]


def render_markdown(trains: list[dict], summary: pd.DataFrame, figures=(),
                    curve: pd.DataFrame | None = None, notes=(), cluster: str = "") -> str:
    """report.md; `figures` are the PNG names written, `curve` the reference's learning curve,
    `cluster` the cluster the runs came from, in words."""
    per_run = summary[["run_id", "model", "seed", "eval_set", "train_rows", "test_rows", "f1",
                       "accuracy", "fit_seconds", "total_seconds"]]
    models = set(summary.model)
    lines = ["# nodewise report", "", *([f"Cluster: {cluster}.", ""] if cluster else []),
             *_introduction(trains, notes),
             "## F1 per model", "", markdown_table(f1_table(summary)), "", *verdict(summary), "",
             *_images(figures, plots.F1_PNG),
             "## Training time per model", "", markdown_table(time_table(summary)), ""]
    if models & {FEDERATED, VOTE}:
        lines += ["The federated and vote models' times are the combining only; their "
                  "per-node models' training is in those models' rows.", ""]
    lines += _images(figures, plots.TIME_PNG)
    stats = curve_stats(pd.DataFrame(curve, columns=reference.CURVE_COLUMNS))
    if not stats.empty:
        lines += ["## Learning curve", "",
                  "F1 of the scikit-learn reference on the global test set against the rows it "
                  "trained on, drawn from the train side with fixed seeds; the Spark runs are "
                  "the points.", "", markdown_table(curve_table(stats)), "", curve_words(stats), "",
                  *_images(figures, plots.CURVE_PNG)]
    resources = resources_table(summary)
    if not resources.empty:
        lines += ["## Resources per run", "", markdown_table(resources), "",
                  *_images(figures, plots.RESOURCES_PNG)]
    work = work_per_node(trains)
    if not work.empty or plots.NODES_PNG in figures:
        lines += ["## Resources per node", ""]
    if not work.empty:
        lines += ["How the unified runs' work spread over the nodes, mean over the unified runs "
                  "(what the seed's Executors screenshot showed):", "",
                  markdown_table(work_table(work)), ""]
        gathered = gathered_words(trains)
        lines += [gathered, ""] if gathered else []
    elif plots.NODES_PNG in figures:
        lines += ["No unified run records its work per node; the figure shows what each "
                  "node's own model used.", ""]
    lines += _images(figures, plots.NODES_PNG)
    descriptions = _descriptions_section(trains)
    if descriptions:
        lines += ["## What the trees learned", "", *descriptions]
    lines += ["## Every run", "", markdown_table(per_run), ""]
    checks = _data_checks_section(trains)
    if checks:
        lines += ["## Data checks of the unified runs (Spark SQL, before training)", "", *checks]
    return "\n".join(lines) + "\n"
