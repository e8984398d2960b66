"""The job scripts run as they do on a node: spark-submit in local mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from nodewise_cli import generate, split

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOBS = os.path.join(PROJECT, "jobs")


def package_zip(path) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(os.listdir(os.path.join(JOBS, "nodewise"))):
            if name.endswith(".py"):
                archive.write(os.path.join(JOBS, "nodewise", name), f"nodewise/{name}")
    return str(path)


def submit(tmp_path, script, *args):
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable}
    command = [os.path.join(os.path.dirname(sys.executable), "spark-submit"),
               "--master", "local[2]", "--conf", "spark.ui.showConsoleProgress=false",
               "--py-files", package_zip(tmp_path / "nodewise.zip"),
               os.path.join(JOBS, script), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def node_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("node")
    generate.write_csv(str(root / "jobs.csv"), 400, seed=5)
    split.split_file(str(root / "jobs.csv"), ["w1"], str(root / "data"))
    return root


def records(directory):
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def test_train_node_then_evaluate_agree_on_the_nodes_test_part(node_root):
    # Two seeds in one application: a record each, with its own split and jobs.
    trained = submit(node_root, "train_node.py", "--node", "w1", "--data-dir",
                     str(node_root / "data"), "--out-dir", str(node_root), "--seed", "2",
                     "--seed=3")
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    seed2, seed3 = sorted(records(node_root / "runs"), key=lambda r: r["seed"])
    for record, seed in ((seed2, 2), (seed3, 3)):
        assert (record["model"], record["seed"], record["kind"]) == ("w1", seed, "train")
        assert record["train_rows"] + record["test_rows"] == 400
        assert record["evaluation"]["f1"] > 0.9
        assert record["resources"]["executor_cpu_seconds"] > 0
        shared = record["application"]
        assert (shared["app_id"], shared["seeds"]) == (record["resources"]["app_id"], [2, 3])
        assert shared["startup_share_seconds"] == pytest.approx(shared["startup_seconds"] / 2)
        assert record["total_seconds"] == pytest.approx(
            shared["startup_share_seconds"] + record["seed_seconds"])
    assert seed2["application"] == seed3["application"]
    assert seed2["train_rows"] != seed3["train_rows"]  # each seed draws its own 80/20 split
    # Each seed's figures are its own jobs': summed over the application, the second
    # seed's would hold the first's stages too, twice as many.
    assert seed3["resources"]["stage_count"] < 1.5 * seed2["resources"]["stage_count"]

    scored = submit(node_root, "evaluate.py", "--node", "w1", "--data-dir",
                    str(node_root / "data"), "--out-dir", str(node_root))
    assert scored.returncode == 0, scored.stdout[-3000:] + scored.stderr[-3000:]
    evaluations = {e["run_id"]: e for e in records(node_root / "evals")}
    for record in (seed2, seed3):
        evaluation = evaluations[record["run_id"]]
        assert evaluation["confusion_matrix"] == record["evaluation"]["confusion_matrix"]
        assert evaluation["test_rows"] == record["test_rows"]


def test_evaluate_skips_models_it_already_scored(node_root):
    before = records(node_root / "evals")
    again = submit(node_root, "evaluate.py", "--node", "w1", "--data-dir",
                   str(node_root / "data"), "--out-dir", str(node_root))
    assert again.returncode == 0
    assert "scored 0 model(s) on w1" in again.stdout + again.stderr
    assert records(node_root / "evals") == before


def test_evaluate_never_scores_a_model_on_slices_it_was_not_trained_on(tmp_path):
    """After another make data (here: other rows) the node's test part is not the model's."""
    _sliced(tmp_path, "w1")
    trained = submit(tmp_path, "train_node.py", "--node", "w1", "--data-dir",
                     str(tmp_path / "data"), "--out-dir", str(tmp_path), "--seed", "1")
    assert trained.returncode == 0, trained.stdout[-3000:]
    [record] = records(tmp_path / "runs")
    _sliced(tmp_path, "w1", seed=6)
    scored = submit(tmp_path, "evaluate.py", "--node", "w1", "--data-dir",
                    str(tmp_path / "data"), "--out-dir", str(tmp_path))
    assert scored.returncode == 0, scored.stdout[-3000:]
    assert (f"{record['run_id']}: not scored on w1: trained on other slices than the node holds "
            "now") in scored.stdout + scored.stderr
    assert "scored 0 model(s) on w1" in scored.stdout + scored.stderr
    assert not (tmp_path / "evals").exists() or not list((tmp_path / "evals").iterdir())


def _sliced(tmp_path, node: str, rows: int = 100, seed: int = 5):
    generate.write_csv(str(tmp_path / "jobs.csv"), rows, seed=seed)
    split.split_file(str(tmp_path / "jobs.csv"), [node], str(tmp_path / "data"))
    return tmp_path / "data" / f"jobs_{node}.csv"


def test_train_node_without_its_slice_fails_naming_the_file(tmp_path):
    _sliced(tmp_path, "w9").unlink()
    result = submit(tmp_path, "train_node.py", "--node", "w9", "--data-dir",
                    str(tmp_path / "data"), "--out-dir", str(tmp_path), "--seed", "1")
    assert result.returncode == 2
    assert "ERROR train_node: no slice at " in result.stdout
    assert "jobs_w9.csv" in result.stdout
    assert not (tmp_path / "runs").exists() and not (tmp_path / "models").exists()


def test_train_node_on_a_truncated_slice_fails_naming_the_node_and_the_rows(tmp_path):
    path = _sliced(tmp_path, "w1")
    lines = path.read_text(encoding="utf-8").splitlines(True)
    path.write_text("".join(lines[:-10]), encoding="utf-8")  # whole lines: it still parses
    result = submit(tmp_path, "train_node.py", "--node", "w1", "--data-dir",
                    str(tmp_path / "data"), "--out-dir", str(tmp_path), "--seed", "1")
    assert result.returncode == 2
    assert ("ERROR train_node: w1: 90 rows read, the manifest has 100 (its slice is truncated "
            "or changed on w1") in result.stdout
    assert not (tmp_path / "runs").exists() and not (tmp_path / "models").exists()


def test_train_node_without_a_manifest_fails_naming_it(tmp_path):
    (tmp_path / "data").mkdir()
    generate.write_csv(str(tmp_path / "data" / "jobs_w1.csv"), 100, seed=5)
    result = submit(tmp_path, "train_node.py", "--node", "w1", "--data-dir",
                    str(tmp_path / "data"), "--out-dir", str(tmp_path), "--seed", "1")
    assert result.returncode == 2
    assert f"no slice manifest at {tmp_path}/data/manifest.json" in result.stdout


def test_bad_arguments_exit_with_usage(tmp_path):
    result = submit(tmp_path, "train_node.py", "--seed", "1")
    assert result.returncode != 0
    # spark-submit merges the Python process's stderr into its stdout
    output = result.stdout + result.stderr
    assert "usage:" in output and "required: --out-dir, --node, --data-dir" in output
