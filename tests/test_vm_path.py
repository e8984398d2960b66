"""The VM path, first time, no hand edits: fresh Debian 12 machines driven
from a Debian 13 controller, as a user drives Vagrant boxes from a laptop.

The machines (tests/machines.py) are booted with systemd as PID 1, shaped
like the `debian/bookworm64` box: user `vagrant` with password-less sudo,
Debian's python3 3.11.2, no Java, no python3-venv, no python3-packaging, and
a package source but no package index. The controller is a Debian 13 root
with Python 3.13 and no Java, holding its own copy of the project; every
command below is typed there as the README says. The machines boot once for
this module and are shared by its tests, which run in order.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
import time
import urllib.request

import pytest

import machines as vm
from nodewise.jobcli import seed_group

pytestmark = pytest.mark.e2e

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODES = ["master", "worker1", "worker2"]
UNITS = ["nodewise-spark-master", "nodewise-spark-worker", "nodewise-spark-history"]
ROWS = 900
INVENTORY = "vms.ini"                     # in the controller's project folder
# The machines all see the host's memory, so their inventory sets the sizes.
SIZES = ["nodewise_worker_cores=1", "nodewise_worker_memory=1536m",
         "nodewise_executor_memory=1g"]


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    reason = vm.skip_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("vms")
    with vm.Machines(NODES, base) as made:
        yield made


def vm_inventory(machines) -> str:
    """The project's inventory.ini with the machines' addresses, as a user edits it."""
    with open(os.path.join(PROJECT, "inventory.ini"), encoding="utf-8") as handle:
        text = handle.read()
    for name in NODES:
        text, count = re.subn(rf"^({name}\s+ansible_host=)\S+", rf"\g<1>{machines[name].address}",
                              text, flags=re.M)
        assert count == 1, f"inventory.ini has no line for {name}"
    extra = list(SIZES)
    return text + "\n".join(extra) + "\n"


@pytest.fixture(scope="module")
def controller(machines):
    made = vm.Controller(machines.base, PROJECT).start()
    # Where `vagrant up` leaves each box's key: the inventory finds it there.
    for name in NODES:
        key = made.path(f"{made.PROJECT}/.vagrant/machines/{name}/libvirt/private_key")
        key.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(machines.key, key)
        os.chmod(key, 0o600)
    made.path(f"{made.PROJECT}/{INVENTORY}").write_text(vm_inventory(machines))
    return made


def make(controller, targets: str, **kwargs):
    return controller.run(f"make {targets} INVENTORY={INVENTORY}", **kwargs)


@pytest.fixture(scope="module")
def sequence(controller):
    """The README's VM sequence, typed on the controller; the outputs by step."""
    steps = {}
    for step in (f"data ROWS={ROWS}", "up", "train-nodes", "train-unified",
                 "train-federated ROUNDS=5", "evaluate", "report"):
        steps[step.split()[0]] = make(controller, step)
    return steps


def summary(controller) -> list[dict]:
    path = controller.path(f"{controller.PROJECT}/reports/summary.csv")
    return list(csv.DictReader(io.StringIO(path.read_text())))


def fetch_from(machines, name: str, url: str) -> str:
    """`url` as machine `name` reads it: only the cluster's hosts and the controller
    get through the nodes' firewall. OSError when it cannot."""
    result = machines.run_on(name, "python3 -c 'import sys, urllib.request; sys.stdout.write("
                                   f"urllib.request.urlopen(\"{url}\", timeout=10).read().decode())'")
    if result.returncode != 0:
        raise OSError(f"{name} could not read {url}: {result.stderr[-500:]}")
    return result.stdout


def master_json(machines) -> dict:
    return json.loads(fetch_from(machines, "master", f"http://{machines['master'].address}:8080/json/"))


def alive_workers(machines) -> list[str]:
    return sorted(w["host"] for w in master_json(machines)["workers"] if w["state"] == "ALIVE")


def wait_for_whole_cluster(machines, timeout: float) -> float:
    """Seconds until every machine's worker is ALIVE at the master, or fail naming the missing."""
    started = time.monotonic()
    expected = sorted(machines[n].address for n in NODES)
    alive: list[str] = []
    while time.monotonic() - started < timeout:
        try:
            alive = alive_workers(machines)
        except OSError:
            alive = []
        if alive == expected:
            return time.monotonic() - started
        time.sleep(1)
    missing = [n for n in NODES if machines[n].address not in alive]
    raise AssertionError(f"workers not back within {timeout} s: {missing}")


