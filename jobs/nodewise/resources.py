"""Resource use of the running application, from Spark's monitoring REST API.

Read from the driver's own UI (`/api/v1/applications/<id>/...`) just before
the session stops, so every finished stage is counted.
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


def _peak_memory(executor: dict) -> int:
    peaks = executor.get("peakMemoryMetrics") or {}
    return sum(int(peaks.get(key, 0)) for key in _MEMORY_KEYS)


def summarise(executors: list[dict], stages: list[dict]) -> dict:
    """The record's resource block from the REST API's executor and stage lists."""
    workers = [e for e in executors if e.get("id") != "driver"] or executors
    return {
        "executor_cpu_seconds": sum(s.get("executorCpuTime", 0) for s in stages) / 1e9,
        "executor_run_seconds": sum(s.get("executorRunTime", 0) for s in stages) / 1e3,
        "gc_seconds": sum(e.get("totalGCTime", 0) for e in executors) / 1e3,
        "peak_memory_bytes": sum(_peak_memory(e) for e in executors),
        "input_bytes": sum(s.get("inputBytes", 0) for s in stages),
        "shuffle_read_bytes": sum(s.get("shuffleReadBytes", 0) for s in stages),
        "shuffle_write_bytes": sum(s.get("shuffleWriteBytes", 0) for s in stages),
        "task_count": sum(s.get("numCompleteTasks", 0) for s in stages),
        "stage_count": len(stages),
        "executors": len(workers),
        "cores": sum(e.get("totalCores", 0) for e in workers),
    }


def application_resources(spark) -> dict:
    """Resource figures for this application; empty figures if the UI is off."""
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
        block.update(summarise(get_json(f"{api}/allexecutors"), get_json(f"{api}/stages")))
    except OSError as error:
        log.warning("could not read resource figures from %s: %s", api, error)
    return block
