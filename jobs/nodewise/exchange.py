"""A barrier stage's all-gather through the driver, without Spark's one-second poll.

Spark's `BarrierTaskContext.allGather` costs about a second however small the
messages: a waiting task checks for the reply once a second
(`BarrierTaskContext.runBarrier` sleeps 1000 ms between checks), so 20 rounds
of federated averaging spent 20 s waiting. Here the driver runs a `Hub` for the
stage: each task connects to it once (`Member`), and each `all_gather` sends
one message and gets every task's message back, ordered by partition, as
`allGather` does, in milliseconds.

Every message is sealed with AES-GCM under a key made for the one stage and
shipped to the tasks inside their closure, which Spark's RPC carries encrypted
(spark.network.crypto.enabled): a message the key did not seal, or sealed for
another connection (each starts with a random challenge from the hub) or another
place in the stream, is refused, and nothing but the challenge crosses the
network in clear text. A connection has HELLO_SECONDS to send a small first
message, so a stranger cannot hold the hub. The stage still runs in barrier
mode, so its tasks start together and fail together.

Faults end in a named error within `timeout` seconds: a task that cannot reach
the hub names its address and port (a firewall between the nodes), and a task
still waiting when another task's connection closes or times out hears why.
Spark then retries the stage; its new tasks have higher task attempt ids than
any before (Spark numbers them in launch order), so the hub takes a partition's
newest task and refuses those older than the failed stage's.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PORT_RETRIES = 16  # as spark.port.maxRetries: a busy port makes the hub try the next
DEFAULT_TIMEOUT = 600.0  # seconds a sync may wait for the slowest task
HELLO_SECONDS = 5.0  # for a new connection to name its partition, in all
_LENGTH = struct.Struct("!I")
_NONCE_BYTES = 12
_CHALLENGE_BYTES = 16
_MAX_FRAME = 64 * 1024 * 1024
_MAX_HELLO = 1024  # a frame read before its sender has shown it holds the key
_TCP_CLOSE_WAIT = 8  # Linux's tcp_info state: the peer has closed its end


class ExchangeError(RuntimeError):
    """The exchange failed: names the hub's address, the task and what went wrong."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


class _Channel:
    """One TCP connection whose frames are JSON sealed with AES-GCM. The associated data
    names the connection (the hub's random challenge, sent in clear text as it accepts),
    the direction, the partition and the frame's number, so a frame cannot be replayed on
    another connection, or moved within one."""

    def __init__(self, sock: socket.socket, key: bytes, challenge: bytes,
                 partition: int | None = None):
        self.sock, self.aead, self.challenge = sock, AESGCM(key), challenge
        self.partition = partition
        self.sent = self.received = 0

    def _context(self, direction: str, number: int) -> bytes:
        return (f"nodewise-exchange/{direction}/{self.partition}/{number}/".encode()
                + self.challenge)

    def send(self, direction: str, value) -> None:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self.aead.encrypt(nonce, json.dumps(value).encode(),
                                   self._context(direction, self.sent))
        self.sent += 1
        self.sock.sendall(_LENGTH.pack(_NONCE_BYTES + len(sealed)) + nonce + sealed)

    def receive(self, direction: str, limit: int = _MAX_FRAME, deadline: float | None = None):
        (length,) = _LENGTH.unpack(_read(self.sock, _LENGTH.size, deadline))
        if not _NONCE_BYTES < length <= limit:
            raise ExchangeError(f"a frame of {length} bytes: not from this exchange")
        frame = _read(self.sock, length, deadline)
        try:
            plain = self.aead.decrypt(frame[:_NONCE_BYTES], frame[_NONCE_BYTES:],
                                      self._context(direction, self.received))
        except InvalidTag:
            raise ExchangeError("a message not sealed with this stage's key, "
                                "or out of order") from None
        self.received += 1
        return json.loads(plain)

    def closed_by_peer(self) -> bool:
        """Whether the other end has closed (a killed task's connection), without waiting,
        even when its last message is still unread (Linux tells; elsewhere only an end
        with nothing unread is seen)."""
        if hasattr(socket, "TCP_INFO"):
            with contextlib.suppress(OSError):
                state = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
                if state == _TCP_CLOSE_WAIT:
                    return True
        try:
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def _read(sock: socket.socket, size: int, deadline: float | None = None) -> bytes:
    """`size` bytes; with a deadline (time.monotonic()), all of them by then."""
    data = bytearray()
    while len(data) < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("too slow")
            sock.settimeout(left)
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the connection closed")
        data += chunk
    return bytes(data)


