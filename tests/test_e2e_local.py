"""End to end on the embedded default: a real three-node Spark cluster on this
machine, set up by the real playbooks through the Makefile.

The test inventory is inventories/local.ini with its own node roots, data,
reports and secret under a temporary folder and its own ports, so it never
touches a running `make demo` cluster or the project's data/ and reports/.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pyspark
import pytest

from e2e_support import (
    assert_only_the_projects_job_files,
    down_stops_everything_and_training_then_says_make_up,
    driver_api,
    executor_pid,
    fetch_json,
    get,
    get_json,
    history_jobs,
    make,
    master_pid,
    node_slice,
    plant_retired_job_files,
    run,
    run_record,
    run_records,
    running_application,
    start_make,
    wait_for_job_group,
)
from nodewise import manifest
from nodewise.jobcli import seed_group
from nodewise_cli import sandbox

pytestmark = pytest.mark.e2e

NODES = sandbox.NODES
PORT_BASE = 27000  # master 27077, UIs 28080..; far from Spark's defaults
MASTER_UI = f"http://127.0.0.1:{PORT_BASE + 1080}"
HISTORY_UI = f"http://127.0.0.1:{PORT_BASE + 1180}"
ROWS = 900


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The three local nodes, up once for the module: (root, inventory).

    Its teardown is the check that `make down` stops everything (it runs after
    the module's last test, whichever that is); a failure there is reported as
    an error at the teardown of the module's last test and fails the run.
    """
    root = tmp_path_factory.mktemp("e2e")
    inventory = root / "local.ini"
    inventory.write_text(sandbox.inventory_text(str(root), PORT_BASE))
    cli = [sys.executable, "-m", "nodewise_cli"]
    run(*cli, "generate", "--rows", str(ROWS), "--seed", "7", "--output", str(root / "jobs.csv"))
    run(*cli, "split", "--inventory", str(inventory), "--source", str(root / "jobs.csv"),
        "--out-dir", str(root / "split"))
    try:
        make("up", inventory)
        yield root, inventory
        down_stops_everything_and_training_then_says_make_up(root, inventory)
    finally:
        make("down", inventory, check=False)  # whatever failed: stop what may be left


