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


def _out_of_range_conditions() -> dict[str, str]:
    conditions = {c: f"{_quoted(c)} < {low} OR {_quoted(c)} > {high}"
                  for c, (low, high) in schema.NUMERIC_RANGES.items()}
    labels = ", ".join(f"'{label}'" for label in schema.LABELS)
    conditions[schema.LABEL] = f"{schema.LABEL} NOT IN ({labels})"
    return conditions


def _per_node_and_label(spark) -> list:
    """One pass over the rows: per node and label, the rows, and the nulls and values out of
    range per column (as `null:<column>` and `range:<column>`)."""
    sums = [f"sum(CASE WHEN {_quoted(c)} IS NULL THEN 1 ELSE 0 END) AS `null:{c}`"
            for c in schema.COLUMNS]
    sums += [f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END) AS `range:{c}`"
             for c, condition in _out_of_range_conditions().items()]
    return spark.sql(f"SELECT {NODE}, {schema.LABEL} AS label, count(*) AS n, {', '.join(sums)} "
                     f"FROM {VIEW} GROUP BY {NODE}, {schema.LABEL}").collect()


def _duplicates(spark) -> int:
    columns = ", ".join(_quoted(c) for c in schema.COLUMNS)
    return spark.sql(f"SELECT coalesce(sum(n - 1), 0) AS extra FROM "
                     f"(SELECT count(*) AS n FROM {VIEW} GROUP BY {columns})").first()["extra"]


def run_checks(rows: DataFrame) -> dict:
    """All checks on `rows`, registered as the temporary view `jobs`: two queries, one
    aggregate per node and label and one for duplicates."""
    rows.createOrReplaceTempView(VIEW)
    spark = rows.sparkSession
    groups = _per_node_and_label(spark)
    per_node: dict = {}
    for group in groups:
        per_node.setdefault(group[NODE], {})[group["label"]] = group["n"]
    return {
        "rows_per_node_and_label": per_node,
        "nulls": {c: sum(int(g[f"null:{c}"] or 0) for g in groups) for c in schema.COLUMNS},
        "duplicate_rows": int(_duplicates(spark)),
        "out_of_range": {c: sum(int(g[f"range:{c}"] or 0) for g in groups)
                         for c in _out_of_range_conditions()},
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
