"""The synthetic data generator and the `generate` command."""

from __future__ import annotations

import csv
import os
import re
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from nodewise import schema
from nodewise_cli import generate
from nodewise_cli.cli import main

FLOAT_TEXT = re.compile(r"^\d+\.\d{1,2}$")
INTEGER_TEXT = re.compile(r"^\d+$")
GROUP_RANGE = {title: bounds for bounds, titles in schema.JOB_GROUPS for title in titles}


def _rows(path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("generate") / "small.csv"
    generate.write_csv(str(path), 500, seed=3)
    return path


@pytest.fixture(scope="module")
def large_frame():
    return generate.generate_chunk(np.random.default_rng(11), 20_000)


def test_header_is_the_schema_columns_in_order(small_csv):
    first_line = small_csv.read_text(encoding="utf-8").split("\n", 1)[0]
    assert first_line == ",".join(schema.COLUMNS)


def test_writes_the_requested_row_count_with_a_final_newline(small_csv):
    text = small_csv.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    assert text.count("\n") == 1 + 500


def test_every_row_has_the_label_of_the_rule(small_csv):
    _, rows = _rows(small_csv)
    wrong = [r for r in rows
             if r[schema.LABEL] != schema.risk_category(float(r[schema.AUTOMATION_PROBABILITY]))]
    assert wrong == []


def test_automation_probability_lies_in_the_job_groups_range(small_csv):
    _, rows = _rows(small_csv)
    outside = []
    for r in rows:
        low, high = GROUP_RANGE[r[schema.JOB_TITLE]]
        if not low <= float(r[schema.AUTOMATION_PROBABILITY]) <= high:
            outside.append(r)
    assert outside == []


def test_numeric_values_lie_within_the_schema_ranges(small_csv):
    _, rows = _rows(small_csv)
    outside = [(column, r[column]) for r in rows for column, (low, high)
               in schema.NUMERIC_RANGES.items() if not low <= float(r[column]) <= high]
    assert outside == []


def test_floats_print_with_at_most_two_decimals(small_csv):
    _, rows = _rows(small_csv)
    bad = [r[c] for r in rows for c in schema.FLOAT_COLUMNS if not FLOAT_TEXT.match(r[c])]
    assert bad == []


def test_integers_print_without_a_decimal_point(small_csv):
    _, rows = _rows(small_csv)
    bad = [r[c] for r in rows for c in schema.INTEGER_COLUMNS if not INTEGER_TEXT.match(r[c])]
    assert bad == []


def test_chunk_has_the_schema_columns_and_row_count():
    chunk = generate.generate_chunk(np.random.default_rng(0), 13)
    assert list(chunk.columns) == list(schema.COLUMNS)
    assert len(chunk) == 13


def test_every_job_title_appears_at_about_one_in_twenty(large_frame):
    shares = large_frame[schema.JOB_TITLE].value_counts(normalize=True)
    assert set(shares.index) == set(schema.JOB_TITLES)
    assert shares.min() >= 0.04 and shares.max() <= 0.06


def test_label_shares_are_near_the_real_files(large_frame):
    shares = large_frame[schema.LABEL].value_counts(normalize=True)
    # Real file: Medium 50.7%, High 24.7%, Low 24.6% (docs/dataset.md).
    assert shares["Medium"] == pytest.approx(0.50, abs=0.02)
    assert shares["Low"] == pytest.approx(0.25, abs=0.02)
    assert shares["High"] == pytest.approx(0.25, abs=0.02)


def test_all_four_education_levels_appear(large_frame):
    counts = Counter(large_frame[schema.EDUCATION_LEVEL])
    assert set(counts) == set(schema.EDUCATION_LEVELS)
    assert min(counts.values()) > 0.2 * len(large_frame)


def _cli_generate(path, rows, seed):
    result = CliRunner().invoke(
        main, ["generate", "--rows", str(rows), "--seed", str(seed), "--output", str(path)])
    assert result.exit_code == 0, result.output
    return result


def test_cli_reports_what_it_wrote_and_leaves_no_temporary_file(tmp_path):
    output = tmp_path / "data.csv"
    result = _cli_generate(output, 25, 1)
    assert result.output.strip() == f"wrote 25 generated rows to {output}"
    assert os.listdir(tmp_path) == ["data.csv"]
    assert output.read_text(encoding="utf-8").count("\n") == 26


def test_cli_same_seed_gives_a_byte_identical_file(tmp_path):
    _cli_generate(tmp_path / "a.csv", 200, 7)
    _cli_generate(tmp_path / "b.csv", 200, 7)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_cli_different_seed_gives_a_different_file(tmp_path):
    _cli_generate(tmp_path / "a.csv", 200, 7)
    _cli_generate(tmp_path / "b.csv", 200, 8)
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()


def test_cli_rejects_zero_rows(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--rows", "0", "--output", str(tmp_path / "x.csv")])
    assert result.exit_code != 0
    assert not (tmp_path / "x.csv").exists()


def test_more_rows_than_one_chunk_are_written_in_full_and_deterministically(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "CHUNK_ROWS", 7)
    generate.write_csv(str(tmp_path / "a.csv"), 20, seed=5)
    generate.write_csv(str(tmp_path / "b.csv"), 20, seed=5)
    header, rows = _rows(tmp_path / "a.csv")
    assert header == list(schema.COLUMNS)
    assert len(rows) == 20
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
