"""What every job shares: argument parsing helpers, logging, the session, the run."""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable

from pyspark.sql import SparkSession

from nodewise import manifest, names, schema
from nodewise.slices import BYTES_PER_PARTITION


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def parser(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every job takes."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--out-dir", required=True,
                        help="node root: records go to runs/, models to models/")
    result.add_argument("--seed", type=int, action="append", dest="seeds", metavar="SEED",
                        help="seed of the train/test split; repeat it to train several seeds "
                             "one after another in one application [default: 1]")
    result.add_argument("--classifier", choices=names.CLASSIFIERS,
                        default=names.LOGISTIC_REGRESSION, help="the model to train")
    result.add_argument("--feature-set", choices=list(schema.FEATURE_SETS),
                        default=schema.DEFAULT_FEATURE_SET,
                        help="'full' adds Automation_Probability_2030, the label's source")
    return result


def parse(args: argparse.ArgumentParser, argv) -> argparse.Namespace:
    """Parse a parser()'s arguments: `seeds` in the order given, each once, [1] by default."""
    parsed = args.parse_args(argv)
    parsed.seeds = list(dict.fromkeys(parsed.seeds or [1]))
    return parsed


def cluster_parser(description: str) -> argparse.ArgumentParser:
    """parser() plus --nodes: a job that trains across the cluster. Its own options
    come next, then add_cluster_options(); parse with parse_cluster_args()."""
    result = parser(description)
    result.add_argument("--nodes", required=True,
                        help="comma-separated inventory names of the nodes that hold slices")
    return result


def add_cluster_options(args: argparse.ArgumentParser, worker_ui_use: str) -> None:
    """The options of a job that needs an executor on every node: how long to wait for
    them and to miss one, the worker and master UIs, the slices' manifest.
    `worker_ui_use` ends --worker-ui's help: what the job does with the addresses."""
    args.add_argument("--wait-seconds", type=float, default=120.0,
                      help="how long to wait for an executor on every node")
    args.add_argument("--lost-seconds", type=float, default=60.0,
                      help="end the run when a node has had no executor for this long")
    args.add_argument("--worker-ui", action="append", default=[], metavar="NODE=HOST:PORT",
                      help=f"a node's worker UI address, {worker_ui_use}")
    args.add_argument("--master-ui", default=None,
                      help="the master's web UI (http://host:port), to record the cluster's capacity")
    args.add_argument("--manifest", default=None,
                      help="the slices' manifest [default: <out-dir>/data/manifest.json]")


def parse_cluster_args(args: argparse.ArgumentParser, argv) -> argparse.Namespace:
    """Parse a cluster_parser(): --nodes as a list, --worker-ui as `worker_uis`
    ({node: host:port}), --manifest defaulted to the one under --out-dir."""
    parsed = parse(args, argv)
    parsed.nodes = [n for n in parsed.nodes.split(",") if n]
    parsed.worker_uis = dict(entry.split("=", 1) for entry in parsed.worker_ui)
    parsed.manifest = parsed.manifest or manifest.manifest_path(os.path.join(parsed.out_dir, "data"))
    return parsed


# For a fit on small data (one partition's worth, under ~10 MB): adaptive
# execution re-plans each query and runs an extra job per cached input, which
# costs more than it saves there; without it, a shuffle needs a fixed count.
SMALL_DATA_CONF = {
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
}


def tune_for_size(spark: SparkSession, data_bytes: int) -> bool:
    """Set SMALL_DATA_CONF for what follows (fit and scoring) when the data is
    small; returns whether it is."""
    small = data_bytes <= BYTES_PER_PARTITION
    if small:
        for key, value in SMALL_DATA_CONF.items():
            spark.conf.set(key, value)
    return small


def session(app_name: str) -> SparkSession:
    """The session; master and resources come from spark-submit and spark-defaults.conf."""
    return SparkSession.builder.appName(app_name).getOrCreate()


class Stopwatch:
    """Seconds since construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start


def seed_group(seed: int, group: str = "") -> str:
    """The job group of one seed's `group` of jobs; with no `group`, the prefix every job
    group of that seed starts with (resources.py sums a seed's jobs by it)."""
    return f"nodewise-s{seed}:{group}"


def phase(spark: SparkSession, seed: int, group: str, description: str) -> None:
    """Label the jobs that follow, of `seed`, in the Spark UI (and find them in the REST API)."""
    spark.sparkContext.setJobGroup(seed_group(seed, group), f"seed {seed}: {description}")


class SharedStart:
    """The start-up of one application that trains several seeds in turn (session,
    executors, Python workers): paid once, and shared out evenly among the seeds, so
    that each seed's end-to-end seconds are its own time plus its share."""

    def __init__(self, spark: SparkSession, seeds: list[int], watch: Stopwatch) -> None:
        self.app_id = spark.sparkContext.applicationId
        self.seeds = list(seeds)
        self.seconds = watch.seconds()

    def share(self) -> float:
        return self.seconds / len(self.seeds)

    def describe(self) -> dict:
        """What a seed's record says about the application it shared."""
        return {"app_id": self.app_id, "seeds": self.seeds, "startup_seconds": self.seconds,
                "startup_share_seconds": self.share()}


class SeedClock:
    """One seed's time: from its start, plus its share of the application's start-up."""

    def __init__(self, start: SharedStart) -> None:
        self.start = start
        self.own = Stopwatch()

    def timing(self) -> dict:
        """The record's timing fields, taken when the record is written."""
        own = self.own.seconds()
        return {"total_seconds": self.start.share() + own, "seed_seconds": own,
                "application": self.start.describe()}


def each_seed(spark: SparkSession, seeds: list[int], watch: Stopwatch,
              train_seed: Callable[[int, SeedClock], object]) -> None:
    """`train_seed(seed, clock)` for each seed in turn, in this application. Everything
    before this call is the start-up the seeds share (`watch` started before the session).
    A seed that fails stops the rest; the records of the seeds before it stay."""
    start = SharedStart(spark, seeds, watch)
    for seed in seeds:
        train_seed(seed, SeedClock(start))


def app_name(job: str, seeds: list[int]) -> str:
    """`nodewise-<job>-s1-2-3`: the job and its seeds, as the Spark UI lists it."""
    return f"nodewise-{job}-s{'-'.join(str(seed) for seed in seeds)}"


def run_job(app_name: str, log: logging.Logger, run: Callable[[SparkSession, Stopwatch], object],
            failures: tuple[type[Exception], ...] = (ValueError,)) -> int:
    """A training job's main() after parsing: logging, the session named `app_name`,
    `run(spark, watch)` (`watch` started before the session), the session stopped.
    Returns the exit code: 0, or 2 when `run` raises one of `failures`, the job's known
    ones (missing or changed data, a lost node), which is logged on `log` as an error.
    Anything else propagates, with its traceback."""
    setup_logging()
    watch = Stopwatch()
    spark = session(app_name)
    try:
        run(spark, watch)
    except failures as error:
        log.error("%s", error)
        return 2
    finally:
        spark.stop()
    return 0
