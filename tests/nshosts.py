"""Test hosts made with Linux namespaces, for multi-host tests over real SSH.

Each host gets, on this one machine (as root):
- a network namespace ``nw-<host>`` with its own address on a veth pair whose
  other end is on the bridge ``nwbr0`` in the root namespace (10.213.77.1);
- a mount namespace in which ``<base>/<host>/root`` is bind-mounted on the
  node root (``/opt/nodewise``) and ``<base>/<host>/hosts`` on /etc/hosts;
- a UTS namespace whose hostname is the host's name;
- an ``sshd`` on ``<address>:22`` started inside those namespaces, so every
  process started over SSH (shells, Ansible modules, nohup'ed daemons) lives
  in them too.

The hosts get no default route, and the root namespace does not forward: they
reach each other and the bridge address, nothing else (no package index).

Usage::

    with NsHosts(["master", "worker1"], tmp_path) as hosts:
        hosts.run_on("master", "hostname")
        subprocess.run(["ansible", "-i", hosts.inventory, "all", "-m", "ping"],
                       env=hosts.env())
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUBNET = "10.213.77"          # a /24 unlikely to clash with anything real
GATEWAY = f"{SUBNET}.1"       # the bridge's address in the root namespace
FIRST_HOST = 11               # hosts get .11, .12, ...
BRIDGE = "nwbr0"
NETNS_PREFIX = "nw-"
VETH_PREFIX = "nwv-"          # root-namespace end of each host's veth pair
NODE_ROOT = "/opt/nodewise"
SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = "/run/sshd"     # sshd refuses to start without it
MARK = ".made-by-nshosts"     # in directories made outside base
SSH_OPTIONS = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]

# Interface names are limited to 15 characters: "nwv-" + 11.
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,10}$")


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    dir: Path                 # <base>/<name>: sshd config, keys, logs
    root: Path                # <base>/<name>/root, seen as the node root inside

    @property
    def netns(self) -> str:
        return NETNS_PREFIX + self.name

    @property
    def veth(self) -> str:
        return VETH_PREFIX + self.name


def skip_reason() -> str | None:
    """Why namespace hosts cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return "namespace test hosts need root"
    for tool in ("ip", "unshare", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install iproute2 util-linux openssh-client)"
    if not os.access(SSHD, os.X_OK):
        return f"{SSHD} not found (apt-get install openssh-server)"
    return None


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command, raising with its output if it fails and check is set."""
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result


def netns_pids(netns: str) -> list[int]:
    """Processes whose network namespace is `netns` ([] if it does not exist)."""
    result = sh("ip", "netns", "pids", netns, check=False)
    return [int(p) for p in result.stdout.split()] if result.returncode == 0 else []


def kill_netns_processes(netns: str, timeout: float = 10.0) -> None:
    """SIGTERM every process in `netns`, then SIGKILL what is left; wait until none."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + timeout
        # Loop: a process may fork (sshd accepting a connection) while we kill.
        while pids := netns_pids(netns):
            if time.monotonic() > deadline:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            time.sleep(0.2)
        else:
            return
    raise RuntimeError(f"processes in {netns} survive SIGKILL: {netns_pids(netns)}")


def leftover_names() -> list[str]:
    """Host names of existing `nw-` namespaces and `nwv-` veths (a crashed run's)."""
    netns = sh("ip", "netns", "list", check=False).stdout.split()
    links = sh("ip", "-o", "link", "show", check=False).stdout.splitlines()
    names = [n[len(NETNS_PREFIX):] for n in netns if n.startswith(NETNS_PREFIX)]
    names += [line.split(": ")[1].split("@")[0][len(VETH_PREFIX):] for line in links
              if line.split(": ")[1].startswith(VETH_PREFIX)]
    return sorted(set(names))


def remove_hosts(names: list[str], bridge: str = BRIDGE) -> None:
    """Kill, then delete, the namespaces, veths and bridge with these names.

    Idempotent: anything already gone is skipped, so it also clears what a
    crashed earlier run left behind.
    """
    errors = []
    for name in names:
        try:
            kill_netns_processes(NETNS_PREFIX + name)
        except RuntimeError as error:       # still remove the rest, then report
            errors.append(str(error))
        # Deleting the veth drops both ends at once; deleting only the netns
        # would free the root end later, asynchronously.
        sh("ip", "link", "del", VETH_PREFIX + name, check=False)
        sh("ip", "netns", "del", NETNS_PREFIX + name, check=False)
    sh("ip", "link", "del", bridge, check=False)
    if errors:
        raise RuntimeError("; ".join(errors))


