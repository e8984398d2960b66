"""The embedded default as most users run it: `make demo` typed by a user
without root, in a fresh copy of the project, with the machine's own
/usr/bin/python3 building .venv. Then the targets without INVENTORY= work on
the demo that make remembers, and another cluster's files never mix into it.

The test creates that user (so it runs as root only) and removes it after.
"""

from __future__ import annotations

import csv
import io
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import machines as vm

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parent.parent
USER = "nodewise-demo"
HOME = Path("/home") / USER
CHECKOUT = HOME / "nodewise"
MODELS = {"master", "worker1", "worker2", "unified", "fedavg", "average", "vote", "sklearn"}
# The machine's package index settings, as every user here has them.
PASSED_ENVIRONMENT = ("PIP_CERT", "PIP_FIND_LINKS", "PIP_DEFAULT_TIMEOUT", "PIP_INDEX_URL",
                      "PIP_EXTRA_INDEX_URL", "PIP_DISABLE_PIP_VERSION_CHECK")


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "creating the unprivileged demo user needs root"
    for tool in ("useradd", "userdel", "runuser", "java", "/usr/bin/python3"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None


def remove_user() -> None:
    subprocess.run(["pkill", "-KILL", "-u", USER], check=False)
    time.sleep(0.5)
    subprocess.run(["userdel", "-r", USER], capture_output=True, check=False)
    shutil.rmtree(HOME, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_user():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    try:
        pwd.getpwnam(USER)
        remove_user()  # left by an earlier run that was killed
    except KeyError:
        pass
    subprocess.run(["useradd", "--create-home", "--home-dir", str(HOME), "--shell", "/bin/bash",
                    USER], check=True)
    try:
        vm.copy_project(PROJECT, CHECKOUT)
        subprocess.run(["chown", "-R", f"{USER}:{USER}", str(CHECKOUT)], check=True)
        yield
    finally:
        remove_user()


def as_user(command: str, timeout: float = 1800, check: bool = True):
    """`command` in the user's checkout, from a login-like environment of its own."""
    environment = [f"{name}={os.environ[name]}" for name in PASSED_ENVIRONMENT
                   if name in os.environ]
    args = ["runuser", "-u", USER, "--", "env", "-i", f"HOME={HOME}", f"USER={USER}",
            "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", *environment,
            "bash", "-c", f"cd {CHECKOUT} && {command}"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{command!r} as {USER} failed ({result.returncode}):\n"
                             f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def user_java_processes() -> list[str]:
    result = subprocess.run(["pgrep", "-a", "-u", USER, "java"], capture_output=True, text=True)
    return result.stdout.splitlines()


def read_summary() -> list[dict]:
    return list(csv.DictReader(io.StringIO((CHECKOUT / "reports" / "summary.csv").read_text())))


@pytest.fixture(scope="module")
def demo(demo_user):
    try:
        yield as_user("make demo")
    finally:
        if user_java_processes():
            as_user("make down INVENTORY=inventories/local.ini", check=False)


def test_make_demo_as_a_user_without_root_scores_every_model(demo):
    assert "nodewise: cluster local (inventories/local.ini) is now the current one" in demo.stdout
    rows = [row for row in read_summary() if row["eval_set"] == "global"]
    assert {row["model"] for row in rows} == MODELS
    for row in rows:
        assert float(row["f1"]) > 0.9, (row["model"], row["seed"], row["f1"])
    assert sorted({row["seed"] for row in rows if row["model"] == "unified"}) == ["1", "2", "3"]
    report = (CHECKOUT / "reports" / "report.md").read_text()
    assert "Cluster: local (inventory inventories/local.ini)." in report


def test_the_demo_runs_as_that_user_with_the_machines_own_python(demo):
    daemons = user_java_processes()
    assert len(daemons) == 5, daemons  # master, three workers, history server
    # Every JVM of the checkout's node roots, whoever runs it (other tests' JVMs aside).
    listed = subprocess.run(["pgrep", "-a", "java"], capture_output=True, text=True).stdout
    pids = [line.split()[0] for line in listed.splitlines() if str(CHECKOUT) in line]
    owners = subprocess.run(["ps", "-o", "user=", "-p", ",".join(pids)], capture_output=True,
                            text=True).stdout.split()
    assert len(pids) == 5 and set(owners) == {USER}, (pids, owners)
    version = as_user(".venv/bin/python -c 'import platform; print(platform.python_version())'")
    expected = subprocess.run(["/usr/bin/python3", "-c",
                               "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, check=True).stdout
    assert version.stdout == expected


def test_make_sweep_trains_every_model_at_each_alpha_and_draws_f1_against_alpha(demo):
    result = as_user('make sweep SPLIT=label ALPHAS="100 0.3" SEEDS=1 ROUNDS=3')
    assert result.stdout.count("nodewise split --inventory inventories/local.ini --split label") == 2
    with open(CHECKOUT / "reports" / "sweep.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    per_alpha = {alpha: {row["model"] for row in rows if row["alpha"] == alpha}
                 for alpha in ("100.0", "0.3")}
    assert per_alpha == {alpha: MODELS - {"sklearn"} for alpha in per_alpha}, per_alpha
    assert all(row["seed"] == "1" and 0 < float(row["f1"]) <= 1 for row in rows)
    # At alpha 100 every node has nearly the whole data's labels: per-node models score well.
    assert all(float(row["f1"]) > 0.9 for row in rows if row["alpha"] == "100.0")
    report = (CHECKOUT / "reports" / "report.md").read_text()
    section = report.split("## F1 against alpha\n\n")[1].split("\n## ")[0]
    assert "| model | seeds | alpha 100 | alpha 0.3 |" in section
    assert (CHECKOUT / "reports" / "f1_against_alpha.png").stat().st_size > 10_000


def test_another_clusters_split_keeps_the_demos_files_apart_and_back(demo):
    # inventory.ini is only read here (ansible-inventory), never connected to.
    result = as_user("make data INVENTORY=inventory.ini ROWS=600")
    assert "cluster local's split, runs, models, summary.csv, report.md" in result.stdout
    kept = CHECKOUT / "reports" / "clusters" / "local"
    assert (kept / "inventory").read_text() == "inventories/local.ini\n"
    assert not (CHECKOUT / "reports" / "runs").exists()
    assert sum(1 for _ in (CHECKOUT / "data" / "split" / "jobs_master.csv").open()) == 201
    demo_runs = sorted(p.name for p in (kept / "runs").iterdir())

    result = as_user("make report INVENTORY=inventories/local.ini")
    assert "cluster local's split, runs, models" in result.stdout
    assert sorted(p.name for p in (CHECKOUT / "reports" / "runs").iterdir()) == demo_runs
    assert {row["model"] for row in read_summary()} == MODELS
    assert (CHECKOUT / "reports" / "clusters" / "inventory" / "split").is_dir()


def test_make_down_without_inventory_stops_the_demo(demo):
    assert user_java_processes()
    result = as_user("make down")
    assert result.stdout.startswith("nodewise: cluster local (inventories/local.ini)\n"), \
        result.stdout[:500]
    assert "-i inventories/local.ini" in result.stdout
    deadline = time.monotonic() + 30
    while user_java_processes() and time.monotonic() < deadline:
        time.sleep(1)
    assert user_java_processes() == []
