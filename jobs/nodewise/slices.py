"""Reading one node's slice, with the row numbers and split the jobs share."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

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
    return _flagged_batches(path, node, {IS_TEST: seed}, ARROW_SCHEMA)


def test_flag(seed: int) -> str:
    """The column of `load_slice` that marks `seed`'s test rows."""
    return f"{IS_TEST}_s{seed}"


def _flagged_schema(flags: dict[str, int]) -> pa.Schema:
    fields = [ARROW_SCHEMA.field(name) for name in ARROW_SCHEMA.names if name != IS_TEST]
    return pa.schema(fields + [(flag, pa.bool_()) for flag in flags])


def _flagged_batches(path: str, node: str, flags: dict[str, int],
                     arrow_schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """`iter_slice` with one test-flag column per entry of `flags` (column: seed)."""
    reader = pacsv.open_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=_ARROW_TYPES, include_columns=list(schema.COLUMNS)))
    first_row = 0
    for batch in reader:
        rows = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)
        masks = [pa.array(test_mask(node, rows, seed)) for seed in flags.values()]
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, pa.array([node] * batch.num_rows, pa.string()), pa.array(rows),
             *masks], schema=arrow_schema)
        first_row += batch.num_rows


def read_slice(path: str, node: str, seed: int) -> pa.Table:
    """The whole slice at `path` as one table (see `iter_slice`)."""
    return pa.Table.from_batches(list(iter_slice(path, node, seed)), schema=ARROW_SCHEMA)


# Bytes of CSV per partition before data is worth splitting across cores
# (about 100,000 rows). Each partition costs a task in every one of the fit's
# ~15 jobs: measured on 800 training rows (local[*], 2 cores), fit 2.73 s in 2
# partitions, 2.24 s in 1.
BYTES_PER_PARTITION = 10_000_000
# A row of the CSV: the real file has 303,550 bytes for 3000 rows.
CSV_BYTES_PER_ROW = 100


def partitions_for(slice_bytes: int, cores: int) -> int:
    return max(1, min(cores, -(-slice_bytes // BYTES_PER_PARTITION)))


def load_slice(spark, path: str, node: str, seeds: Sequence[int]):
    """The slice as a DataFrame, streamed through Arrow by one task, with a
    `test_flag(seed)` column for each of `seeds`; `for_seed` gives one seed's view.

    One read serves every seed: a read starts a Python worker that imports
    pyarrow and numpy (1.5 s of each extra seed's read at 3000 rows).
    Not `createDataFrame(read_slice(...))`: that holds the whole slice in the
    driver's heap as a local relation, and a million-row slice then runs a
    1 GB local-mode driver out of memory while the model caches its input.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"no slice at {path}")
    flags = {test_flag(seed): seed for seed in seeds}
    arrow_schema = _flagged_schema(flags)

    def read(batches):
        for _ in batches:  # the input only starts the one task
            pass
        yield from _flagged_batches(path, node, flags, arrow_schema)

    from pyspark.sql.pandas.types import from_arrow_schema

    rows = spark.range(0, 1, 1, 1).mapInArrow(read, from_arrow_schema(arrow_schema))
    partitions = partitions_for(os.path.getsize(path), spark.sparkContext.defaultParallelism)
    return rows.repartition(partitions) if partitions > 1 else rows


def for_seed(rows, seed: int):
    """`load_slice`'s rows with `seed`'s test flag as IS_TEST, in `spark_schema()`'s columns."""
    return rows.select(*[rows[name] for name in ARROW_SCHEMA.names if name != IS_TEST],
                       rows[test_flag(seed)].alias(IS_TEST))


def spark_schema():
    """The Spark schema of `read_slice` tables (explicit: no inference)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(ARROW_SCHEMA)
