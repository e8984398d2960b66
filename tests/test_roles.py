"""Static checks that the roles stand alone: each documents every variable it
has or reads, keeps its `__` internals to itself, and lists in meta/ the roles
it uses (no cluster needed)."""

from __future__ import annotations

import os
import re

import yaml

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES_DIR = os.path.join(PROJECT, "ansible", "roles")
ROLES = sorted(name for name in os.listdir(ROLES_DIR)
               if os.path.isdir(os.path.join(ROLES_DIR, name)))
PLAYBOOKS = ["site.yml", *sorted(
    os.path.join("ansible", "playbooks", name)
    for name in os.listdir(os.path.join(PROJECT, "ansible", "playbooks")))]
# A `__name` (not a Python `__dunder__`, not an attribute such as `.__file__`).
PRIVATE = re.compile(r"(?<![A-Za-z0-9_.])__([a-z][a-z0-9_]*[a-z0-9])(?![A-Za-z0-9_])")


def read(path: str) -> str:
    with open(os.path.join(PROJECT, path), encoding="utf-8") as handle:
        return handle.read()


def role_files(role: str) -> list[str]:
    """The files that make up a role's behaviour: not its README, not meta/."""
    found = []
    for folder, _, names in os.walk(os.path.join(ROLES_DIR, role)):
        relative = os.path.relpath(folder, ROLES_DIR).split(os.sep)
        if len(relative) > 1 and relative[1] == "meta":
            continue
        found += [os.path.relpath(os.path.join(folder, name), PROJECT)
                  for name in sorted(names) if name != "README.md"]
    return found


def role_text(role: str) -> str:
    return "\n".join(read(path) for path in role_files(role))


def defaults(role: str) -> list[str]:
    path = os.path.join("ansible", "roles", role, "defaults", "main.yml")
    if not os.path.exists(os.path.join(PROJECT, path)):
        return []
    return list(yaml.safe_load(read(path)) or {})


def tasks(node):
    """Every task of a task list, blocks' tasks included."""
    for task in node if isinstance(node, list) else []:
        if isinstance(task, dict):
            yield task
            for key in ("block", "rescue", "always"):
                yield from tasks(task.get(key))


def public_facts(role: str) -> set[str]:
    """The facts a role's tasks set for others to read (set_fact, no `__`)."""
    found = set()
    for path in role_files(role):
        if path.endswith(".yml") and os.sep + "tasks" + os.sep in path:
            for task in tasks(yaml.safe_load(read(path))):
                found |= {name for name in task.get("ansible.builtin.set_fact") or {}
                          if not name.startswith("_")}
    return found