def wait_for_port(address: str, port: int = 22, timeout: float = 30.0) -> None:
    """Poll until a TCP connect to address:port succeeds, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{address}:{port} not accepting connections: {error}") from None
            time.sleep(0.2)


def make_bridge(bridge: str, address: str) -> None:
    """A bridge in the root namespace with `address`/24: the hosts' subnet."""
    sh("ip", "link", "add", bridge, "type", "bridge")
    sh("ip", "addr", "add", f"{address}/24", "dev", bridge)
    sh("ip", "link", "set", bridge, "up")


def make_netns(netns: str, veth: str, address: str, bridge: str) -> None:
    """A network namespace whose eth0 has `address`/24, its peer on `bridge`."""
    sh("ip", "netns", "add", netns)
    # The peer end is created directly inside the namespace as eth0.
    sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
    sh("ip", "link", "set", veth, "master", bridge, "up")
    inside = ("ip", "netns", "exec", netns)
    sh(*inside, "ip", "link", "set", "lo", "up")
    sh(*inside, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
    sh(*inside, "ip", "link", "set", "eth0", "up")


def inventory_text(hosts: list[Host], key: Path, extra_vars: list[str] = ()) -> str:
    """The Ansible inventory: first host is the master, the rest are workers."""
    def line(host: Host) -> str:
        return f"{host.name} ansible_host={host.address} nodewise_address={host.address}"

    lines = ["[spark_master]", line(hosts[0]), "",
             "[spark_workers]", *map(line, hosts[1:]), "",
             "[nodewise:children]", "spark_master", "spark_workers", "",
             "[nodewise:vars]",
             "ansible_user=root",
             f"ansible_ssh_private_key_file={key}",
             "ansible_ssh_common_args='-o StrictHostKeyChecking=no "
             "-o UserKnownHostsFile=/dev/null'",
             "ansible_python_interpreter=/usr/bin/python3",
             *extra_vars]
    return "\n".join(lines) + "\n"


class NsHosts:
    """Namespace test hosts as a context manager: `with NsHosts(...) as hosts:`.

    `start()` and `stop()` may also be called directly; `stop()` is idempotent
    and `start()` stops what it made if it fails halfway.
    """

    def __init__(self, names: list[str], base: str | os.PathLike,
                 node_root: str = NODE_ROOT, extra_vars: list[str] = ()):
        for name in names:
            if not _NAME.match(name):
                raise ValueError(f"host name {name!r}: use 1-11 of [a-z0-9-], starting with a letter")
        if not 1 <= len(names) <= 200:
            raise ValueError("between 1 and 200 hosts")
        self.base = Path(base).resolve()
        self.node_root = node_root
        self.extra_vars = list(extra_vars)
        self.hosts = {name: Host(name, f"{SUBNET}.{FIRST_HOST + i}", self.base / name,
                                 self.base / name / "root")
                      for i, name in enumerate(names)}
        self.key = self.base / "id_ed25519"
        self.authorized_keys = self.base / "authorized_keys"
        self.inventory = self.base / "inventory.ini"
        self._sshds: list[subprocess.Popen] = []
        self._created: list[str] = []      # directories made outside base, to rmdir

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> NsHosts:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> NsHosts:
        # Leftovers of a crashed run: the bridge name is fixed, so only one set
        # of hosts can exist at a time and every `nw-` namespace is ours.
        remove_hosts(sorted(set(self.hosts) | set(leftover_names())))
        try:
            self._make_dirs_and_keys()
            self._make_bridge()
            for host in self.hosts.values():
                self._make_netns(host)
                self._start_sshd(host)
            for host, sshd in zip(self.hosts.values(), self._sshds, strict=True):
                self._wait_for_sshd(host, sshd)
            self.inventory.write_text(inventory_text(list(self.hosts.values()), self.key,
                                                     self.extra_vars))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kill every process in the hosts, delete namespaces, veths and bridge."""
        try:
            remove_hosts(list(self.hosts))
        finally:
            for sshd in self._sshds:        # reap our own children
                try:
                    sshd.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    sshd.kill()
                    sshd.wait()
            self._sshds.clear()
            for path in reversed(self._created):
                try:
                    os.remove(os.path.join(path, MARK))
                    os.rmdir(path)          # only if nothing else was put there
                except OSError:
                    pass
            self._created.clear()

    # -- using the hosts ---------------------------------------------------

    def ssh_args(self, host: str) -> list[str]:
        """The ssh command line (without the remote command) for `host`."""
        return ["ssh", "-i", str(self.key), *SSH_OPTIONS, f"root@{self.hosts[host].address}"]

    def run_on(self, host: str, command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a shell command on `host` over SSH; returns the CompletedProcess."""
        return subprocess.run([*self.ssh_args(host), command], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)

    def env(self) -> dict[str, str]:
        """Environment for ansible/ansible-playbook against these hosts.

        Ansible's ssh ControlMaster sockets go under base, so they never mix
        with sockets of an earlier run that used the same addresses.
        """
        return {**os.environ, "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.base / "cp"),
                "ANSIBLE_HOST_KEY_CHECKING": "False"}

    # -- setup steps -------------------------------------------------------

    def _mkdir_outside_base(self, path: str) -> None:
        """Make `path` if missing, with a mark file so stop() removes it again.

        The mark (hidden inside the hosts by the bind mount) also tells a later
        run that a crashed run made the directory: it then adopts it.
        """
        mark = os.path.join(path, MARK)
        if not os.path.isdir(path):
            os.makedirs(path, mode=0o755)
        elif os.listdir(path) != [MARK]:
            return                          # not ours: leave it alone
        Path(mark).touch()
        self._created.append(path)

    def _make_dirs_and_keys(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self._mkdir_outside_base(PRIVSEP_DIR)
        self._mkdir_outside_base(self.node_root)   # the bind mount needs a mount point
        if not self.key.exists():
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nshosts", "-f", str(self.key))
        self.authorized_keys.write_text(Path(f"{self.key}.pub").read_text())
        # Every host resolves every host's name (Java looks up its own hostname).
        hosts_file = "127.0.0.1 localhost\n" + "".join(
            f"{h.address} {h.name}\n" for h in self.hosts.values())
        for host in self.hosts.values():
            host.root.mkdir(parents=True, exist_ok=True)
            (host.dir / "hosts").write_text(hosts_file)
            host_key = host.dir / "ssh_host_ed25519_key"
            if not host_key.exists():
                sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
            (host.dir / "sshd_config").write_text(
                f"ListenAddress {host.address}\n"
                "Port 22\n"
                f"HostKey {host_key}\n"
                f"PidFile {host.dir}/sshd.pid\n"
                f"AuthorizedKeysFile {self.authorized_keys}\n"
                "PermitRootLogin prohibit-password\n"
                "PubkeyAuthentication yes\n"
                "PasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\n"
                "UsePAM no\n"
                # The base directory may sit under a group-writable tmp dir.
                "StrictModes no\n"
                "Subsystem sftp internal-sftp\n")

    def _make_bridge(self) -> None:
        make_bridge(BRIDGE, GATEWAY)

    def _make_netns(self, host: Host) -> None:
        make_netns(host.netns, host.veth, host.address, BRIDGE)
        # No default route on purpose: the hosts reach only the subnet.

    def _start_sshd(self, host: Host) -> None:
        # `unshare --propagation private` keeps the bind mounts inside the new
        # mount namespace; `exec` makes sshd the namespaces' first process, and
        # everything started over SSH inherits the namespaces from it.
        q = shlex.quote
        script = (f"mount --bind {q(str(host.root))} {q(self.node_root)}"
                  f" && mount --bind {q(str(host.dir / 'hosts'))} /etc/hosts"
                  f" && hostname {host.name}"
                  f" && exec {SSHD} -D -e -f {q(str(host.dir / 'sshd_config'))}")
        with open(host.dir / "sshd.log", "ab") as log:  # sshd keeps its own copy
            self._sshds.append(subprocess.Popen(
                ["ip", "netns", "exec", host.netns,
                 "unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c", script],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True))

    def _wait_for_sshd(self, host: Host, sshd: subprocess.Popen, timeout: float = 30.0) -> None:
        # Like wait_for_port, but gives up at once if sshd has exited.
        deadline = time.monotonic() + timeout
        while sshd.poll() is None and time.monotonic() < deadline:
            try:
                with socket.create_connection((host.address, 22), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        log = (host.dir / "sshd.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"sshd for {host.name} at {host.address}:22 did not come up "
                           f"(exit {sshd.poll()}):\n{log}")
