"""Train one model on every node's slice, across the standalone cluster.

Run on the master host in client mode (ansible/playbooks/train_unified.yml):

    spark-submit --master spark://<master address>:7077 --py-files nodewise.zip \
        jobs/train_unified.py --nodes master,worker1,worker2 --out-dir /opt/nodewise \
        --seed 1 --seed 2

Each seed is trained in turn in the one application: the executors start once.

No shared filesystem is needed: a barrier stage runs one task in every
executor slot, each task learns its node from NODEWISE_NODE (set by its
worker), and the first task on each node reads that node's slice from
NODEWISE_DATA_DIR (the tasks tell each other their nodes through the driver's
hub, nodewise/exchange.py, which answers in milliseconds where Spark's
allGather waits a second). The driver then checks that every node delivered.
"""

from __future__ import annotations

import logging
import os
import sys

from pyspark import BarrierTaskContext
from pyspark.sql import functions as F

from nodewise import (
    checks,
    exchange,
    executors,
    features,
    manifest,
    names,
    resources,
    runs,
    training,
)
from nodewise.jobcli import (
    SeedClock,
    Stopwatch,
    add_cluster_options,
    app_name,
    cluster_parser,
    each_seed,
    parse_cluster_args,
    phase,
    run_job,
    seed_group,
    tune_for_size,
)
from nodewise.slices import (
    CSV_BYTES_PER_ROW,
    IS_TEST,
    NODE,
    iter_slice,
    partitions_for,
    slice_path,
    spark_schema,
)

log = logging.getLogger("train_unified")

READ_GROUP = "read"  # job group (of a seed) of the jobs that read the slices and check them
PARTITION = "partition"


def parse_args(argv):
    args = cluster_parser("Train the unified model on all nodes' slices.")
    add_cluster_options(args, "to tell which node an executor runs on (repeat per node); "
                               "without it only the executors are counted")
    args.add_argument("--repartition-by", default=None,
                      help="repartition the assembled rows by this column before training")
    return parse_cluster_args(args, argv)


def read_own_slices(seed: int, hub: tuple[str, int], key: bytes):
    """The barrier task body: the first task on each node yields its slice."""

    def read(batches):
        for _ in batches:  # the input only sets the number of tasks
            pass
        context = BarrierTaskContext.get()
        node = os.environ.get("NODEWISE_NODE", "")
        with exchange.Member(hub, key, context.partitionId(), context.taskAttemptId()) as member:
            nodes_by_partition = member.all_gather(node)
        if not node or nodes_by_partition.index(node) != context.partitionId():
            return
        path = slice_path(os.environ.get("NODEWISE_DATA_DIR", ""), node)
        if os.path.exists(path):
            yield from iter_slice(path, node, seed)

    return read


def extract(spark, seed: int, slots: int, hub: tuple[str, int], key: bytes):
    """Every node's slice, read on that node, cached where it was read."""
    tasks = spark.range(0, slots, 1, slots)
    return tasks.mapInArrow(read_own_slices(seed, hub, key), spark_schema(),
                            barrier=True).cache()


def count_partitions(rows) -> list:
    """Rows per (partition, node, side): which partition holds which node's rows."""
    counts = rows.groupBy(F.spark_partition_id().alias(PARTITION), NODE, IS_TEST).count()
    return counts.collect()


def rows_per_node(counts, train_only: bool) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in counts:
        if not (train_only and row[IS_TEST]):
            totals[row[NODE]] = totals.get(row[NODE], 0) + row["count"]
    return totals


def training_rows_per_node(train_rows) -> dict[str, int]:
    return {row[NODE]: row["count"] for row in train_rows.groupBy(NODE).count().collect()}


def repartition(rows, partitions: int, *columns: str):
    """`rows` in `partitions` partitions, cached before the fit is timed.

    Always a shuffle, even at one partition per slot: stages reached from the
    barrier read through narrow dependencies run in barrier mode, so without
    it a cached partition lost with its executor is recomputed by one task
    waiting alone for the others at the exchange hub.
    Behind a shuffle, a lost executor reruns the whole barrier read instead,
    on every node. The fit then starts from cached rows, as a per-node job's
    does; with the shuffle inside the fit, adaptive execution also ran it as
    a job of its own.
    """
    moved = rows.repartition(partitions, *columns).cache()
    moved.count()
    rows.unpersist()
    return moved


