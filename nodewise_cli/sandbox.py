"""A private copy of the embedded default: three logical nodes under one folder.

The benchmark and the end-to-end tests run the real playbooks against it: its
own node roots, slices, reports, secret and ports, so it never touches the
`make demo` cluster or the project's data/ and reports/.
"""

from __future__ import annotations

import os

NODES = ("master", "worker1", "worker2")
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER_MEMORY_MB = 1536


def ports(port_base: int) -> dict[str, int]:
    """The master's ports; worker i (from 1) uses master_port + i and master_ui + i."""
    return {"master": port_base + 77, "master_ui": port_base + 1080,
            "history_ui": port_base + 1180}


def inventory_text(root: str, port_base: int) -> str:
    """An inventory whose node roots, split, reports and secret are under `root`."""
    port = ports(port_base)
    hosts = [f"{name} nodewise_worker_port={port['master'] + i} "
             f"nodewise_worker_ui_port={port['master_ui'] + i}"
             for i, name in enumerate(NODES, 1)]
    lines = ["[spark_master]", hosts[0], "", "[spark_workers]", *hosts[1:], "",
             "[nodewise:children]", "spark_master", "spark_workers", "", "[nodewise:vars]",
             "ansible_connection=local",
             "ansible_python_interpreter={{ ansible_playbook_python }}",
             "nodewise_address=127.0.0.1",
             f"nodewise_root={root}/nodes/{{{{ inventory_hostname }}}}",
             f"nodewise_venv={PROJECT}/.venv",
             "nodewise_system=false", "nodewise_spark_install=none",
             "nodewise_worker_cores=1", f"nodewise_worker_memory={WORKER_MEMORY_MB}m",
             "nodewise_executor_memory=1g",
             "nodewise_executor_java_options=-XX:TieredStopAtLevel=1",  # as inventories/local.ini
             f"nodewise_class_archive={root}/nodes/spark.jsa",
             f"nodewise_master_port={port['master']}",
             f"nodewise_master_ui_port={port['master_ui']}",
             f"nodewise_history_ui_port={port['history_ui']}",
             f"nodewise_split_dir={root}/split",
             f"nodewise_reports_dir={root}/reports",
             f"nodewise_secret_file={root}/secret"]
    return "\n".join(lines) + "\n"


def node_root(root: str, node: str) -> str:
    return os.path.join(root, "nodes", node)
