"""Train one logistic regression by federated averaging across the cluster: rounds in
which every node improves the global model on its own rows, which never leave it.

Run on the master host in client mode (ansible/playbooks/train_federated.yml):

    spark-submit --master spark://<master address>:7077 --py-files nodewise.zip \
        jobs/train_fedavg.py --nodes master,worker1,worker2 --out-dir /opt/nodewise \
        --seed 1 --seed 2

Each seed is trained in turn in the one application: the executors start once.

One barrier stage holds every round. It runs a task in every executor slot; each
task learns its node from NODEWISE_NODE (set by its worker), and the first task
on each node reads that node's slice from NODEWISE_DATA_DIR, so the task that
touches node X's rows runs on X's executor by construction: the file is on X
only. The tasks exchange parameters, losses, row counts and feature sums, nothing
else, through an all-gather hub on the driver (nodewise/exchange.py: sealed with
a key of the stage's own; Spark's own allGather waits about a second per sync,
which was most of a round's time). The driver then checks, from Spark's
REST API and the workers' UIs, that each node's task ran in the executor of that
node's worker, and fails naming the node if not.

Why not MLlib's LogisticRegression with an initial model per round: each round
would be a Spark job per node and LBFGS iteration (20 rounds x 10 steps x 3
nodes = 600 jobs of 0.1 to 0.3 s each on a cluster), and its tasks would go
where the scheduler's locality wait lets them. The local steps here are the
same L-BFGS on the same objective, in numpy (nodewise/fedavg.py; its tests
compare the optimum with scikit-learn's).
"""

from __future__ import annotations

import json
import logging
import os
import sys

import numpy as np
import pyarrow.compute as pc
from pyspark import BarrierTaskContext

from nodewise import (
    exchange,
    executors,
    features,
    fedavg,
    federation,
    manifest,
    names,
    resources,
    runs,
    schema,
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
)
from nodewise.slices import IS_TEST, read_slice, slice_path

log = logging.getLogger("train_fedavg")

ROUNDS_GROUP = "rounds"  # job group (of a seed) of the barrier stage that runs the rounds


def parse_args(argv):
    args = cluster_parser("Train one model by federated averaging over every node's slice.")
    args.add_argument("--rounds", type=int, default=20, help="rounds of averaging")
    args.add_argument("--local-steps", type=int, default=10,
                      help="L-BFGS iterations per node and round, on the node's own rows")
    add_cluster_options(args, "to check which node each task ran on (repeat per node)")
    parsed = parse_cluster_args(args, argv)
    if parsed.classifier != names.LOGISTIC_REGRESSION:
        args.error(f"federated averaging trains a logistic regression, not {parsed.classifier}")
    if parsed.rounds < 1 or parsed.local_steps < 1:
        args.error("--rounds and --local-steps must be at least 1")
    return parsed


def _own_rows(node: str, seed: int, feature_set: str):
    """(rows in the slice, training features, training labels) of this task's node."""
    path = slice_path(os.environ.get("NODEWISE_DATA_DIR", ""), node)
    if not os.path.exists(path):
        width = len(fedavg.feature_names(feature_set))
        return 0, np.zeros((0, width)), np.zeros(0, dtype=int)
    table = read_slice(path, node, seed)
    train = table.filter(pc.invert(table.column(IS_TEST)))
    return (table.num_rows, *fedavg.encode(train, feature_set))


def rounds_on_every_node(seed: int, feature_set: str, rounds: int, local_steps: int,
                         hub: tuple[str, int], key: bytes):
    """The barrier task body: every round's local steps on the node's own rows, the
    tasks' messages exchanged through the driver's hub at `hub`."""

    def task(_):
        context = BarrierTaskContext.get()
        with exchange.Member(hub, key, context.partitionId(),
                             context.taskAttemptId()) as member:
            yield json.dumps(_rounds(member.all_gather, context.partitionId(), seed,
                                     feature_set, rounds, local_steps))

    return task


def _rounds(gather, partition: int, seed: int, feature_set: str, rounds: int,
            local_steps: int) -> dict:
    node = os.environ.get("NODEWISE_NODE", "")
    owners = gather(node)
    works = bool(node) and owners.index(node) == partition
    width = len(fedavg.feature_names(feature_set))
    rows, x, y = _own_rows(node, seed, feature_set) if works else \
        (0, np.zeros((0, width)), np.zeros(0, dtype=int))
    scale = fedavg.global_scale(gather(fedavg.moments(x)))
    local = fedavg.Node(x, y, scale, features.REG_PARAM)
    params = fedavg.start_params(len(schema.LABELS), width)
    losses = []
    for round_index in range(rounds + 1):
        # One sync per round, carrying the update and the loss at the round's
        # start, that is, after the previous round; a last one for the final loss.
        update = local.update(params, local_steps) if round_index < rounds else params
        replies = gather([local.rows, update.tolist(), local.loss(params)])
        if round_index:
            losses.append(sum(n * loss for n, _, loss in replies) / sum(n for n, _, _ in replies))
        if round_index < rounds:
            params = fedavg.average([(n, p) for n, p, _ in replies])
    first = partition == 0
    return {"partition": partition, "node": node if works else "",
            "rows": rows, "train_rows": local.rows,
            "params": params.tolist() if first else None,
            "scale": scale.tolist() if first else None,
            "losses": losses if first else None}


