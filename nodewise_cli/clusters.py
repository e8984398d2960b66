"""Which cluster `make` works on, and where the other clusters' files wait.

A make target given INVENTORY= makes that inventory's cluster the current one:
STATE remembers it, and later targets without INVENTORY= use it. The current
cluster's files stay where every command looks for them (data/split/,
reports/runs/, reports/models/, the report). On a switch they move to
reports/clusters/<name>/ and the new cluster's come back from there, so one
cluster's runs never mix into another's report.

An inventory that sets its own nodewise_split_dir or nodewise_reports_dir (the
tests' and the bench's sandboxes) keeps its files there and is not remembered.

The Makefile runs `python -m nodewise_cli.clusters INVENTORY` before each
target; this module imports nothing heavy, so that costs a tenth of a second.
"""

from __future__ import annotations

import glob
import json
import os
import sys

from nodewise_cli import inventory as ansible_inventory
from nodewise_cli import paths
from nodewise_cli.files import atomic_path

STATE = os.path.join(".nodewise", "inventory")  # the Makefile reads it too
STASH_ROOT = os.path.join(paths.REPORTS_DIR, "clusters")
STASH_INVENTORY = "inventory"  # in a stash: the inventory its files came from
# Files from before clusters were remembered whose cluster cannot be told.
EARLIER = "earlier"
OWN_DIR_VARIABLES = ("nodewise_split_dir", "nodewise_reports_dir")


class ClusterError(Exception):
    pass


def name_of(inventory: str) -> str:
    """A cluster's name: its inventory file's name without .ini (inventories/local.ini: local)."""
    base = os.path.basename(inventory)
    return base[:-len(".ini")] if base.endswith(".ini") else base


def cluster_files() -> dict[str, str]:
    """The current cluster's files, each with its name in a stash."""
    files = {paths.SPLIT_DIR: "split", paths.RUNS_DIR: "runs", paths.MODELS_DIR: "models",
             paths.LOGS_DIR: "logs"}
    files.update({os.path.join(paths.REPORTS_DIR, name): name for name in paths.REPORT_FILES})
    return files


def stash_dir(name: str) -> str:
    return os.path.join(STASH_ROOT, name)


def remembered() -> str | None:
    """The current cluster's inventory, or None before the first target."""
    try:
        with open(STATE, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except FileNotFoundError:
        return None


def remember(inventory: str) -> None:
    with atomic_path(STATE) as partial, open(partial, "w", encoding="utf-8") as out:
        out.write(inventory + "\n")


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def has_own_dirs(inventory: str) -> bool:
    """Whether `inventory` keeps its split and reports outside the project's folders."""
    variables = ansible_inventory.master_vars(inventory)
    return any(name in variables for name in OWN_DIR_VARIABLES)


def stash(name: str, inventory: str) -> list[str]:
    """Move the current cluster's files into its stash; the names moved."""
    target = stash_dir(name)
    present = {current: os.path.join(target, stored)
               for current, stored in cluster_files().items() if os.path.lexists(current)}
    for current, destination in present.items():
        if os.path.lexists(destination):
            raise ClusterError(f"both {current} and {destination} exist: move one away "
                               f"and run the target again")
    for current, destination in present.items():
        os.makedirs(target, exist_ok=True)
        os.replace(current, destination)
    if present:
        with atomic_path(os.path.join(target, STASH_INVENTORY)) as partial, \
                open(partial, "w", encoding="utf-8") as out:
            out.write(inventory + "\n")
    return [os.path.basename(destination) for destination in present.values()]


def restore(name: str) -> list[str]:
    """Move cluster `name`'s stashed files back into place; the names moved."""
    source = stash_dir(name)
    moved = []
    for current, stored in cluster_files().items():
        kept = os.path.join(source, stored)
        if os.path.lexists(kept) and not os.path.lexists(current):
            os.makedirs(os.path.dirname(current) or ".", exist_ok=True)
            os.replace(kept, current)
            moved.append(stored)
    if os.path.isdir(source) and os.listdir(source) == [STASH_INVENTORY]:
        os.remove(os.path.join(source, STASH_INVENTORY))
        os.rmdir(source)
    return moved


def _record_masters() -> set[str]:
    """The master addresses in the current records (spark://host:port of unified runs)."""
    masters = set()
    for path in glob.glob(os.path.join(paths.RUNS_DIR, "*.json")):
        try:
            with open(path, encoding="utf-8") as handle:
                url = str(json.load(handle).get("master", ""))
        except (OSError, ValueError, AttributeError):
            continue
        if url.startswith("spark://"):
            masters.add(url[len("spark://"):].rsplit(":", 1)[0])
    return masters


def _master_address(inventory: str) -> str | None:
    try:
        variables = ansible_inventory.master_vars(inventory)
    except ValueError:
        return None
    return variables.get("nodewise_address") or variables.get("ansible_host")


def earlier_cluster(candidates: list[str]) -> tuple[str, str]:
    """Name and inventory of the cluster the files of before this change came from:
    the candidate inventory whose master address ran their unified runs."""
    masters = _record_masters()
    for candidate in candidates:
        if masters and _master_address(candidate) in masters:
            return name_of(candidate), candidate
    return EARLIER, "unknown (made before nodewise remembered clusters)"


def known_inventories() -> list[str]:
    return ["inventory.ini", *sorted(glob.glob(os.path.join("inventories", "*.ini")))]


def _has_current_files() -> bool:
    return any(os.path.lexists(path) for path in cluster_files())


def use(inventory: str) -> list[str]:
    """Make `inventory`'s cluster the current one; what to tell the user."""
    if not os.path.exists(inventory):
        raise ClusterError(f"inventory {inventory} not found (the current cluster's is "
                           f"remembered in {STATE}; name another with INVENTORY=)")
    name = name_of(inventory)
    current = remembered()
    if current and _same_file(current, inventory):
        restore(name)  # finishes a switch that was cut short
        return [f"cluster {name} ({inventory})"]
    if has_own_dirs(inventory):
        return [f"cluster {name} ({inventory}), with its own split and reports folders"]
    if current:
        old_name, old_inventory = name_of(current), current
    elif _has_current_files():
        old_name, old_inventory = earlier_cluster([*known_inventories(), inventory])
    else:
        old_name = old_inventory = None
    if old_name == name and not _same_file(old_inventory, inventory):
        raise ClusterError(f"{inventory} and {old_inventory} would both be cluster {name}: "
                           f"rename one of the inventory files")
    messages = []
    if old_name and old_name != name:
        moved = stash(old_name, old_inventory)
        if moved:
            messages.append(f"cluster {old_name}'s {', '.join(moved)} kept in "
                            f"{stash_dir(old_name)}/")
    remember(inventory)
    back = restore(name)
    if back:
        messages.append(f"cluster {name}'s {', '.join(back)} back from {stash_dir(name)}/")
    return messages + [f"cluster {name} ({inventory}) is now the current one"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m nodewise_cli.clusters INVENTORY", file=sys.stderr)
        return 2
    try:
        for message in use(argv[0]):
            print(f"nodewise: {message}")
    except (ClusterError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