def _hello_of(sock: socket.socket, key: bytes) -> tuple[_Channel, dict]:
    """Send the connection's challenge; the first frame, sealed for partition None, names
    the partition, whole within HELLO_SECONDS and small."""
    challenge = os.urandom(_CHALLENGE_BYTES)
    sock.sendall(challenge)
    channel = _Channel(sock, key, challenge)
    hello = channel.receive("up", _MAX_HELLO, time.monotonic() + HELLO_SECONDS)
    channel.partition = int(hello["partition"])
    return channel, hello


class Hub:
    """On the driver: serves one barrier stage of `tasks` tasks. Use as a context manager;
    `address` is what the tasks connect to: the port it listens on at `host`, or at
    `advertised` where the tasks know the host by another name."""

    def __init__(self, host: str, port: int, tasks: int, key: bytes,
                 timeout: float = DEFAULT_TIMEOUT, log=None, advertised: str | None = None):
        self.tasks, self.key, self.timeout, self.log = tasks, key, timeout, log
        self.listener = _listen(host, port)
        self.address = (advertised or host, self.listener.getsockname()[1])
        self._members: dict[int, _Channel] = {}
        self._task_ids: dict[int, int] = {}  # partition -> its member's task attempt id
        self._floor = 0  # task attempt ids below it belong to a stage attempt that ended
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="exchange-hub", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept; close alone does not
        self.listener.close()
        for channel in list(self._members.values()):
            channel.close()
        self._thread.join(timeout=5)

    def _note(self, message: str, *args) -> None:
        if self.log is not None:
            self.log.warning(message, *args)

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                self._gather_members()
                self._relay()
            except Exception as error:  # the hub must outlive any one task
                if self._closed.is_set():
                    return
                # A task's connection failed: tell the others why, then wait for
                # the stage's next attempt (Spark fails and retries it whole).
                self._note("exchange: %s; waiting for the stage's next attempt", error)
                self._drop_members(str(error))

    def _gather_members(self) -> None:
        """Accept connections until every partition has its newest task's, and none of
        them is a connection its task has closed (a task of a failed stage, killed)."""
        while len(self._members) < self.tasks or self._prune_closed():
            self._accept_one()

    def _accept_one(self) -> None:
        """Take the next connection as its partition's member, or refuse it."""
        sock, peer = self.listener.accept()
        sock.settimeout(HELLO_SECONDS)  # a silent connection must not hold the hub
        try:
            channel, hello = _hello_of(sock, self.key)
            task_id = int(hello["task"])
        except (OSError, ExchangeError, ValueError, KeyError, TypeError) as error:
            self._note("exchange: refused a connection from %s: %s", peer[0], error)
            sock.close()
            return
        sock.settimeout(self.timeout)
        partition = channel.partition
        if (task_id < max(self._floor, self._task_ids.get(partition, -1))
                or not 0 <= partition < self.tasks):
            self._note("exchange: refused task %s (partition %s) from %s: not of this "
                       "stage's newest attempt", task_id, partition, peer[0])
            channel.close()
            return
        if partition in self._members:  # an older attempt's task that Spark left behind
            self._drop(partition, "the stage was retried")
        self._members[partition] = channel
        self._task_ids[partition] = task_id

    def _prune_closed(self) -> bool:
        """Drop the members whose tasks have closed their connections; whether any were."""
        closed = [p for p, channel in self._members.items() if channel.closed_by_peer()]
        for partition in closed:
            self._drop(partition, "")
        return bool(closed)

    def _relay(self) -> None:
        """Each sync: one message from every member, then all of them to each."""
        while True:
            messages = []
            for partition in sorted(self._members):
                try:
                    messages.append(self._members[partition].receive("up"))
                except TimeoutError:
                    raise ExchangeError(f"partition {partition} sent nothing for "
                                        f"{self.timeout:.0f} s") from None
                except ConnectionError:
                    if partition == min(self._members) and not messages:
                        return self._finish()
                    raise ExchangeError(f"partition {partition}'s connection closed "
                                        "in the middle of a sync") from None
            for partition in sorted(self._members):
                self._members[partition].send("down", {"messages": messages})

    def _finish(self) -> None:
        """Partition 0 closed between syncs: the stage's tasks are done with the hub."""
        self._drop_members("")

    def _drop_members(self, why: str) -> None:
        """End every member's connection, telling it `why`; their tasks' stage is over."""
        self._floor = max([self._floor - 1, *self._task_ids.values()]) + 1
        for partition in list(self._members):
            self._drop(partition, why)
        self._task_ids = {}

    def _drop(self, partition: int, why: str) -> None:
        channel = self._members.pop(partition)
        if why:
            with contextlib.suppress(OSError):
                channel.send("down", {"error": why})
        channel.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on `port`, or the next free of PORT_RETRIES (any port for 0)."""
    last = None
    for candidate in ([0] if port == 0 else range(port, port + PORT_RETRIES + 1)):
        try:
            return socket.create_server((host, candidate), family=_family(host), backlog=64)
        except OSError as error:
            last = error
    raise ExchangeError(f"the exchange hub could not listen on {host} port {port} or the "
                        f"{PORT_RETRIES} after it: {last}")


def driver_hub(spark, tasks: int, log=None) -> Hub:
    """A hub for a stage of `tasks` tasks, listening where the driver does, on the port
    spark.nodewise.exchange.port names (site.yml sets it; any free port without it), and
    reached where the executors reach the driver."""
    conf = spark.sparkContext.getConf()
    host = conf.get("spark.driver.host")
    return Hub(conf.get("spark.driver.bindAddress", host),
               int(conf.get("spark.nodewise.exchange.port", "0")), tasks, new_key(), log=log,
               advertised=host)


def _family(host: str) -> socket.AddressFamily:
    """IPv4 or IPv6, as `host` (an address or a name) resolves first."""
    try:
        return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    except OSError:
        return socket.AF_INET


class Member:
    """In a barrier task: this partition's connection to the hub."""

    def __init__(self, address: tuple[str, int], key: bytes, partition: int, task_id: int,
                 timeout: float = DEFAULT_TIMEOUT):
        self.address, self.partition, self.timeout = address, partition, timeout
        try:
            sock = socket.create_connection(address, timeout=min(timeout, 30.0))
        except OSError as error:
            raise ExchangeError(
                f"task {partition} cannot reach the exchange hub on the driver at "
                f"{address[0]} port {address[1]}: {error}. The driver's host must accept "
                "TCP from every node on that port (the firewall's nodewise_exchange_port "
                "range)") from None
        try:
            challenge = _read(sock, _CHALLENGE_BYTES, time.monotonic() + min(timeout, 30.0))
            sock.settimeout(timeout)
            self.channel = _Channel(sock, key, challenge)
            self.channel.send("up", {"partition": partition, "task": task_id})
        except OSError as error:
            sock.close()
            raise ExchangeError(f"task {partition} reached the exchange hub at {address[0]} "
                                f"port {address[1]} but could not greet it: {error}") from None
        self.channel.partition = partition

    def all_gather(self, message) -> list:
        """Every task's `message` of this sync, ordered by partition."""
        try:
            self.channel.send("up", message)
            reply = self.channel.receive("down")
        except TimeoutError:
            raise ExchangeError(f"task {self.partition} waited {self.timeout:.0f} s for the "
                                "other tasks' messages") from None
        except OSError as error:
            raise ExchangeError(f"task {self.partition} lost the exchange hub at "
                                f"{self.address[0]} port {self.address[1]}: {error}") from None
        if "error" in reply:
            raise ExchangeError(f"task {self.partition}: the exchange hub ended the sync: "
                                f"{reply['error']}")
        return reply["messages"]

    def close(self) -> None:
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