@pytest.fixture(scope="module")
def trained(cluster):
    """The runs the tests read, made once: every node's model, the unified one, the
    combined ones (make evaluate) and the report. Returns summary.csv's rows."""
    root, inventory = cluster
    make("train-nodes", inventory)
    make("train-unified", inventory)
    make("train-federated", inventory, "ROUNDS=8")
    make("evaluate", inventory)
    run(sys.executable, "-m", "nodewise_cli", "report", "--runs-dir", str(root / "reports" / "runs"),
        "--out-dir", str(root / "reports"), "--split-dir", str(root / "split"))
    with open(root / "reports" / "summary.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_master_sees_three_alive_workers(cluster):
    state = fetch_json(f"{MASTER_UI}/json/")
    alive = [w for w in state["workers"] if w["state"] == "ALIVE"]
    assert len(alive) == 3
    assert state["cores"] == 3


def test_make_ui_lists_every_web_ui_and_each_answers(cluster):
    _, inventory = cluster
    output = make("ui", inventory).stdout
    expected = {"master": PORT_BASE + 1080, "history server": PORT_BASE + 1180,
                **{f"worker on {node}": PORT_BASE + 1080 + i for i, node in enumerate(NODES, 1)}}
    for name, port in expected.items():
        assert f'"msg": "{name}: http://127.0.0.1:{port} (answering)"' in output, output


def test_each_slice_is_on_its_own_node_only(cluster):
    root, _ = cluster
    for node in NODES:
        assert sorted(os.listdir(root / "nodes" / node / "data")) == [f"jobs_{node}.csv",
                                                                      "manifest.json"]
        assert (root / "nodes" / node / "data" / f"jobs_{node}.csv").read_bytes() == \
            (root / "split" / f"jobs_{node}.csv").read_bytes()


def test_spark_config_with_the_secret_is_private(cluster):
    root, _ = cluster
    for node in NODES:
        mode = os.stat(root / "nodes" / node / "conf" / "spark-defaults.conf").st_mode & 0o777
        assert mode == 0o600
    assert os.stat(root / "secret").st_mode & 0o777 == 0o600


def test_every_model_is_in_the_summary_with_a_good_f1(trained):
    models = {(row["model"], row["eval_set"]) for row in trained}
    assert models == {("unified", "global"), ("fedavg", "global"), ("average", "global"),
                      ("vote", "global"), ("sklearn", "global"),
                      *((n, "global") for n in NODES), *((n, "local") for n in NODES)}
    for row in trained:
        assert float(row["f1"]) > 0.9, row


def test_unified_model_trained_on_every_nodes_rows(trained):
    unified = next(r for r in trained if r["model"] == "unified")
    per_node = [r for r in trained if r["model"] in NODES and r["eval_set"] == "global"]
    assert int(unified["train_rows"]) == sum(int(r["train_rows"]) for r in per_node)
    assert int(unified["train_rows"]) + int(unified["test_rows"]) == ROWS
    assert unified["eval_nodes"] == "master worker1 worker2"


def test_global_scores_from_summed_matrices_match_the_unified_jobs_own(cluster, trained):
    root, _ = cluster
    unified = next(r for r in trained if r["model"] == "unified")
    with open(root / "reports" / "runs" / f"{unified['run_id']}.json", encoding="utf-8") as f:
        own = json.load(f)["evaluation"]
    assert float(unified["f1"]) == pytest.approx(own["f1"])
    assert int(unified["test_rows"]) == own["rows"]


def test_the_average_of_every_nodes_model_is_scored_everywhere(cluster, trained):
    root, _ = cluster
    [average] = [r for r in trained if r["model"] == "average"]
    per_node = {r["model"]: r for r in trained if r["model"] in NODES and r["eval_set"] == "global"}
    assert average["eval_set"] == "global" and average["eval_nodes"] == "master worker1 worker2"
    assert int(average["train_rows"]) == sum(int(r["train_rows"]) for r in per_node.values())
    assert int(average["test_rows"]) == int(per_node["master"]["test_rows"])
    assert float(average["f1"]) > 0.9 and average["run_id"].startswith("average-s")
    record = run_record(root, average["run_id"])
    assert record["built_from"] == sorted(r["run_id"] for r in per_node.values())
    [vote] = [r for r in trained if r["model"] == "vote"]
    assert run_record(root, vote["run_id"])["built_from"] == record["built_from"]
    assert vote["eval_nodes"] == "master worker1 worker2" and float(vote["f1"]) > 0.9


def test_fedavg_trains_each_node_on_its_own_worker_and_matches_unified(cluster, trained):
    root, _ = cluster
    [row] = [r for r in trained if r["model"] == "fedavg"]
    [unified] = [r for r in trained if r["model"] == "unified"]
    assert abs(float(row["f1"]) - float(unified["f1"])) < 0.01
    assert row["eval_nodes"] == "master worker1 worker2" and row["train_rows"] == unified["train_rows"]
    record = run_record(root, row["run_id"])
    losses = [entry["loss"] for entry in record["rounds"]]
    assert len(losses) == 8 and losses[-1] < losses[0]
    worker_uis = {node: f"127.0.0.1:{PORT_BASE + 1080 + i}" for i, node in enumerate(NODES, 1)}
    assert {node: where["worker_ui"] for node, where in record["locality"].items()} == worker_uis


def test_one_application_trains_every_seed_each_with_its_own_record(cluster, trained):
    """SEEDS="2 3": each cluster trainer is one application; each seed has its own record,
    with its own work per node and, for fedavg, its own check that rows stayed home."""
    root, inventory = cluster
    make("train-unified", inventory, "SEEDS=2 3")
    make("train-federated", inventory, "SEEDS=2 3", "ROUNDS=2")
    worker_uis = {node: f"127.0.0.1:{PORT_BASE + 1080 + i}" for i, node in enumerate(NODES, 1)}
    for model in ("unified", "fedavg"):
        records = [json.loads(p.read_text(encoding="utf-8"))
                   for p in sorted((root / "reports" / "runs").glob(f"{model}-s[23]-*.json"))]
        assert sorted(r["seed"] for r in records) == [2, 3], model
        [app_id] = {r["resources"]["app_id"] for r in records}
        for record in records:
            shared = record["application"]
            assert (shared["app_id"], shared["seeds"]) == (app_id, [2, 3]), model
            assert record["total_seconds"] > record["seed_seconds"] > record["fit_seconds"]
            work = record["work_per_node"]
            assert sorted(work) == list(NODES), (model, record["seed"])
            assert sum(node["input_rows"] for node in work.values()) == ROWS
            assert all(node["tasks"] > 0 for node in work.values()), work
        if model == "fedavg":
            for record in records:
                assert {n: w["worker_ui"] for n, w in record["locality"].items()} == worker_uis


def test_every_record_names_the_split_it_trained_on(cluster, trained):
    root, _ = cluster
    split = manifest.split_identity(str(root / "split" / "manifest.json"))
    assert split["kind"] == "iid" and len(split["manifest_sha256"]) == 64
    for row in trained:
        if row["model"] != "sklearn":  # the reference reads the slices on the controller
            assert run_record(root, row["run_id"])["split"] == split, row["run_id"]


def test_unified_run_records_how_its_work_spread_over_the_nodes(cluster, trained):
    root, _ = cluster
    unified = next(r for r in trained if r["model"] == "unified")
    record = run_record(root, unified["run_id"])
    assert record["cluster"] == {"workers": 3, "cores": 3, "memory_mb": 3 * 1536}
    work = record["work_per_node"]
    assert sorted(work) == list(NODES)
    assert sum(node["input_rows"] for node in work.values()) == ROWS
    executors = [e for node in work.values() for e in node["executors"]]
    assert len(executors) == len(set(executors)) == 3
    for node in work.values():
        assert node["tasks"] > 0 and node["cpu_seconds"] > 0 and node["peak_memory_bytes"] > 0
    # 900 rows train in one partition: every job of the fit (Summarizer pass and LBFGS
    # iterations) ran one task, not one per node plus a merge stage
    assert record["params"]["train_partitions"] == 1
    fit_jobs = history_jobs(HISTORY_UI, record["resources"]["app_id"],
                            seed_group(record["seed"], "fit"))
    assert len(fit_jobs) >= 5
    assert [job["numCompletedTasks"] for job in fit_jobs] == [1] * len(fit_jobs)


def test_drivers_map_spark_classes_from_the_class_data_archive(cluster, trained):
    root, _ = cluster
    archive = root / "nodes" / "spark.jsa"  # one for the three nodes of one machine
    option = f"-XX:SharedArchiveFile={archive}"
    jars = os.path.join(os.path.dirname(pyspark.__file__), "jars", "*")
    for node in NODES:
        conf = (root / "nodes" / node / "conf" / "spark-defaults.conf").read_text()
        assert re.search(rf"^spark\.driver\.extraJavaOptions .*{re.escape(option)}$", conf, re.M)
        assert re.search(rf"^spark\.driver\.extraClassPath +{re.escape(jars)}$", conf, re.M)
    # -Xshare:on fails unless the JVM can map the archive with Spark's jars first on
    # the class path; the log says where each class came from.
    result = run("java", "-Xshare:on", option, "-Xlog:class+load=info", "-cp", jars,
                 "org.apache.spark.deploy.SparkSubmit", "--version")
    from_archive = [line for line in result.stdout.splitlines()
                    if "org.apache.spark." in line and "shared objects file (top)" in line]
    assert len(from_archive) > 100


def test_model_chooses_the_classifier_and_a_tree_finds_the_label_rule(cluster, trained):
    root, inventory = cluster
    make("train-node", inventory, "NODE=worker1", "MODEL=decision_tree", "FEATURES=full")
    newest = sorted((root / "reports" / "runs").glob("worker1-s1-*.json"))[-1]
    record = run_record(root, newest.stem)
    assert (record["classifier"], record["feature_set"]) == ("decision_tree", "full")
    assert record["evaluation"]["f1"] == 1.0
    assert "If (Automation_Probability_2030 <= 0.305)" in "\n".join(record["model_description"])
    bad = make("train-node", inventory, "NODE=worker1", "MODEL=svm", check=False)
    assert bad.returncode != 0 and "invalid choice: 'svm'" in bad.stdout + bad.stderr


def test_second_site_run_changes_nothing(cluster, trained):
    _, inventory = cluster
    result = make("up", inventory)
    recap = [line for line in result.stdout.splitlines() if "changed=" in line]
    assert len(recap) == 3
    assert all("changed=0" in line and "failed=0" in line for line in recap), recap


def test_later_site_runs_restart_changed_daemons_and_replace_a_secret_only_when_asked(
        cluster, trained):
    """make up from a second checkout (its own secret file) is refused before any
    daemon restarts. Asked to rotate, with a changed template, it restarts the
    daemons on the same ports with its secret, and job files the project no
    longer has leave the node and the --py-files archive (one edited on the node
    is put back). The first checkout then takes the cluster back the same way,
    with diffs shown: never a secret."""
    root, inventory = cluster
    second = root / "second.ini"
    second.write_text(inventory.read_text().replace(f"nodewise_secret_file={root}/secret",
                                                    f"nodewise_secret_file={root}/second-secret"))
    conf = root / "nodes" / "master" / "conf" / "spark-defaults.conf"
    before = master_pid(root)
    refused = make("up", second, check=False)
    assert refused.returncode != 0
    assert f"runs with another secret than {root}/second-secret" in refused.stdout
    assert "make up ROTATE_SECRET=yes" in refused.stdout
    assert master_pid(root) == before
    assert (root / "secret").read_text().strip() in conf.read_text()

    jobs_dir = plant_retired_job_files(root)
    extra = '{"nodewise_spark_conf_extras": {"spark.ui.retainedJobs": "500"}}'
    make("up", second, "ROTATE_SECRET=yes", f"ANSIBLE_ARGS=-e '{extra}'")
    assert "spark.ui.retainedJobs  500" in conf.read_text()
    assert (root / "second-secret").read_text().strip() in conf.read_text()
    assert master_pid(root) != before
    state = fetch_json(f"{MASTER_UI}/json/")
    assert state["url"] == f"spark://127.0.0.1:{PORT_BASE + 77}"
    assert len([w for w in state["workers"] if w["state"] == "ALIVE"]) == 3
    assert_only_the_projects_job_files(jobs_dir)

    result = make("up", inventory, "ROTATE_SECRET=yes", "ANSIBLE_ARGS=--diff")
    assert "retainedJobs" not in conf.read_text()
    assert (root / "secret").read_text().strip() in conf.read_text()
    assert "changed: [master]" in result.stdout
    for secret_file in ("secret", "second-secret"):
        secret = (root / secret_file).read_text().strip()
        assert len(secret) == 48 and secret not in result.stdout + result.stderr


def test_strangers_cannot_kill_a_run_from_the_web_uis(cluster, trained):
    """No secret, only the network: the master's kill form, with whatever token
    its page carries, and the driver UI's GET kill links."""
    root, inventory = cluster
    run_ = start_make("train-unified", inventory)
    try:
        app_id = running_application(MASTER_UI, timeout=90)
        status, page = get(f"{MASTER_UI}/")
        assert status == 200 and app_id in page
        assert "app/kill" not in page  # no kill form is shown
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        form = urllib.parse.urlencode({**hidden, "id": app_id, "terminate": "true"}).encode()
        with contextlib.suppress(urllib.error.HTTPError, OSError):
            urllib.request.urlopen(f"{MASTER_UI}/app/kill/", data=form, timeout=10).close()
        for port in range(4040, 4057):  # the driver's UI, wherever it found a port
            for path in ("/jobs/job/kill/?id=0", "/stages/stage/kill/?id=0&terminate=true",
                         "/stages/stage/kill/?id=1&terminate=true"):
                get(f"http://127.0.0.1:{port}{path}")
        output, _ = run_.communicate(timeout=600)
    finally:
        if run_.poll() is None:
            run_.kill()
    assert run_.returncode == 0, output[-4000:]
    status, body = get(f"{MASTER_UI}/json/")
    [finished] = [a for a in json.loads(body)["completedapps"] if a["id"] == app_id]
    assert finished["state"] == "FINISHED", finished


def test_the_secret_is_only_in_private_files_and_the_history_server_has_none(cluster, trained):
    root, _ = cluster
    secret = (root / "secret").read_text().strip()
    holders = []
    for path in root.rglob("*"):
        if (path.is_file() and not path.is_symlink() and path.stat().st_size < 50_000_000
                and secret.encode() in path.read_bytes()):
            holders.append(path)
            assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))
    assert sorted(str(p.relative_to(root)) for p in holders) == [
        "nodes/master/conf/spark-defaults.conf", "nodes/worker1/conf/spark-defaults.conf",
        "nodes/worker2/conf/spark-defaults.conf", "secret"]
    [pid_file] = (root / "nodes" / "master" / "run").glob("*HistoryServer*.pid")
    properties = subprocess.run(["jcmd", pid_file.read_text().strip(), "VM.system_properties"],
                                capture_output=True, text=True, check=False)
    if properties.returncode == 0:  # jcmd comes with a JDK, not a JRE
        assert "spark.history.fs.cleaner.enabled=true" in properties.stdout
        assert secret not in properties.stdout and "spark.authenticate" not in properties.stdout
    status, body = get(f"{HISTORY_UI}/api/v1/applications")
    assert status == 200 and len(json.loads(body)) >= 1


