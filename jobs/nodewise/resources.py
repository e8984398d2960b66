"""Resource use of the running application, from Spark's monitoring REST API.

Read from the driver's own UI (`/api/v1/applications/<id>/...`) when a seed's
record is written. An application trains several seeds in turn, so the figures
that stages carry (CPU, run and GC time, bytes, tasks) are summed over that
seed's jobs only, found by their job group (jobcli.seed_group); the peak memory
of the executors is the application's so far, which no stage splits.
"""

from __future__ import annotations

import json
import logging
import resource
import urllib.request

log = logging.getLogger(__name__)

_MEMORY_KEYS = ("JVMHeapMemory", "JVMOffHeapMemory", "ProcessTreePythonRSSMemory")


def application_api(spark) -> str:
    """The monitoring REST API of this application, on the driver's own UI."""
    sc = spark.sparkContext
    return f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _peak_memory(executor: dict, keys=_MEMORY_KEYS) -> int:
    peaks = executor.get("peakMemoryMetrics") or {}
    return sum(int(peaks.get(key, 0)) for key in keys)


def summarise(executors: list[dict], stages: list[dict]) -> dict:
    """The record's resource block from the REST API's executor and stage lists."""
    workers = [e for e in executors if e.get("id") != "driver"] or executors
    return {
        "executor_cpu_seconds": sum(s.get("executorCpuTime", 0) for s in stages) / 1e9,
        "executor_run_seconds": sum(s.get("executorRunTime", 0) for s in stages) / 1e3,
        "gc_seconds": sum(s.get("jvmGcTime", 0) for s in stages) / 1e3,
        "peak_memory_bytes": sum(_peak_memory(e) for e in executors),
        "peak_jvm_heap_bytes": sum(_peak_memory(e, ("JVMHeapMemory",)) for e in executors),
        "peak_python_rss_bytes": sum(_peak_memory(e, ("ProcessTreePythonRSSMemory",))
                                     for e in executors),
        "input_bytes": sum(s.get("inputBytes", 0) for s in stages),
        "shuffle_read_bytes": sum(s.get("shuffleReadBytes", 0) for s in stages),
        "shuffle_write_bytes": sum(s.get("shuffleWriteBytes", 0) for s in stages),
        "task_count": sum(s.get("numCompleteTasks", 0) for s in stages),
        "stage_count": len(stages),
        "executors": len(workers),
        "cores": sum(e.get("totalCores", 0) for e in workers),
    }


def stages_of_groups(jobs: list[dict], stages: list[dict], group_prefix: str) -> list[dict]:
    """The stages of the jobs whose job group starts with `group_prefix`."""
    ids = {stage for job in jobs if (job.get("jobGroup") or "").startswith(group_prefix)
           for stage in job.get("stageIds", [])}
    return [stage for stage in stages if stage.get("stageId") in ids]


def application_resources(spark, group_prefix: str) -> dict:
    """Resource figures of this application's jobs whose group starts with `group_prefix`
    (one seed's); only the application's id if the UI is off."""
    sc = spark.sparkContext
    block = {"app_id": sc.applicationId,
             "driver_python_peak_rss_bytes":
                 resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    base = sc.uiWebUrl
    if not base:
        log.warning("the Spark UI is off: no resource figures for %s", sc.applicationId)
        return block
    api = application_api(spark)
    try:
        stages = stages_of_groups(get_json(f"{api}/jobs"), get_json(f"{api}/stages"),
                                  group_prefix)
        block.update(summarise(get_json(f"{api}/allexecutors"), stages))
    except OSError as error:
        log.warning("could not read resource figures from %s: %s", api, error)
    return block


def _tasks_in(stages: list[dict]) -> list[dict]:
    """Every task (with its executor and metrics) of `stages`, as listed with details=true."""
    return [task for stage in stages for task in (stage.get("tasks") or {}).values()]


def stage_tasks(api: str, stage: int) -> list[dict]:
    """Every task of stage `stage`, with the executor that ran it."""
    return _tasks_in(get_json(f"{api}/stages/{stage}?details=true"))


def first_stage_of_group(api: str, job_group: str) -> int:
    jobs = [j for j in get_json(f"{api}/jobs") if j.get("jobGroup") == job_group]
    if not jobs:
        raise ValueError(f"no job of group {job_group!r} in {api}")
    return min(min(j["stageIds"]) for j in jobs)


def executor_nodes(read_tasks: list[dict], node_of_partition: dict[int, str]) -> dict[str, str]:
    """Which node each executor is on: it computed a partition holding that node's rows."""
    return {task["executorId"]: node_of_partition[task["index"]]
            for task in read_tasks if task["index"] in node_of_partition}


def spread(tasks: list[dict], nodes_of_executors: dict[str, str],
           peaks: dict[str, int], rows_per_node: dict[str, int]) -> dict:
    """Tasks, CPU and run time, rows read and peak memory, summed per node."""
    per_node = {node: {"executors": [], "tasks": 0, "input_rows": rows_per_node.get(node, 0),
                       "cpu_seconds": 0.0, "run_seconds": 0.0, "peak_memory_bytes": 0}
                for node in sorted(set(nodes_of_executors.values()))}
    for executor, node in sorted(nodes_of_executors.items()):
        per_node[node]["executors"].append(executor)
        per_node[node]["peak_memory_bytes"] += peaks.get(executor, 0)
    for task in tasks:
        node = nodes_of_executors.get(task["executorId"])
        if node is None:
            continue
        metrics = task.get("taskMetrics") or {}
        per_node[node]["tasks"] += 1
        per_node[node]["cpu_seconds"] += metrics.get("executorCpuTime", 0) / 1e9
        per_node[node]["run_seconds"] += metrics.get("executorRunTime", 0) / 1e3
    return per_node


def work_per_node(spark, read_group: str, group_prefix: str, node_of_partition: dict[int, str],
                  rows_per_node: dict[str, int]) -> dict:
    """How the work of the jobs whose group starts with `group_prefix` (one seed's) spread
    over the nodes (the UI's Executors tab).

    `read_group` is the job group whose first stage read the slices, and
    `node_of_partition` says which node's rows each partition of that stage holds.
    """
    api = application_api(spark)
    try:
        read_tasks = stage_tasks(api, first_stage_of_group(api, read_group))
        executors = get_json(f"{api}/allexecutors")
        peaks = {e["id"]: _peak_memory(e) for e in executors}
        stages = stages_of_groups(get_json(f"{api}/jobs"),
                                  get_json(f"{api}/stages?details=true"), group_prefix)
        return spread(_tasks_in(stages), executor_nodes(read_tasks, node_of_partition), peaks,
                      rows_per_node)
    except (OSError, ValueError) as error:
        log.warning("could not read the work per node from %s: %s", api, error)
        return {}


def cluster_capacity(master_ui: str | None) -> dict:
    """Alive workers, cores and memory the master offers (its /json page)."""
    if not master_ui:
        return {}
    try:
        state = get_json(f"{master_ui.rstrip('/')}/json/")
    except OSError as error:
        log.warning("could not read the cluster's capacity from %s: %s", master_ui, error)
        return {}
    alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
    return {"workers": len(alive), "cores": sum(w.get("cores", 0) for w in alive),
            "memory_mb": sum(w.get("memory", 0) for w in alive)}
