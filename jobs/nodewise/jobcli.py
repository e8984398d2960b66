"""What every job shares: argument parsing helpers, logging, the session."""

from __future__ import annotations

import argparse
import logging
import time

from pyspark.sql import SparkSession


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def parser(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every job takes."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--out-dir", required=True,
                        help="node root: records go to runs/, models to models/")
    result.add_argument("--seed", type=int, default=1, help="seed of the train/test split")
    return result


def session(app_name: str) -> SparkSession:
    """The session; master and resources come from spark-submit and spark-defaults.conf."""
    return SparkSession.builder.appName(app_name).getOrCreate()


class Stopwatch:
    """Seconds since construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start
