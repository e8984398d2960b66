"""Synthetic data with the real file's schema and statistical structure.

Each column follows docs/dataset.md: jobs and education levels uniform and
independent, numeric columns uniform on the measured ranges and rounded to
two decimals, Automation_Probability_2030 uniform within the job group's
range, and Risk_Category from the fixed rule on it. Rows are written in
chunks, so memory stays bounded whatever the row count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nodewise import schema

CHUNK_ROWS = 200_000

_GROUP_OF_JOB = np.array([g for g, (_, titles) in enumerate(schema.JOB_GROUPS) for _ in titles])
_GROUP_LOW = np.array([low for (low, _), _ in schema.JOB_GROUPS])
_GROUP_HIGH = np.array([high for (_, high), _ in schema.JOB_GROUPS])


def _uniform_2dp(rng: np.random.Generator, low, high, size: int) -> np.ndarray:
    return np.round(rng.uniform(low, high, size), 2)


def _labels(automation: np.ndarray) -> np.ndarray:
    labels = np.array(schema.LABELS, dtype=object)
    index = np.where(automation <= schema.LOW_MAX, 0,
                     np.where(automation <= schema.MEDIUM_MAX, 1, 2))
    return labels[index]


def generate_chunk(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """`rows` synthetic rows, columns in the real file's order."""
    job = rng.integers(0, len(schema.JOB_TITLES), rows)
    group = _GROUP_OF_JOB[job]
    automation = _uniform_2dp(rng, _GROUP_LOW[group], _GROUP_HIGH[group], rows)
    columns = {
        schema.JOB_TITLE: np.array(schema.JOB_TITLES, dtype=object)[job],
        "Average_Salary": rng.integers(30_000, 150_001, rows),
        "Years_Experience": rng.integers(0, 30, rows),
        schema.EDUCATION_LEVEL: np.array(schema.EDUCATION_LEVELS, dtype=object)[
            rng.integers(0, len(schema.EDUCATION_LEVELS), rows)],
        "AI_Exposure_Index": _uniform_2dp(rng, 0.0, 1.0, rows),
        "Tech_Growth_Factor": _uniform_2dp(rng, 0.5, 1.5, rows),
        schema.AUTOMATION_PROBABILITY: automation,
        schema.LABEL: _labels(automation),
    }
    for skill in schema.SKILLS:
        columns[skill] = _uniform_2dp(rng, 0.0, 1.0, rows)
    return pd.DataFrame(columns, columns=list(schema.COLUMNS))


def write_csv(path: str, rows: int, seed: int) -> None:
    """Write `rows` generated rows to `path` (the caller renames it in place)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8") as out:
        out.write(",".join(schema.COLUMNS) + "\n")
        for start in range(0, rows, CHUNK_ROWS):
            chunk = generate_chunk(rng, min(CHUNK_ROWS, rows - start))
            chunk.to_csv(out, header=False, index=False, lineterminator="\n")
