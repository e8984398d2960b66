"""Federated averaging's all-gather hub (nodewise/exchange.py), over real sockets: tasks
are threads here, each with its own TCP connection to the hub."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time

import pytest

from nodewise import exchange


def run_tasks(hub, key, bodies, first_task_id=0, timeout=10.0):
    """Run body(member) for each partition in its own thread, as tasks numbered from
    `first_task_id` (Spark's task attempt ids): {partition: result or error}."""
    results = {}

    def run(partition, body):
        try:
            with exchange.Member(hub.address, key, partition, first_task_id + partition,
                                 timeout) as member:
                results[partition] = body(member)
        except Exception as error:  # noqa: BLE001 - the test looks at what each task saw
            results[partition] = error

    threads = [threading.Thread(target=run, args=(p, body)) for p, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_every_task_gets_every_message_ordered_by_partition_in_every_sync():
    key = exchange.new_key()
    with exchange.Hub("127.0.0.1", 0, 3, key) as hub:
        results = run_tasks(hub, key, [
            lambda m, p=p: [m.all_gather({"p": p, "sync": s}) for s in range(25)]
            for p in range(3)])
    for partition in range(3):
        syncs = results[partition]
        assert len(syncs) == 25
        for number, replies in enumerate(syncs):
            assert replies == [{"p": p, "sync": number} for p in range(3)]


def test_a_second_stage_after_the_first_is_served_afresh():
    key = exchange.new_key()
    with exchange.Hub("127.0.0.1", 0, 2, key) as hub:
        first = run_tasks(hub, key, [lambda m, p=p: m.all_gather(p) for p in range(2)])
        second = run_tasks(hub, key, [lambda m, p=p: m.all_gather(p * 10) for p in range(2)],
                           first_task_id=2)
    assert first == {0: [0, 1], 1: [0, 1]}
    assert second == {0: [0, 10], 1: [0, 10]}


def test_a_task_with_another_key_is_refused_and_the_others_hear_within_the_timeout(caplog):
    key = exchange.new_key()
    caplog.set_level(logging.WARNING)
    with exchange.Hub("127.0.0.1", 0, 2, key, log=logging.getLogger("hub")) as hub:
        wrong = exchange.Member(hub.address, exchange.new_key(), 1, 0, timeout=2.0)
        results = run_tasks(hub, key, [lambda m: m.all_gather("mine")], timeout=2.0)
        wrong.close()
    assert isinstance(results[0], exchange.ExchangeError)
    assert "task 0 waited 2 s" in str(results[0])
    assert "not sealed with this stage's key" in caplog.text


class Captured:
    """A socket stand-in that keeps what is sent through it."""

    def __init__(self):
        self.sent = b""

    def sendall(self, data):
        self.sent += data


def test_a_frame_changed_on_the_way_is_refused():
    key = exchange.new_key()
    notes = []

    class Log:
        def warning(self, message, *args):
            notes.append(message % args)

    with exchange.Hub("127.0.0.1", 0, 1, key, log=Log()) as hub:
        sock = socket.create_connection(hub.address, timeout=5)
        challenge = exchange._read(sock, exchange._CHALLENGE_BYTES)
        captured = Captured()
        exchange._Channel(captured, key, challenge).send("up", {"partition": 0, "task": 0})
        changed = bytearray(captured.sent)
        changed[-1] ^= 1  # one bit of the seal
        sock.sendall(bytes(changed))
        assert sock.recv(1) == b""  # the hub closed the connection
        sock.close()
    assert any("refused a connection" in note and "not sealed with this stage's key" in note
               for note in notes)


def test_a_task_that_leaves_in_the_middle_ends_the_others_sync_with_the_reason():
    key = exchange.new_key()

    def leaves(member):
        member.all_gather("first")
        member.close()  # as a task whose Python worker died
        return "left"

    def stays(member):
        member.all_gather("first")
        return member.all_gather("second")

    with exchange.Hub("127.0.0.1", 0, 3, key) as hub:
        results = run_tasks(hub, key, [stays, leaves, stays])
    assert results[1] == "left"
    for partition in (0, 2):
        assert isinstance(results[partition], exchange.ExchangeError)
        assert "partition 1's connection closed in the middle of a sync" in str(results[partition])


def test_a_retried_stage_replaces_the_older_attempts_tasks():
    key = exchange.new_key()
    with exchange.Hub("127.0.0.1", 0, 2, key) as hub:
        stale = exchange.Member(hub.address, key, 0, 7, timeout=5.0)  # its stage failed
        newer = exchange.Member(hub.address, key, 0, 9, timeout=5.0)  # the retry's task 0
        with pytest.raises(exchange.ExchangeError, match="the stage was retried"):
            stale.all_gather("late")
        stale.close()
        results = {}
        thread = threading.Thread(target=lambda: results.update({0: newer.all_gather("retry-0")}))
        thread.start()
        with exchange.Member(hub.address, key, 1, 10, timeout=5.0) as second:
            results[1] = second.all_gather("retry-1")
        thread.join(timeout=10)
        newer.close()
        older = run_tasks(hub, key, [lambda m: m.all_gather("too late")], first_task_id=8)
    assert results == {0: ["retry-0", "retry-1"], 1: ["retry-0", "retry-1"]}
    assert isinstance(older[0], exchange.ExchangeError)  # refused: older than the finished stage


@pytest.mark.parametrize("sent_first", [False, True], ids=["idle", "its-message-unread"])
def test_a_killed_tasks_connection_is_dropped_before_the_sync_starts(sent_first):
    """A task of a failed stage that connected (and perhaps sent its message) and was then
    killed leaves a closed connection; the retry's tasks sync without it and its message,
    even when the retry's task 1 comes first and the set looks whole with it."""
    key = exchange.new_key()
    results = {}
    with exchange.Hub("127.0.0.1", 0, 2, key) as hub:
        stale = exchange.Member(hub.address, key, 0, 4, timeout=5.0)
        if sent_first:
            stale.channel.send("up", "stale")
        stale.close()
        with exchange.Member(hub.address, key, 1, 7, timeout=5.0) as second:
            thread = threading.Thread(target=lambda: results.update(run_tasks(
                hub, key, [lambda m: m.all_gather("zero")], first_task_id=6)))
            thread.start()
            results[1] = second.all_gather("one")
            thread.join(timeout=10)
    assert results == {0: ["zero", "one"], 1: ["zero", "one"]}


def test_no_hub_listening_names_the_address_and_the_port_setting():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    with pytest.raises(exchange.ExchangeError) as raised:
        exchange.Member(("127.0.0.1", port), exchange.new_key(), 2, 0)
    message = str(raised.value)
    assert f"task 2 cannot reach the exchange hub on the driver at 127.0.0.1 port {port}" in message
    assert "nodewise_exchange_port" in message


def test_a_busy_port_makes_the_hub_take_the_next():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        with exchange.Hub("127.0.0.1", port, 1, exchange.new_key()) as hub:
            assert port < hub.address[1] <= port + exchange.PORT_RETRIES
    finally:
        busy.close()


def test_an_oversized_frame_is_refused_before_it_is_read():
    key = exchange.new_key()
    with exchange.Hub("127.0.0.1", 0, 1, key) as hub:
        sock = socket.create_connection(hub.address, timeout=5)
        exchange._read(sock, exchange._CHALLENGE_BYTES)
        sock.sendall(struct.pack("!I", 2048))  # over the hello's limit, under a frame's
        assert sock.recv(1) == b""
        sock.close()


def test_a_hello_seen_on_one_connection_is_refused_on_another():
    """Someone who saw a task's first message and sends it again cannot take its place:
    each connection's frames are sealed with that connection's challenge."""
    key = exchange.new_key()
    results = {}
    with exchange.Hub("127.0.0.1", 0, 2, key) as hub:
        real = socket.create_connection(hub.address, timeout=5)
        challenge = exchange._read(real, exchange._CHALLENGE_BYTES)
        seen = Captured()  # the bytes of task 0's hello, as the network carries them
        exchange._Channel(seen, key, challenge).send("up", {"partition": 0, "task": 5})
        real.sendall(seen.sent)
        replay = socket.create_connection(hub.address, timeout=5)
        exchange._read(replay, exchange._CHALLENGE_BYTES)
        replay.sendall(seen.sent)
        assert replay.recv(1) == b""  # refused
        replay.close()
        task0 = exchange._Channel(real, key, challenge, partition=0)
        task0.sent = 1  # the hello went first
        with exchange.Member(hub.address, key, 1, 6, timeout=5.0) as second:
            thread = threading.Thread(target=lambda: results.update({1: second.all_gather("one")}))
            thread.start()
            task0.send("up", "zero")
            results[0] = task0.receive("down")["messages"]
            thread.join(timeout=10)
        real.close()
    assert results == {0: ["zero", "one"], 1: ["zero", "one"]}


def test_a_slow_stranger_is_dropped_and_the_tasks_still_sync():
    key = exchange.new_key()
    with exchange.Hub("127.0.0.1", 0, 2, key) as hub:
        slow = socket.create_connection(hub.address, timeout=10)
        exchange._read(slow, exchange._CHALLENGE_BYTES)
        slow.sendall(struct.pack("!I", 100))

        def trickle():
            for _ in range(40):  # a byte every 0.25 s, 10 s in all
                try:
                    slow.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.25)

        threading.Thread(target=trickle, daemon=True).start()
        results = run_tasks(hub, key, [lambda m, p=p: m.all_gather(p) for p in range(2)],
                            timeout=10.0)
        slow.close()
    assert results == {0: [0, 1], 1: [0, 1]}
