"""The benchmark's scikit-learn run, in its own process so its memory is its own.

    python -m nodewise_cli.bench_sklearn <split dir> <node> [<node> ...]

Fits the reference (nodewise_cli/reference.py) on every slice's train side
(split seed 1) and prints {"fit_seconds", "train_rows", "f1"} as JSON.
"""

from __future__ import annotations

import json
import sys

from nodewise import metrics, schema
from nodewise_cli import reference


def main(argv: list[str]) -> None:
    split_dir, nodes = argv[0], argv[1:]
    result = reference.fit_and_score(reference.read_all(split_dir, nodes, seed=1))
    f1 = metrics.scores(result["confusion_matrix"], schema.LABELS)["f1"]
    print(json.dumps({"fit_seconds": result["fit_seconds"], "train_rows": result["train_rows"],
                      "f1": f1}))


if __name__ == "__main__":
    main(sys.argv[1:])
