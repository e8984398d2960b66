"""The sweep (`make sweep`): F1 on the global test set against the split's alpha, per model.

`make sweep SPLIT=label ALPHAS="100 1 0.3 0.1"` trains every model on each alpha's
split in turn. Every record names its split, so the runs of all the alphas sit side by
side in reports/runs; here they become one table with a column per alpha, a figure of
F1 against alpha, and a sentence on how each kind of model fares as the slices grow
unlike, the comparison the federated-learning literature draws (NIID-Bench).
"""

from __future__ import annotations

import collections

import pandas as pd

from nodewise import combining
from nodewise.names import AVERAGE, FEDAVG, UNIFIED, VOTE
from nodewise_cli.report import records
from nodewise_cli.report.tables import mean_std

# The splits that have an alpha to sweep (nodewise_cli/split.py).
ALPHA_KINDS = ("label", "quantity")
COLUMNS = ["alpha", "model", "seed", "f1"]


def _family(record: dict) -> tuple:
    """What two runs must share to belong to one sweep: everything but the alpha, that is the
    classifier, features, split kind and seed, the nodes and the dataset's rows."""
    split = record.get("split") or {}
    owned = split.get("labels_per_node") or {}
    return (*records.configuration(record), split.get("kind"), split.get("seed"),
            tuple(sorted(owned)), sum(sum(labels.values()) for labels in owned.values()))


def sweep_runs(trains: list[dict], chosen: dict) -> tuple[dict[float, list[dict]], list[str]]:
    """Per alpha, the training records of `chosen`'s sweep (same classifier, features,
    split kind and split seed), and notes on the runs left out. For an alpha whose
    runs trained on several manifests (say, other ROWS), the latest manifest's count.
    Empty when `chosen`'s split has no alpha or the records hold fewer than two alphas."""
    if (chosen.get("split") or {}).get("kind") not in ALPHA_KINDS:
        return {}, []
    by_alpha: dict = collections.defaultdict(lambda: collections.defaultdict(list))
    for record in trains:
        if _family(record) == _family(chosen):
            by_alpha[float(record["split"]["alpha"])][combining.split_key(record)].append(record)
    if len(by_alpha) < 2:
        return {}, []
    chosen_runs, notes = {}, []
    for alpha, manifests in sorted(by_alpha.items(), reverse=True):
        latest = max(manifests.values(), key=lambda runs: max(r["finished_at"] for r in runs))
        chosen_runs[alpha] = latest
        older = sum(len(runs) for runs in manifests.values() if runs is not latest)
        if older:
            notes.append(f"Sweep: left out {older} run(s) at alpha {alpha:g} on older slices of "
                         f"the same split (another make data); the latest slices' runs count.")
    return chosen_runs, notes + _fedavg_settings_notes(chosen_runs)


def _fedavg_settings_notes(runs_by_alpha: dict[float, list[dict]]) -> list[str]:
    """A note when fedavg ran with other ROUNDS or LOCAL_STEPS at some alphas than at others."""
    settings = {(p.get("rounds"), p.get("local_steps"))
                for runs in runs_by_alpha.values() for r in runs if r["model"] == FEDAVG
                for p in [r.get("params") or {}]}
    if len(settings) < 2:
        return []
    return ["Sweep: fedavg ran with different settings at different alphas (ROUNDS, LOCAL_STEPS: "
            f"{', '.join(f'{r}, {s}' for r, s in sorted(settings, key=str))})."]


def sweep_frame(runs_by_alpha: dict[float, list[dict]], evaluations: list[dict]) -> pd.DataFrame:
    """One row per alpha, model and seed: the weighted F1 on the global test set."""
    rows = [{"alpha": alpha, "model": row["model"], "seed": row["seed"], "f1": row["f1"]}
            for alpha, trains in runs_by_alpha.items()
            for row in records.summary_rows(trains, evaluations) if row["eval_set"] == "global"]
    return pd.DataFrame(rows, columns=COLUMNS)


def alpha_header(alpha: float) -> str:
    return f"alpha {alpha:g}"


def sweep_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per model (report order), mean ± std F1 over seeds at each alpha, the largest (the
    closest to IID) first, and the seeds behind each model's cells."""
    alphas = sorted(set(frame.alpha), reverse=True)
    models = sorted(set(frame.model), key=records.model_order)
    cells = frame.groupby(["model", "alpha"]).f1
    return pd.DataFrame([{
        "model": model, "seeds": _seed_counts(frame[frame.model == model]),
        **{alpha_header(alpha): (mean_std(cells.get_group((model, alpha)), 4)
                                 if (model, alpha) in cells.groups else "–") for alpha in alphas},
    } for model in models])


def _seed_counts(rows: pd.DataFrame) -> str:
    counts = sorted(set(rows.groupby("alpha").seed.nunique()))
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"


def sweep_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean F1 over seeds: a row per alpha (largest first), a column per model (report order)."""
    means = frame.groupby(["alpha", "model"]).f1.mean().unstack("model")
    return means.sort_index(ascending=False)[sorted(means.columns, key=records.model_order)]


def sweep_words(frame: pd.DataFrame) -> str:
    """From the largest alpha to the smallest: the unified model's, fedavg's, the average's
    and the per-node models' (worst and best) mean F1, in words."""
    means = sweep_means(frame)
    high, low = means.index.max(), means.index.min()
    at_both_ends = means.loc[[high, low]].notna().all()
    parts = [f"{words} {means.loc[high, model]:.4f} to {means.loc[low, model]:.4f}"
             for model, words in ((UNIFIED, "the unified model's"), (FEDAVG, "fedavg's"),
                                  (AVERAGE, "the one-shot average's"), (VOTE, "the vote's"))
             if model in means and at_both_ends[model]]
    nodes = [model for model in means.columns if records.is_per_node(model) and at_both_ends[model]]
    if len(nodes) == 1:
        parts.append(f"the per-node model {nodes[0]}'s {means.loc[high, nodes[0]]:.4f} to "
                     f"{means.loc[low, nodes[0]]:.4f}")
    elif nodes:
        worst, best = means[nodes].min(axis=1), means[nodes].max(axis=1)
        parts.append(f"the worst per-node model's {worst[high]:.4f} to {worst[low]:.4f} "
                     f"(the best's {best[high]:.4f} to {best[low]:.4f})")
    if not parts:
        return ""
    return (f"From alpha {high:g} (nearly alike slices) to alpha {low:g} (the most unlike), the "
            f"mean F1 on the global test set goes: {'; '.join(parts)}.")
