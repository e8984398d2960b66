"""make bench-targets: what users wait for, the make targets, on two commits one after the other.

`make bench` times the jobs; this times whole targets, as a user types them: a
fresh clone of each commit under the work directory (build/bench/targets/),
first `make demo` there (its `.venv` built by the demo itself, pip's cache as
it is), then with that clone's cluster up: `make train-unified SEEDS="1 2 3"`,
`make train-node NODE=worker1 SEEDS="1 2 3"` and a second `make up` (nothing to
change), each `runs` times, then `make down`. The base commit goes first, the
project's HEAD second, on the same machine; each target's ratio is HEAD's
median over the base's. Both clones use the embedded default's ports (7077,
8080..), so no other local cluster may be up.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import time

import pandas as pd

from nodewise_cli import sandbox
from nodewise_cli.files import atomic_path
from nodewise_cli.report.tables import markdown_table

LOCAL = "INVENTORY=inventories/local.ini"
DEMO = "make demo (fresh clone, .venv built)"
# (what the table calls it, make's arguments, timed once or `runs` times)
TARGETS = [
    (DEMO, ["demo"], False),
    ('make train-unified SEEDS="1 2 3"', ["train-unified", "SEEDS=1 2 3", LOCAL], True),
    ('make train-node NODE=worker1 SEEDS="1 2 3"',
     ["train-node", "NODE=worker1", "SEEDS=1 2 3", LOCAL], True),
    ("make up, nothing to change", ["up", LOCAL], True),
]
EMBEDDED_PORTS = (7077, 8080)  # the master's, in inventories/local.ini
COLUMNS = ["target", "commit", "label", "run", "seconds"]
MAKE_TIMEOUT = 3600  # seconds for one target: a fresh demo takes 6 to 8 minutes here


class BenchError(RuntimeError):
    """A step of the bench failed: names it, with the end of its output."""


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", sandbox.PROJECT, *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def resolve(commit: str) -> str:
    """The full hash of `commit` in the project's history, or BenchError naming it."""
    try:
        return _git("rev-parse", "--verify", f"{commit}^{{commit}}")
    except subprocess.CalledProcessError as error:
        raise BenchError(f"{commit!r} is not a commit of this clone's history: "
                         f"{error.stderr.strip()}") from None


def busy_ports(ports=EMBEDDED_PORTS) -> list[int]:
    """The embedded default's ports something already listens on."""
    busy = []
    for port in ports:
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def _stop_cluster(directory: str) -> None:
    """make down in a clone that has its .venv (without one it never started a cluster)."""
    if os.path.exists(os.path.join(directory, ".venv", ".nodewise-installed")):
        _make(directory, ["down", LOCAL], check=False)


def checkout(commit: str, directory: str) -> None:
    """A fresh clone of the project at `commit` in `directory` (anything there before goes)."""
    if os.path.exists(directory):
        _stop_cluster(directory)
        shutil.rmtree(directory)
    os.makedirs(os.path.dirname(directory), exist_ok=True)
    subprocess.run(["git", "clone", "--quiet", sandbox.PROJECT, directory], check=True)
    subprocess.run(["git", "-C", directory, "checkout", "--quiet", commit], check=True)


def _make(directory: str, args: list[str], check: bool = True) -> float:
    """Run make in `directory` as a user would: its wall seconds."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "INVENTORY", "SEEDS", "VIRTUAL_ENV",
                          "ANSIBLE_CONFIG", "PYTHON")}
    start = time.perf_counter()
    try:
        result = subprocess.run(["make", *args], cwd=directory, env=env, capture_output=True,
                                text=True, timeout=MAKE_TIMEOUT)
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"").decode(errors="replace")[-3000:]
        raise BenchError(f"make {' '.join(args)} in {directory} did not end within "
                         f"{MAKE_TIMEOUT} s:\n{output}") from None
    seconds = time.perf_counter() - start
    if check and result.returncode != 0:
        raise BenchError(f"make {' '.join(args)} failed in {directory} ({result.returncode}):\n"
                         f"{(result.stdout + result.stderr)[-3000:]}")
    return seconds


def time_commit(commit: str, label: str, directory: str, runs: int, log=print) -> list[dict]:
    """Every target of TARGETS on a fresh clone of `commit`: one row per timed run."""
    checkout(commit, directory)
    rows = []
    try:
        for name, args, repeated in TARGETS:
            for run in range(1, (runs if repeated else 1) + 1):
                log(f"{label} ({commit[:8]}): {name}, run {run}")
                seconds = _make(directory, args)
                rows.append({"target": name, "commit": commit, "label": label, "run": run,
                             "seconds": seconds})
    finally:
        _stop_cluster(directory)
    return rows


def run(base: str, runs: int, work_dir: str, log=print) -> list[dict]:
    """The base commit's targets, then HEAD's."""
    busy = busy_ports()
    if busy:
        raise BenchError(f"something already listens on port(s) {busy} (the embedded "
                         "default's): make down INVENTORY=inventories/local.ini first")
    commits = [("base", resolve(base)), ("head", resolve("HEAD"))]
    if _git("status", "--porcelain", "--untracked-files=no"):
        log("note: uncommitted changes are not measured: HEAD is the last commit")
    rows = []
    for label, commit in commits:
        rows += time_commit(commit, label, os.path.join(work_dir, label), runs, log)
    return rows


def ratios(rows: list[dict]) -> pd.DataFrame:
    """Per target: each commit's median seconds and runs, and HEAD's over the base's."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    table = []
    for name, _, _ in TARGETS:
        of_target = frame[frame.target == name]
        base = of_target[of_target.label == "base"].seconds
        head = of_target[of_target.label == "head"].seconds
        if base.empty or head.empty:
            continue
        table.append({"target": name, "base s (median)": statistics.median(base),
                      "head s (median)": statistics.median(head),
                      "head / base": statistics.median(head) / statistics.median(base),
                      "runs": f"{len(base)} + {len(head)}"})
    return pd.DataFrame(table)


def markdown(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    commits = {label: commit for label, commit in zip(frame.label, frame.commit, strict=True)}
    table = ratios(rows)
    shown = table.assign(**{column: table[column].map("{:.1f}".format)
                            for column in ("base s (median)", "head s (median)")},
                         **{"head / base": table["head / base"].map("{:.2f}".format)})
    return "\n".join([
        "# nodewise: the make targets, two commits", "",
        f"Base {commits.get('base', '?')[:12]}, head {commits.get('head', '?')[:12]}: fresh "
        "clones, the base's targets first, then the head's, on this machine. `make demo` "
        "builds the clone's .venv (pip's cache as it was) and leaves its cluster up for the "
        "other targets, each timed as often as `runs` says. Wall seconds of `make`.", "",
        markdown_table(shown), ""])


def write(rows: list[dict], out_dir: str) -> list[str]:
    """bench-targets.csv (every run) and bench-targets.md (medians and ratios)."""
    csv_path = os.path.join(out_dir, "bench-targets.csv")
    md_path = os.path.join(out_dir, "bench-targets.md")
    with atomic_path(csv_path) as partial:
        pd.DataFrame(rows, columns=COLUMNS).to_csv(partial, index=False)
    with atomic_path(md_path) as partial, open(partial, "w", encoding="utf-8") as out:
        out.write(markdown(rows))
    return [csv_path, md_path]
