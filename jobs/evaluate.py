"""Score every model this node has on this node's test part, in local mode.

Models travel to the data, never the reverse: the evaluate playbook copies
every model file to every node, and each node writes one confusion matrix
per model. Summed over nodes, the matrices give exact global scores while
no row leaves its node. Run on the node (ansible/playbooks/evaluate.yml):

    spark-submit --master 'local[*]' --py-files nodewise.zip jobs/evaluate.py \
        --node worker1 --data-dir /opt/nodewise/data --out-dir /opt/nodewise

Reads models/<run_id>.json and .tar.gz; writes evals/eval-<run_id>-on-<node>.json.
A model already scored on this node is skipped, and so is a model trained on other
slices than the node holds now (after another make data): its test rows are not
these, and its score would be filed under the split it trained on.
"""

from __future__ import annotations

import logging
import operator
import os
import sys
from functools import reduce

from nodewise import combining, federation, manifest, metrics, model_io, names, runs, schema, scoring
from nodewise.jobcli import Stopwatch, session, setup_logging
from nodewise.slices import IS_TEST, for_seed, load_slice, slice_path, test_flag

log = logging.getLogger("evaluate")


def parse_args(argv):
    import argparse

    args = argparse.ArgumentParser(description="Score every model on this node's test part.")
    args.add_argument("--node", required=True, help="inventory name of this node")
    args.add_argument("--data-dir", required=True, help="directory holding jobs_<node>.csv")
    args.add_argument("--out-dir", required=True, help="node root: models/ in, evals/ out")
    return args.parse_args(argv)


def pending_models(out_dir: str, node: str, data_dir: str) -> list[dict]:
    """Info of every committed model that can be loaded here, was trained on the slices
    this node holds and has no evaluation on this node yet; says which it leaves out."""
    infos, notes = runs.read_model_infos(out_dir)
    for note in notes:
        log.warning("%s", note)
    pending = [info for run_id, info in infos.items()
               if not os.path.exists(runs.evaluation_path(out_dir, run_id, node))]
    held = _held_slices(data_dir)
    for info in [i for i in pending if held and combining.split_key(i) not in ("", held)]:
        log.warning("%s: not scored on %s: trained on other slices than the node holds now "
                    "(another make data since); make data with its split and make push-data "
                    "score it", info["run_id"], node)
        pending.remove(info)
    return pending


def _held_slices(data_dir: str) -> str:
    """The sha256 of the slices' manifest this node holds ("" without one)."""
    path = manifest.manifest_path(data_dir)
    return manifest.sha256_of(path) if os.path.exists(path) else ""


def load(spark, out_dir: str, info: dict):
    """The model of `info`: its archive, or for a vote its members' archives."""
    if info["model"] == names.VOTE:
        return federation.VoteModel([model_io.load_model(spark, runs.model_path(out_dir, m))
                                     for m in info["built_from"]])
    return model_io.load_model(spark, runs.model_path(out_dir, info["run_id"]))


def evaluate_model(spark, info: dict, test_part: scoring.TestPart, args) -> dict:
    watch = Stopwatch()
    model = load(spark, args.out_dir, info)
    block = scoring.evaluation(model, test_part.rows, "node", test_part.unseen_categories)
    record = {"kind": "evaluation", **info, "node": args.node,
              "labels": list(schema.LABELS), "test_rows": block.pop("rows"),
              "score_seconds": watch.seconds(), "finished_at": runs.utc_now(), **block}
    runs.write_json(runs.evaluation_path(args.out_dir, info["run_id"], args.node), record)
    log.info("%s on %s: %d test rows, F1 %.4f", info["run_id"], args.node,
             record["test_rows"], metrics.weighted_f1(record["confusion_matrix"]))
    return record


def read_test_parts(spark, args, seeds: list[int]) -> dict[int, scoring.TestPart]:
    """Each seed's test part of this node's slice, from one read that caches the rows
    in any of them."""
    rows = load_slice(spark, slice_path(args.data_dir, args.node), args.node, seeds)
    in_a_test_part = rows.filter(reduce(operator.or_, [rows[test_flag(s)] for s in seeds])).cache()
    parts = {}
    for seed in seeds:
        seed_rows = for_seed(in_a_test_part, seed)
        parts[seed] = scoring.TestPart(seed_rows.filter(seed_rows[IS_TEST]))
    return parts


def run(spark, args) -> list[dict]:
    pending = pending_models(args.out_dir, args.node, args.data_dir)
    test_parts = read_test_parts(spark, args, sorted({i["seed"] for i in pending})) if pending else {}
    records = [evaluate_model(spark, info, test_parts[info["seed"]], args) for info in pending]
    log.info("scored %d model(s) on %s", len(records), args.node)
    return records


def main(argv=None) -> int:
    setup_logging()
    args = parse_args(argv)
    spark = session(f"nodewise-evaluate-{args.node}")
    try:
        run(spark, args)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
