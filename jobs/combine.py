"""Combine the per-node models of each seed, with no row moved: federated and vote.

For every seed with a model from every node, the latest per-node models make:
- "federated": their logistic regressions averaged, weighted by training
  rows (nodewise/federation.py), saved like any trained model;
- "vote": their majority vote (ties to the larger summed probability), saved
  as an info file naming its members; evaluation loads the members.
`make evaluate` then scores both on every node's test part. Run on the master
(ansible/playbooks/evaluate.yml) after every model is there:

    spark-submit --master 'local[*]' --py-files nodewise.zip jobs/combine.py \
        --nodes master,worker1,worker2 --out-dir /opt/nodewise

A combination that already exists for the same per-node runs is not rebuilt.
"""

from __future__ import annotations

import argparse
import logging
import sys

from nodewise import features, federation, model_io, names, runs
from nodewise.jobcli import Stopwatch, session, setup_logging

log = logging.getLogger("combine")


def parse_args(argv):
    args = argparse.ArgumentParser(description="Combine the per-node models of each seed.")
    args.add_argument("--nodes", required=True,
                      help="comma-separated inventory names of the nodes whose models to combine")
    args.add_argument("--out-dir", required=True, help="node root: models/ in and out, runs/ out")
    parsed = args.parse_args(argv)
    parsed.nodes = [n for n in parsed.nodes.split(",") if n]
    return parsed


def read_infos(out_dir: str) -> list[dict]:
    """The info of every committed model under `out_dir`/models whose archive (or
    members) is there and matches its checksum; says which models it leaves out."""
    infos, notes = runs.read_model_infos(out_dir)
    for note in notes:
        log.warning("%s", note)
    return list(infos.values())


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


def _built(infos: list[dict], model: str) -> set[tuple[str, ...]]:
    return {tuple(i.get("built_from") or ()) for i in infos if i["model"] == model}


def _federation_problem(members: list[dict]) -> str | None:
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
    built = {model: _built(infos, model) for model in (names.FEDERATED, names.VOTE)}
    planned = []
    for seed, members in complete.items():
        key = tuple(sorted(m["run_id"] for m in members))
        problem = _federation_problem(members)
        if problem:
            skipped.append(f"seed {seed}: no federated model: {problem}")
        elif key not in built[names.FEDERATED]:
            planned.append((names.FEDERATED, members))
        if key not in built[names.VOTE]:
            planned.append((names.VOTE, members))
    return planned, skipped


def _common(members: list[dict], key: str) -> str:
    values = {str(m.get(key)) for m in members}
    return values.pop() if len(values) == 1 else "mixed"


def _record(model: str, members: list[dict], spark, **fields) -> dict:
    seed = members[0]["seed"]
    weights = [int(m.get("train_rows") or 0) for m in members]
    return {
        "kind": "train", "run_id": runs.new_run_id(model, seed), "model": model, "seed": seed,
        "master": spark.sparkContext.master, "classifier": _common(members, "classifier"),
        "feature_set": _common(members, "feature_set"),
        "built_from": sorted(m["run_id"] for m in members),
        "train_nodes": [m["model"] for m in members],
        "rows_per_node": {m["model"]: w for m, w in zip(members, weights)},
        "train_rows": sum(weights),
        "evaluation": None,  # scored only on the nodes' test parts, by make evaluate
        "resources": {}, "versions": runs.versions(spark), **fields,
    }


def build_federated(spark, members: list[dict], out_dir: str) -> dict:
    """Average `members`, save the result as a model, and return its record."""
    pipelines = [model_io.load_model(spark, runs.model_path(out_dir, m["run_id"]))
                 for m in members]
    fit_watch = Stopwatch()
    model = federation.federate(spark, pipelines, [int(m["train_rows"]) for m in members])
    record = _record(names.FEDERATED, members, spark, fit_seconds=fit_watch.seconds(), params={
        "averaging": "coefficients and intercepts weighted by training rows",
        **features.classifier_params(names.LOGISTIC_REGRESSION)})
    runs.save_model(model, out_dir, record)
    return record


def build_vote(spark, members: list[dict], out_dir: str) -> dict:
    """The vote's record: its info file names its members, which evaluation loads and polls."""
    record = _record(names.VOTE, members, spark, fit_seconds=0.0, params={
        "vote": "majority of the members' predictions; ties to the larger summed probability"})
    return record


BUILDERS = {names.FEDERATED: build_federated, names.VOTE: build_vote}


def build(spark, model: str, members: list[dict], out_dir: str) -> dict:
    watch = Stopwatch()
    record = BUILDERS[model](spark, members, out_dir)
    record["finished_at"] = runs.utc_now()
    record["total_seconds"] = watch.seconds()
    runs.write_json(runs.record_path(out_dir, record["run_id"]), record)
    runs.commit_model(out_dir, record)
    log.info("run %s: combined %s", record["run_id"], ", ".join(record["built_from"]))
    return record


def main(argv=None) -> int:
    setup_logging()
    args = parse_args(argv)
    planned, skipped = plan(read_infos(args.out_dir), args.nodes)
    for reason in skipped:
        log.warning("%s", reason)
    if not planned:
        log.info("no new combined model to build")
        return 0
    spark = session("nodewise-combine")
    try:
        for model, members in planned:
            build(spark, model, members, args.out_dir)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
