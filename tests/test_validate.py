"""Importing a user's copy of the dataset: `nodewise import SOURCE --output PATH`."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from nodewise import schema
from nodewise_cli import generate, validate
from nodewise_cli.cli import main

PREVIOUS = b"previous,dataset\n1,2\n"
HEADER = ",".join(schema.COLUMNS)


@pytest.fixture(scope="module")
def good_text(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("good") / "good.csv"
    generate.write_csv(str(path), 6, seed=9)
    return path.read_text(encoding="utf-8")


def _with_field(text: str, line: int, column: str, value: str) -> str:
    """`text` with one field of file line `line` (1 is the header) replaced."""
    lines = text.split("\n")
    fields = lines[line - 1].split(",")
    fields[schema.COLUMNS.index(column)] = value
    lines[line - 1] = ",".join(fields)
    return "\n".join(lines)


def _import(tmp_path, content: bytes):
    """Run the import of `content` over an existing dataset; return the result and output dir."""
    source = tmp_path / "source.csv"
    source.write_bytes(content)
    out_dir = tmp_path / "data"
    out_dir.mkdir()
    (out_dir / "ai_jobs_2030.csv").write_bytes(PREVIOUS)
    result = CliRunner().invoke(
        main, ["import", str(source), "--output", str(out_dir / "ai_jobs_2030.csv")])
    return result, out_dir


def _assert_rejected(result, out_dir, *fragments: str) -> None:
    assert result.exit_code != 0
    assert result.output.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.output
    assert os.listdir(out_dir) == ["ai_jobs_2030.csv"]
    assert (out_dir / "ai_jobs_2030.csv").read_bytes() == PREVIOUS


def test_good_file_is_imported_unchanged(tmp_path, good_text):
    result, out_dir = _import(tmp_path, good_text.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert "imported 6 rows" in result.output
    assert (out_dir / "ai_jobs_2030.csv").read_text(encoding="utf-8") == good_text
    assert os.listdir(out_dir) == ["ai_jobs_2030.csv"]


def test_apostrophes_in_education_levels_survive(tmp_path, good_text):
    text = _with_field(_with_field(good_text, 2, schema.EDUCATION_LEVEL, "Bachelor's"),
                       3, schema.EDUCATION_LEVEL, "Master's")
    result, out_dir = _import(tmp_path, text.encode("utf-8"))
    assert result.exit_code == 0, result.output
    lines = (out_dir / "ai_jobs_2030.csv").read_text(encoding="utf-8").split("\n")
    assert lines[1].split(",")[3] == "Bachelor's"
    assert lines[2].split(",")[3] == "Master's"


def test_crlf_line_endings_and_a_bom_are_accepted_and_normalised(tmp_path, good_text):
    content = b"\xef\xbb\xbf" + good_text.replace("\n", "\r\n").encode("utf-8")
    result, out_dir = _import(tmp_path, content)
    assert result.exit_code == 0, result.output
    assert (out_dir / "ai_jobs_2030.csv").read_text(encoding="utf-8") == good_text


def test_copy_validated_returns_the_data_row_count(tmp_path, good_text):
    source = tmp_path / "in.csv"
    source.write_text(good_text, encoding="utf-8")
    assert validate.copy_validated(str(source), str(tmp_path / "out.csv")) == 6


def test_missing_column_is_named(tmp_path, good_text):
    text = "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != 1)
                     for line in good_text.split("\n"))
    result, out_dir = _import(tmp_path, text.encode("utf-8"))
    _assert_rejected(result, out_dir, "line 1: missing column 'Average_Salary'")


def test_extra_column_is_named(tmp_path, good_text):
    lines = good_text.rstrip("\n").split("\n")
    text = "\n".join([lines[0] + ",Comment"] + [line + ",x" for line in lines[1:]]) + "\n"
    result, out_dir = _import(tmp_path, text.encode("utf-8"))
    _assert_rejected(result, out_dir, "line 1: unexpected extra column 'Comment'")


def test_columns_out_of_order_are_rejected(tmp_path, good_text):
    swapped = list(schema.COLUMNS)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    text = good_text.replace(HEADER, ",".join(swapped), 1)
    result, out_dir = _import(tmp_path, text.encode("utf-8"))
    _assert_rejected(result, out_dir, "line 1: columns are out of order")


@pytest.mark.parametrize("line, column, value, message", [
    (4, "Average_Salary", "abc", "line 4, column Average_Salary: 'abc' is not an integer"),
    (2, "Years_Experience", "3.5", "line 2, column Years_Experience: '3.5' is not an integer"),
    (3, schema.LABEL, "Extreme", "line 3, column Risk_Category: unknown label 'Extreme'"),
    (5, "Tech_Growth_Factor", "1.75", "line 5, column Tech_Growth_Factor: 1.75 is outside 0.5..1.5"),
    (2, "Skill_3", "nan", "line 2, column Skill_3: nan is outside 0.0..1.0"),
    (6, schema.JOB_TITLE, " ", "line 6, column Job_Title: empty value"),
])
def test_a_bad_value_names_its_line_and_column(tmp_path, good_text, line, column, value, message):
    result, out_dir = _import(tmp_path, _with_field(good_text, line, column, value).encode("utf-8"))
    _assert_rejected(result, out_dir, message)


def test_empty_file_is_rejected(tmp_path):
    result, out_dir = _import(tmp_path, b"")
    _assert_rejected(result, out_dir, "the file is empty")


def test_header_only_file_is_rejected(tmp_path):
    result, out_dir = _import(tmp_path, (HEADER + "\n").encode("utf-8"))
    _assert_rejected(result, out_dir, "header but no data rows")


def test_short_line_names_line_and_first_missing_column(tmp_path, good_text):
    lines = good_text.split("\n")
    lines[2] = ",".join(lines[2].split(",")[:5])
    result, out_dir = _import(tmp_path, "\n".join(lines).encode("utf-8"))
    _assert_rejected(result, out_dir,
                     "line 3: short line, 5 of 18 fields; column Tech_Growth_Factor is missing")


def test_long_line_is_rejected(tmp_path, good_text):
    lines = good_text.split("\n")
    lines[3] += ",0.5"
    result, out_dir = _import(tmp_path, "\n".join(lines).encode("utf-8"))
    _assert_rejected(result, out_dir, "line 4: 19 fields, expected 18")


def test_blank_line_is_rejected(tmp_path, good_text):
    lines = good_text.split("\n")
    lines.insert(2, "")
    result, out_dir = _import(tmp_path, "\n".join(lines).encode("utf-8"))
    _assert_rejected(result, out_dir, "line 3: empty line")


def test_unterminated_quote_names_the_line_it_opens_on(tmp_path, good_text):
    lines = good_text.split("\n")
    lines[2] = '"' + lines[2]
    result, out_dir = _import(tmp_path, "\n".join(lines).encode("utf-8"))
    _assert_rejected(result, out_dir, "line 3: broken line (unexpected end of data)")


def test_stray_quotes_that_swallow_lines_are_rejected(tmp_path, good_text):
    # A quote opened on line 3 and closed on line 5 would make lines 3-5 one
    # record whose job title holds line breaks; the import must refuse it.
    lines = good_text.split("\n")
    lines[2] = '"' + lines[2]
    lines[4] = lines[4].replace(",", '",', 1)
    result, out_dir = _import(tmp_path, "\n".join(lines).encode("utf-8"))
    _assert_rejected(result, out_dir, "line 3, column Job_Title: a line break inside a value")


def test_non_utf8_bytes_are_located(tmp_path, good_text):
    lines = good_text.split("\n")
    lines[3] = "Caf\xe9 Owner" + lines[3][lines[3].index(","):]
    content = "\n".join(lines).encode("latin-1")
    offset = content.index(b"\xe9")
    result, out_dir = _import(tmp_path, content)
    _assert_rejected(result, out_dir, f"not UTF-8 text: line 4, byte {offset}")


def test_non_utf8_byte_far_into_a_large_file_is_located(tmp_path):
    source = tmp_path / "big.csv"
    generate.write_csv(str(source), 1000, seed=2)
    content = source.read_bytes()
    offset = content.index(b"\n", 50_000) + 1  # start of a line beyond the first read buffer
    line = content[:offset].count(b"\n") + 1
    result, out_dir = _import(tmp_path, content[:offset] + b"\xff" + content[offset:])
    _assert_rejected(result, out_dir, f"not UTF-8 text: line {line}, byte {offset}")