def recap(output: str) -> dict:
    """Host name -> the PLAY RECAP counters."""
    counters = {}
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)     # colours, where Ansible saw a terminal
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=\d+.*)$", plain, re.M):
        counters[host] = {k: int(v) for k, v in (f.split("=") for f in fields.split())}
    return counters


def worker_ids(machines, name: str) -> list[str]:
    """The ids of the ALIVE workers the master lists at machine `name`'s address."""
    try:
        workers = master_json(machines)["workers"]
    except OSError:
        return []
    return [w["id"] for w in workers
            if w["state"] == "ALIVE" and w["host"] == machines[name].address]


def test_the_controller_is_not_the_nodes(machines, controller):
    assert controller.run("python3 -c 'import sys; print(sys.version_info[:2])'").stdout.strip() \
        == "(3, 13)"
    assert controller.run("command -v java", check=False).returncode != 0
    for name in NODES:
        result = machines.run_on(name, "python3 -c 'import platform; print(platform.python_version())';"
                                       " command -v java || echo no-java")
        assert result.stdout.split() == ["3.11.2", "no-java"], result.stderr


def test_a_node_without_a_package_source_fails_naming_the_package(machines, controller):
    # Before the sequence: worker2 cannot install Java; the others go on.
    source = "/etc/apt/sources.list.d/nodewise-local.list"
    assert machines.run_on("worker2", f"sudo mv {source} /root/").returncode == 0
    try:
        make(controller, f"data ROWS={ROWS}")
        result = make(controller, "up", check=False)
    finally:
        machines.run_on("worker2", f"sudo mv /root/nodewise-local.list {source}")
    assert result.returncode != 0
    counters = recap(result.stdout)
    # A string, which pytest prints whole: the fatal lines name what failed where.
    assert sorted(h for h, c in counters.items() if c["failed"]) == ["worker2"], \
        f"{counters}\n" + "\n".join(re.findall(r"^fatal: .*$", result.stdout, re.M))
    fatal = re.findall(r"^fatal: \[worker2\].*$", result.stdout, re.M)
    assert fatal, result.stdout[-3000:]
    # The last one is the role's own, after apt's (which names only python3-apt).
    assert "worker2 could not install openjdk-17-jre-headless (Spark's Java) from its package " \
           "sources" in fatal[-1], fatal
    assert "python3-apt" in fatal[-1]  # what apt reported: Ansible's apt module needs it first


def test_every_model_is_scored_on_the_global_test_set(sequence, controller):
    rows = summary(controller)
    global_rows = {row["model"]: row for row in rows if row["eval_set"] == "global"}
    # fedavg's tasks on the workers reached the exchange on the master, through its firewall
    assert {"master", "worker1", "worker2", "unified", "fedavg", "average", "vote"} <= set(global_rows)
    for model, row in global_rows.items():
        if model == "sklearn":
            continue
        assert row["eval_nodes"].split() == NODES, model
        assert float(row["f1"]) > 0.9, (model, row["f1"])
    unified = global_rows["unified"]
    assert int(unified["train_rows"]) + int(unified["test_rows"]) == ROWS


def test_targets_without_inventory_use_the_cluster_make_set_up(sequence, controller):
    result = controller.run("make status")
    assert result.stdout.startswith(f"nodewise: cluster vms ({INVENTORY})\n"), result.stdout[:500]
    assert f"-i {INVENTORY} " in result.stdout
    assert "master: running" in result.stdout and result.stdout.count("worker: running") == 3
    report = controller.path(f"{controller.PROJECT}/reports/report.md").read_text()
    assert f"Cluster: vms (inventory {INVENTORY})." in report


def test_the_roles_installed_java_venv_and_spark(sequence, machines):
    for name in NODES:
        result = machines.run_on(
            name, "java -version 2>&1 | head -n 1; dpkg-query -W -f '${Status}\\n' python3-venv"
                  " python3-packaging; sudo -u spark /opt/nodewise/venv/bin/python -c "
                  "'import platform, pyspark; print(platform.python_version(), pyspark.__version__)'")
        lines = result.stdout.splitlines()
        assert len(lines) == 4, result.stdout + result.stderr
        assert lines[0].startswith('openjdk version "17.'), result.stdout + result.stderr
        assert lines[1:3] == ["install ok installed"] * 2
        assert lines[3] == "3.11.2 4.3.0"