def test_the_controllers_records_models_and_slices_are_private(cluster, trained):
    root, _ = cluster
    for folder in ("reports/runs", "reports/models", "split"):
        assert (root / folder).stat().st_mode & 0o777 == 0o700, folder
        files = [p for p in (root / folder).iterdir() if p.is_file()]
        assert files and all(p.stat().st_mode & 0o077 == 0 for p in files), folder


def test_a_node_without_an_executor_fails_the_unified_run_naming_it(cluster, trained):
    root, inventory = cluster
    worker = "org.apache.spark.deploy.worker.Worker"
    run(str(root / "nodes" / "worker2" / "bin" / "spark-daemon"), "stop", worker, "1")
    try:
        result = make("train-unified", inventory,
                      "ANSIBLE_ARGS=-e nodewise_executor_wait_seconds=15", check=False)
    finally:
        make("up", inventory)  # worker2's worker back
    assert result.returncode != 0
    assert "no executor on worker2 after 15 s (2 of 3 registered)" in result.stdout, \
        result.stdout[-3000:]


def test_a_second_cluster_wide_run_is_refused_naming_the_one_running(cluster, trained):
    _, inventory = cluster
    first = start_make("train-unified", inventory)
    try:
        running_application(MASTER_UI, timeout=90)
        second = make("train-unified", inventory, check=False)
        output, _ = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, output[-4000:]
    assert second.returncode != 0
    assert "refused: make train-unified (seeds 1) (pid " in second.stdout, second.stdout[-3000:]


