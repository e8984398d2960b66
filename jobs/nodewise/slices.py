"""Reading one node's slice, with the row numbers and split the jobs share."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from nodewise import schema
from nodewise.split import test_mask

NODE = "node"
ROW = "row"
IS_TEST = "is_test"

_ARROW_TYPES = {
    **{c: pa.string() for c in schema.CATEGORICAL_COLUMNS},
    **{c: pa.int64() for c in schema.INTEGER_COLUMNS},
    **{c: pa.float64() for c in schema.FLOAT_COLUMNS},
}

ARROW_SCHEMA = pa.schema(
    [(c, _ARROW_TYPES[c]) for c in schema.COLUMNS]
    + [(NODE, pa.string()), (ROW, pa.int64()), (IS_TEST, pa.bool_())])


def slice_path(data_dir: str, node: str) -> str:
    """Where a node keeps its slice: `<data_dir>/jobs_<node>.csv`."""
    return os.path.join(data_dir, f"jobs_{node}.csv")


def read_slice(path: str, node: str, seed: int) -> pa.Table:
    """The slice at `path` with its node name, row numbers and test flags."""
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=_ARROW_TYPES, include_columns=list(schema.COLUMNS)),
    )
    rows = np.arange(table.num_rows, dtype=np.int64)
    return (table
            .append_column(NODE, pa.array([node] * table.num_rows, pa.string()))
            .append_column(ROW, pa.array(rows))
            .append_column(IS_TEST, pa.array(test_mask(node, rows, seed))))


def spark_schema():
    """The Spark schema of `read_slice` tables (explicit: no inference)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(ARROW_SCHEMA)