def uses(text: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def owner(private_name: str) -> str | None:
    """The role whose internals `__<role>_...` names (the longest role name wins)."""
    for role in sorted(ROLES, key=len, reverse=True):
        if private_name.startswith(role + "_"):
            return role
    return None


def meta(role: str) -> dict:
    return yaml.safe_load(read(os.path.join("ansible", "roles", role, "meta", "main.yml")))


def dependencies(role: str) -> list[str]:
    return [entry if isinstance(entry, str) else entry["role"]
            for entry in meta(role).get("dependencies") or []]


def readme(role: str) -> str:
    path = os.path.join("ansible", "roles", role, "README.md")
    assert os.path.exists(os.path.join(PROJECT, path)), f"{role} has no README.md"
    return read(path)


def test_every_role_has_a_readme_with_the_usual_sections():
    for role in ROLES:
        text = readme(role)
        assert text.startswith(f"# Ansible Role: {role}\n"), role
        for section in ("## Requirements", "## Role Variables", "## Dependencies",
                        "## Example Playbook"):
            assert f"\n{section}\n" in text, (role, section)


def test_every_default_of_a_role_is_in_its_readme_with_its_value():
    # As in geerlingguy's roles: each default on an indented line of its own,
    # `    name: value`, followed by what it means.
    missing = [(role, name) for role in ROLES for name in defaults(role)
               if not re.search(rf"^ {{4}}{re.escape(name)}:", readme(role), re.M)]
    assert missing == [], missing


def test_every_nodewise_variable_a_role_reads_is_in_its_readme():
    shared = defaults("nodewise")
    missing = [(role, name) for role in ROLES if role != "nodewise"
               for name in shared if uses(role_text(role), name)
               and f"`{name}`" not in readme(role)]
    assert missing == [], missing


def test_no_playbook_or_other_role_uses_a_roles_private_variables():
    misused = []
    for role in ROLES:
        for path in role_files(role):
            for number, line in enumerate(read(path).splitlines(), 1):
                for name in PRIVATE.findall(line):
                    if owner(name) not in (None, role):
                        misused.append(f"{path}:{number}: __{name} is {owner(name)}'s")
    for path in PLAYBOOKS:
        for number, line in enumerate(read(path).splitlines(), 1):
            for name in PRIVATE.findall(line):
                if owner(name) is not None:
                    misused.append(f"{path}:{number}: __{name} is {owner(name)}'s")
    assert misused == [], "\n".join(misused)


def test_the_private_variable_check_sees_what_it_must():
    assert PRIVATE.findall('"{{ __nodewise_jobs_dir }}/x.py" __java_major')
    assert [owner(name) for name in PRIVATE.findall(
        "__nodewise_jobs_scripts __nodewise_root __spark_worker_master_json __worker")] == [
        "nodewise_jobs", "nodewise", "spark_worker", None]
    assert PRIVATE.findall("pyspark.__file__ __init__") == []


def test_meta_dependencies_are_the_roles_whose_variables_a_role_uses():
    """A role lists in meta/ each role whose defaults or facts it reads or whose
    task files it includes, and no other; one it cannot list (it would run
    twice) is a soft dependency, named in a comment of its meta/main.yml and in
    its README's Dependencies."""
    for role in ROLES:
        text = role_text(role)
        used = {other for other in ROLES if other != role and (
            any(uses(text, name) for name in [*defaults(other), *public_facts(other)])
            or re.search(rf"include_role:\s*\n\s+name: {other}\n", text))}
        listed = set(dependencies(role))
        assert listed <= used, (role, "lists roles it does not use", listed - used)
        comments = re.findall(r"#.*", read(os.path.join("ansible", "roles", role, "meta", "main.yml")))
        notes = readme(role).split("## Dependencies", 1)[1].split("\n## ", 1)[0]
        for other in used - listed:
            assert any(uses(comment, other) for comment in comments) \
                and re.search(rf"`{other}`, a soft dependency", notes), \
                (role, f"uses {other} without listing it, or saying why in meta/main.yml and its README")


def test_a_role_a_play_lists_with_tags_or_vars_is_no_dependency_there():
    """Ansible runs a role once per play only where all its entries are alike:
    a role that a play lists with tags (as site.yml does) and that another role
    of the play also depends on would run twice."""
    def all_dependencies(role, seen=()):
        for dependency in dependencies(role):
            if dependency not in seen:
                yield dependency
                yield from all_dependencies(dependency, (*seen, dependency))

    for path in PLAYBOOKS:
        for play in yaml.safe_load(read(path)):
            entries = [entry if isinstance(entry, dict) else {"role": entry}
                       for entry in play.get("roles") or []]
            special = {entry["role"] for entry in entries
                       if set(entry) & {"tags", "vars", "when"}}
            for entry in entries:
                twice = special & set(all_dependencies(entry["role"]))
                assert not twice, (path, play["name"], entry["role"], twice)


def test_spark_common_tells_other_roles_where_spark_is():
    assert public_facts("spark_common") == {"spark_common_home"}
    assert uses(role_text("spark_class_archive"), "spark_common_home")


def test_one_definition_of_the_project_folder_for_every_playbook():
    occurrences = [path for path in [*PLAYBOOKS, *(
        p for role in ROLES for p in role_files(role))] if "nodewise_project_dir:" in read(path)]
    assert occurrences == [os.path.join("ansible", "roles", "nodewise", "defaults", "main.yml")]
