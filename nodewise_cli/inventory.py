"""Reading an Ansible inventory the way the playbooks see it (ansible-inventory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

MASTER_GROUP = "spark_master"
WORKER_GROUP = "spark_workers"


def _ansible_inventory_command() -> str:
    beside_python = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    return beside_python if os.path.exists(beside_python) else "ansible-inventory"


def read(inventory: str) -> dict:
    """`ansible-inventory --list` of `inventory`: groups, and every host's variables
    (not templated) under _meta.hostvars."""
    result = subprocess.run(
        [_ansible_inventory_command(), "-i", inventory, "--list"],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ValueError(f"cannot read inventory {inventory}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def master(listing: dict, inventory: str) -> str:
    masters = listing.get(MASTER_GROUP, {}).get("hosts", [])
    if len(masters) != 1:
        raise ValueError(f"inventory {inventory}: group [{MASTER_GROUP}] must hold exactly "
                         f"one host, it holds {len(masters)}")
    return masters[0]


def nodes(inventory: str) -> list[str]:
    """The hosts of `inventory`: the master first, then the workers, in order."""
    listing = read(inventory)
    workers = listing.get(WORKER_GROUP, {}).get("hosts", [])
    return list(dict.fromkeys([master(listing, inventory)] + workers))


def master_vars(inventory: str) -> dict:
    """The master host's variables (its group variables included), as written."""
    listing = read(inventory)
    host = master(listing, inventory)
    return listing.get("_meta", {}).get("hostvars", {}).get(host, {})
