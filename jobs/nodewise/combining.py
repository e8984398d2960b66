"""Which per-node models to combine, and why others are left out (no pyspark).

The combine job (jobs/combine.py) builds what `plan` returns: for each seed
with a model from every node, the latest per-node models make an average
(logistic regressions on one feature set only) and a vote, unless one
already exists for the same per-node runs.
"""

from __future__ import annotations

from nodewise import names


def latest_members(infos: list[dict], nodes: list[str]) -> tuple[dict[int, list[dict]], list[str]]:
    """Per seed, the latest per-node model of every node; and the seeds missing a node."""
    latest: dict[int, dict[str, dict]] = {}
    for info in sorted(infos, key=lambda i: i["run_id"]):  # run ids sort by time per model
        if info["model"] in nodes:
            latest.setdefault(info["seed"], {})[info["model"]] = info
    complete, skipped = {}, []
    for seed, per_node in sorted(latest.items()):
        missing = [n for n in nodes if n not in per_node]
        if missing:
            skipped.append(f"seed {seed}: no per-node model from {', '.join(missing)}")
        else:
            complete[seed] = [per_node[n] for n in nodes]
    return complete, skipped


def split_key(info: dict) -> str:
    """Which slices a run trained on: its manifest's sha256 ("" for runs from before
    records carried it, all of them iid)."""
    return (info.get("split") or {}).get("manifest_sha256", "")


def _built(infos: list[dict], model: str) -> set[tuple[str, ...]]:
    # An average built before the rename, named "federated", counts as built: the
    # averaging is the same deterministic step on the same member runs, it is already
    # scored on every node, and a rebuild would only add an identical twin.
    return {tuple(i.get("built_from") or ()) for i in infos
            if names.current_name(i["model"]) == model}


def _average_problem(members: list[dict]) -> str | None:
    classifiers = {m.get("classifier") for m in members}
    feature_sets = {m.get("feature_set") for m in members}
    if classifiers != {names.LOGISTIC_REGRESSION} or len(feature_sets) != 1:
        return (f"the latest per-node models are not logistic regressions on one feature set "
                f"({sorted(map(str, classifiers))}, {sorted(map(str, feature_sets))})")
    if any(m.get("train_rows") is None for m in members):
        return "a per-node model's info lacks its training rows"
    return None


def plan(infos: list[dict], nodes: list[str]) -> tuple[list[tuple[str, list[dict]]], list[str]]:
    """The (model, members) combinations to build, and why others are skipped."""
    complete, skipped = latest_members(infos, nodes)
    built = {model: _built(infos, model) for model in (names.AVERAGE, names.VOTE)}
    planned = []
    for seed, members in complete.items():
        key = tuple(sorted(m["run_id"] for m in members))
        splits = {split_key(m) for m in members}
        if len(splits) > 1:
            skipped.append(f"seed {seed}: the latest per-node models were trained on different "
                           f"splits of the data (make data since): run make train-nodes again")
            continue
        problem = _average_problem(members)
        if problem:
            skipped.append(f"seed {seed}: no average: {problem}")
        elif key not in built[names.AVERAGE]:
            planned.append((names.AVERAGE, members))
        if key not in built[names.VOTE]:
            planned.append((names.VOTE, members))
    return planned, skipped
