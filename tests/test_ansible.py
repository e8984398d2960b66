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
            "train-unified", "evaluate", "report", "demo", "test", "clean"} <= listed


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


def test_vagrantfile_validates_and_matches_the_inventory():
    import re
    import shutil

    import pytest

    if shutil.which("vagrant") is None:
        pytest.skip("vagrant not installed (apt-get install vagrant)")
    result = run("vagrant", "validate")
    assert result.returncode == 0 and "validated successfully" in result.stdout, result.stderr
    with open(os.path.join(PROJECT, "Vagrantfile"), encoding="utf-8") as handle:
        boxes = dict(re.findall(r'"(\w+)"\s*=>\s*"([\d.]+)"', handle.read()))
    with open(os.path.join(PROJECT, "inventory.ini"), encoding="utf-8") as handle:
        hosts = dict(re.findall(r"^(\w+)\s+ansible_host=([\d.]+)", handle.read(), re.M))
    assert boxes == hosts == {"master": "192.168.56.10", "worker1": "192.168.56.11",
                              "worker2": "192.168.56.12"}