def check_locality(spark, seed: int, node_of_partition: dict[int, str],
                   worker_uis: dict[str, str]) -> dict:
    """Which executor, on which worker, ran each node's rounds of `seed` (from Spark's REST
    API); ValueError naming a node whose rows were handled anywhere but on its own worker."""
    api = resources.application_api(spark)
    stage = resources.first_stage_of_group(api, seed_group(seed, ROUNDS_GROUP))
    ran = {task["index"]: task["executorId"] for task in resources.stage_tasks(api, stage)
           if task.get("status") == "SUCCESS"}
    return executors.task_locality(node_of_partition, ran,
                                   resources.get_json(f"{api}/allexecutors"), worker_uis)


def run(spark, args, watch: Stopwatch) -> None:
    expected = manifest.read(args.manifest)
    split = manifest.split_identity(args.manifest)
    slots = executors.wait_for_executors(spark, args.nodes, args.worker_uis, args.wait_seconds,
                                         args.master_ui)
    with executors.Watchdog(spark, args.nodes, args.worker_uis, args.lost_seconds) as watchdog:
        try:
            each_seed(spark, args.seeds, watch, lambda seed, clock: train(
                spark, args, seed, clock, expected, split, slots))
        except Exception as error:
            watchdog.raise_if_fired(error)
            raise


def train(spark, args, seed: int, clock: SeedClock, expected, split, slots) -> dict:
    phase(spark, seed, ROUNDS_GROUP, f"{args.rounds} rounds of federated averaging, each "
                                     "node on its own rows")
    fit_watch = Stopwatch()
    with exchange.driver_hub(spark, slots, log) as hub:
        task = rounds_on_every_node(seed, args.feature_set, args.rounds, args.local_steps,
                                    hub.address, hub.key)
        replies = [json.loads(reply) for reply in spark.sparkContext.parallelize(
            range(slots), slots).barrier().mapPartitions(task).collect()]
    fit_seconds = fit_watch.seconds()
    phase(spark, seed, "record", "build, save and record the model")
    return record_run(spark, args, seed, clock, replies, fit_seconds, expected, split, slots)


def record_run(spark, args, seed, clock, replies, fit_seconds, expected, split, slots) -> dict:
    working = {reply["node"]: reply for reply in replies if reply["node"]}
    manifest.require_rows(expected, {node: r["rows"] for node, r in working.items()},
                          args.nodes, "read")
    locality = check_locality(spark, seed, {r["partition"]: node for node, r in working.items()},
                              args.worker_uis)
    result = next(reply for reply in replies if reply["params"] is not None)
    coefficients, intercepts = fedavg.to_spark_space(np.array(result["params"]),
                                                     np.array(result["scale"]))
    run_id = runs.new_run_id(names.FEDAVG, seed)
    model = federation.pipeline_of(spark, coefficients, intercepts, f"fedavg_{run_id}",
                                   args.feature_set)
    train_per_node = {node: working[node]["train_rows"] for node in args.nodes}
    record = {
        "kind": "train", "run_id": run_id, "model": names.FEDAVG, "seed": seed,
        "master": spark.sparkContext.master, "classifier": names.LOGISTIC_REGRESSION,
        "feature_set": args.feature_set, "split": split, "train_nodes": args.nodes,
        "rows_per_node": train_per_node, "train_rows": sum(train_per_node.values()),
        "fit_seconds": fit_seconds,
        "rounds": [{"round": i + 1, "loss": loss} for i, loss in enumerate(result["losses"])],
        "params": {"rounds": args.rounds, "local_steps": args.local_steps,
                   "local_optimiser": "L-BFGS in numpy on the node's own rows (nodewise/fedavg.py)",
                   "mu": fedavg.MU, "reg_param": features.REG_PARAM},
        "evaluation": None,  # scored on the nodes' test parts, by make evaluate
        "task_slots": slots, "locality": locality,
        "work_per_node": resources.work_per_node(
            spark, seed_group(seed, ROUNDS_GROUP), seed_group(seed),
            {r["partition"]: node for node, r in working.items()},
            {node: r["rows"] for node, r in working.items()}),
        "cluster": resources.cluster_capacity(args.master_ui),
        "resources": resources.application_resources(spark, seed_group(seed)),
        "versions": runs.versions(spark),
    }
    runs.save_model(model, args.out_dir, record)
    record["finished_at"] = runs.utc_now()
    record.update(clock.timing())
    runs.write_json(runs.record_path(args.out_dir, run_id), record)
    runs.commit_model(args.out_dir, record)
    log.info("run %s: %d rounds over %s, fit %.2f s, global training loss %.4f to %.4f", run_id,
             args.rounds, train_per_node, fit_seconds, result["losses"][0], result["losses"][-1])
    return record


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_job(app_name("train-fedavg", args.seeds), log,
                   lambda spark, watch: run(spark, args, watch))


if __name__ == "__main__":
    sys.exit(main())
