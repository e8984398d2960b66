"""Shared fixtures: one local[2] SparkSession for the whole test session, and the report
tests' folders of run records (tests/report_support.py)."""

from __future__ import annotations

import os
import sys

import pytest
from pyspark.sql import SparkSession

from report_support import evaluated_runs, every_kind, unified_work  # noqa: F401  (fixtures)

# Bind Spark to loopback: the machine's own hostname may resolve elsewhere.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# Python tasks run in the tests' Python, which has pyarrow; `python3` on PATH may not.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def spark():
    session = (SparkSession.builder.master("local[2]").appName("nodewise-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.ui.showConsoleProgress", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
