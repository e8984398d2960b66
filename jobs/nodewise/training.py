"""What both trainers do once a model is fitted: score, save, record."""

from __future__ import annotations

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from nodewise import describe, features, resources, runs, scoring
from nodewise.jobcli import SeedClock, seed_group


def finish_run(fitted: PipelineModel, test_rows: DataFrame, eval_set: str, out_dir: str,
               clock: SeedClock, **fields) -> dict:
    """Score `fitted` on `test_rows`, save it, and write its run record.

    `fields` carries what only the trainer knows (run_id, model, seed, rows,
    classifier, feature_set); `total_seconds` is the seed's share of the
    application's start-up plus its own time up to the record written.
    """
    spark = test_rows.sparkSession
    params = {**features.classifier_params(fields["classifier"]), **fields.pop("params", {})}
    record = {"kind": "train", "master": spark.sparkContext.master, **fields, "params": params,
              "model_description": describe.describe(fitted, test_rows),
              "evaluation": scoring.evaluation(fitted, test_rows, eval_set)}
    record["test_rows"] = record["evaluation"]["rows"]
    record["resources"] = resources.application_resources(spark, seed_group(fields["seed"]))
    record["versions"] = runs.versions(spark)
    # Archive, record, then the info that commits the model: a run that dies
    # in between leaves a model that nothing scores or combines.
    runs.save_model(fitted, out_dir, record)
    record["finished_at"] = runs.utc_now()
    record.update(clock.timing())
    runs.write_json(runs.record_path(out_dir, record["run_id"]), record)
    runs.commit_model(out_dir, record)
    return record
