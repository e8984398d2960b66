"""The namespace test hosts themselves (tests/nshosts.py): isolation, SSH,
Ansible reachability and a teardown that leaves nothing behind.

Needs root, iproute2, util-linux and openssh-server; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import nshosts
from nshosts import NsHosts

pytestmark = pytest.mark.e2e

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(PROJECT, ".venv", "bin")
NAMES = ["master", "worker1", "worker2"]


@pytest.fixture(autouse=True)
def _need_namespaces():
    reason = nshosts.skip_reason()
    if reason:
        pytest.skip(reason)


def alive(pid: int) -> bool:
    """True if pid runs (a zombie is dead: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def assert_nothing_left() -> None:
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert [line for line in netns.stdout.splitlines() if line.startswith("nw-")] == []
    bridge = subprocess.run(["ip", "link", "show", nshosts.BRIDGE], capture_output=True, text=True)
    assert bridge.returncode != 0
    veths = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True)
    assert nshosts.VETH_PREFIX not in veths.stdout


def ansible(hosts: NsHosts, *args: str) -> subprocess.CompletedProcess:
    env = {**hosts.env(), "ANSIBLE_CONFIG": os.path.join(PROJECT, "ansible.cfg")}
    return subprocess.run([os.path.join(VENV_BIN, "ansible"), "-i", str(hosts.inventory), *args],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)


# The tests that build their own hosts come first: they share the bridge name
# with the three-host fixture, which is only created by the first test using it.

def test_teardown_kills_background_processes_and_removes_everything(tmp_path):
    with NsHosts(["master"], tmp_path) as hosts:
        started = hosts.run_on("master", "nohup sleep 300 >/dev/null 2>&1 & echo $!")
        assert started.returncode == 0, started.stderr
        pid = int(started.stdout)
        assert alive(pid)
        assert pid in nshosts.netns_pids("nw-master")
    assert not alive(pid)
    assert_nothing_left()
    hosts.stop()                        # idempotent
    assert (tmp_path / "master" / "sshd.log").exists()   # base dir is kept for debugging


def test_teardown_after_a_failing_test_body(tmp_path):
    with pytest.raises(RuntimeError, match="the test body failed"), NsHosts(["master"], tmp_path):
        raise RuntimeError("the test body failed")
    assert_nothing_left()


def test_setup_failing_halfway_cleans_up(tmp_path, monkeypatch):
    real_start = NsHosts._start_sshd

    def start_then_fail(self, host):
        if host.name == "worker1":
            raise RuntimeError("simulated failure")
        real_start(self, host)

    monkeypatch.setattr(NsHosts, "_start_sshd", start_then_fail)
    with pytest.raises(RuntimeError, match="simulated failure"):
        NsHosts(["master", "worker1"], tmp_path).start()
    assert_nothing_left()


def test_leftovers_of_a_crashed_run_are_cleared(tmp_path):
    # A run that dies without teardown leaves namespaces, a daemon and the
    # directories it made outside its base (mount point, /run/sshd).
    made = [p for p in (nshosts.NODE_ROOT, nshosts.PRIVSEP_DIR) if not os.path.exists(p)]
    crash = ("import os, sys; sys.path.insert(0, sys.argv[1]); import nshosts; "
             "h = nshosts.NsHosts(['master', 'worker1'], sys.argv[2]).start(); "
             "print(h.run_on('worker1', 'nohup sleep 300 >/dev/null 2>&1 & echo $!').stdout); "
             "os._exit(9)")
    crashed = subprocess.run([sys.executable, "-c", crash, os.path.dirname(__file__),
                              str(tmp_path / "crashed")], capture_output=True, text=True)
    assert crashed.returncode == 9, crashed.stderr
    pid = int(crashed.stdout)
    assert alive(pid)
    assert nshosts.leftover_names() == ["master", "worker1"]
    with NsHosts(["master"], tmp_path / "next"):
        assert nshosts.leftover_names() == ["master"]
        assert not alive(pid)
    assert_nothing_left()
    assert [p for p in made if os.path.exists(p)] == []


def test_skip_reason_is_none_here():
    assert nshosts.skip_reason() is None


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    reason = nshosts.skip_reason()
    if reason:
        pytest.skip(reason)
    with NsHosts(NAMES, tmp_path_factory.mktemp("nshosts"),
                 extra_vars=["nodewise_system=false"]) as made:
        yield made
    assert_nothing_left()


def test_each_host_has_its_own_name_and_address(hosts):
    addresses = {name: host.address for name, host in hosts.hosts.items()}
    assert addresses == {"master": "10.213.77.11", "worker1": "10.213.77.12",
                         "worker2": "10.213.77.13"}
    for name in NAMES:
        result = hosts.run_on(name, "hostname; ip -4 -o addr")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == name
        assert f"inet {addresses[name]}/24" in result.stdout
        for other in set(NAMES) - {name}:
            assert addresses[other] not in result.stdout


def test_hosts_reach_each_other_by_name(hosts):
    result = hosts.run_on("worker2", "getent hosts master && "
                          "python3 -c 'import socket; socket.create_connection((\"master\", 22), 5)'")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10.213.77.11", "master"]


def test_node_root_is_each_hosts_own_directory(hosts):
    result = hosts.run_on("worker1", "echo from-worker1 > /opt/nodewise/probe.txt")
    assert result.returncode == 0, result.stderr
    assert (hosts.hosts["worker1"].root / "probe.txt").read_text() == "from-worker1\n"
    assert not (hosts.hosts["master"].root / "probe.txt").exists()
    assert not os.path.exists("/opt/nodewise/probe.txt")
    assert hosts.run_on("master", "test -e /opt/nodewise/probe.txt").returncode == 1


def test_inventory_groups_and_vars(hosts):
    text = hosts.inventory.read_text()
    assert "[spark_master]\nmaster ansible_host=10.213.77.11 nodewise_address=10.213.77.11\n" in text
    assert ("[spark_workers]\n"
            "worker1 ansible_host=10.213.77.12 nodewise_address=10.213.77.12\n"
            "worker2 ansible_host=10.213.77.13 nodewise_address=10.213.77.13\n") in text
    assert "[nodewise:children]\nspark_master\nspark_workers\n" in text
    assert f"ansible_ssh_private_key_file={hosts.key}\n" in text
    assert "ansible_python_interpreter=/usr/bin/python3\n" in text
    assert text.endswith("nodewise_system=false\n")


def test_ansible_pings_every_host(hosts):
    result = ansible(hosts, "all", "-m", "ansible.builtin.ping")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 3
    assert result.stdout.count('"ping": "pong"') == 3


def test_ansible_facts_give_each_hosts_own_name(hosts):
    result = ansible(hosts, "nodewise", "-o", "-m", "ansible.builtin.setup",
                     "-a", "filter=ansible_hostname")
    assert result.returncode == 0, result.stdout + result.stderr
    names = {}
    for line in result.stdout.splitlines():
        host, rest = line.split(" | SUCCESS => ", 1)
        names[host] = json.loads(rest)["ansible_facts"]["ansible_hostname"]
    assert names == {name: name for name in NAMES}