def test_the_nodes_got_wheels_for_their_python_not_the_controllers(sequence, controller):
    wheelhouses = sorted(p.name for p in controller.path(
        f"{controller.PROJECT}/build/wheelhouse").iterdir())
    assert wheelhouses == ["cp311-x86_64-glibc-2.36"]
    wheels = os.listdir(controller.path(f"{controller.PROJECT}/build/wheelhouse/{wheelhouses[0]}"))
    assert any(w.startswith("numpy-") and "-cp311-" in w for w in wheels), wheels
    assert not any("cp313" in w for w in wheels), wheels


def test_daemons_are_active_enabled_units_run_by_the_service_user(sequence, machines):
    for name in NODES:
        units = UNITS if name == "master" else ["nodewise-spark-worker"]
        for unit in units:
            result = machines.run_on(name, f"systemctl is-active {unit}; systemctl is-enabled {unit};"
                                           f" ps -o user= -p $(systemctl show -p MainPID --value {unit})")
            assert result.stdout.split() == ["active", "enabled", "spark"], (name, unit, result.stdout)


def test_a_second_run_from_a_plain_shell_with_the_users_ansible_changes_nothing(sequence,
                                                                               controller):
    # No .venv on PATH: the user's own ansible-core, the oldest the README names.
    result = controller.run(f"ansible-playbook --version | head -n 1; "
                            f"ansible-playbook -i {INVENTORY} site.yml",
                            path_first=f"{vm.CONTROLLER_ANSIBLE_DIR}/bin")
    assert "core 2.18." in result.stdout.splitlines()[0]
    counters = recap(result.stdout)
    assert sorted(counters) == NODES
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in counters.values()), result.stdout[-4000:]


def test_a_worker_killed_with_sigkill_is_back_within_60_seconds(sequence, machines):
    [old_id] = worker_ids(machines, "worker2")
    pid = machines.run_on("worker2", "systemctl show -p MainPID --value nodewise-spark-worker")
    assert pid.stdout.strip().isdigit() and pid.stdout.strip() != "0"
    assert machines.run_on("worker2", f"sudo kill -9 {pid.stdout.strip()}").returncode == 0
    killed = time.monotonic()
    # a new worker process registers anew: a new id at the same address
    while time.monotonic() - killed < 60:
        ids = worker_ids(machines, "worker2")
        if ids and old_id not in ids:
            break
        time.sleep(1)
    else:
        raise AssertionError("worker2 not back as a new worker within 60 s: "
                             f"{worker_ids(machines, 'worker2')}")
    print(f"worker2 back after {time.monotonic() - killed:.1f} s")
    wait_for_whole_cluster(machines, timeout=5)


def test_a_master_killed_with_sigkill_comes_back_with_its_workers(sequence, machines, controller):
    pid = machines.run_on("master", "systemctl show -p MainPID --value nodewise-spark-master")
    assert pid.stdout.strip().isdigit() and pid.stdout.strip() != "0"
    workers_before = sorted(w["id"] for w in master_json(machines)["workers"]
                            if w["state"] == "ALIVE")
    assert machines.run_on("master", f"sudo kill -9 {pid.stdout.strip()}").returncode == 0
    waited = wait_for_whole_cluster(machines, timeout=90)
    print(f"master and its workers back after {waited:.1f} s")
    deadline = time.monotonic() + 10
    while (state := master_json(machines))["status"] != "ALIVE" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert state["status"] == "ALIVE", state["status"]
    # Recovered from its recovery directory: the same workers, not new registrations.
    # (The next test's run is the first on the recovered master.)
    assert sorted(w["id"] for w in state["workers"] if w["state"] == "ALIVE") == workers_before


