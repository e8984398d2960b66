"""make bench: training time and memory on a private local cluster, beside scikit-learn.

For each dataset size: generate the data, split it over the three logical
nodes of a sandbox cluster (nodewise_cli/sandbox.py, its own folder and
ports), push the slices with the real site.yml, then time, after one warm-up
each: the unified job and federated averaging on the cluster, every per-node
job in local mode on its node, the average of the per-node models, and
scikit-learn on one machine on the same split and features. Each
run is a real spark-submit (or Python) process; its wall time is the
end-to-end time, its record's fit_seconds the fit, and a sampler sums the RSS
of every process of the run (for the cluster jobs: the driver and the whole
cluster: master, workers, executors, Python workers) every 0.2 s.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

from nodewise.names import AVERAGE, FEDAVG, LEGACY_AVERAGE, UNIFIED, VOTE
from nodewise_cli import sandbox

SAMPLE_SECONDS = 0.2
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PORT_BASE = 37000  # far from the demo's ports and the tests' 27000
FEDAVG_ROUNDS, FEDAVG_LOCAL_STEPS = 20, 10  # the Makefile's ROUNDS and LOCAL_STEPS
COLUMNS = ["rows", "model", "engine", "train_rows", "fit_seconds_median", "total_seconds_median",
           "peak_rss_bytes", "rows_per_second", "runs", "cores", "memory_bytes"]


# --- memory of a process tree -------------------------------------------------------------

def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    return children


def tree(pids: list[int], children: dict[int, list[int]]) -> set[int]:
    """`pids` and all their descendants."""
    found, stack = set(), list(pids)
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, []))
    return found


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except OSError:
        return 0


class PeakMemory:
    """Samples the summed RSS of some process trees in a thread; `peak` is the largest sum."""

    def __init__(self, root_pids):
        self.root_pids = root_pids  # a callable: the pids may change during the run
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            pids = tree(self.root_pids(), _children_by_parent())
            self.peak = max(self.peak, sum(rss_bytes(pid) for pid in pids))
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- one measured run ---------------------------------------------------------------------

def daemon_pids(root: str) -> list[int]:
    """The pids of the sandbox's Spark daemons, from their pid files."""
    pids = []
    for path in glob.glob(os.path.join(root, "nodes", "*", "run", "*.pid")):
        with open(path, encoding="utf-8") as handle:
            pids.append(int(handle.read().strip()))
    return pids


def measure(argv: list[str], with_pids=lambda: []) -> dict:
    """Run `argv`; its wall seconds and the peak RSS of it (and `with_pids`' trees)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with PeakMemory(lambda: [process.pid, *with_pids()]) as memory:
        output, _ = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} ... failed ({process.returncode}):\n"
                           f"{output[-3000:]}")
    return {"total_seconds": seconds, "peak_rss_bytes": memory.peak, "output": output}


def newest_record(out_dir: str, model: str) -> dict:
    paths = sorted(glob.glob(os.path.join(out_dir, "runs", f"{model}-s*.json")),
                   key=os.path.getmtime)
    with open(paths[-1], encoding="utf-8") as handle:
        return json.load(handle)


def _submit(root: str, node: str, master: str, script: str, *args: str) -> list[str]:
    node_root = sandbox.node_root(root, node)
    return [os.path.join(node_root, "bin", "spark-submit"), "--master", master,
            "--py-files", os.path.join(node_root, "jobs", "nodewise.zip"),
            os.path.join(node_root, "jobs", script), "--out-dir", node_root, *args]


def cluster_argv(root: str, script: str, *args: str) -> list[str]:
    """A job on the sandbox cluster, submitted from the master as make's playbooks do, with
    each node's worker UI (the unified job waits for an executor on each; fedavg checks
    that each node's rows were trained on there)."""
    port = sandbox.ports(PORT_BASE)
    worker_uis = [flag for i, node in enumerate(sandbox.NODES, 1)
                  for flag in ("--worker-ui", f"{node}=127.0.0.1:{port['master_ui'] + i}")]
    return _submit(root, sandbox.NODES[0], f"spark://127.0.0.1:{port['master']}", script,
                   "--nodes", ",".join(sandbox.NODES),
                   "--master-ui", f"http://127.0.0.1:{port['master_ui']}", *worker_uis, *args)


