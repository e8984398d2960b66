"""Static checks of the playbooks, roles and Makefile (no cluster needed)."""

from __future__ import annotations

import os
import subprocess
import sys

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
PLAYBOOKS = ["site.yml", *sorted(
    os.path.join("ansible", "playbooks", name)
    for name in os.listdir(os.path.join(PROJECT, "ansible", "playbooks")))]


def run(*args):
    return subprocess.run(args, cwd=PROJECT, capture_output=True, text=True, check=False)


def test_ansible_lint_passes_offline():
    result = run(os.path.join(BIN, "ansible-lint"), "--offline", "--nocolor")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 failure(s), 0 warning(s)" in result.stdout + result.stderr


def test_every_playbook_passes_the_syntax_check():
    for inventory in ("inventory.ini", "inventories/local.ini"):
        result = run(os.path.join(BIN, "ansible-playbook"), "-i", inventory, "--syntax-check",
                     *PLAYBOOKS)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("playbook: ") == len(PLAYBOOKS)


def test_both_inventories_have_the_three_nodes_master_first():
    for inventory in ("inventory.ini", "inventories/local.ini"):
        result = run(sys.executable, "-m", "nodewise_cli", "nodes", "--inventory", inventory)
        assert result.stdout.split() == ["master", "worker1", "worker2"], result.stderr


def test_make_help_lists_every_user_target():
    result = run("make", "help")
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {"help", "setup", "data", "up", "down", "status", "train-node", "train-nodes",
            "train-unified", "train-federated", "evaluate", "report", "demo", "test", "clean",
            "uninstall"} <= listed


def test_train_node_without_node_says_so_and_lists_nodes():
    result = run("make", "train-node", "INVENTORY=inventories/local.ini")
    assert result.returncode != 0
    assert "NODE not set" in result.stdout
    assert "master worker1 worker2" in result.stdout


