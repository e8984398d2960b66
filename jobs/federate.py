"""Build the federated model of each seed from the per-node models: no row moves.

For every seed with a logistic-regression model from every node, the latest
per-node models are averaged, weighted by their training rows
(nodewise/federation.py), and saved like any trained model, as model
"federated", so that `make evaluate` scores it on every node's test part.
Run on the master (ansible/playbooks/evaluate.yml) after the models are there:

    spark-submit --master 'local[*]' --py-files nodewise.zip jobs/federate.py \
        --nodes master,worker1,worker2 --out-dir /opt/nodewise

A seed whose federated model already exists for the same per-node runs is skipped.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import sys

from nodewise import features, federation, model_io, runs
from nodewise.jobcli import Stopwatch, session, setup_logging

log = logging.getLogger("federate")


def parse_args(argv):
    args = argparse.ArgumentParser(description="Average the per-node models into one.")
    args.add_argument("--nodes", required=True,
                      help="comma-separated inventory names of the nodes whose models to average")
    args.add_argument("--out-dir", required=True, help="node root: models/ in and out, runs/ out")
    parsed = args.parse_args(argv)
    parsed.nodes = [n for n in parsed.nodes.split(",") if n]
    return parsed


def read_infos(out_dir: str) -> list[dict]:
    """The info of every model archive under `out_dir`/models."""
    infos = []
    for path in sorted(glob.glob(os.path.join(out_dir, "models", "*.json"))):
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
        if os.path.exists(runs.model_path(out_dir, info["run_id"])):
            infos.append(info)
    return infos


def plan(infos: list[dict], nodes: list[str]) -> tuple[dict[int, list[dict]], list[str]]:
    """Per seed, the latest per-node model of every node; and why other seeds are skipped."""
    latest: dict[int, dict[str, dict]] = {}
    for info in sorted(infos, key=lambda i: i["run_id"]):  # run ids sort by time per model
        if info["model"] in nodes:
            latest.setdefault(info["seed"], {})[info["model"]] = info
    done = {tuple(i.get("built_from") or ()) for i in infos if i["model"] == runs.FEDERATED}
    planned, skipped = {}, []
    for seed, per_node in sorted(latest.items()):
        members = [per_node[n] for n in nodes if n in per_node]
        missing = [n for n in nodes if n not in per_node]
        classifiers = {m.get("classifier") for m in members}
        feature_sets = {m.get("feature_set") for m in members}
        if missing:
            skipped.append(f"seed {seed}: no per-node model from {', '.join(missing)}")
        elif classifiers != {features.LOGISTIC_REGRESSION} or len(feature_sets) != 1:
            skipped.append(f"seed {seed}: the latest per-node models are not logistic "
                           f"regressions on one feature set ({sorted(map(str, classifiers))}, "
                           f"{sorted(map(str, feature_sets))})")
        elif any(m.get("train_rows") is None for m in members):
            skipped.append(f"seed {seed}: a per-node model's info lacks its training rows")
        elif tuple(sorted(m["run_id"] for m in members)) not in done:
            planned[seed] = members
    return planned, skipped


def build(spark, members: list[dict], out_dir: str) -> dict:
    """Average `members`, save the result as a model, and write its run record."""
    watch = Stopwatch()
    pipelines = [model_io.load_model(spark, runs.model_path(out_dir, m["run_id"])) for m in members]
    weights = [int(m["train_rows"]) for m in members]
    fit_watch = Stopwatch()
    model = federation.federate(spark, pipelines, weights)
    seed = members[0]["seed"]
    record = {
        "kind": "train", "run_id": runs.new_run_id(runs.FEDERATED, seed),
        "model": runs.FEDERATED, "seed": seed, "master": spark.sparkContext.master,
        "classifier": features.LOGISTIC_REGRESSION, "feature_set": members[0].get("feature_set"),
        "params": {"averaging": "coefficients and intercepts weighted by training rows",
                   **features.classifier_params(features.LOGISTIC_REGRESSION)},
        "built_from": sorted(m["run_id"] for m in members),
        "train_nodes": [m["model"] for m in members],
        "rows_per_node": {m["model"]: int(m["train_rows"]) for m in members},
        "train_rows": sum(weights), "fit_seconds": fit_watch.seconds(),
        "evaluation": None,  # scored only on the nodes' test parts, by make evaluate
        "resources": {}, "versions": runs.versions(spark),
    }
    runs.save_model_with_info(model, out_dir, record)
    record["finished_at"] = runs.utc_now()
    record["total_seconds"] = watch.seconds()
    runs.write_json(runs.record_path(out_dir, record["run_id"]), record)
    log.info("run %s: averaged %s", record["run_id"], ", ".join(record["built_from"]))
    return record


def main(argv=None) -> int:
    setup_logging()
    args = parse_args(argv)
    planned, skipped = plan(read_infos(args.out_dir), args.nodes)
    for reason in skipped:
        log.warning("no federated model for %s", reason)
    if not planned:
        log.info("no new federated model to build")
        return 0
    spark = session("nodewise-federate")
    try:
        for members in planned.values():
            build(spark, members, args.out_dir)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
