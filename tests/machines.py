"""Booted test machines for the VM path: fresh Debian roots under systemd.

Two images, built with debootstrap and cached between runs (rebuilt when
their recipe changes):
- the node image, shaped like the Vagrant box `debian/bookworm64`: Debian 12
  with systemd, sshd, sudo and Debian's own python3 (3.11.2), a user `vagrant`
  with password-less sudo, and no Java, no python3-venv, no python3-packaging.
  The machines reach no package index; a local package source inside the
  image (`deb [trusted=yes] file:...`) holds what the roles may install, as a
  mirror does for a real VM;
- the controller image: Debian 13 (Python 3.13, no Java) with make, ssh and
  an ansible-core of its own outside any project venv (the user's Ansible).

`Machines` copies the node image per machine, gives each its own network
namespace on a bridge, and boots it with `systemd-nspawn --boot`: systemd is
PID 1 and starts sshd. `Controller` runs commands in the controller image
with the host's network, so it reaches the machines as a laptop reaches its
VMs. Both need root; `skip_reason()` says why they cannot run otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

from nshosts import kill_netns_processes, make_bridge, make_netns, netns_pids, sh

CACHE = Path(os.environ.get("NODEWISE_MACHINE_CACHE", "/var/cache/nodewise/test-machines"))
SUBNET = "10.213.78"          # beside the namespace hosts' 10.213.77
GATEWAY = f"{SUBNET}.1"
FIRST_HOST = 21
BRIDGE = "nwmbr0"
NETNS_PREFIX = "nwm-"
VETH_PREFIX = "nwmv-"
USER = "vagrant"
LOCAL_DEBS = "/var/local/nodewise-debs"
BOOT_TIMEOUT = 120
SSH_OPTIONS = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5"]

# What the Vagrant box has (debootstrap --include), and what the roles may
# install on it (the local package source): python3-apt is what Ansible's
# apt module installs for itself first.
NODE_SUITE = "bookworm"
NODE_INCLUDE = ["systemd", "systemd-sysv", "dbus", "openssh-server", "sudo", "python3"]
NODE_PACKAGE_SOURCE = ["openjdk-17-jre-headless", "python3-venv", "python3-packaging",
                       "python3-apt", "nftables"]
CONTROLLER_SUITE = "trixie"
CONTROLLER_INCLUDE = ["python3", "python3-venv", "make", "openssh-client", "ca-certificates",
                      "procps"]
# The user's own Ansible, outside the project's .venv: the oldest ansible-core
# the README names (2.18 is the oldest that runs on Python 3.13).
CONTROLLER_ANSIBLE = "ansible-core==2.18.12"
CONTROLLER_ANSIBLE_DIR = "/opt/users-ansible"
RECIPE_VERSION = "1"


def skip_reason() -> str | None:
    """Why booted machines cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return "booted test machines need root"
    for tool in ("debootstrap", "systemd-nspawn", "apt-ftparchive", "ip", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return (f"{tool} not found (apt-get install debootstrap systemd-container "
                    "apt-utils iproute2 openssh-client)")
    return None


def host_mirror() -> str:
    """The Debian mirror the host's apt uses (the machines' packages come from it)."""
    texts = [p.read_text() for p in Path("/etc/apt").glob("sources.list.d/*.sources")]
    for text in texts:
        for uri in re.findall(r"^URIs:\s*(\S+)", text, re.M):
            if not uri.rstrip("/").endswith("-security"):
                return uri
    sources = Path("/etc/apt/sources.list")
    if sources.exists():
        match = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+\s", sources.read_text(), re.M)
        if match:
            return match.group(1)
    raise RuntimeError("no Debian mirror found in /etc/apt: cannot build test machines")


def in_root(root: Path, *command: str, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command in `root` (systemd-nspawn sets up /proc and /dev; host network)."""
    setenv = [f"--setenv={key}={value}" for key, value in (env or {}).items()]
    return sh("systemd-nspawn", "-q", "--register=no", "--keep-unit", "-D", str(root),
              *setenv, *command, check=check)


# -- images --------------------------------------------------------------

def recipe_hash(*parts) -> str:
    """Names an image by everything that builds it: functions' code and settings."""
    text = "\n".join(inspect.getsource(p) if callable(p) else repr(p) for p in parts)
    return hashlib.sha256(f"{RECIPE_VERSION}\n{text}".encode()).hexdigest()[:12]


def cached_image(kind: str, build, *recipe) -> Path:
    """The root of image `kind`, built by `build(root)` unless the cache has it.

    Built in a staging directory and renamed when complete, so a failed or
    interrupted build never leaves an image that looks usable; older images
    of the same kind are removed.
    """
    image = CACHE / f"{kind}-{recipe_hash(build, *recipe)}"
    if (image / "root").is_dir():
        return image / "root"
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{kind}-*"):
        shutil.rmtree(old, ignore_errors=True)
    staging = CACHE / f".{image.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        build(staging / "root")
        os.rename(staging, image)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return image / "root"


def debootstrap(suite: str, include: list[str], root: Path) -> None:
    sh("debootstrap", "--variant=minbase", f"--include={','.join(include)}", suite, str(root),
       host_mirror())


def add_package_source(root: Path) -> None:
    """Download what the roles may install into a local source, the only one."""
    # The host is Debian 12 like the image: its apt sources fit the image.
    for sources in (root / "etc/apt/sources.list.d").glob("*"):
        sources.unlink()
    for sources in Path("/etc/apt/sources.list.d").glob("*.sources"):
        shutil.copy(sources, root / "etc/apt/sources.list.d" / sources.name)
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    in_root(root, "apt-get", "update", "-qq")
    in_root(root, "apt-get", "install", "-qq", "-y", "--download-only",
            "--no-install-recommends", *NODE_PACKAGE_SOURCE)
    debs = root / LOCAL_DEBS.lstrip("/")
    debs.mkdir(parents=True)
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        shutil.move(deb, debs / deb.name)
    index = subprocess.run(["apt-ftparchive", "packages", "."], cwd=debs, capture_output=True,
                           text=True, check=True)
    (debs / "Packages").write_text(index.stdout)
    for sources in (root / "etc/apt/sources.list.d").glob("*"):
        sources.unlink()
    (root / "etc/apt/sources.list.d/nodewise-local.list").write_text(
        f"deb [trusted=yes] file:{LOCAL_DEBS} ./\n")
    shutil.rmtree(root / "var/lib/apt/lists")
    (root / "var/lib/apt/lists/partial").mkdir(parents=True)


def build_node_image(root: Path) -> None:
    debootstrap(NODE_SUITE, NODE_INCLUDE, root)
    add_package_source(root)
    # The Vagrant box's user: password-less sudo, key login.
    in_root(root, "useradd", "--create-home", "--shell", "/bin/bash", USER)
    sudoers = root / "etc/sudoers.d" / USER
    sudoers.write_text(f"{USER} ALL=(ALL) NOPASSWD:ALL\n")
    os.chmod(sudoers, 0o440)
    # Each machine gets its own host key and machine id when it is made.
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")


def node_image() -> Path:
    return cached_image(f"node-{NODE_SUITE}", build_node_image, debootstrap, add_package_source,
                        NODE_SUITE, NODE_INCLUDE, NODE_PACKAGE_SOURCE, USER, LOCAL_DEBS)


def build_controller_image(root: Path) -> None:
    debootstrap(CONTROLLER_SUITE, CONTROLLER_INCLUDE, root)
    # The host's CA bundle, so pip in the image trusts what the host's pip does.
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt")
    in_root(root, "python3", "-m", "venv", CONTROLLER_ANSIBLE_DIR)
    in_root(root, f"{CONTROLLER_ANSIBLE_DIR}/bin/pip", "install", "--quiet", CONTROLLER_ANSIBLE)


def controller_image() -> Path:
    return cached_image(f"controller-{CONTROLLER_SUITE}", build_controller_image, debootstrap,
                        CONTROLLER_SUITE, CONTROLLER_INCLUDE, CONTROLLER_ANSIBLE,
                        CONTROLLER_ANSIBLE_DIR)


# -- machines ------------------------------------------------------------

def ssh_command(key: Path, address: str, command: str, user: str = USER) -> list[str]:
    return ["ssh", "-i", str(key), *SSH_OPTIONS, f"{user}@{address}", command]


class Machine:
    def __init__(self, name: str, address: str, base: Path):
        self.name = name
        self.address = address
        self.dir = base / name
        self.root = self.dir / "root"
        self.netns = NETNS_PREFIX + name
        self.veth = VETH_PREFIX + name
        self.process: subprocess.Popen | None = None


class Machines:
    """Booted machines as a context manager: `with Machines(names, base) as m:`.

    `stop()` is idempotent and runs even when a test fails, so no machine,
    namespace or bridge outlives the run.
    """

    def __init__(self, names: list[str], base: str | os.PathLike):
        for name in names:
            if not re.match(r"^[a-z][a-z0-9-]{0,9}$", name):
                raise ValueError(f"machine name {name!r}: 1-10 of [a-z0-9-]")
        self.base = Path(base).resolve()
        self.machines = {name: Machine(name, f"{SUBNET}.{FIRST_HOST + i}", self.base)
                         for i, name in enumerate(names)}
        self.key = self.base / "id_ed25519"

    def __enter__(self) -> Machines:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __getitem__(self, name: str) -> Machine:
        return self.machines[name]

    def start(self) -> Machines:
        image = node_image()
        self._remove_network()          # what a crashed run left
        try:
            self.base.mkdir(parents=True, exist_ok=True)
            if not self.key.exists():
                sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "machines",
                   "-f", str(self.key))
            make_bridge(BRIDGE, GATEWAY)
            for machine in self.machines.values():
                self._make_root(machine, image)
                make_netns(machine.netns, machine.veth, machine.address, BRIDGE)
                self.boot(machine.name, wait=False)
            for machine in self.machines.values():
                self.wait_until_up(machine.name)
        except BaseException:
            self.stop()
            raise
        return self

    def _make_root(self, machine: Machine, image: Path) -> None:
        machine.dir.mkdir(parents=True, exist_ok=True)
        sh("cp", "-a", "--reflink=auto", str(image), str(machine.root))
        root = machine.root
        (root / "etc/hostname").write_text(machine.name + "\n")
        (root / "etc/hosts").write_text("127.0.0.1 localhost\n" + "".join(
            f"{m.address} {m.name}\n" for m in self.machines.values()))
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", machine.name,
           "-f", str(root / "etc/ssh/ssh_host_ed25519_key"))
        ssh_dir = root / "home" / USER / ".ssh"
        ssh_dir.mkdir(mode=0o700)
        shutil.copy(f"{self.key}.pub", ssh_dir / "authorized_keys")
        owner = in_root(root, "id", "-u", USER).stdout.strip()
        for path in (ssh_dir, ssh_dir / "authorized_keys"):
            os.chown(path, int(owner), int(owner))

    def boot(self, name: str, wait: bool = True) -> None:
        """Boot the machine's root with systemd as PID 1 in its namespace."""
        machine = self.machines[name]
        with open(machine.dir / "boot.log", "ab") as log:  # the machine keeps its own copy
            machine.process = subprocess.Popen(
                # CAP_NET_ADMIN, which root has on a VM (nftables): nspawn grants it
                # only with --private-network, not with a namespace given by path.
                ["systemd-nspawn", "-q", "--register=no", "--keep-unit",
                 f"--network-namespace-path=/run/netns/{machine.netns}",
                 "--capability=CAP_NET_ADMIN", "-M", name,
                 "-D", str(machine.root), "--boot"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        if wait:
            self.wait_until_up(name)

    def wait_until_up(self, name: str, timeout: float = BOOT_TIMEOUT) -> None:
        """Until sshd answers and systemd has finished booting, or raise naming it."""
        machine = self.machines[name]
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            if machine.process is not None and machine.process.poll() is not None:
                break
            result = self.run_on(name, "systemctl is-system-running --wait", timeout=30)
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(1)
        log = (machine.dir / "boot.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"machine {name} at {machine.address} did not boot within "
                           f"{timeout:.0f} s (systemd: {state or 'no answer'}):\n{log}")

    def power_off(self, name: str) -> None:
        """Cut the machine's power: every one of its processes is killed at once."""
        machine = self.machines[name]
        for pid in netns_pids(machine.netns):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if machine.process is not None:
            machine.process.kill()
            machine.process.wait(timeout=30)
        kill_netns_processes(machine.netns)

    def shut_down(self, name: str, timeout: float = 30) -> None:
        """A clean shutdown (nspawn passes SIGTERM on as a halt), then power off."""
        machine = self.machines[name]
        if machine.process is not None and machine.process.poll() is None:
            machine.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                machine.process.wait(timeout=timeout)
        self.power_off(name)

    def stop(self) -> None:
        errors = []
        for name in self.machines:
            try:
                self.shut_down(name)
            except Exception as error:      # still stop the others, then report
                errors.append(f"{name}: {error}")
        self._remove_network()
        if errors:
            raise RuntimeError("; ".join(errors))

    def _remove_network(self) -> None:
        netns = sh("ip", "netns", "list", check=False).stdout.split()
        for name in [n for n in netns if n.startswith(NETNS_PREFIX)]:
            kill_netns_processes(name)
            sh("ip", "netns", "del", name, check=False)
        links = sh("ip", "-o", "link", "show", check=False).stdout.splitlines()
        for line in links:
            link = line.split(": ")[1].split("@")[0]
            if link.startswith(VETH_PREFIX):
                sh("ip", "link", "del", link, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)

    def run_on(self, name: str, command: str, timeout: float = 120,
               user: str = USER) -> subprocess.CompletedProcess:
        """Run a shell command on machine `name` over SSH."""
        try:
            return subprocess.run(ssh_command(self.key, self.machines[name].address, command, user),
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as error:
            return subprocess.CompletedProcess(error.cmd, 124, "", f"timed out after {timeout} s")


# -- the controller ------------------------------------------------------

class Controller:
    """A Debian 13 root the tests run the user's commands in, as on a laptop.

    It shares the host's network (so it reaches the machines and pip reaches
    its index, as a laptop's does) and holds its own copy of the project,
    with a `.venv` that `make setup` builds there with Python 3.13.
    """

    PROJECT = "/home/user/nodewise"

    def __init__(self, base: str | os.PathLike, project: str | os.PathLike):
        self.base = Path(base).resolve()
        self.root = self.base / "controller"
        self.source = Path(project)

    def start(self) -> Controller:
        if not self.root.is_dir():
            sh("cp", "-a", "--reflink=auto", str(controller_image()), str(self.root))
        self.copy_project()
        return self

    def copy_project(self) -> None:
        copy_project(self.source, self.root / self.PROJECT.lstrip("/"))

    def path(self, inside: str) -> Path:
        """A path inside the controller, as seen from the host."""
        return self.root / inside.lstrip("/")

    def _nspawn(self, command: str, path_first: str = "") -> list[str]:
        """The command line that runs `command` in the project folder, as the user types it."""
        path = ":".join(filter(None, [path_first, "/usr/local/bin:/usr/bin:/bin"]))
        cache = Path(os.path.expanduser("~/.cache/pip"))
        binds = [f"--bind={cache}:/root/.cache/pip"] if cache.is_dir() else []
        # nspawn's own /tmp is a small tmpfs; pip builds pyspark's wheel there.
        tmp = self.base / "controller-tmp"
        tmp.mkdir(exist_ok=True)
        binds.append(f"--bind={tmp}:/tmp")
        # --console=pipe: the command's output is a pipe, as in a script, not a terminal.
        return ["systemd-nspawn", "-q", "--register=no", "--keep-unit", "--console=pipe",
                "-D", str(self.root), *binds, f"--chdir={self.PROJECT}", "--setenv=PATH=" + path,
                "--setenv=HOME=/root", "--setenv=LANG=C.UTF-8",
                "--setenv=PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
                "bash", "-c", command]

    def start_command(self, command: str) -> subprocess.Popen:
        """`command` running in the background; its output (stdout and stderr) is a pipe."""
        return subprocess.Popen(self._nspawn(command), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)

    def run(self, command: str, timeout: float = 1800, path_first: str = "",
            check: bool = True) -> subprocess.CompletedProcess:
        """Run a shell command in the project folder, as the user types it."""
        args = self._nspawn(command, path_first)
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                                    stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired as error:
            raise AssertionError(f"{command!r} on the controller timed out after {timeout} s:\n"
                                 f"{(error.stdout or b'')[-4000:]!r}") from None
        if check and result.returncode != 0:
            raise AssertionError(f"{command!r} on the controller failed ({result.returncode}):\n"
                                 f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
        return result


def copy_project(source: Path, target: Path) -> None:
    """The project's files as a clone has them (tracked and new, not ignored)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=source, capture_output=True,
                           check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)


def quote(text: str) -> str:
    return shlex.quote(text)
