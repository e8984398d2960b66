"""Which node each executor runs on, and whether the master took the application."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from nodewise.executors import master_runs, nodes_without_executor, task_locality

WORKER_UIS = {"master": "10.0.0.1:8081", "worker1": "10.0.0.2:8081", "worker2": "10.0.0.3:8081"}


def executor(worker_ui: str) -> dict:
    return {"id": "1", "isActive": True,
            "executorLogs": {"stdout": f"http://{worker_ui}/logPage/?appId=a&executorId=1&logType=stdout"}}


def test_the_nodes_without_an_executor_are_named_by_their_worker_ui():
    running = [executor("10.0.0.1:8081"), executor("10.0.0.3:8081")]
    assert nodes_without_executor(running, list(WORKER_UIS), WORKER_UIS) == ["worker1"]
    assert nodes_without_executor([], list(WORKER_UIS), WORKER_UIS) == list(WORKER_UIS)


def test_without_worker_uis_the_missing_are_counted_from_the_end():
    assert nodes_without_executor([executor("x:1")], ["a", "b", "c"], {}) == ["b", "c"]


@pytest.fixture
def master_page():
    """A master UI on loopback whose /json/ page is the dict the test puts in `state`."""
    state: dict = {}

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(state).encode()
            self.send_response(200 if self.path == "/json/" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", state
    server.shutdown()
    server.server_close()


def test_the_master_runs_an_application_it_lists_as_active(master_page):
    url, state = master_page
    state["activeapps"] = [{"id": "app-2"}, {"id": "app-1"}]
    assert master_runs(url, "app-1")
    assert master_runs(url + "/", "app-2")


def test_an_application_the_master_does_not_list_is_not_run(master_page):
    # A restarted master that still holds an ended run at the same driver address
    # answers the new driver with an id but never schedules it.
    url, state = master_page
    state["activeapps"] = [{"id": "app-20261202152816-0000"}]
    assert not master_runs(url, "app-20261202152901-0000")
    state["activeapps"] = []
    assert not master_runs(url, "app-20261202152901-0000")


def test_a_master_that_cannot_be_asked_does_not_change_the_message():
    assert master_runs("http://127.0.0.1:9", "app-1")


def test_a_nodes_task_on_its_own_worker_is_where_its_rows_were_trained():
    executors = [{**executor(ui), "id": str(i)} for i, ui in enumerate(WORKER_UIS.values())]
    node_of_partition = {0: "master", 1: "worker1", 2: "worker2"}
    where = task_locality(node_of_partition, {0: "0", 1: "1", 2: "2"}, executors, WORKER_UIS)
    assert {node: w["worker_ui"] for node, w in where.items()} == WORKER_UIS
    assert where["worker1"] == {"partition": 1, "executor": "1", "worker_ui": "10.0.0.2:8081"}


@pytest.mark.parametrize("ran, message", [
    # worker1's task ran in worker2's executor
    ({0: "0", 1: "2", 2: "2"}, "the rows of worker1 were trained on in executor 2 of the worker "
                               "at 10.0.0.3:8081, not on worker1's worker (10.0.0.2:8081)"),
    # worker1's task never succeeded
    ({0: "0", 2: "2"}, "no task that trained on the rows of worker1 (partition 1) succeeded"),
])
def test_a_nodes_task_anywhere_else_fails_the_run_naming_the_node(ran, message):
    executors = [{**executor(ui), "id": str(i)} for i, ui in enumerate(WORKER_UIS.values())]
    with pytest.raises(ValueError) as error:
        task_locality({0: "master", 1: "worker1", 2: "worker2"}, ran, executors, WORKER_UIS)
    assert str(error.value).startswith(message)
