"""Run records: one JSON file per training run and per evaluation."""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import platform
import secrets
import tempfile

from nodewise import manifest
from nodewise.names import VOTE

RECORD_VERSION = 1
# What a model's info file (beside its archive) repeats from the run record:
# enough to score the model, and to average per-node models into one.
# The info file is written last, after the archive and the run record, and
# carries the archive's sha256: a model without one (its run died before the
# end) or whose archive does not match it is never scored or combined.
INFO_KEYS = ("run_id", "model", "seed", "classifier", "feature_set", "train_rows", "built_from",
             "model_sha256", "split")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id(model: str, seed: int) -> str:
    """Unique and sortable: `<model>-s<seed>-<UTC time>-<random>`."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
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
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        fsync_directory(directory)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def fsync_directory(directory: str) -> None:
    """Make a rename in `directory` durable: a crash then leaves the old or the new file."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def record_path(out_dir: str, run_id: str) -> str:
    return os.path.join(out_dir, "runs", f"{run_id}.json")


def model_path(out_dir: str, run_id: str) -> str:
    return os.path.join(out_dir, "models", f"{run_id}.tar.gz")


def model_info_path(out_dir: str, run_id: str) -> str:
    """The small JSON beside a model archive saying which run and seed made it."""
    return os.path.join(out_dir, "models", f"{run_id}.json")


def save_model(model, out_dir: str, record: dict) -> None:
    """Write the model's archive and note its sha256 in `record` (before the record is written)."""
    from nodewise import model_io  # pyspark.ml: imported only where a model is saved

    path = model_path(out_dir, record["run_id"])
    model_io.save_model(model, path)
    record["model_sha256"] = manifest.sha256_of(path)


def commit_model(out_dir: str, record: dict) -> None:
    """Write the model's info file: last, after its archive and run record."""
    write_json(model_info_path(out_dir, record["run_id"]),
               {key: record.get(key) for key in INFO_KEYS})


def evaluation_path(out_dir: str, run_id: str, node: str) -> str:
    return os.path.join(out_dir, "evals", f"eval-{run_id}-on-{node}.json")


def unusable_reason(out_dir: str, info: dict, infos: dict[str, dict]) -> str | None:
    """Why the model of `info` cannot be used here, or None. `infos`: every model info
    here by run id, for a vote's members."""
    if info["model"] == VOTE:
        members = info.get("built_from") or []
        if not members:
            return "a vote without members"
        for member in members:
            if member not in infos:
                return f"its member {member} is not here"
            reason = unusable_reason(out_dir, infos[member], infos)
            if reason:
                return f"its member {member}: {reason}"
        return None
    path = model_path(out_dir, info["run_id"])
    if not os.path.exists(path):
        return f"no archive {os.path.basename(path)}"
    if not info.get("model_sha256"):
        return "its info has no checksum (made by an older nodewise; train it again)"
    if manifest.sha256_of(path) != info["model_sha256"]:
        return f"{os.path.basename(path)} does not match its checksum (damaged or replaced)"
    return None


def read_model_infos(out_dir: str) -> tuple[dict[str, dict], list[str]]:
    """Every committed model info under `out_dir`/models by run id, and notes on the
    models that are left out: unusable ones, and archives without info (their run
    died between saving the model and committing it)."""
    infos, notes = {}, []
    for path in sorted(glob.glob(os.path.join(out_dir, "models", "*.json"))):
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
        infos[info["run_id"]] = info
    for archive in sorted(glob.glob(os.path.join(out_dir, "models", "*.tar.gz"))):
        run_id = os.path.basename(archive)[:-len(".tar.gz")]
        if run_id not in infos:
            notes.append(f"{run_id}: skipped, its run did not finish (an archive without its "
                         f"record)")
    usable = {}
    for run_id, info in infos.items():
        reason = unusable_reason(out_dir, info, infos)
        if reason:
            notes.append(f"{run_id}: skipped, {reason}")
        else:
            usable[run_id] = info
    return usable, notes
