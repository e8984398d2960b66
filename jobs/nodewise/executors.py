"""Which node each executor of the unified job runs on, and waits on them.

The driver asks its own monitoring REST API for the active executors; an
executor's log links point at its worker's UI, which tells the node.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.parse

from nodewise import resources

log = logging.getLogger(__name__)


def active_executors(spark) -> list[dict]:
    executors = resources.get_json(f"{resources.application_api(spark)}/executors")
    return [e for e in executors if e["id"] != "driver" and e["isActive"]]


def executor_worker_ui(executor: dict) -> str:
    """host:port of the worker UI that serves an executor's logs: which worker it runs on."""
    log_url = (executor.get("executorLogs") or {}).get("stdout", "")
    return urllib.parse.urlsplit(log_url).netloc


def task_locality(node_of_partition: dict[int, str], executor_of_partition: dict[int, str],
                  executors: list[dict], worker_uis: dict[str, str]) -> dict[str, dict]:
    """Which executor, on which worker, ran the task of each node's rows: `executors` as the
    REST API's allexecutors lists them. ValueError naming the first node whose task ran on
    any worker but that node's own (in `worker_uis`), or left no successful task."""
    workers = {e["id"]: executor_worker_ui(e) for e in executors}
    where = {}
    for partition, node in sorted(node_of_partition.items()):
        executor = executor_of_partition.get(partition)
        if executor is None:
            raise ValueError(f"no task that trained on the rows of {node} (partition "
                             f"{partition}) succeeded, so where they were read is unknown")
        worker = workers.get(executor, "")
        if worker_uis and worker != worker_uis.get(node):
            raise ValueError(f"the rows of {node} were trained on in executor {executor} of "
                             f"the worker at {worker or '?'}, not on {node}'s worker "
                             f"({worker_uis.get(node)})")
        where[node] = {"partition": partition, "executor": executor, "worker_ui": worker}
    return where


def nodes_without_executor(executors: list[dict], nodes: list[str],
                           worker_uis: dict[str, str]) -> list[str]:
    """The nodes with no executor among `executors`; by count when worker UIs are not known."""
    if not worker_uis:
        return nodes[len(executors):]
    seen = {executor_worker_ui(e) for e in executors}
    return [node for node in nodes if worker_uis.get(node) not in seen]


def wait_for_executors(spark, nodes: list[str], worker_uis: dict[str, str],
                       timeout: float, master_ui: str | None = None) -> int:
    """Wait for an executor on every node; return their task slots, or fail naming the
    nodes that have none after `timeout` seconds (and saying so when the master at
    `master_ui` never took the application)."""
    deadline = time.monotonic() + timeout
    while True:
        executors = active_executors(spark)
        missing = nodes_without_executor(executors, nodes, worker_uis)
        if not missing:
            break
        if time.monotonic() > deadline:
            message = (f"no executor on {', '.join(missing)} after {timeout:.0f} s "
                       f"({len(executors)} of {len(nodes)} registered)")
            if master_ui and not master_runs(master_ui, spark.sparkContext.applicationId):
                raise ValueError(
                    f"{message}: the master at {master_ui} does not list this application "
                    f"({spark.sparkContext.applicationId}) as running, so it gave it none; "
                    "its log says why (make logs NODE=<the master's node>)")
            raise ValueError(
                f"{message}: is its worker alive and does it have "
                f"{spark.conf.get('spark.executor.memory', '?')} free? (make status)")
        time.sleep(0.5)
    cpus_per_task = int(spark.conf.get("spark.task.cpus", "1"))
    return sum(e["totalCores"] for e in executors) // cpus_per_task


def master_runs(master_ui: str, app_id: str) -> bool:
    """Whether the master lists `app_id` among its active applications; True when it
    cannot be asked (the executor wait's own message then stands)."""
    try:
        state = resources.get_json(f"{master_ui.rstrip('/')}/json/")
    except (OSError, ValueError):
        return True
    return any(app.get("id") == app_id for app in state.get("activeapps", []))


class Watchdog:
    """Cancels the application's jobs when a node has had no executor for `grace` seconds.

    A barrier stage that lost a node waits for its slots with no timeout;
    this ends the wait. An executor killed while its worker lives is replaced
    within seconds, well inside `grace`, and the run goes on. Use as a
    context manager around the work, then call `raise_if_fired` with the
    error the cancelled work raised.
    """

    def __init__(self, spark, nodes: list[str], worker_uis: dict[str, str], grace: float,
                 poll: float = 2.0) -> None:
        self.spark, self.nodes, self.worker_uis = spark, nodes, worker_uis
        self.grace, self.poll = grace, poll
        self.lost: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="nodewise-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll * 5)

    def _missing(self) -> list[str] | None:
        try:
            return nodes_without_executor(active_executors(self.spark), self.nodes,
                                          self.worker_uis)
        except OSError as error:  # the driver's UI is busy: look again next time
            log.warning("watchdog: could not list the executors: %s", error)
            return None

    def _watch(self) -> None:
        gone_since: dict[str, float] = {}
        while not self._stop.wait(self.poll):
            missing = self._missing()
            if missing is None:
                continue
            now = time.monotonic()
            gone_since = {node: gone_since.get(node, now) for node in missing}
            for node in missing:
                if gone_since[node] == now:
                    log.warning("watchdog: no executor on %s; the run ends if none is back "
                                "within %.0f s", node, self.grace)
            self.lost = [node for node, since in gone_since.items() if now - since >= self.grace]
            if self.lost:
                log.error("watchdog: no executor on %s for %.0f s: cancelling the run",
                          ", ".join(self.lost), self.grace)
                self.spark.sparkContext.cancelAllJobs()
                return

    def raise_if_fired(self, error: BaseException) -> None:
        """A ValueError naming the lost nodes if the watchdog cancelled the work."""
        if self.lost:
            raise ValueError(
                f"the run was stopped: no executor on {', '.join(self.lost)} for "
                f"{self.grace:.0f} s (its node, worker or network is down; make status shows "
                f"the workers the master sees)") from error
