"""The nodes' requirements come from requirements.lock, the one place of pins."""

from __future__ import annotations

import os

import pyspark

from nodewise_cli import wheelhouse

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_node_requirements_are_the_marked_lines(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# comment\npyspark==1.0  # node\nclick==8.0\nnumpy==2.0  # node\n")
    assert wheelhouse.node_requirements(str(lock)) == ["pyspark==1.0", "numpy==2.0"]


def test_the_lock_pins_the_pyspark_the_controller_runs():
    pins = wheelhouse.node_requirements(os.path.join(PROJECT, "requirements.lock"))
    assert f"pyspark=={pyspark.__version__}" in pins
    assert {p.split("==")[0] for p in pins} >= {"pyspark", "py4j", "pyarrow", "numpy", "pandas"}


def test_fingerprint_changes_with_pins_and_python():
    base = wheelhouse.fingerprint(["a==1"], "cp311")
    assert base == wheelhouse.fingerprint(["a==1"], "cp311")
    assert base != wheelhouse.fingerprint(["a==2"], "cp311")
    assert base != wheelhouse.fingerprint(["a==1"], "cp312")


def test_a_lock_without_node_lines_is_refused(tmp_path):
    import pytest

    lock = tmp_path / "requirements.lock"
    lock.write_text("click==8.0\n")
    with pytest.raises(ValueError, match="marks no package"):
        wheelhouse.build(str(lock), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