def _get_json(url: str):
    """The JSON at `url`, or None while it does not answer (the test host is the
    controller's network, which the nodes' firewall lets through)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def _train_unified_killing(machines, controller, name: str, unit: str, extra: str = ""):
    """`make train-unified` with `unit`'s process on machine `name` killed with -9 as
    soon as the fit starts; systemd restarts it. The run's exit code, output and
    seconds from the kill to its end."""
    run_ = controller.start_command(f"make train-unified INVENTORY={INVENTORY} {extra}")
    apps_url = f"http://{machines['master'].address}:4040/api/v1/applications"
    try:
        deadline = time.monotonic() + 300
        while not any(j.get("jobGroup") == seed_group(1, "fit")
                      for j in _get_json(f"{apps_url}/{_app_id(apps_url)}/jobs") or []):
            if run_.poll() is not None or time.monotonic() > deadline:
                run_.kill()
                master_json = apps_url[:-len("4040/api/v1/applications")] + "8080/json/"
                raise AssertionError(f"the fit never started:\n{run_.communicate()[0][-5000:]}\n"
                                     f"{fetch_from(machines, 'master', master_json)}")
            time.sleep(0.05)
        killed = machines.run_on(name, f"sudo systemctl kill --kill-whom=main -s KILL {unit}")
        assert killed.returncode == 0, killed.stderr
        killed_at = time.monotonic()
        output, _ = run_.communicate(timeout=900)
        return run_.returncode, output, time.monotonic() - killed_at
    finally:
        if run_.poll() is None:
            run_.kill()


def _app_id(apps_url: str) -> str:
    """The id of the application whose driver UI answers at `apps_url`, or "" before it does."""
    apps = _get_json(apps_url)
    return apps[0]["id"] if apps else ""


def _newest_unified_record(controller) -> dict:
    records = sorted(controller.path(f"{controller.PROJECT}/reports/runs").glob("unified-s1-*.json"))
    return json.loads(records[-1].read_text())


def test_a_master_killed_in_the_middle_of_a_run_lets_the_run_finish_on_every_row(
        sequence, machines, controller):
    """The driver talks to its executors, not to the master: the fit goes on while
    systemd restarts the master. The restarted master then waits a minute for the
    ended run's driver (Spark's worker timeout) and takes no application at its
    address till then: the next run waits for the recovery instead of hanging."""
    code, output, seconds = _train_unified_killing(machines, controller, "master",
                                                   "nodewise-spark-master")
    print(f"master killed mid-fit: the run ended {seconds:.1f} s later with {code}")
    assert code == 0, output[-5000:]
    record = _newest_unified_record(controller)
    assert record["train_rows"] + record["test_rows"] == ROWS
    assert sorted(record["rows_per_node"]) == NODES
    wait_for_whole_cluster(machines, timeout=30)
    # RECOVERING when the run ended before the master was back (so far, every time)
    status = master_json(machines)["status"]
    started = time.monotonic()
    make(controller, "train-unified")
    print(f"the next run, started with the master {status}, took {time.monotonic() - started:.1f} s")
    assert _newest_unified_record(controller)["run_id"] != record["run_id"]


def _history_executors(machines, app_id: str, timeout: float = 60) -> list[dict]:
    """The application's executors as the history server lists them, once it does."""
    url = f"http://{machines['master'].address}:18080/api/v1/applications/{app_id}/allexecutors"
    deadline = time.monotonic() + timeout
    while not (executors := _get_json(url)):
        assert time.monotonic() < deadline, f"the history server does not list {app_id}"
        time.sleep(1)
    return executors


def test_a_worker_killed_in_the_middle_of_a_run_comes_back_and_the_run_uses_every_row(
        sequence, machines, controller):
    """worker2's worker (and with it its executor) killed -9 during the fit, with one
    partition per node so worker2 holds a part of it: systemd restarts the worker,
    the master gives the run a new executor there, and the lost part is read again."""
    code, output, seconds = _train_unified_killing(machines, controller, "worker2",
                                                   "nodewise-spark-worker", "REPARTITION_BY=row")
    print(f"worker2's worker killed mid-fit: the run ended {seconds:.1f} s later with {code}")
    assert code == 0, output[-5000:]
    record = _newest_unified_record(controller)
    assert record["train_rows"] + record["test_rows"] == ROWS
    assert sorted(record["rows_per_node"]) == NODES
    worker2 = machines["worker2"].address
    executors = [(e["hostPort"].split(":")[0], e["isActive"], e.get("removeReason", ""))
                 for e in _history_executors(machines, record["resources"]["app_id"])
                 if e["id"] != "driver"]
    lost = [e for e in executors if not e[1]]
    assert len(lost) == 1 and lost[0][0] == worker2 and "worker lost" in lost[0][2], executors
    assert sorted(e[0] for e in executors if e[1]) == sorted(machines[n].address for n in NODES)
    wait_for_whole_cluster(machines, timeout=60)


def test_a_rebooted_machine_comes_back_with_its_daemons(sequence, machines, controller):
    machines.power_off("worker1")
    machines.boot("worker1")
    wait_for_whole_cluster(machines, timeout=120)
    result = machines.run_on("worker1", "systemctl is-active nodewise-spark-worker")
    assert result.stdout.strip() == "active"
    # the cluster is whole again: a unified run reads every node's slice
    make(controller, "train-unified")
    records = sorted(controller.path(f"{controller.PROJECT}/reports/runs").glob("unified-s1-*.json"))
    record = json.loads(records[-1].read_text())
    assert sorted(record["rows_per_node"]) == NODES
    assert record["train_rows"] + record["test_rows"] == ROWS


