"""make remembers the cluster it set up, and keeps other clusters' files apart
(nodewise_cli/clusters.py), on real files in a project folder of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nodewise_cli import clusters

HOSTS = "[spark_master]\nmaster {master}\n\n[spark_workers]\nworker1\n\n"


def write_inventory(path, master="ansible_host=192.168.56.10", variables=""):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(HOSTS.format(master=master))
        out.write("[spark_master:vars]\n" + variables + "\n")
    return path


def write_run(run_id, master="local[*]", content="x"):
    os.makedirs("reports/runs", exist_ok=True)
    with open(f"reports/runs/{run_id}.json", "w", encoding="utf-8") as out:
        json.dump({"kind": "train", "run_id": run_id, "master": master, "note": content}, out)


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_inventory("inventories/local.ini", master="", variables="nodewise_address=127.0.0.1")
    write_inventory("vms.ini")
    return tmp_path


def test_the_first_target_remembers_its_inventory(project):
    messages = clusters.use("vms.ini")
    assert messages == ["cluster vms (vms.ini) is now the current one"]
    assert clusters.remembered() == "vms.ini"
    assert clusters.use("vms.ini") == ["cluster vms (vms.ini)"]


def test_a_switch_keeps_the_old_clusters_files_apart_and_brings_them_back(project):
    clusters.use("inventories/local.ini")
    write_run("demo-run", content="demo")
    write_file("data/split/jobs_master.csv", "demo slice")
    write_file("reports/report.md", "# demo report")

    messages = clusters.use("vms.ini")
    assert messages[0] == "cluster local's split, runs, report.md kept in reports/clusters/local/"
    assert not os.path.exists("reports/runs") and not os.path.exists("data/split")
    assert read("reports/clusters/local/inventory") == "inventories/local.ini\n"
    assert json.loads(read("reports/clusters/local/runs/demo-run.json"))["note"] == "demo"

    write_run("vm-run", content="vm")
    clusters.use("inventories/local.ini")
    assert os.listdir("reports/runs") == ["demo-run.json"]
    assert read("data/split/jobs_master.csv") == "demo slice"
    assert read("reports/report.md") == "# demo report"
    assert os.listdir("reports/clusters") == ["vms"]
    assert os.listdir("reports/clusters/vms/runs") == ["vm-run.json"]
    assert clusters.remembered() == "inventories/local.ini"


def test_a_switch_cut_short_is_finished_by_the_next_target(project):
    clusters.use("vms.ini")
    write_run("vm-run")
    clusters.use("inventories/local.ini")
    clusters.remember("vms.ini")  # as if killed after remembering, before bringing back
    assert clusters.use("vms.ini") == ["cluster vms (vms.ini)"]
    assert os.listdir("reports/runs") == ["vm-run.json"]
    assert not os.path.exists("reports/clusters/vms")


def test_an_inventory_with_its_own_folders_is_not_remembered_and_moves_nothing(project):
    clusters.use("vms.ini")
    write_run("vm-run")
    write_inventory("sandbox.ini", variables="nodewise_reports_dir=/tmp/elsewhere")
    assert clusters.use("sandbox.ini") == [
        "cluster sandbox (sandbox.ini), with its own split and reports folders"]
    assert clusters.remembered() == "vms.ini"
    assert os.listdir("reports/runs") == ["vm-run.json"]


def test_files_from_before_are_kept_as_the_cluster_whose_master_ran_them(project):
    write_run("old-unified", master="spark://127.0.0.1:7077")
    write_run("old-node")
    messages = clusters.use("vms.ini")
    assert messages[0] == "cluster local's runs kept in reports/clusters/local/"
    assert read("reports/clusters/local/inventory") == "inventories/local.ini\n"
    assert sorted(os.listdir("reports/clusters/local/runs")) == ["old-node.json",
                                                                 "old-unified.json"]


def test_files_from_before_of_no_known_cluster_are_kept_as_earlier(project):
    write_run("old-unified", master="spark://10.0.0.5:7077")
    clusters.use("vms.ini")
    assert os.listdir("reports/clusters/earlier/runs") == ["old-unified.json"]
    assert "unknown" in read("reports/clusters/earlier/inventory")


def test_files_from_before_of_the_same_cluster_stay_in_place(project):
    write_run("old-unified", master="spark://127.0.0.1:7077")
    clusters.use("inventories/local.ini")
    assert os.listdir("reports/runs") == ["old-unified.json"]
    assert not os.path.exists("reports/clusters")


def test_two_inventories_with_one_name_are_refused(project):
    clusters.use("vms.ini")
    write_inventory("other/vms.ini")
    with pytest.raises(clusters.ClusterError, match="both be cluster vms: rename one"):
        clusters.use("other/vms.ini")
    assert clusters.remembered() == "vms.ini"


def test_a_stash_is_never_overwritten(project):
    clusters.use("vms.ini")
    write_run("vm-run")
    write_file("data/split/jobs_master.csv", "vm slice")
    write_file("reports/clusters/vms/runs/kept.json", "{}")  # left there by hand
    with pytest.raises(clusters.ClusterError, match="reports/clusters/vms/runs exist"):
        clusters.use("inventories/local.ini")
    assert clusters.remembered() == "vms.ini"
    assert os.listdir("reports/runs") == ["vm-run.json"]
    assert read("data/split/jobs_master.csv") == "vm slice"
    assert os.listdir("reports/clusters/vms") == ["runs"]


def test_the_command_names_a_missing_inventory(project):
    result = subprocess.run([sys.executable, "-m", "nodewise_cli.clusters", "gone.ini"],
                            capture_output=True, text=True, env={**os.environ,
                                                                 "PYTHONPATH": clusters_root()})
    assert result.returncode == 1
    assert result.stderr.startswith("error: inventory gone.ini not found")


def clusters_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(clusters.__file__)))
