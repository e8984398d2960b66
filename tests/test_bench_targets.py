"""make bench-targets' parts that need no cluster: its table, its checks before it starts."""

from __future__ import annotations

import socket

import pytest

from nodewise_cli import bench_targets

UNIFIED = 'make train-unified SEEDS="1 2 3"'


def timed(target, label, *seconds):
    commit = {"base": "a" * 40, "head": "b" * 40}[label]
    return [{"target": target, "commit": commit, "label": label, "run": i, "seconds": s}
            for i, s in enumerate(seconds, 1)]


def test_each_target_gets_both_medians_and_heads_share_of_the_base():
    rows = (timed(bench_targets.DEMO, "base", 362.0) + timed(bench_targets.DEMO, "head", 181.0)
            + timed(UNIFIED, "base", 60.0, 64.0, 100.0) + timed(UNIFIED, "head", 20.0, 22.0, 21.0))
    table = bench_targets.ratios(rows).set_index("target")
    assert table.loc[bench_targets.DEMO, "head / base"] == pytest.approx(0.5)
    assert table.loc[UNIFIED, "base s (median)"] == 64.0
    assert table.loc[UNIFIED, "head / base"] == pytest.approx(21.0 / 64.0)
    assert table.loc[UNIFIED, "runs"] == "3 + 3"
    text = bench_targets.markdown(rows)
    assert f"| {UNIFIED} | 64.0 | 21.0 | 0.33 | 3 + 3 |" in text
    assert "Base aaaaaaaaaaaa, head bbbbbbbbbbbb" in text


def test_a_target_only_one_commit_reached_has_no_ratio():
    rows = timed(bench_targets.DEMO, "base", 362.0) + timed(UNIFIED, "base", 60.0)
    assert bench_targets.ratios(rows).empty


def test_a_commit_not_in_the_history_is_named():
    with pytest.raises(bench_targets.BenchError, match="'no-such-commit' is not a commit"):
        bench_targets.resolve("no-such-commit")


def test_a_port_something_listens_on_is_found_busy():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert bench_targets.busy_ports((port,)) == [port]
    assert bench_targets.busy_ports((port,)) == []
