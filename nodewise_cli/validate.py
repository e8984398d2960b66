"""Checking a user's copy of the Kaggle file before it replaces our data.

Every problem names the line (1 is the header) and the column, and nothing
is written unless the whole file is good.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from typing import TextIO

from nodewise import schema


class DataError(ValueError):
    """The input file breaks the dataset schema; the message says where."""


def _check_header(header: list[str]) -> None:
    expected = list(schema.COLUMNS)
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if missing:
        raise DataError(f"line 1: missing column {missing[0]!r} (expected columns: {', '.join(expected)})")
    if extra:
        raise DataError(f"line 1: unexpected extra column {extra[0]!r}")
    if header != expected:
        raise DataError(f"line 1: columns are out of order; expected: {', '.join(expected)}")


def _check_number(line: int, column: str, text: str) -> None:
    try:
        value = int(text) if column in schema.INTEGER_COLUMNS else float(text)
    except ValueError:
        kind = "an integer" if column in schema.INTEGER_COLUMNS else "a number"
        raise DataError(f"line {line}, column {column}: {text!r} is not {kind}") from None
    low, high = schema.NUMERIC_RANGES[column]
    if not (math.isfinite(value) and low <= value <= high):
        raise DataError(f"line {line}, column {column}: {text} is outside {low}..{high}")


def _check_row(line: int, row: list[str]) -> None:
    if len(row) < len(schema.COLUMNS):
        missing = schema.COLUMNS[len(row)]
        raise DataError(f"line {line}: short line, {len(row)} of {len(schema.COLUMNS)} "
                        f"fields; column {missing} is missing")
    if len(row) > len(schema.COLUMNS):
        raise DataError(f"line {line}: {len(row)} fields, expected {len(schema.COLUMNS)} "
                        f"(an extra value after column {schema.COLUMNS[-1]})")
    for column, text in zip(schema.COLUMNS, row, strict=True):
        if "\n" in text or "\r" in text:
            raise DataError(f"line {line}, column {column}: a line break inside a value "
                            f"(an unbalanced quote?)")
        if column in schema.NUMERIC_COLUMNS:
            _check_number(line, column, text)
        elif not text.strip():
            raise DataError(f"line {line}, column {column}: empty value")
    label = row[schema.COLUMNS.index(schema.LABEL)]
    if label not in schema.LABELS:
        raise DataError(f"line {line}, column {schema.LABEL}: unknown label {label!r} "
                        f"(expected one of {', '.join(schema.LABELS)})")


def validated_lines(source: TextIO) -> Iterator[list[str]]:
    """Yield the header and each row of `source`, raising DataError on the first problem."""
    reader = csv.reader(source, strict=True)
    start = 1  # the line the record being read begins on
    try:
        header = next(reader, None)
        if header is None:
            raise DataError("the file is empty: no header line")
        _check_header([name.strip() for name in header])
        yield list(schema.COLUMNS)
        rows = 0
        start = reader.line_num + 1
        for row in reader:
            if not row:
                raise DataError(f"line {start}: empty line")
            _check_row(start, row)
            rows += 1
            yield row
            start = reader.line_num + 1
    except csv.Error as error:
        raise DataError(f"line {start}: broken line ({error})") from None
    if rows == 0:
        raise DataError("the file has a header but no data rows")


def copy_validated(source_path: str, destination_path: str) -> int:
    """Validate `source_path` while copying it; return the number of data rows."""
    try:
        return _copy(source_path, destination_path)
    except UnicodeDecodeError:
        raise DataError(f"the file is not UTF-8 text: {_first_undecodable(source_path)}") from None


def _first_undecodable(path: str) -> str:
    """Where the first non-UTF-8 byte is (the decode error's offset is per buffer)."""
    offset = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return f"line {number}, byte {offset + error.start}"
            offset += len(line)
    return "position unknown"


def _copy(source_path: str, destination_path: str) -> int:
    with open(source_path, newline="", encoding="utf-8-sig") as source, \
            open(destination_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        lines = 0
        for row in validated_lines(source):
            writer.writerow(row)
            lines += 1
    return lines - 1  # the first line is the header
