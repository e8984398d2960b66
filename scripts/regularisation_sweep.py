"""Evidence for the logistic regression's regularisation (features.REG_PARAM).

Fits the shared Spark pipeline on every slice together (as the unified model
does) for several regParam/elasticNet settings and seeds, on the shared
split, beside the scikit-learn reference on the same rows. Usage:

    .venv/bin/python scripts/regularisation_sweep.py data/split master worker1 worker2
"""

from __future__ import annotations

import statistics
import sys

from pyspark.sql import SparkSession

from nodewise import features, metrics, scoring
from nodewise.slices import IS_TEST
from nodewise_cli import reference

SEEDS = (1, 2, 3, 4, 5)
SETTINGS = [(0.0, 0.0), (0.001, 0.0), (0.005, 0.0), (0.01, 0.0), (0.02, 0.0), (0.05, 0.0),
            (0.001, 1.0), (0.005, 1.0), (0.01, 1.0)]


def main(split_dir: str, nodes: list[str]) -> None:
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    results = {setting: [] for setting in SETTINGS}
    sklearn_f1 = []
    for seed in SEEDS:
        frame = reference.read_all(split_dir, nodes, seed)
        sklearn_f1.append(metrics.weighted_f1(reference.fit_and_score(frame)["confusion_matrix"]))
        rows = spark.createDataFrame(frame).cache()
        train, test = rows.filter(~rows[IS_TEST]), rows.filter(rows[IS_TEST])
        for reg_param, elastic_net in SETTINGS:
            model = features.build_pipeline(reg_param=reg_param, elastic_net_param=elastic_net).fit(train)
            results[(reg_param, elastic_net)].append(
                metrics.weighted_f1(scoring.confusion_matrix(model, test)))
    print(f"sklearn C=1 L2: mean {statistics.mean(sklearn_f1):.4f} min {min(sklearn_f1):.4f}")
    for (reg_param, elastic_net), f1s in results.items():
        gap = statistics.mean(sklearn_f1) - statistics.mean(f1s)
        print(f"regParam {reg_param:<6} elasticNet {elastic_net}: mean {statistics.mean(f1s):.4f} "
              f"min {min(f1s):.4f}  below sklearn by {gap:+.4f}")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["master", "worker1", "worker2"])
