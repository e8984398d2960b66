"""Saving a fitted model on the driver's own disk, as one archive file.

Without a shared filesystem, `PipelineModel.save` on a standalone cluster
writes its parts through executors, each onto its own host: the model ends up
scattered. Spark 4's MLWriter.saveToLocal / MLReader.loadFromLocal (the code
path Spark Connect uses for its model cache) write and read on the driver
only, so a model trained on the cluster lands whole on the master, and a
model file can travel to every node to be scored there.
"""

from __future__ import annotations

import os
import tarfile
import tempfile

from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

from nodewise.archive import extract_all

ARCHIVE_SUFFIX = ".tar.gz"
_MODEL_DIR = "model"


def save_model(model: PipelineModel, archive_path: str) -> None:
    """Write `model` to `archive_path` atomically (temporary file, fsync, rename)."""
    directory = os.path.dirname(os.path.abspath(archive_path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as workdir:
        model_dir = os.path.join(workdir, _MODEL_DIR)
        model._to_java().write().saveToLocal(model_dir)
        partial = os.path.join(workdir, "model" + ARCHIVE_SUFFIX)
        with open(partial, "wb") as out:
            with tarfile.open(fileobj=out, mode="w:gz") as archive:
                archive.add(model_dir, arcname=_MODEL_DIR)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, archive_path)


def load_model(spark: SparkSession, archive_path: str) -> PipelineModel:
    """Read a model written by `save_model`, on the driver only."""
    with tempfile.TemporaryDirectory() as workdir:
        extract_all(archive_path, workdir)
        reader = spark._jvm.org.apache.spark.ml.PipelineModel.read()
        java_model = reader.loadFromLocal(os.path.join(workdir, _MODEL_DIR))
        return PipelineModel._from_java(java_model)