def run(spark, args, watch: Stopwatch) -> None:
    expected = manifest.read(args.manifest)
    split = manifest.split_identity(args.manifest)
    slots = executors.wait_for_executors(spark, args.nodes, args.worker_uis, args.wait_seconds,
                                            args.master_ui)
    with executors.Watchdog(spark, args.nodes, args.worker_uis, args.lost_seconds) as watchdog:
        try:
            each_seed(spark, args.seeds, watch, lambda seed, clock: train(
                spark, args, seed, clock, expected, slots, split))
        except Exception as error:
            watchdog.raise_if_fired(error)
            raise


def train(spark, args, seed: int, clock: SeedClock, expected: dict[str, int], slots: int,
          split: dict) -> dict:
    # The hub serves every run of the barrier read in this seed: the first, and
    # a rerun after an executor is lost, until the seed's record is written.
    with exchange.driver_hub(spark, slots, log) as hub:
        return train_seed(spark, args, seed, clock, expected, slots, split, hub.address,
                          hub.key)


def train_seed(spark, args, seed: int, clock: SeedClock, expected: dict[str, int], slots: int,
               split: dict, hub: tuple[str, int], key: bytes) -> dict:
    rows = extract(spark, seed, slots, hub, key)
    # Sized from the manifest, before the first query: on small data the read's
    # count and the checks then run without adaptive execution's extra jobs.
    data_bytes = sum(expected.values()) * CSV_BYTES_PER_ROW
    small = tune_for_size(spark, data_bytes)
    phase(spark, seed, READ_GROUP, "read each node's slice on its node; Spark SQL data checks")
    counts = count_partitions(rows)
    manifest.require_rows(expected, rows_per_node(counts, train_only=False), args.nodes, "read")
    data_checks = checks.run_checks(rows)
    problems = checks.failures(data_checks, args.nodes)
    if problems:
        raise ValueError("data checks failed: " + "; ".join(problems))
    # The fit reads one partition per ~10 MB, at most one per slot: each LBFGS
    # iteration is a job with a task per partition, plus a merge stage when
    # there is more than one. 3000 rows: fit 4.6 s in 3 partitions, 2.5 s in 1.
    partitions = partitions_for(data_bytes, slots)
    if args.repartition_by:
        partitions = slots
        rows = repartition(rows, partitions, args.repartition_by)
    else:
        rows = repartition(rows, partitions)
    train_rows, test_rows = rows.filter(~rows[IS_TEST]), rows.filter(rows[IS_TEST])
    phase(spark, seed, "fit", f"fit the {args.classifier} pipeline")
    fit_watch = Stopwatch()
    model = features.fit_pipeline(train_rows, args.classifier, args.feature_set,
                                   small=small)
    fit_seconds = fit_watch.seconds()
    train_per_node = rows_per_node(counts, train_only=True)
    manifest.require_rows(train_per_node, training_rows_per_node(train_rows), args.nodes,
                          "after the fit", "it read")
    work = resources.work_per_node(
        spark, seed_group(seed, READ_GROUP), seed_group(seed),
        {row[PARTITION]: row[NODE] for row in counts}, rows_per_node(counts, train_only=False))
    phase(spark, seed, "score", "score the model on the global test set")
    record = training.finish_run(
        model, test_rows, "global", args.out_dir, clock,
        run_id=runs.new_run_id(names.UNIFIED, seed), model=names.UNIFIED, seed=seed,
        train_nodes=args.nodes, rows_per_node=train_per_node,
        train_rows=sum(train_per_node.values()), fit_seconds=fit_seconds,
        classifier=args.classifier, feature_set=args.feature_set,
        data_checks=data_checks, task_slots=slots, work_per_node=work, split=split,
        cluster=resources.cluster_capacity(args.master_ui),
        params={"repartition_by": args.repartition_by, "train_partitions": partitions})
    rows.unpersist()
    log.info("run %s: %d training rows from %s, fit %.2f s, global F1 %.4f", record["run_id"],
             record["train_rows"], train_per_node, fit_seconds, record["evaluation"]["f1"])
    return record


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_job(app_name("train-unified", args.seeds), log,
                   lambda spark, watch: run(spark, args, watch))


if __name__ == "__main__":
    sys.exit(main())
