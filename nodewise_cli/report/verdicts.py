"""The report's sentences: who wins and by how much beyond the spread over seeds, what
owning the data separately costs, what the learning curve shows, where the unified runs'
work went."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nodewise.names import AVERAGE, FEDAVG, UNIFIED, VOTE
from nodewise_cli.report.records import REFERENCE, is_per_node, latest_per_model_and_seed
from nodewise_cli.report.tables import label_distances
from nodewise_cli.split import words_of as split_words_of

TIE = 5e-5  # mean F1s closer than this print alike (4 decimals): a tie

COMBINED_WORDS = (
    (FEDAVG, "The federated-averaging model (rounds of training on each node's own rows; "
             "no row moved)"),
    (AVERAGE, "The one-shot average of the per-node models (their coefficients averaged once, "
              "weighted by row count; no row moved)"),
    (VOTE, "The vote of the per-node models"),
)


def verdict(summary: pd.DataFrame) -> list[str]:
    """Plain words on the global test set: who wins, by how much, beyond the spread? And
    what owning the data separately costs."""
    global_rows = summary[summary.eval_set == "global"]
    scores = global_rows.groupby("model", sort=False).f1.agg(["mean", "std", "count"])
    spark = scores.drop(index=REFERENCE, errors="ignore")
    if spark.empty:
        return []
    lines = [_best_words(spark)]
    if UNIFIED not in spark.index:
        return lines + _reference_words(summary, global_rows, _best(spark)[0])
    per_node = [model for model in spark.index if is_per_node(model)]
    if per_node:
        lines += _comparison(global_rows, UNIFIED, "The unified model", per_node,
                             "the per-node models' mean")
        lines += _per_node_range(global_rows, per_node)
    for model, words in COMBINED_WORDS:
        if model in spark.index:
            lines += _comparison(global_rows, model, words, [UNIFIED], "the unified model")
    return (lines + _reference_words(summary, global_rows, UNIFIED)
            + _ownership_cost(global_rows, per_node))


def _best(spark: pd.DataFrame) -> list[str]:
    """The models whose mean F1 ties with the top one, in report order."""
    top = spark["mean"].max()
    return [model for model in spark.index if top - spark.loc[model, "mean"] < TIE]


def _best_words(spark: pd.DataFrame) -> str:
    best = _best(spark)
    top = spark["mean"].max()
    counts = sorted({int(spark.loc[model, "count"]) for model in best})
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    if len(best) == 1:
        return f"On the global test set the best mean F1 is {best[0]}'s, {top:.4f} over {seeds} seed(s)."
    return (f"On the global test set {', '.join(sorted(best))} tie at a mean F1 of "
            f"{top:.4f} over {seeds} seed(s).")


def _relative(gap: float) -> str:
    if abs(gap) < TIE:
        return "level with"
    return f"{abs(gap):.4f} {'above' if gap >= 0 else 'below'}"


def _where(global_rows: pd.DataFrame, models: list[str], seeds: list[int], who="both") -> str:
    """Which seeds a comparison is on, when not every seed of `models`."""
    every_seed = set(global_rows.seed[global_rows.model.isin(models)])
    return ("" if len(seeds) == len(every_seed) else
            f" on seed(s) {', '.join(map(str, seeds))}, which {who} have")


def _comparison(global_rows: pd.DataFrame, subject: str, words: str, others: list[str],
                other_words: str) -> list[str]:
    """`subject`'s mean F1 against the mean of `others`, over the seeds they all have."""
    scores, seeds = _shared_seed_scores(global_rows, [subject, *others])
    if not seeds:
        return []
    other_mean = scores.loc[others, "mean"].mean()
    gap = scores.loc[subject, "mean"] - other_mean
    return [f"{words} is {_relative(gap)} {other_words} ({other_mean:.4f})"
            f"{_where(global_rows, [subject, *others], seeds)}; " + _spread_words(gap, scores["std"])]


def _per_node_range(global_rows: pd.DataFrame, per_node: list[str]) -> list[str]:
    """The worst and the best per-node model against unified, on the seeds all of them have
    (those of the sentence on the per-node models' mean)."""
    scores, seeds = _shared_seed_scores(global_rows, [UNIFIED, *per_node])
    if len(per_node) < 2 or not seeds:
        return []
    rows = global_rows[global_rows.seed.isin(seeds)]
    means = scores.loc[per_node, "mean"]
    worst, best = means.idxmin(), means.idxmax()
    if means[best] - means[worst] < TIE:
        return _comparison(rows, worst, f"Every per-node model (mean F1 {means[worst]:.4f})",
                           [UNIFIED], "the unified model")
    return [line for rank, model in (("worst", worst), ("best", best))
            for line in _comparison(rows, model, f"The {rank} per-node model, {model} (mean F1 "
                                    f"{means[model]:.4f}),", [UNIFIED], "the unified model")]


def _shared_seed_scores(global_rows: pd.DataFrame, models: list[str]):
    """F1 mean and std per model over only the seeds every one of `models` has: a fair pairing."""
    rows = global_rows[global_rows.model.isin(models)]
    shared = set.intersection(*(set(rows.seed[rows.model == model]) for model in models))
    rows = rows[rows.seed.isin(shared)]
    return rows.groupby("model", sort=False).f1.agg(["mean", "std"]), sorted(shared)


