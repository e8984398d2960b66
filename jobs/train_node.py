"""Train one node's model on that node's slice only, in local mode.

Run on the node itself (the playbook ansible/playbooks/train_node.yml does):

    spark-submit --master 'local[*]' --py-files nodewise.zip jobs/train_node.py \
        --node worker1 --data-dir /opt/nodewise/data --out-dir /opt/nodewise --seed 1 --seed 2

Each seed is trained in turn in the one application, and writes its own
runs/<run_id>.json and models/<run_id>.tar.gz under --out-dir.
"""

from __future__ import annotations

import logging
import os
import sys

from nodewise import features, manifest, runs, training
from nodewise.jobcli import (
    SeedClock,
    Stopwatch,
    app_name,
    each_seed,
    parse,
    parser,
    phase,
    run_job,
    tune_for_size,
)
from nodewise.slices import IS_TEST, for_seed, load_slice, slice_path

log = logging.getLogger("train_node")


def parse_args(argv):
    args = parser("Train a per-node model on this node's slice.")
    args.add_argument("--node", required=True, help="inventory name of this node")
    args.add_argument("--data-dir", required=True, help="directory holding jobs_<node>.csv")
    return parse(args, argv)


def extract(slice_rows, seed: int):
    """The node's rows split for `seed`, and how many are training rows and test rows
    (one job; the first seed's also reads the slice into the cache)."""
    rows = for_seed(slice_rows, seed)
    sides = {row[IS_TEST]: row["count"] for row in rows.groupBy(IS_TEST).count().collect()}
    return rows, sides.get(False, 0), sides.get(True, 0)



def train(train_rows, classifier: str, feature_set: str, small: bool):
    """Fit the shared pipeline; returns the model and the seconds `fit` took."""
    watch = Stopwatch()
    model = features.fit_pipeline(train_rows, classifier, feature_set, small=small)
    return model, watch.seconds()


def run(spark, args, watch: Stopwatch) -> None:
    expected = manifest.read(manifest.manifest_path(args.data_dir))
    split = manifest.split_identity(manifest.manifest_path(args.data_dir))
    slice_rows = load_slice(spark, slice_path(args.data_dir, args.node), args.node,
                            args.seeds).cache()
    try:
        each_seed(spark, args.seeds, watch, lambda seed, clock: train_seed(
            spark, args, slice_rows, seed, clock, expected, split))
    finally:
        slice_rows.unpersist()


def train_seed(spark, args, slice_rows, seed: int, clock: SeedClock,
               expected: dict[str, int], split: dict) -> dict:
    phase(spark, seed, "read", "read this node's slice")
    rows, n_train, n_test = extract(slice_rows, seed)
    manifest.require_rows(expected, {args.node: n_train + n_test}, [args.node], "read")
    train_rows, test_rows = rows.filter(~rows[IS_TEST]), rows.filter(rows[IS_TEST])
    if n_train == 0:
        raise ValueError(f"node {args.node}: no training rows in "
                         f"{slice_path(args.data_dir, args.node)}")
    small = tune_for_size(spark, os.path.getsize(slice_path(args.data_dir, args.node)))
    phase(spark, seed, "fit", f"fit the {args.classifier} pipeline")
    model, fit_seconds = train(train_rows, args.classifier, args.feature_set, small)
    manifest.require_rows({args.node: n_train}, {args.node: train_rows.count()}, [args.node],
                          "after the fit", "it read")
    phase(spark, seed, "score", "score the model on this node's test part")
    record = training.finish_run(
        model, test_rows, "local", args.out_dir, clock,
        run_id=runs.new_run_id(args.node, seed), model=args.node, seed=seed,
        train_nodes=[args.node], rows_per_node={args.node: n_train}, train_rows=n_train,
        fit_seconds=fit_seconds, classifier=args.classifier, feature_set=args.feature_set,
        split=split)
    log.info("run %s: %d training rows, fit %.2f s, local F1 %.4f",
             record["run_id"], n_train, fit_seconds, record["evaluation"]["f1"])
    return record


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_job(app_name(f"train-node-{args.node}", args.seeds), log,
                   lambda spark, watch: run(spark, args, watch),
                   failures=(ValueError, FileNotFoundError))


if __name__ == "__main__":
    sys.exit(main())