def unified_argv(root: str) -> list[str]:
    return cluster_argv(root, "train_unified.py")


def fedavg_argv(root: str) -> list[str]:
    """Federated averaging with make's defaults (ROUNDS 20, LOCAL_STEPS 10)."""
    return cluster_argv(root, "train_fedavg.py", "--rounds", str(FEDAVG_ROUNDS),
                        "--local-steps", str(FEDAVG_LOCAL_STEPS))


def node_argv(root: str, node: str) -> list[str]:
    data_dir = os.path.join(sandbox.node_root(root, node), "data")
    return _submit(root, node, "local[*]", "train_node.py", "--node", node, "--data-dir", data_dir)


def combine_argv(root: str) -> list[str]:
    """The average (and the vote) of every node's model, on the master."""
    return _submit(root, sandbox.NODES[0], "local[*]", "combine.py",
                   "--nodes", ",".join(sandbox.NODES))


def gather_node_models(root: str) -> None:
    """Copy every other node's newest model to the master, as `make evaluate` fetches them."""
    models = os.path.join(sandbox.node_root(root, sandbox.NODES[0]), "models")
    for node in sandbox.NODES[1:]:
        node_root = sandbox.node_root(root, node)
        run_id = newest_record(node_root, node)["run_id"]
        for name in (f"{run_id}.tar.gz", f"{run_id}.json"):
            shutil.copy2(os.path.join(node_root, "models", name), models)


def forget_combined(root: str) -> None:
    """Remove the master's combined models (an average under its old name too), so the
    next combine.py builds them again."""
    models = os.path.join(sandbox.node_root(root, sandbox.NODES[0]), "models")
    for model in (AVERAGE, LEGACY_AVERAGE, VOTE):
        for path in glob.glob(os.path.join(models, f"{model}-*")):
            os.remove(path)


def forget_event_logs(root: str) -> None:
    """Remove the sandbox's event logs of earlier benches.

    The bench starts its cluster afresh, and the history server replays every
    log it finds while the first runs are measured: worker1's fit was 1.65 s
    during such a replay (450 logs), 1.31 s on the quiet machine just after.
    """
    for path in glob.glob(os.path.join(root, "nodes", "*", "eventlogs", "*")):
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def sklearn_argv(root: str) -> list[str]:
    return [sys.executable, "-m", "nodewise_cli.bench_sklearn", os.path.join(root, "split"),
            *sandbox.NODES]


# --- the series ---------------------------------------------------------------------------

def run_series(argv: list[str], runs: int, fit_of, with_pids=lambda: [],
               before=lambda: None) -> list[dict]:
    """One warm-up run, then `runs` measured ones (each after `before`): fit and total
    seconds, peak RSS."""
    results = []
    for attempt in range(runs + 1):
        before()
        measured = measure(argv, with_pids)
        fit_seconds, train_rows = fit_of(measured)
        if attempt:  # the first run warms the page cache and the cluster
            results.append({"fit_seconds": fit_seconds, "train_rows": train_rows,
                            "total_seconds": measured["total_seconds"],
                            "peak_rss_bytes": measured["peak_rss_bytes"]})
    return results


def summarise(rows: int, model: str, engine: str, results: list[dict], machine: dict) -> dict:
    """One bench.csv row: medians over the measured runs, the peak over all of them."""
    fit = statistics.median(r["fit_seconds"] for r in results)
    train_rows = results[0]["train_rows"]
    return {"rows": rows, "model": model, "engine": engine, "train_rows": train_rows,
            "fit_seconds_median": fit,
            "total_seconds_median": statistics.median(r["total_seconds"] for r in results),
            "peak_rss_bytes": max(r["peak_rss_bytes"] for r in results),
            # the average's fit averages models: it reads no rows
            "rows_per_second": train_rows / fit if fit > 0 and model != AVERAGE else None,
            "runs": len(results), **machine}


