"""Run records: one JSON file per training run and per evaluation."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import secrets
import tempfile

RECORD_VERSION = 1
UNIFIED = "unified"
FEDERATED = "federated"
VOTE = "vote"  # has no archive: its info names the member runs (built_from)
# What a model's info file (beside its archive) repeats from the run record:
# enough to score the model, and to average per-node models into one.
INFO_KEYS = ("run_id", "model", "seed", "classifier", "feature_set", "train_rows", "built_from")


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id(model: str, seed: int) -> str:
    """Unique and sortable: `<model>-s<seed>-<UTC time>-<random>`."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{model}-s{seed}-{stamp}-{secrets.token_hex(3)}"


def versions(spark) -> dict:
    return {"spark": spark.version, "python": platform.python_version(),
            "record": RECORD_VERSION}


def write_json(path: str, record: dict) -> None:
    """Write `record` atomically, so a reader never sees half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(record, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def record_path(out_dir: str, run_id: str) -> str:
    return os.path.join(out_dir, "runs", f"{run_id}.json")


def model_path(out_dir: str, run_id: str) -> str:
    return os.path.join(out_dir, "models", f"{run_id}.tar.gz")


def model_info_path(out_dir: str, run_id: str) -> str:
    """The small JSON beside a model archive saying which run and seed made it."""
    return os.path.join(out_dir, "models", f"{run_id}.json")


def save_model_with_info(model, out_dir: str, record: dict) -> None:
    """Write the model archive, then its info file (evaluation looks for the info)."""
    from nodewise import model_io

    model_io.save_model(model, model_path(out_dir, record["run_id"]))
    info = {key: record.get(key) for key in INFO_KEYS}
    write_json(model_info_path(out_dir, record["run_id"]), info)


def evaluation_path(out_dir: str, run_id: str, node: str) -> str:
    return os.path.join(out_dir, "evals", f"eval-{run_id}-on-{node}.json")


def model_available(out_dir: str, info: dict) -> bool:
    """Whether the model of `info` can be loaded here: its archive, or every member's."""
    if info["model"] == VOTE:
        members = info.get("built_from") or []
        return bool(members) and all(os.path.exists(model_path(out_dir, m)) for m in members)
    return os.path.exists(model_path(out_dir, info["run_id"]))