def test_readme_documents_every_cli_command_and_option():
    from nodewise_cli.cli import main

    with open(os.path.join(PROJECT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    for name, command in main.commands.items():
        assert f"`{name}" in readme, name
        for param in command.params:
            for option in param.opts:
                if option.startswith("--"):
                    assert f"`{option}`" in readme, f"{name} {option}"


def vagrant(*args, cwd=PROJECT, **env):
    """Runs vagrant offline (no version check), or skips without it."""
    import shutil

    import pytest

    if shutil.which("vagrant") is None:
        pytest.skip("vagrant not installed (apt-get install vagrant)")
    return subprocess.run(["vagrant", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "VAGRANT_CHECKPOINT_DISABLE": "1", **env})


def vagrant_validate(**env):
    """vagrant validate; without a usable provider (no VirtualBox, libvirt...)
    it can check everything but the provider blocks."""
    result = vagrant("validate", **env)
    if "No usable default provider" in result.stderr:
        result = vagrant("validate", "--ignore-provider", **env)
    return result


def test_vagrantfile_validates_and_matches_the_inventory():
    import re

    result = vagrant_validate(NODEWISE_VAGRANT_ARCH="amd64")
    assert result.returncode == 0 and "validated successfully" in result.stdout, result.stderr
    with open(os.path.join(PROJECT, "Vagrantfile"), encoding="utf-8") as handle:
        boxes = dict(re.findall(r'"(\w+)"\s*=>\s*"([\d.]+)"', handle.read()))
    with open(os.path.join(PROJECT, "inventory.ini"), encoding="utf-8") as handle:
        hosts = dict(re.findall(r"^(\w+)\s+ansible_host=([\d.]+)", handle.read(), re.M))
    assert boxes == hosts == {"master": "192.168.56.10", "worker1": "192.168.56.11",
                              "worker2": "192.168.56.12"}


def test_vagrantfile_has_an_arm64_box_that_only_vagrant_2_4_can_choose():
    with open(os.path.join(PROJECT, "Vagrantfile"), encoding="utf-8") as handle:
        vagrantfile = handle.read()
    assert 'config.vm.box = "bento/debian-12"' in vagrantfile
    assert 'config.vm.box_architecture = "arm64"' in vagrantfile
    assert 'RbConfig::CONFIG["host_cpu"] =~ /arm|aarch64/' in vagrantfile
    for provider in ("virtualbox", "vmware_desktop", "parallels"):
        assert f'node.vm.provider "{provider}"' in vagrantfile, provider
    result = vagrant_validate(NODEWISE_VAGRANT_ARCH="arm64")
    version = vagrant("--version").stdout.split()[-1]
    if tuple(int(part) for part in version.split(".")[:2]) >= (2, 4):
        assert result.returncode == 0 and "validated successfully" in result.stdout, result.stderr
    else:
        # An older Vagrant would fetch the box's default (amd64) build.
        assert result.returncode != 0
        assert ">= 2.4.0" in result.stdout + result.stderr


def test_vagrant_destroy_drops_the_box_host_key(tmp_path):
    """The after-destroy trigger, run through a do-nothing provider."""
    import shutil

    import pytest

    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    fake_provider = """
class NodewiseNoop
  def initialize(app, _env); @app = app; end
  def call(env); @app.call(env); end
end
class NodewiseFakeProvider < Vagrant.plugin("2", :provider)
  def initialize(machine); @machine = machine; end
  def action(_name); Vagrant::Action::Builder.new.tap { |b| b.use NodewiseNoop }; end
  def state; Vagrant::MachineState.new(:running, "running", "running"); end
end
class NodewiseFakePlugin < Vagrant.plugin("2")
  name "nodewise-fake"
  provider(:nodewise_fake) { NodewiseFakeProvider }
end
"""
    with open(os.path.join(PROJECT, "Vagrantfile"), encoding="utf-8") as handle:
        (tmp_path / "Vagrantfile").write_text(fake_provider + handle.read(), encoding="utf-8")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm9cVmeHbpnQ9v1PxnJZpaSgLIkIpQyFbmOFhzhuBVY"
    known_hosts = tmp_path / ".known_hosts"
    known_hosts.write_text(f"192.168.56.10 {key}\n192.168.56.11 {key}\n", encoding="utf-8")
    result = vagrant("destroy", "-f", "master", cwd=tmp_path,
                     VAGRANT_DEFAULT_PROVIDER="nodewise_fake",
                     VAGRANT_HOME=str(tmp_path / "vagrant.d"), NODEWISE_VAGRANT_ARCH="amd64")
    assert "Forget master's host key" in result.stdout, result.stdout + result.stderr
    assert known_hosts.read_text(encoding="utf-8").split() == ["192.168.56.11", *key.split()]


def test_inventory_uses_the_vagrant_key_and_the_project_known_hosts(tmp_path):
    import json
    import shutil

    shutil.copy(os.path.join(PROJECT, "inventory.ini"), tmp_path / "inventory.ini")
    key = tmp_path / ".vagrant" / "machines" / "master" / "virtualbox" / "private_key"
    key.parent.mkdir(parents=True)
    key.write_text("not a real key\n", encoding="utf-8")
    inventory = str(tmp_path / "inventory.ini")
    host = json.loads(run(os.path.join(BIN, "ansible-inventory"), "-i", inventory, "--host",
                          "master").stdout)
    assert host["ansible_host"] == "192.168.56.10"
    # Templated as the ssh connection sees it; -c local: nothing connects.
    result = subprocess.run(
        [os.path.join(BIN, "ansible"), "-i", inventory, "master:worker1", "-c", "local",
         "-m", "ansible.builtin.debug", "-a", "var=ansible_ssh_common_args"],
        cwd=PROJECT, capture_output=True, text=True, check=False,
        env={**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
             "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    hosts = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]
    args = {name: hosts[name]["ansible_ssh_common_args"] for name in ("master", "worker1")}
    for name in args:
        assert f"""-o 'UserKnownHostsFile="{tmp_path}/.known_hosts"'""" in args[name]
        assert "-o StrictHostKeyChecking=accept-new" in args[name]
        assert "StrictHostKeyChecking=no" not in args[name]
    assert f"""-o 'IdentityFile="{key}"'""" in args["master"]
    # No Vagrant key: nothing forced, so ssh's defaults or --private-key apply.
    assert "IdentityFile" not in args["worker1"]


def local_copy(tmp_path):
    """A copy of the embedded default whose node roots hold a few files."""
    import shutil

    (tmp_path / "inventories").mkdir()
    shutil.copy(os.path.join(PROJECT, "inventories", "local.ini"), tmp_path / "inventories")
    # Its own folders: a sandbox, so make leaves the project's current cluster alone.
    with open(tmp_path / "inventories" / "local.ini", "a", encoding="utf-8") as out:
        out.write(f"nodewise_split_dir={tmp_path}/split\nnodewise_reports_dir={tmp_path}/reports\n")
    for name in ("master", "worker1", "worker2"):
        (tmp_path / ".nodes" / name / "conf").mkdir(parents=True)
        (tmp_path / ".nodes" / name / "conf" / "spark-defaults.conf").write_text("x\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "keep").write_text("x\n")
    return f"INVENTORY={tmp_path / 'inventories' / 'local.ini'}"


def test_make_uninstall_without_confirm_changes_nothing(tmp_path):
    inventory = local_copy(tmp_path)
    result = run("make", "uninstall", inventory)
    assert result.returncode != 0
    assert "add CONFIRM=yes" in result.stdout + result.stderr, result.stdout[-3000:]
    assert sorted(path.name for path in (tmp_path / ".nodes").iterdir()) == [
        "master", "worker1", "worker2"]


def test_make_uninstall_removes_the_node_roots_only(tmp_path):
    inventory = local_copy(tmp_path)
    result = run("make", "uninstall", inventory, "CONFIRM=yes")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert list((tmp_path / ".nodes").iterdir()) == []
    assert (tmp_path / ".venv" / "keep").exists()  # nodewise_venv lies outside the node roots


def json_playbook_run(*args):
    """ansible-playbook with the json callback: its parsed output and the result."""
    import json

    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), *args], cwd=PROJECT, capture_output=True,
        text=True, check=False,
        env={**os.environ, "ANSIBLE_CONFIG": os.path.join(PROJECT, "ansible.cfg"),
             "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    return (json.loads(result.stdout) if result.stdout.startswith("{") else {}), result


def test_memory_is_sized_from_each_nodes_ram_unless_the_inventory_sets_it(tmp_path):
    # This machine's real facts; the master keeps room for its daemons and the driver.
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[spark_master]\nmaster\n[spark_workers]\nworker1\n"
                         "worker2 nodewise_worker_memory=1234m\n[all:vars]\n"
                         "ansible_connection=local\n"
                         "ansible_python_interpreter={{ ansible_playbook_python }}\n")
    playbook = tmp_path / "sizes.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: true\n  gather_subset: [min, hardware]\n"
        "  roles: [nodewise]\n  tasks:\n    - ansible.builtin.debug:\n"
        "        msg: \"{{ ansible_facts.memtotal_mb }} {{ nodewise_worker_memory }}"
        " {{ nodewise_executor_memory }}\"\n")
    output, result = json_playbook_run("-i", str(inventory), str(playbook))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    hosts = output["plays"][0]["tasks"][-1]["hosts"]
    sizes = {name: hosts[name]["msg"].split() for name in ("master", "worker1", "worker2")}
    total = int(sizes["master"][0])
    assert sizes["master"][1:] == [f"{total - 768 - 3 * 512 - 1024}m"] * 2
    assert sizes["worker1"][1:] == [f"{total - 768 - 512}m"] * 2
    assert sizes["worker2"][1:] == ["1234m", "1234m"]


def older_python() -> str | None:
    """A real Python older than 3.11 on this machine, if there is one."""
    import glob
    import shutil

    pyenv = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    for candidate in [*pyenv, shutil.which("python3.10"), shutil.which("python3.9")]:
        if candidate and subprocess.run(
                [candidate, "-c", "import sys; sys.exit(not (3, 8) <= sys.version_info < (3, 11))"],
                capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def test_a_node_with_python_older_than_3_11_is_refused_before_anything_is_installed(tmp_path):
    import pytest

    from nodewise_cli import sandbox

    python = older_python()
    if python is None:
        pytest.skip("no Python older than 3.11 on this machine (python3.10, python3.9, pyenv)")
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    inventory = tmp_path / "old.ini"
    inventory.write_text(sandbox.inventory_text(str(tmp_path), 29000)
                         + "nodewise_spark_install=wheelhouse\n"
                         f"nodewise_python={python}\nnodewise_venv={tmp_path}/venv\n")
    output, result = json_playbook_run("-i", str(inventory), "site.yml", "--tags", "spark")
    assert result.returncode != 0
    failures = [host["msg"] for play in output["plays"] for task in play["tasks"]
                for host in task["hosts"].values() if host.get("failed")]
    assert failures, result.stdout[-3000:]
    assert all(f"has Python {version} at {python}; nodewise needs Python 3.11 or newer" in f
               for f in failures), failures
    assert not (tmp_path / "venv").exists()
    assert not (tmp_path / "nodes" / "master" / "conf" / "spark-defaults.conf").exists()


def test_every_target_that_runs_a_playbook_passes_ansible_args_on():
    targets = ["up", "down", "status", "ui", "uninstall", "train-node", "train-nodes",
               "train-unified", "train-federated", "evaluate"]
    for target in targets:
        # -n: print the commands only; nothing runs.
        result = run("make", "-n", target, "INVENTORY=inventories/local.ini", "NODE=worker1",
                     "ANSIBLE_ARGS=--diff -v")
        playbook_lines = [line for line in result.stdout.splitlines() if "ansible-playbook" in line]
        assert playbook_lines, (target, result.stdout, result.stderr)
        assert all(" -i inventories/local.ini --diff -v " in line for line in playbook_lines), \
            (target, playbook_lines)


def test_make_clean_removes_what_the_targets_wrote_and_keeps_venv_secret_and_host_keys(tmp_path):
    import shutil

    shutil.copy(os.path.join(PROJECT, "Makefile"), tmp_path / "Makefile")
    written = ["data/ai_jobs_2030.csv", "data/split/jobs_master.csv", ".nodes/master/runs/r.json",
               ".nodewise/inventory", "reports/runs/r.json", "reports/models/m.tar.gz",
               "reports/logs/master/journal.txt", "reports/clusters/local/inventory",
               "reports/summary.csv", "reports/report.md", "reports/report.html",
               "reports/f1_per_model.png", "reports/bench.csv", "reports/bench.md",
               "reports/bench.png", "build/wheelhouse/cp311/x.whl", "build/bench/nodes/x"]
    kept = [".venv/bin/python", ".secrets/spark_auth_secret", ".known_hosts", "reports/README.md",
            "data/README.md"]
    for name in written + kept:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    result = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert [name for name in written if (tmp_path / name).exists()] == []
    assert [name for name in kept if not (tmp_path / name).exists()] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".known_hosts", ".secrets", ".venv", "Makefile", "data", "reports"])


def test_a_job_on_a_node_that_was_never_set_up_says_what_is_missing(tmp_path):
    inventory = local_copy(tmp_path)
    result = run("make", "train-node", "NODE=worker1", inventory)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "worker1 is not set up (missing" in output, output[-3000:]
    for missing in ("bin/spark-submit", "bin/run-locked", "jobs/nodewise.zip"):
        assert f"{tmp_path}/.nodes/worker1/{missing}" in output, output[-3000:]
    assert "run `make up INVENTORY=" in output