def machine() -> dict:
    with open("/proc/meminfo", encoding="utf-8") as handle:
        total_kb = int(handle.readline().split()[1])
    return {"cores": os.cpu_count(), "memory_bytes": total_kb * 1024}


# --- the whole benchmark ------------------------------------------------------------------

def _playbook(root: str, playbook: str) -> None:
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(sandbox.PROJECT, "ansible.cfg")}
    result = subprocess.run([ansible, "-i", os.path.join(root, "inventory.ini"), playbook],
                            cwd=sandbox.PROJECT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{playbook} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")


def prepare(root: str, rows: int) -> None:
    """Generated data of `rows` rows, split over the sandbox's nodes, on the nodes."""
    from nodewise_cli import generate, split
    from nodewise_cli.files import atomic_path

    os.makedirs(root, exist_ok=True)
    with atomic_path(os.path.join(root, "inventory.ini")) as partial, \
            open(partial, "w", encoding="utf-8") as out:
        out.write(sandbox.inventory_text(root, PORT_BASE))
    source = os.path.join(root, "data", f"jobs_{rows}.csv")
    if not os.path.exists(source):
        with atomic_path(source) as partial:
            generate.write_csv(partial, rows, 42)
    split.split_file(source, list(sandbox.NODES), os.path.join(root, "split"))
    _playbook(root, "site.yml")  # starts the cluster if needed; pushes the new slices


def _record_fit(out_dir: str, model: str):
    def fit_of(_measured):
        record = newest_record(out_dir, model)
        return record["fit_seconds"], record["train_rows"]
    return fit_of


def _sklearn_fit(measured):
    result = json.loads(measured["output"].strip().splitlines()[-1])
    return result["fit_seconds"], result["train_rows"]


def bench_size(root: str, rows: int, runs: int, host: dict, log=print) -> list[dict]:
    """Every model's row of bench.csv at one dataset size."""
    prepare(root, rows)
    master_root = sandbox.node_root(root, sandbox.NODES[0])
    log(f"{rows} rows: unified on the cluster")
    series = run_series(unified_argv(root), runs, _record_fit(master_root, UNIFIED),
                        with_pids=lambda: daemon_pids(root))
    results = [summarise(rows, UNIFIED, "spark-cluster", series, host)]
    log(f"{rows} rows: fedavg on the cluster, {FEDAVG_ROUNDS} rounds")
    series = run_series(fedavg_argv(root), runs, _record_fit(master_root, FEDAVG),
                        with_pids=lambda: daemon_pids(root))
    results.append(summarise(rows, FEDAVG, "spark-cluster", series, host))
    for node in sandbox.NODES:
        log(f"{rows} rows: {node} in local mode")
        series = run_series(node_argv(root, node), runs,
                            _record_fit(sandbox.node_root(root, node), node))
        results.append(summarise(rows, node, "spark-local", series, host))
    log(f"{rows} rows: average, from the nodes' newest models")
    gather_node_models(root)
    series = run_series(combine_argv(root), runs, _record_fit(master_root, AVERAGE),
                        before=lambda: forget_combined(root))
    results.append(summarise(rows, AVERAGE, "spark-local", series, host))
    log(f"{rows} rows: scikit-learn")
    series = run_series(sklearn_argv(root), runs, _sklearn_fit)
    results.append(summarise(rows, "all nodes' rows", "sklearn", series, host))
    return results


def run_bench(sizes: list[int], runs: int, root: str, log=print, done=lambda rows: None) -> list[dict]:
    """Every size's rows; `done` gets each size's rows as soon as they are measured."""
    host = machine()
    results = []
    forget_event_logs(root)
    try:
        for rows in sizes:
            measured = bench_size(root, rows, runs, host, log)
            done(measured)
            results += measured
    finally:
        if os.path.exists(os.path.join(root, "inventory.ini")):
            _playbook(root, os.path.join("ansible", "playbooks", "down.yml"))
    return results