def test_a_truncated_or_missing_slice_stops_the_run_naming_the_node(cluster, trained):
    root, inventory = cluster
    before = run_records(root)
    lines = node_slice(root, "worker1").read_text(encoding="utf-8").splitlines(True)
    try:
        node_slice(root, "worker1").write_text("".join(lines[:-5]), encoding="utf-8")
        node_run = make("train-node", inventory, "NODE=worker1", check=False)
        node_slice(root, "worker2").unlink()
        unified = make("train-unified", inventory, check=False)
        # The unified job's own check, behind the playbook's: it counts the rows
        # each node's executor read against the manifest on the master.
        master = root / "nodes" / "master"
        direct = run(str(master / "bin" / "spark-submit"), "--master",
                     f"spark://127.0.0.1:{PORT_BASE + 77}", "--py-files",
                     str(master / "jobs" / "nodewise.zip"), str(master / "jobs" / "train_unified.py"),
                     "--nodes", ",".join(NODES), "--out-dir", str(master), check=False)
    finally:
        make("up", inventory)  # puts both slices back
    assert node_run.returncode != 0
    assert "worker1's slice differs from the manifest's (truncated or changed" in node_run.stdout
    assert unified.returncode != 0
    assert "worker1's slice differs from the manifest's" in unified.stdout
    assert "worker2's slice is missing" in unified.stdout, unified.stdout[-3000:]
    assert direct.returncode == 2
    rows = ROWS // 3
    assert f"worker1: {rows - 5} rows read, the manifest has {rows}" in direct.stdout
    assert f"worker2: 0 rows read, the manifest has {rows} (its slice is missing on worker2" \
        in direct.stdout, direct.stdout[-3000:]
    assert run_records(root) == before  # no run recorded
    assert node_slice(root, "worker1").read_text(encoding="utf-8").splitlines(True) == lines


