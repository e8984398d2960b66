"""The Spark SQL checks the unified job runs before training."""

from __future__ import annotations

from nodewise import checks, schema
from nodewise.slices import spark_schema


def row(node, job="Nurse", automation=0.2, salary=50_000, row_number=0, label=None):
    return (job, salary, 3, "PhD", 0.1, 1.0, automation,
            label or schema.risk_category(automation), *[0.5] * 10, node, row_number, False)


def test_clean_rows_pass_and_are_counted_per_node_and_label(spark):
    rows = spark.createDataFrame([row("a", row_number=0), row("a", "Chef", 0.5, row_number=1),
                                  row("b", "Truck Driver", 0.9)], spark_schema())
    result = checks.run_checks(rows)
    assert result["rows_per_node_and_label"] == {"a": {"Low": 1, "Medium": 1}, "b": {"High": 1}}
    assert sum(result["nulls"].values()) == 0
    assert result["duplicate_rows"] == 0
    assert checks.failures(result, ["a", "b"]) == []


def test_missing_node_nulls_and_out_of_range_values_stop_the_run(spark):
    rows = spark.createDataFrame(
        [row("a", salary=None), row("a", salary=999_999, row_number=1), row("a", label="Extreme")],
        spark_schema())
    result = checks.run_checks(rows)
    assert result["nulls"]["Average_Salary"] == 1
    assert result["out_of_range"]["Average_Salary"] == 1
    assert result["out_of_range"][schema.LABEL] == 1
    reasons = checks.failures(result, ["a", "worker2"])
    assert "no rows from node(s) worker2" in reasons[0]
    assert "1 null value(s) in column Average_Salary" in reasons
    assert "1 value(s) out of range in column Average_Salary" in reasons
    assert f"1 value(s) out of range in column {schema.LABEL}" in reasons


def test_duplicates_are_counted_but_do_not_stop_the_run(spark):
    rows = spark.createDataFrame([row("a", row_number=0), row("a", row_number=1),
                                  row("a", row_number=2)], spark_schema())
    result = checks.run_checks(rows)
    assert result["duplicate_rows"] == 2
    assert checks.failures(result, ["a"]) == []
