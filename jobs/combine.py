"""Combine the per-node models of each seed, with no row moved: average and vote.

For every seed with a model from every node, the latest per-node models make:
- "average": their logistic regressions averaged once, weighted by training
  rows (nodewise/federation.py), saved like any trained model;
- "vote": their majority vote (ties to the larger summed probability), saved
  as an info file naming its members; evaluation loads the members.
`make evaluate` then scores both on every node's test part. Run on the master
(ansible/playbooks/evaluate.yml) after every model is there:

    spark-submit --master 'local[*]' --py-files nodewise.zip jobs/combine.py \
        --nodes master,worker1,worker2 --out-dir /opt/nodewise

A combination that already exists for the same per-node runs is not rebuilt (an
average built under its old name, "federated", counts: nodewise/combining.py).
"""

from __future__ import annotations

import argparse
import logging
import sys

from nodewise import combining, features, federation, model_io, names, runs
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


def _common(members: list[dict], key: str) -> str:
    values = {str(m.get(key)) for m in members}
    return values.pop() if len(values) == 1 else "mixed"


def _record(model: str, members: list[dict], spark, **fields) -> dict:
    seed = members[0]["seed"]
    weights = [int(m.get("train_rows") or 0) for m in members]
    return {
        "kind": "train", "run_id": runs.new_run_id(model, seed), "model": model, "seed": seed,
        "master": spark.sparkContext.master, "classifier": _common(members, "classifier"),
        "feature_set": _common(members, "feature_set"), "split": members[0].get("split"),
        "built_from": sorted(m["run_id"] for m in members),
        "train_nodes": [m["model"] for m in members],
        "rows_per_node": {m["model"]: w for m, w in zip(members, weights, strict=True)},
        "train_rows": sum(weights),
        "evaluation": None,  # scored only on the nodes' test parts, by make evaluate
        "resources": {}, "versions": runs.versions(spark), **fields,
    }


def build_average(spark, members: list[dict], out_dir: str) -> dict:
    """Average `members`, save the result as a model, and return its record."""
    pipelines = [model_io.load_model(spark, runs.model_path(out_dir, m["run_id"]))
                 for m in members]
    fit_watch = Stopwatch()
    model = federation.average(spark, pipelines, [int(m["train_rows"]) for m in members])
    record = _record(names.AVERAGE, members, spark, fit_seconds=fit_watch.seconds(), params={
        "averaging": "coefficients and intercepts weighted by training rows",
        **features.classifier_params(names.LOGISTIC_REGRESSION)})
    runs.save_model(model, out_dir, record)
    return record


def build_vote(spark, members: list[dict], out_dir: str) -> dict:
    """The vote's record: its info file names its members, which evaluation loads and polls."""
    record = _record(names.VOTE, members, spark, fit_seconds=0.0, params={
        "vote": "majority of the members' predictions; ties to the larger summed probability"})
    return record


BUILDERS = {names.AVERAGE: build_average, names.VOTE: build_vote}


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
    planned, skipped = combining.plan(read_infos(args.out_dir), args.nodes)
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