def test_make_logs_brings_each_machines_journal_and_run_output(sequence, machines, controller):
    controller.run("make logs")
    logs = controller.path(f"{controller.PROJECT}/reports/logs")
    assert sorted(p.name for p in logs.iterdir()) == sorted(NODES)
    journal = (logs / "master" / "journal.txt").read_text()
    assert "Registering worker" in journal, journal[-2000:]
    runs_ = sorted((logs / "master" / "logs" / "runs").glob("*.log"))
    assert any(p.read_text().startswith("# make train-unified (seeds 1)") for p in runs_)


STRANGER = "10.213.78.99"  # on the machines' network, neither a node nor the controller


def _reachable_from_stranger(targets: list[tuple[str, int]]) -> list[bool]:
    """Whether a host in a namespace of its own on the machines' bridge can open each
    (address, port)."""
    netns, veth = vm.NETNS_PREFIX + "stranger", vm.VETH_PREFIX + "stranger"
    vm.make_netns(netns, veth, STRANGER, vm.BRIDGE)
    try:
        probe = ("import socket, sys\n"
                 "for target in sys.argv[1:]:\n"
                 "    address, port = target.split(':')\n"
                 "    try:\n"
                 "        socket.create_connection((address, int(port)), timeout=3).close()\n"
                 "        print('open')\n"
                 "    except OSError:\n"
                 "        print('closed')\n")
        result = vm.sh("ip", "netns", "exec", netns, sys.executable, "-c", probe,
                       *(f"{address}:{port}" for address, port in targets))
        return [line == "open" for line in result.stdout.split()]
    finally:
        vm.sh("ip", "netns", "del", netns, check=False)


def test_strangers_cannot_reach_sparks_ports_but_the_cluster_and_the_controller_can(
        sequence, machines, controller):
    """A host on the machines' network that is neither a node nor the controller:
    the nodes' nftables table drops it on Spark's ports, and only there."""
    master, worker1 = machines["master"].address, machines["worker1"].address
    spark_ports = [(master, 8080), (master, 18080), (master, 7077), (worker1, 8081),
                   (worker1, 7078)]
    assert _reachable_from_stranger(spark_ports + [(master, 22)]) == [False] * 5 + [True]
    from_controller = controller.run(
        "python3 -c 'import urllib.request; "
        f"print(urllib.request.urlopen(\"http://{master}:8080/json/\", timeout=10).status, "
        f"urllib.request.urlopen(\"http://{worker1}:8081/\", timeout=10).status)'")
    assert from_controller.stdout.split() == ["200", "200"]
    assert '"status" : "ALIVE"' in fetch_from(machines, "worker2", f"http://{master}:8080/json/")
    chain = machines.run_on("master", "sudo nft list chain inet nodewise input").stdout
    assert "7140-7156" in chain, chain  # federated averaging's exchange, the cluster's only
    rules = machines.run_on("master", "sudo nft list set inet nodewise allowed")
    allowed = re.findall(r"\d+\.\d+\.\d+\.\d+", rules.stdout)
    # the controller shares this machine's network: the bridge's address
    assert sorted(allowed) == sorted([machines[n].address for n in NODES] + [vm.GATEWAY])


def test_make_uninstall_asks_first_then_removes_what_up_put_there(sequence, machines, controller):
    refused = controller.run("make uninstall", check=False)
    assert refused.returncode != 0
    assert "add CONFIRM=yes" in refused.stdout, refused.stdout[-3000:]
    assert machines.run_on("master", "systemctl is-active nodewise-spark-master").stdout.strip() \
        == "active"

    removed = controller.run("make uninstall CONFIRM=yes")
    assert all(c["failed"] == 0 for c in recap(removed.stdout).values())
    for name in NODES:
        result = machines.run_on(
            name, "find /etc/systemd/system -name 'nodewise-*' | wc -l; id spark 2>&1 | grep -c 'no such';"
                  " test -e /opt/nodewise && echo root-kept || echo root-gone;"
                  " test -e /etc/nodewise && echo rules-kept || echo rules-gone;"
                  " sudo nft list tables | grep -c nodewise;"
                  " pgrep -c java; java -version 2>&1 | head -n 1")
        lines = result.stdout.splitlines()
        assert lines[:6] == ["0", "1", "root-gone", "rules-gone", "0", "0"], \
            (name, result.stdout, result.stderr)
        assert lines[6].startswith('openjdk version "17.'), (name, lines)  # packages stay
    again = recap(controller.run("make uninstall CONFIRM=yes").stdout)
    assert sorted(again) == ["localhost", *NODES]  # localhost: the confirmation check
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in again.values()), again
