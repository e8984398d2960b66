"""Checks of the assembled data with Spark SQL over a temporary view.

As step 4 of the original Docker and Jupyter project did, before training:
rows per node and per label, nulls, duplicates and values out of range. The results go into the run
record; `failures` says which of them stop the run.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from nodewise import schema
from nodewise.slices import NODE

VIEW = "jobs"


def _quoted(column: str) -> str:
    return f"`{column}`"


def _rows_per_node_and_label(spark) -> dict:
    result: dict = {}
    for row in spark.sql(f"SELECT {NODE}, {schema.LABEL} AS label, count(*) AS n "
                         f"FROM {VIEW} GROUP BY {NODE}, {schema.LABEL}").collect():
        result.setdefault(row[NODE], {})[row["label"]] = row["n"]
    return result


def _nulls(spark) -> dict:
    sums = ", ".join(f"sum(CASE WHEN {_quoted(c)} IS NULL THEN 1 ELSE 0 END) AS {_quoted(c)}"
                     for c in schema.COLUMNS)
    row = spark.sql(f"SELECT {sums} FROM {VIEW}").first()
    return {c: int(row[c] or 0) for c in schema.COLUMNS}


def _duplicates(spark) -> int:
    columns = ", ".join(_quoted(c) for c in schema.COLUMNS)
    return spark.sql(f"SELECT coalesce(sum(n - 1), 0) AS extra FROM "
                     f"(SELECT count(*) AS n FROM {VIEW} GROUP BY {columns})").first()["extra"]


def _out_of_range(spark) -> dict:
    conditions = {c: f"{_quoted(c)} < {low} OR {_quoted(c)} > {high}"
                  for c, (low, high) in schema.NUMERIC_RANGES.items()}
    labels = ", ".join(f"'{label}'" for label in schema.LABELS)
    conditions[schema.LABEL] = f"{schema.LABEL} NOT IN ({labels})"
    sums = ", ".join(f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {_quoted(c)}"
                     for c, cond in conditions.items())
    row = spark.sql(f"SELECT {sums} FROM {VIEW}").first()
    return {c: int(row[c] or 0) for c in conditions}


def run_checks(rows: DataFrame) -> dict:
    """All checks on `rows`, registered as the temporary view `jobs`."""
    rows.createOrReplaceTempView(VIEW)
    spark = rows.sparkSession
    return {
        "rows_per_node_and_label": _rows_per_node_and_label(spark),
        "nulls": _nulls(spark),
        "duplicate_rows": int(_duplicates(spark)),
        "out_of_range": _out_of_range(spark),
    }


def failures(checks: dict, expected_nodes: list[str]) -> list[str]:
    """Reasons to stop the run: missing nodes, nulls, values out of range."""
    reasons = []
    present = checks["rows_per_node_and_label"]
    missing = [node for node in expected_nodes if not present.get(node)]
    if missing:
        reasons.append(f"no rows from node(s) {', '.join(missing)}: is each one's Spark "
                       f"worker alive and its slice jobs_<node>.csv in place? (make up)")
    reasons += [f"{n} null value(s) in column {c}" for c, n in checks["nulls"].items() if n]
    reasons += [f"{n} value(s) out of range in column {c}"
                for c, n in checks["out_of_range"].items() if n]
    return reasons
