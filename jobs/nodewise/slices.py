"""Reading one node's slice, with the row numbers and split the jobs share."""

from __future__ import annotations

import os
from typing import Iterator

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


def iter_slice(path: str, node: str, seed: int) -> Iterator[pa.RecordBatch]:
    """The slice at `path` block by block, with node name, row numbers and test flags.

    Streaming keeps a reader's memory to one block (about 1 MB of CSV), not the
    whole slice: the unified job reads a million-row slice in each executor.
    """
    reader = pacsv.open_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=_ARROW_TYPES, include_columns=list(schema.COLUMNS)))
    first_row = 0
    for batch in reader:
        rows = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, pa.array([node] * batch.num_rows, pa.string()), pa.array(rows),
             pa.array(test_mask(node, rows, seed))], schema=ARROW_SCHEMA)
        first_row += batch.num_rows


def read_slice(path: str, node: str, seed: int) -> pa.Table:
    """The whole slice at `path` as one table (see `iter_slice`)."""
    return pa.Table.from_batches(list(iter_slice(path, node, seed)), schema=ARROW_SCHEMA)


def spark_schema():
    """The Spark schema of `read_slice` tables (explicit: no inference)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(ARROW_SCHEMA)
