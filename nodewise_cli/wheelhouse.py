"""The nodes' wheelhouse: every `# node` package of requirements.lock as wheels.

Built on the controller for the NODES' Python and platform (their Python
version, machine and libc, which the playbook probes), not the controller's:
a Python 3.13 laptop builds cp311 wheels for Debian 12 nodes. The playbook
pushes it, and each node installs it with `pip install --no-index`: nodes
need no package index, and every node gets exactly the pinned versions.

Each requirement is a binary wheel for the target (`pip download
--only-binary=:all:` with the target's tags), or, when the index has none
(pyspark is sdist-only), a wheel built here from the sdist that must be pure
Python (`-none-any`), since a wheel built here is for this machine.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from nodewise_cli.files import atomic_directory

NODE_MARKER = "# node"
REQUIREMENTS = "requirements.txt"
# Machines as the node's `uname -m` / platform.machine() prints them, which
# are also the manylinux and musllinux tags' architecture names.
MACHINES = ("x86_64", "aarch64", "i686", "armv7l", "ppc64le", "s390x", "riscv64")
# The oldest glibc a manylinux tag names: 2.17 (manylinux2014) for most
# machines, 2.5 (manylinux1) for x86 as in pip's own list of tags.
_OLDEST_GLIBC = {"x86_64": 5, "i686": 5}
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_PIP_TAIL = 1500              # characters of pip's output an error quotes
# What pip says when the index has no file for the requirement and tags.
_NOT_FOUND = ("No matching distribution found", "Could not find a version that satisfies")


@dataclass(frozen=True)
class Target:
    """The Python and platform a wheelhouse is for."""

    python_version: str         # "3.11"
    machine: str                # "x86_64", "aarch64", as platform.machine() says
    libc: str                   # "glibc-2.36" or "musl-1.2"

    @property
    def python_tag(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    @property
    def name(self) -> str:
        return f"{self.python_tag}-{self.machine}-{self.libc}"

    def platform_tags(self) -> list[str]:
        """Every platform tag a wheel for this target may carry, newest first.

        pip does not widen one `--platform` to the older compatible ones, so
        all are listed: pyarrow 26.0.1 has only a manylinux_2_28 wheel.
        """
        family, version = parse_libc(self.libc)
        major, minor = version
        if family == "musl":
            return [f"musllinux_{major}_{m}_{self.machine}" for m in range(minor, 0, -1)]
        tags = []
        for glibc in range(minor, _OLDEST_GLIBC.get(self.machine, 17) - 1, -1):
            tags.append(f"manylinux_2_{glibc}_{self.machine}")
            if glibc in _LEGACY_MANYLINUX:
                tags.append(f"{_LEGACY_MANYLINUX[glibc]}_{self.machine}")
        return tags

    def pip_target_args(self) -> list[str]:
        """pip's options that make it pick files for this target, not this machine."""
        platforms = [arg for tag in [*self.platform_tags(), "any"] for arg in ("--platform", tag)]
        return ["--python-version", self.python_version, "--implementation", "cp",
                "--abi", self.python_tag, "--abi", "abi3", "--abi", "none", *platforms]


def parse_python_version(value: str) -> str:
    """'3.11' as given, or ValueError naming the value."""
    if not re.fullmatch(r"3\.\d{1,2}", value or ""):
        raise ValueError(f"{value!r} is not a Python version: expected major.minor, e.g. 3.11")
    return value


def parse_machine(value: str) -> str:
    if value not in MACHINES:
        hint = " (Linux on ARM says aarch64)" if value == "arm64" else ""
        raise ValueError(f"{value!r} is not a machine the nodes can be{hint}: expected one of "
                         f"{', '.join(MACHINES)}, as `uname -m` prints it")
    return value


def parse_libc(value: str) -> tuple[str, tuple[int, int]]:
    """('glibc', (2, 36)) from 'glibc-2.36', ('musl', (1, 2)) from 'musl-1.2', else ValueError."""
    if not value:
        raise ValueError("no libc given, and this machine reports none (platform.libc_ver() "
                         "finds no glibc here): give the nodes', e.g. glibc-2.36")
    match = re.fullmatch(r"(glibc)-(2)\.(\d{1,3})|(musl)-(1)\.(\d{1,3})", value)
    if not match:
        raise ValueError(f"{value!r} is not a libc: expected glibc-2.N, as the node's "
                         f"'-'.join(platform.libc_ver()) prints it (e.g. glibc-2.36), or musl-1.N")
    family, major, minor = [group for group in match.groups() if group is not None]
    if family == "glibc" and int(minor) < 17:
        raise ValueError(f"{value!r} is older than glibc 2.17, the oldest a wheelhouse is built for")
    return family, (int(major), int(minor))


