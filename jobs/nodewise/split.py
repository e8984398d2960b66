"""Which rows are test rows: one pure function shared by every trainer.

A row's side depends only on (slice name, row number in the slice, seed), so
the per-node and the unified jobs, the evaluator and the scikit-learn
reference all see the same split. `DataFrame.randomSplit` would not do: its
result depends on partitioning.
"""

from __future__ import annotations

import zlib

import numpy as np

TEST_FRACTION = 0.2

_MASK64 = 0xFFFFFFFFFFFFFFFF


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a fast, well-mixed 64-bit integer hash."""
    z = values.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _slice_key(slice_name: str, seed: int) -> np.uint64:
    key = (zlib.crc32(slice_name.encode("utf-8")) << 32) ^ (seed * 0x9E3779B97F4A7C15)
    return np.uint64(key & _MASK64)


def test_mask(slice_name: str, row_numbers: np.ndarray, seed: int,
              test_fraction: float = TEST_FRACTION) -> np.ndarray:
    """True where a row of `slice_name` is in the test part for `seed`."""
    rows = np.asarray(row_numbers, dtype=np.uint64)
    with np.errstate(over="ignore"):
        hashed = _splitmix64(_splitmix64(rows ^ _slice_key(slice_name, seed)))
    uniform = (hashed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return uniform < test_fraction


test_mask.__test__ = False  # a library function, not a pytest test