def test_a_model_saved_without_its_record_is_skipped_by_evaluate_and_report(cluster, trained):
    """A run that dies between saving its model and committing it (here: its
    runs/ folder cannot be created) leaves an archive that nothing uses."""
    root, inventory = cluster
    worker1 = root / "nodes" / "worker1"
    (worker1 / "runs").rename(worker1 / "runs.kept")
    (worker1 / "runs").write_text("not a folder\n")
    try:
        failed = make("train-node", inventory, "NODE=worker1", check=False)
    finally:
        (worker1 / "runs").unlink()
        (worker1 / "runs.kept").rename(worker1 / "runs")
    assert failed.returncode != 0
    [orphan] = [p.name[:-len(".tar.gz")] for p in (worker1 / "models").glob("*.tar.gz")
                if not p.with_name(p.name.replace(".tar.gz", ".json")).exists()]
    # Files are moved by name and size: a copy cut short on either side is replaced.
    master_model = sorted((root / "nodes" / "master" / "models").glob("unified-*.tar.gz"))[0]
    cut_on_node = root / "nodes" / "worker2" / "models" / master_model.name
    cut_on_node.write_bytes(master_model.read_bytes()[:100])
    worker1_info = sorted((worker1 / "models").glob("worker1-*.json"))[0]
    cut_on_controller = root / "reports" / "models" / worker1_info.name
    cut_on_controller.write_text("{")
    evaluated = make("evaluate", inventory)
    assert cut_on_node.read_bytes() == master_model.read_bytes()
    assert cut_on_controller.read_bytes() == worker1_info.read_bytes()
    skipped = f"{orphan}: skipped, its run did not finish (an archive without its record)"
    assert skipped in evaluated.stdout, evaluated.stdout[-3000:]
    assert not list(root.rglob(f"eval-{orphan}-on-*.json"))
    run(sys.executable, "-m", "nodewise_cli", "report", "--runs-dir", str(root / "reports" / "runs"),
        "--out-dir", str(root / "reports"), "--split-dir", str(root / "split"))
    report_md = (root / "reports" / "report.md").read_text(encoding="utf-8")
    assert f"Models left out, not scored or combined: {skipped}" in report_md
    assert orphan not in (root / "reports" / "summary.csv").read_text(encoding="utf-8")


