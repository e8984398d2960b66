"""What every job shares: argument parsing helpers, logging, the session."""

from __future__ import annotations

import argparse
import logging
import time

from pyspark.sql import SparkSession

from nodewise import names, schema
from nodewise.slices import BYTES_PER_PARTITION


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def parser(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every job takes."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--out-dir", required=True,
                        help="node root: records go to runs/, models to models/")
    result.add_argument("--seed", type=int, default=1, help="seed of the train/test split")
    result.add_argument("--classifier", choices=names.CLASSIFIERS,
                        default=names.LOGISTIC_REGRESSION, help="the model to train")
    result.add_argument("--feature-set", choices=list(schema.FEATURE_SETS),
                        default=schema.DEFAULT_FEATURE_SET,
                        help="'full' adds Automation_Probability_2030, the label's source")
    return result


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


def phase(spark: SparkSession, group: str, description: str) -> None:
    """Label the jobs that follow in the Spark UI (and find them in the REST API)."""
    spark.sparkContext.setJobGroup(group, description)
