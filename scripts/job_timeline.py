"""Where an application's time went: its jobs in order, from the history server.

Each line is one Spark job: when it started (seconds after the first job), how
long it ran, the driver's gap before it, its task count and its name. Long
gaps are driver work (planning, class loading); many short jobs of the same
name are an optimizer's iterations. Usage (the newest application when no id
is given; the embedded default's history server is on port 18080):

    .venv/bin/python scripts/job_timeline.py http://127.0.0.1:18080 [app-id]
"""

from __future__ import annotations

import datetime
import json
import sys
import urllib.error
import urllib.request


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def seconds(timestamp: str) -> float:
    """A REST API time such as 2026-11-24T13:51:13.125GMT, in epoch seconds."""
    parsed = datetime.datetime.strptime(timestamp.removesuffix("GMT"), "%Y-%m-%dT%H:%M:%S.%f")
    return parsed.replace(tzinfo=datetime.UTC).timestamp()


def timeline(jobs: list[dict]) -> list[str]:
    """One line per finished job, oldest first."""
    finished = sorted((j for j in jobs if j.get("completionTime")), key=lambda j: j["jobId"])
    if not finished:
        return []
    start, previous_end, lines = seconds(finished[0]["submissionTime"]), None, []
    for job in finished:
        begin, end = seconds(job["submissionTime"]), seconds(job["completionTime"])
        gap = begin - previous_end if previous_end is not None else 0.0
        lines.append(f"job {job['jobId']:4d} at {begin - start:7.2f} s  ran {end - begin:6.3f} s  "
                     f"gap {gap:6.3f} s  tasks {job['numTasks']:4d}  {job['name'][:60]}")
        previous_end = end
    return lines


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    api = argv[0].rstrip("/") + "/api/v1/applications"
    try:
        app = argv[1] if len(argv) > 1 else get(api)[0]["id"]  # newest first
        jobs = get(f"{api}/{app}/jobs")
    except (urllib.error.URLError, IndexError) as error:
        print(f"no application's jobs at {api}"
              f"{'/' + argv[1] if len(argv) > 1 else ''}: {error}", file=sys.stderr)
        return 1
    print(f"application {app}")
    print("\n".join(timeline(jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