def test_an_executor_killed_in_the_middle_of_the_fit_is_replaced_and_every_row_used(
        cluster, trained):
    """kill -9 on worker2's executor while the fit runs: its worker starts another,
    the barrier read runs again on every node, and the model uses every row."""
    root, inventory = cluster
    # One partition per node for the fit, so worker2's executor holds a part of it.
    run_ = start_make("train-unified", inventory, "REPARTITION_BY=row")
    try:
        api = driver_api(timeout=90)
        wait_for_job_group(api, seed_group(1, "fit"), timeout=120)
        os.kill(executor_pid(root, "worker2"), 9)
        output, _ = run_.communicate(timeout=600)
    finally:
        if run_.poll() is None:
            run_.kill()
    assert run_.returncode == 0, output[-4000:]
    newest = sorted((root / "reports" / "runs").glob("unified-s1-*.json"))[-1]
    record = run_record(root, newest.stem)
    assert record["train_rows"] + record["test_rows"] == ROWS
    app_id = record["resources"]["app_id"]
    url = f"{HISTORY_UI}/api/v1/applications/{app_id}/allexecutors"
    fit_jobs = history_jobs(HISTORY_UI, app_id, seed_group(1, "fit"))  # waits for the server to list it
    executors = get_json(url)
    removed = [e for e in executors if e["id"] != "driver" and not e["isActive"]]
    assert len(removed) == 1 and len(executors) == 1 + 4, executors
    fit_end = max(j["completionTime"] for j in fit_jobs)
    assert removed[0]["removeTime"] < fit_end  # it died before the fit was done


def test_make_logs_fetches_each_nodes_daemon_run_and_executor_logs(cluster, trained):
    root, inventory = cluster
    make("logs", inventory)
    logs = root / "reports" / "logs"
    assert sorted(p.name for p in logs.iterdir()) == list(NODES)
    master = sorted(str(p.relative_to(logs / "master")) for p in (logs / "master").rglob("*")
                    if p.is_file())
    assert any(re.fullmatch(r"logs/spark-.*Master.*\.out", name) for name in master), master
    runs_ = [name for name in master if name.startswith("logs/runs/")]
    assert runs_ and any("# make train-unified (seeds 1)" in (logs / "master" / name).read_text()
                         for name in runs_)
    assert any(re.fullmatch(r"work/app-[0-9-]+/[0-9]+/stderr", name) for name in master)
    assert (logs / "worker1").stat().st_mode & 0o777 == 0o700
    # on the nodes, run-locked keeps each run's output from other users
    run_logs = list((root / "nodes" / "master" / "logs" / "runs").glob("*.log"))
    assert run_logs and {p.stat().st_mode & 0o777 for p in run_logs} == {0o640}
    make("logs", inventory, "NODE=worker2")
    assert sorted(p.name for p in logs.iterdir()) == list(NODES)
    assert any((logs / "worker2" / "logs" / "runs").glob("*.log"))


def test_train_node_needs_a_node_of_the_inventory(cluster):
    _, inventory = cluster
    missing = make("train-node", inventory, check=False)
    assert missing.returncode != 0
    assert "NODE not set" in missing.stdout + missing.stderr
    assert "master worker1 worker2" in missing.stdout
    wrong = make("train-node", inventory, "NODE=worker9", check=False)
    assert wrong.returncode != 0
    assert "worker9" in wrong.stdout and "master worker1 worker2" in wrong.stdout
