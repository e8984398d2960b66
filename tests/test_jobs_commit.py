"""A model is used only once its run committed it (jobs/nodewise/runs.py), and
the slices' manifest (jobs/nodewise/manifest.py)."""

from __future__ import annotations

import json

import pytest

from nodewise import manifest, names, runs


def _model(root, run_id: str, model: str = "w1", archive: bytes | None = b"model bytes",
           committed: bool = True, **info) -> dict:
    (root / "models").mkdir(exist_ok=True)
    entry = {"run_id": run_id, "model": model, "seed": 1, **info}
    if archive is not None:
        path = root / "models" / f"{run_id}.tar.gz"
        path.write_bytes(archive)
        entry.setdefault("model_sha256", manifest.sha256_of(str(path)))
    if committed:
        (root / "models" / f"{run_id}.json").write_text(json.dumps(entry), encoding="utf-8")
    return entry


def test_committed_models_are_used_and_the_others_named_with_their_reason(tmp_path):
    _model(tmp_path, "w1-s1-a")
    _model(tmp_path, "w1-s1-died", committed=False)
    _model(tmp_path, "w1-s1-old", model_sha256=None)
    damaged = _model(tmp_path, "w1-s1-damaged")
    (tmp_path / "models" / "w1-s1-damaged.tar.gz").write_bytes(b"other bytes")
    _model(tmp_path, "w1-s1-gone", archive=None, model_sha256="00")
    infos, notes = runs.read_model_infos(str(tmp_path))
    assert list(infos) == ["w1-s1-a"]
    assert damaged["run_id"] not in infos
    assert notes == [
        "w1-s1-died: skipped, its run did not finish (an archive without its record)",
        "w1-s1-damaged: skipped, w1-s1-damaged.tar.gz does not match its checksum "
        "(damaged or replaced)",
        "w1-s1-gone: skipped, no archive w1-s1-gone.tar.gz",
        "w1-s1-old: skipped, its info has no checksum (made by an older nodewise; "
        "train it again)",
    ]


def test_a_vote_is_used_only_when_every_member_is(tmp_path):
    _model(tmp_path, "w1-s1-a")
    _model(tmp_path, "w2-s1-a", model="w2", committed=False)
    _model(tmp_path, "vote-s1-a", model=names.VOTE, archive=None,
           built_from=["w1-s1-a", "w2-s1-a"])
    infos, notes = runs.read_model_infos(str(tmp_path))
    assert list(infos) == ["w1-s1-a"]
    assert "vote-s1-a: skipped, its member w2-s1-a is not here" in notes


def test_manifest_rows_compared_per_node_name_the_node_and_the_cause():
    expected = {"master": 10, "worker1": 10, "worker2": 9}
    problems = manifest.row_problems(expected, {"master": 10, "worker1": 4}, list(expected),
                                     "read")
    assert problems == [
        "worker1: 4 rows read, the manifest has 10 (its slice is truncated or changed on "
        "worker1: run make up to put it back)",
        "worker2: 0 rows read, the manifest has 9 (its slice is missing on worker2: run make "
        "up to put it back)",
    ]
    assert manifest.row_problems(expected, dict(expected), list(expected), "read") == []
    with pytest.raises(ValueError, match="worker3 has no slice in the manifest"):
        manifest.require_rows(expected, {"worker3": 1}, ["worker3"], "read")


def test_a_missing_or_broken_manifest_names_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"no slice manifest at .*manifest.json: run make data"):
        manifest.read(str(tmp_path / "manifest.json"))
    (tmp_path / "manifest.json").write_text('{"slices": {"w1": {}}}', encoding="utf-8")
    with pytest.raises(ValueError, match="unreadable slice manifest"):
        manifest.read(str(tmp_path / "manifest.json"))