def _spread(stds: pd.Series) -> float | None:
    """The largest standard deviation over seeds of the models compared; None with one seed."""
    known = stds.dropna()
    return None if known.empty else known.max()


def _spread_words(gap: float, stds: pd.Series) -> str:
    """Whether `gap` exceeds the largest standard deviation over seeds of the models compared."""
    spread = _spread(stds)
    if spread is None:
        return "with one seed there is no spread over seeds to judge the difference by."
    return (f"the largest standard deviation over seeds is {spread:.4f}, so the difference "
            f"{'exceeds' if abs(gap) > spread else 'does not exceed'} the spread over seeds.")


def _ownership_cost(global_rows: pd.DataFrame, per_node: list[str]) -> list[str]:
    """What training on one node's rows alone costs against unified, and how much of it
    federated averaging gets back, on the seeds unified, the nodes (and fedavg) all have."""
    models = [UNIFIED, *per_node, *([FEDAVG] if FEDAVG in set(global_rows.model) else [])]
    scores, seeds = _shared_seed_scores(global_rows, models)
    if not per_node or not seeds:
        return []
    unified, nodes = scores.loc[UNIFIED, "mean"], scores.loc[per_node, "mean"]
    low, high = unified - nodes.max(), unified - nodes.min()
    spread = _spread(scores.loc[[UNIFIED, *per_node], "std"])
    where = _where(global_rows, models, seeds, who="all")
    if high < TIE:
        return [f"Training on one node's rows alone costs no F1 against the unified model here"
                f"{where}: every per-node model scores at least as well."]
    if spread is not None and high <= spread:
        return [f"Training on one node's rows alone costs no F1 beyond the spread over seeds here"
                f"{where}: the worst per-node model is {high:.4f} below the unified model, and "
                f"the largest standard deviation over seeds is {spread:.4f}."]
    words = (f"Training on one node's rows alone costs {_cost_amount(low, high, len(per_node))} "
             f"of F1 against the unified model{where}")
    if FEDAVG not in models:
        return [words + "."]
    return [words + "; " + _fedavg_back(unified - scores.loc[FEDAVG, "mean"], low,
                                        _spread(scores.loc[[UNIFIED, FEDAVG], "std"]))]


def _cost_amount(low: float, high: float, nodes: int) -> str:
    """The per-node models' shortfall against unified: one amount, a range, or at most."""
    if nodes == 1 or high - low < TIE:
        return f"{high:.4f}"
    return f"between {low:.4f} and {high:.4f}" if low > 0 else f"up to {high:.4f}"


def _fedavg_back(gap: float, low: float, spread: float | None) -> str:
    """How much of the per-node models' shortfall federated averaging wins back: it ends
    `gap` below unified, the best per-node model `low` below."""
    said = "federated averaging, with no row moved either, "
    if gap < TIE:
        return said + "gets all of it back."
    if gap >= low:
        return said + f"ends {gap:.4f} below the unified model, no better than the best per-node model."
    if spread is None:
        return said + (f"gets back all but {gap:.4f} of it; with one seed there is no spread over "
                       f"seeds to judge that remainder by.")
    return said + (f"gets back all but {gap:.4f} of it, a remainder "
                   f"{'within' if gap <= spread else 'beyond'} the spread over seeds (the largest "
                   f"standard deviation of unified and fedavg over seeds is {spread:.4f}).")


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


def gathered_words(trains: list[dict]) -> str:
    """Whether unified runs trained in fewer partitions than task slots, and so where."""
    gathered = [r for r in latest_per_model_and_seed(trains)
                if r["model"] == UNIFIED and r.get("work_per_node")
                and (r.get("params") or {}).get("train_partitions", 0) < r.get("task_slots", 0)]
    if not gathered:
        return ""
    partitions = sorted({r["params"]["train_partitions"] for r in gathered})
    return (f"{len(gathered)} of these runs trained in {' or '.join(map(str, partitions))} "
            "partition(s), fewer than their task slots: each node read its own slice, then "
            "rows under about 10 MB per partition were gathered, so the fit's tasks ran on "
            "fewer nodes (each partition costs a task in every iteration).")


def ownership_words(split: dict, counts: pd.DataFrame) -> str:
    """The split in make's words, and its most skewed node."""
    words = f"Split: {split_words_of(split)}"
    draws = split.get("draws", 1)
    if draws > 1:
        words += f" (drawn {draws} times: the earlier draws left a node without rows)"
    distances = label_distances(counts)
    node = distances.idxmax()
    return (f"{words}. The node whose labels differ most from the whole data's is {node}: a "
            f"total variation distance of {distances[node]:.3f} (0: the same label shares, 1: "
            f"no label in common).")


def rounds_words(rounds: pd.DataFrame, trains: list[dict]) -> str:
    """How the federated-averaging loss fell over the rounds."""
    params = next((r.get("params") or {} for r in trains if r["model"] == FEDAVG), {})
    means = rounds.groupby("round").loss.mean()
    return (f"Each round, every node ran {params.get('local_steps', '?')} L-BFGS steps on its own "
            f"rows from the global model, which then became the row-weighted mean of the nodes' "
            f"(only parameters crossed the network). The global training loss fell from "
            f"{means.iloc[0]:.4f} after round 1 to {means.iloc[-1]:.4f} after round "
            f"{means.index[-1]} (mean over {rounds.run_id.nunique()} run(s)).")