def parse_target(python_version: str, machine: str, libc: str) -> Target:
    """A Target from the node's probe, or ValueError naming the bad value."""
    target = Target(parse_python_version(python_version), parse_machine(machine), libc)
    parse_libc(libc)
    return target


def controller_target() -> Target:
    """This machine's own Python, machine and libc (libc '' where it has no glibc)."""
    return Target(f"{sys.version_info.major}.{sys.version_info.minor}", platform.machine(),
                  "-".join(part for part in platform.libc_ver() if part))


def node_requirements(lock_path: str) -> list[str]:
    """The pinned requirements marked for the nodes, without their comments."""
    with open(lock_path, encoding="utf-8") as handle:
        return [line.split("#")[0].strip() for line in handle
                if line.rstrip().endswith(NODE_MARKER)]


def fingerprint(requirements: list[str], target_name: str) -> str:
    """Names one wheelhouse: its requirements and the target it is for."""
    text = "\n".join([target_name, *requirements])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True,
                          check=False)


def _tail(result: subprocess.CompletedProcess) -> str:
    text = "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
    return text[-_PIP_TAIL:]


def _project_name(requirement: str) -> str:
    return re.split(r"[=<>!~;@\[\s]", requirement, maxsplit=1)[0]


class WheelError(ValueError):
    """A requirement has no wheel for the target: names both, and quotes pip."""


def fetch_wheel(requirement: str, target: Target, wheel_dir: str) -> str:
    """Put `requirement`'s wheel for `target` into `wheel_dir`; return its file name."""
    with tempfile.TemporaryDirectory(prefix=".pip-", dir=wheel_dir) as scratch:
        binary = _pip("download", "--no-deps", "--only-binary=:all:", "--quiet",
                      "--dest", scratch, *target.pip_target_args(), requirement)
        if binary.returncode != 0:
            if not any(sign in binary.stdout + binary.stderr for sign in _NOT_FOUND):
                raise WheelError(f"pip could not download {requirement} for {target.name}:\n"
                                 f"{_tail(binary)}")
            # No binary wheel for the target: build the sdist here. Only a
            # pure-Python wheel is then good for the nodes.
            built = _pip("wheel", "--no-deps", "--no-binary", _project_name(requirement),
                         "--quiet", "--wheel-dir", scratch, requirement)
            if built.returncode != 0:
                raise WheelError(f"{requirement} has no wheel for {target.name}, and building it "
                                 f"from its sdist failed:\n{_tail(built)}")
        wheels = sorted(name for name in os.listdir(scratch) if name.endswith(".whl"))
        if len(wheels) != 1:
            raise WheelError(f"pip gave {wheels or 'no wheel'} for {requirement} ({target.name}), "
                             f"expected one wheel")
        wheel = wheels[0]
        if binary.returncode != 0 and not wheel.endswith("-none-any.whl"):
            raise WheelError(f"{requirement} has no wheel for {target.name}, and its sdist builds "
                             f"{wheel}, which is for this machine, not the nodes: build it on a "
                             f"node or pin a version with wheels for {target.name}")
        shutil.move(os.path.join(scratch, wheel), os.path.join(wheel_dir, wheel))
        return wheel


def build(lock_path: str, out_dir: str, target: Target | None = None) -> tuple[str, bool]:
    """Build the wheelhouse in `out_dir` unless it is complete: (stamp file, built now)."""
    if target is None:
        own = controller_target()
        target = parse_target(own.python_version, own.machine, own.libc)
    requirements = node_requirements(lock_path)
    if not requirements:
        raise ValueError(f"{lock_path} marks no package with '{NODE_MARKER}'")
    stamp = os.path.join(out_dir, f".complete-{fingerprint(requirements, target.name)}")
    if os.path.exists(stamp):
        return stamp, False
    # Built whole in a staging directory that then replaces the old one, so
    # wheels of earlier pins never linger and a failed build changes nothing.
    with atomic_directory(out_dir) as staging:
        for requirement in requirements:
            fetch_wheel(requirement, target, staging)
        with open(os.path.join(staging, REQUIREMENTS), "w", encoding="utf-8") as out:
            out.write("\n".join(requirements) + "\n")
        with open(os.path.join(staging, os.path.basename(stamp)), "w", encoding="utf-8") as out:
            out.write(f"{target.name}\n")
    return stamp, True
