"""The project is an installable package: `make setup` installs it editable into
.venv, with a `nodewise` command, and nothing else of the checkout is on the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nodewise_cli

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
JOB_SCRIPTS = sorted(p.stem for p in (PROJECT / "jobs").glob("*.py"))


def run_python(code: str) -> subprocess.CompletedProcess:
    # From an empty folder, with no PYTHONPATH: only what the venv itself finds.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd="/", env=env, check=False)


def test_the_nodewise_command_is_installed_and_lists_its_commands():
    result = subprocess.run([str(BIN / "nodewise"), "--help"], capture_output=True, text=True,
                            cwd="/", check=True)
    commands = result.stdout.split("Commands:")[1].split()
    for command in ("generate", "import", "split", "nodes", "report", "bench", "wheelhouse"):
        assert command in commands


def test_the_installed_version_is_the_packages():
    result = run_python("import importlib.metadata as m; print(m.version('nodewise'))")
    assert result.stdout.strip() == nodewise_cli.__version__


def test_both_packages_come_from_this_checkout():
    result = run_python("import json, nodewise, nodewise_cli; "
                        "print(json.dumps([nodewise.__file__, nodewise_cli.__file__]))")
    assert json.loads(result.stdout) == [str(PROJECT / "jobs" / "nodewise" / "__init__.py"),
                                         str(PROJECT / "nodewise_cli" / "__init__.py")]


def test_job_scripts_are_not_importable_modules():
    assert JOB_SCRIPTS == ["combine", "evaluate", "train_fedavg", "train_node", "train_unified"]
    for script in JOB_SCRIPTS:
        result = run_python(f"import {script}")
        assert f"No module named '{script}'" in result.stderr


def test_no_folder_of_the_checkout_is_on_the_path():
    result = run_python("import json, sys; print(json.dumps(sys.path))")
    inside = [p for p in json.loads(result.stdout) if p and Path(p).resolve().is_relative_to(PROJECT)]
    assert inside == [] or all(Path(p).resolve().is_relative_to(PROJECT / ".venv") for p in inside)


def test_the_python_passes_ruff():
    # make lint runs it too; the rules are in pyproject.toml.
    result = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "."], capture_output=True,
                            text=True, cwd=PROJECT, check=False)
    assert result.returncode == 0, result.stdout[-4000:]
