"""The nodes' wheelhouse: every `# node` package of requirements.lock as wheels.

Built once on the controller, pushed by the playbook, installed on each node
with `pip install --no-index`: nodes need no package index, and every node
gets exactly the controller's pinned versions.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from nodewise_cli.files import atomic_directory

NODE_MARKER = "# node"
REQUIREMENTS = "requirements.txt"


def node_requirements(lock_path: str) -> list[str]:
    """The pinned requirements marked for the nodes, without their comments."""
    with open(lock_path, encoding="utf-8") as handle:
        return [line.split("#")[0].strip() for line in handle
                if line.rstrip().endswith(NODE_MARKER)]


def fingerprint(requirements: list[str], python_tag: str) -> str:
    """Names one wheelhouse: its requirements and the Python it is for."""
    text = "\n".join([python_tag, *requirements])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def python_tag() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def build(lock_path: str, out_dir: str) -> tuple[str, bool]:
    """Build the wheelhouse in `out_dir` unless it is complete: (stamp file, built now)."""
    requirements = node_requirements(lock_path)
    if not requirements:
        raise ValueError(f"{lock_path} marks no package with '{NODE_MARKER}'")
    stamp = os.path.join(out_dir, f".complete-{fingerprint(requirements, python_tag())}")
    if os.path.exists(stamp):
        return stamp, False
    # Built whole in a staging directory that then replaces the old one, so
    # wheels of earlier pins never linger and a failed build changes nothing.
    with atomic_directory(out_dir) as staging:
        with open(os.path.join(staging, REQUIREMENTS), "w", encoding="utf-8") as out:
            out.write("\n".join(requirements) + "\n")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", staging,
                        "-r", os.path.join(staging, REQUIREMENTS)], check=True)
        with open(os.path.join(staging, os.path.basename(stamp)), "w", encoding="utf-8") as out:
            out.write(f"{python_tag()}\n")
    return stamp, True
