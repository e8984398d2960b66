"""Helpers of the end-to-end tests (test_e2e_local.py, test_e2e_hosts.py).

- commands: `run`, `make` and `start_make` run in the project folder;
- Spark's web UIs and REST APIs: reading them, and polling them until an
  application, a job or the history server's record of a run shows up;
- the local cluster's folders (nodewise_cli.sandbox): <root>/nodes/<node> for
  each node, <root>/reports and <root>/split on the controller.

- checks the local tests share: the cluster fixture's teardown (`make down`
  stops everything) and the job files a later `make up` leaves on a node.

The other helpers raise AssertionError only when what they wait for never
comes, naming it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_DRIVER_UIS = [f"http://127.0.0.1:{port}" for port in range(4040, 4057)]


# -- commands -------------------------------------------------------------

def run(*args, check=True, env=None, timeout=None) -> subprocess.CompletedProcess:
    """Run a command in the project folder; with `check`, a failure raises with its output."""
    result = subprocess.run(args, cwd=PROJECT, capture_output=True, text=True, env=env,
                            timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
                             f"{result.stdout[-5000:]}\n{result.stderr[-4000:]}")
    return result


def make(target, inventory, *extra, check=True, env=None, timeout=None):
    """`make <target> INVENTORY=<inventory> <extra...>`, as `run` runs it."""
    return run("make", target, f"INVENTORY={inventory}", *extra, check=check, env=env,
               timeout=timeout)


def start_make(target, inventory, *extra, env=None) -> subprocess.Popen:
    """`make` in the background; its output (stdout and stderr) is one text pipe."""
    return subprocess.Popen(["make", target, f"INVENTORY={inventory}", *extra], cwd=PROJECT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# -- Spark's web UIs and REST APIs ------------------------------------------

def get(url: str) -> tuple[int, str]:
    """(status, body) of a GET; (status, "") for an HTTP error, (0, "") if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def get_json(url: str):
    """The JSON at `url`, or None while it does not answer with JSON ("Spark is starting up")."""
    status, body = get(url)
    try:
        return json.loads(body) if status == 200 else None
    except ValueError:
        return None


def fetch_json(url: str):
    """The JSON at `url`; raises if it does not answer (a master's /json/, say)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def running_application(master_ui: str, timeout: float) -> str:
    """The id of the first application the master lists as running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = get(f"{master_ui}/json/")
        apps = json.loads(body).get("activeapps", []) if status == 200 else []
        if apps:
            return apps[0]["id"]
        time.sleep(0.2)
    raise AssertionError(f"no application started within {timeout} s")


def driver_api(timeout: float, uis=LOCAL_DRIVER_UIS) -> str:
    """The running application's REST API on its driver's UI (the first of `uis` with one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ui in uis:
            apps = get_json(f"{ui}/api/v1/applications")
            if apps:
                return f"{ui}/api/v1/applications/{apps[0]['id']}"
        time.sleep(0.2)
    raise AssertionError(f"no driver UI within {timeout} s")


def wait_for_job_group(api: str, group: str, timeout: float) -> None:
    """Until the application at `api` (a driver's REST API) has started a job of `group`."""
    deadline = time.monotonic() + timeout
    while not any(job.get("jobGroup") == group for job in get_json(f"{api}/jobs") or []):
        if time.monotonic() > deadline:
            raise AssertionError(f"the {group} jobs never started (within {timeout} s)")
        time.sleep(0.05)


def history_jobs(history_ui: str, app_id: str, group: str) -> list[dict]:
    """The application's jobs of `group`, from the history server (it lists a log within ~10 s)."""
    url = f"{history_ui}/api/v1/applications/{app_id}/jobs"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return [job for job in json.load(response) if job.get("jobGroup") == group]
        except urllib.error.HTTPError as error:
            if time.monotonic() > deadline:
                raise AssertionError(f"the history server never listed {app_id}: {error}") from error
            time.sleep(2)


# -- the local cluster's folders (nodewise_cli.sandbox) ----------------------

def spark_processes(root) -> list[str]:
    """The command lines of the Java processes that name `root` (every daemon of its nodes)."""
    result = subprocess.run(["pgrep", "-f", "-a", str(root)], capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if "java" in line]


def master_pid(root) -> int:
    [pid_file] = (root / "nodes" / "master" / "run").glob("*Master*.pid")
    return int(pid_file.read_text())


def executor_pid(root, node: str) -> int:
    """The pid of the executor running under `node`'s worker (its working directory)."""
    work = str(root / "nodes" / node / "work")
    for pid in subprocess.run(["pgrep", "-f", "CoarseGrainedExecutorBackend"],
                              capture_output=True, text=True).stdout.split():
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(work):
                return int(pid)
        except OSError:
            continue
    raise AssertionError(f"no executor under {work}")


def node_slice(root, node: str) -> Path:
    """`node`'s slice of the data, on the node."""
    return root / "nodes" / node / "data" / f"jobs_{node}.csv"


def run_record(root, run_id: str) -> dict:
    """The controller's record of run `run_id`."""
    with open(root / "reports" / "runs" / f"{run_id}.json", encoding="utf-8") as handle:
        return json.load(handle)


def run_records(root) -> list[str]:
    """The names of the controller's run records."""
    return sorted(p.name for p in (root / "reports" / "runs").glob("*.json"))


def down_stops_everything_and_training_then_says_make_up(root, inventory):
    """The cluster fixture's teardown: `make down`, then no Spark JVM is left, and
    a training refuses to run, telling to run `make up`."""
    make("down", inventory)
    assert spark_processes(root) == [], "`make down` left Spark processes running"
    result = make("train-unified", inventory, check=False)
    assert result.returncode != 0, "make train-unified succeeded after make down"
    assert "run `make up" in result.stdout, \
        f"make train-unified after make down does not say to run `make up`:\n{result.stdout[-3000:]}"


def plant_retired_job_files(root):
    """Job files the project no longer has, as an older checkout left them on worker1,
    and one of its files edited on the node."""
    jobs_dir = root / "nodes" / "worker1" / "jobs"
    (jobs_dir / "federate.py").write_text("# removed from the project\n")
    (jobs_dir / "nodewise" / "retired.py").write_text("# removed from the project\n")
    with open(jobs_dir / "nodewise" / "features.py", "a", encoding="utf-8") as edited:
        edited.write("# edited on the node\n")
    return jobs_dir


def assert_only_the_projects_job_files(jobs_dir):
    assert sorted(p.name for p in jobs_dir.glob("*.py")) == sorted(
        p.name for p in (Path(PROJECT) / "jobs").glob("*.py"))
    assert not (jobs_dir / "nodewise" / "retired.py").exists()
    with zipfile.ZipFile(jobs_dir / "nodewise.zip") as archive:
        names = archive.namelist()
        packaged = archive.read("nodewise/features.py")
    assert "nodewise/retired.py" not in names
    project_features = (Path(PROJECT) / "jobs" / "nodewise" / "features.py").read_bytes()
    assert (jobs_dir / "nodewise" / "features.py").read_bytes() == project_features
    assert packaged == project_features
