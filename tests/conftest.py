"""Shared fixtures: one local[2] SparkSession for the whole test session."""

from __future__ import annotations

import os

import pytest
from pyspark.sql import SparkSession

# Bind Spark to loopback: the machine's own hostname may resolve elsewhere.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


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
