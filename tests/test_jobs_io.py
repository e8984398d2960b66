"""Reading slices, saving models, scoring and resource figures."""

from __future__ import annotations

import numpy as np
import pytest

from nodewise import features, manifest, model_io, names, resources, schema, scoring
from nodewise.slices import (
    IS_TEST,
    NODE,
    ROW,
    for_seed,
    load_slice,
    read_slice,
    slice_path,
    spark_schema,
)
from nodewise.split import test_mask

HEADER = ",".join(schema.COLUMNS)


def csv_line(job, automation, education="PhD"):
    label = schema.risk_category(automation)
    return f"{job},50000,3,{education},0.1,1.0,{automation},{label}," + ",".join(["0.5"] * 10)


def write_slice(directory, node, lines):
    path = slice_path(str(directory), node)
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join([HEADER, *lines]) + "\n")
    return path


def test_slice_path_names_the_node(tmp_path):
    assert slice_path(str(tmp_path), "worker1") == str(tmp_path / "jobs_worker1.csv")


def test_read_slice_adds_node_row_numbers_and_the_shared_split(tmp_path):
    lines = [csv_line("Nurse", 0.2), csv_line("Chef", 0.5), csv_line("Truck Driver", 0.9)] * 20
    table = read_slice(write_slice(tmp_path, "w1", lines), "w1", seed=3)
    assert table.num_rows == 60
    assert table.column(NODE).to_pylist() == ["w1"] * 60
    assert table.column(ROW).to_pylist() == list(range(60))
    assert table.column(IS_TEST).to_pylist() == test_mask("w1", np.arange(60), 3).tolist()
    assert table.column("Education_Level").to_pylist()[0] == "PhD"
    assert table.column(schema.LABEL).to_pylist()[:3] == ["Low", "Medium", "High"]


def test_spark_schema_matches_the_read_slice_table(spark, tmp_path):
    table = read_slice(write_slice(tmp_path, "w1", [csv_line("Nurse", 0.2)]), "w1", 1)
    rows = spark.createDataFrame(table, schema=spark_schema())
    assert rows.columns == [*schema.COLUMNS, NODE, ROW, IS_TEST]
    assert rows.first()["Average_Salary"] == 50000


def test_one_read_of_a_slice_gives_each_seeds_split_as_read_slice_does(spark, tmp_path):
    lines = [csv_line("Nurse", 0.2), csv_line("Chef", 0.5), csv_line("Truck Driver", 0.9)] * 20
    path = write_slice(tmp_path, "w1", lines)
    rows = load_slice(spark, path, "w1", [2, 5])
    for seed in (2, 5):
        view = for_seed(rows, seed)
        assert view.schema == spark_schema()
        expected = read_slice(path, "w1", seed).to_pylist()
        assert [row.asDict() for row in view.orderBy(ROW).collect()] == expected
    assert for_seed(rows, 2).collect() != for_seed(rows, 5).collect()  # the seeds split apart


def training_rows(spark, tmp_path):
    lines = [csv_line(job, p) for job, p in
             [("Nurse", 0.2), ("Chef", 0.5), ("Truck Driver", 0.9), ("Doctor", 0.1),
              ("Lawyer", 0.4), ("Retail Worker", 0.8)]] * 10
    return spark.createDataFrame(read_slice(write_slice(tmp_path, "n", lines), "n", 1))


def test_confusion_matrix_counts_true_against_predicted(spark, tmp_path):
    rows = training_rows(spark, tmp_path)
    model = features.build_pipeline().fit(rows)
    matrix = scoring.confusion_matrix(model, rows)
    assert matrix == [[20, 0, 0], [0, 20, 0], [0, 0, 20]]


def test_evaluation_counts_unseen_categories(spark, tmp_path):
    rows = training_rows(spark, tmp_path)
    model = features.build_pipeline().fit(rows)
    odd = spark.createDataFrame(read_slice(write_slice(
        tmp_path, "odd", [csv_line("Astronaut", 0.5), csv_line("Nurse", 0.2, "None")]), "odd", 1))
    block = scoring.evaluation(model, odd, "local")
    assert block["unseen_categories"] == {schema.JOB_TITLE: 1, schema.EDUCATION_LEVEL: 1}
    assert block["rows"] == 2
    assert block["eval_set"] == "local"
    part = scoring.TestPart(odd)
    assert scoring.evaluation(model, part.rows, "node", part.unseen_categories) == {
        **block, "eval_set": "node"}


def test_model_file_round_trip_predicts_the_same(spark, tmp_path):
    rows = training_rows(spark, tmp_path)
    model = features.build_pipeline().fit(rows)
    archive = tmp_path / "models" / "m.tar.gz"
    model_io.save_model(model, str(archive))
    loaded = model_io.load_model(spark, str(archive))
    before = [r.probability.toArray() for r in model.transform(rows).collect()]
    after = [r.probability.toArray() for r in loaded.transform(rows).collect()]
    np.testing.assert_allclose(after, before)
    assert [p.name for p in archive.parent.iterdir()] == ["m.tar.gz"]  # no partial files


def test_resource_summary_adds_stages_and_executors():
    executors = [
        {"id": "driver", "totalCores": 0, "totalGCTime": 100,  # GC time comes from the stages
         "peakMemoryMetrics": {"JVMHeapMemory": 1000, "JVMOffHeapMemory": 10}},
        {"id": "0", "totalCores": 2, "totalGCTime": 400,
         "peakMemoryMetrics": {"JVMHeapMemory": 2000, "JVMOffHeapMemory": 20,
                               "ProcessTreePythonRSSMemory": 300}},
    ]
    stages = [{"executorCpuTime": 1_500_000_000, "executorRunTime": 2000, "inputBytes": 7,
               "shuffleReadBytes": 1, "shuffleWriteBytes": 2, "numCompleteTasks": 3,
               "jvmGcTime": 300},
              {"executorCpuTime": 500_000_000, "executorRunTime": 1000, "inputBytes": 3,
               "shuffleReadBytes": 4, "shuffleWriteBytes": 5, "numCompleteTasks": 4,
               "jvmGcTime": 200}]
    summary = resources.summarise(executors, stages)
    assert summary["executor_cpu_seconds"] == 2.0
    assert summary["executor_run_seconds"] == 3.0
    assert summary["gc_seconds"] == 0.5
    assert summary["peak_memory_bytes"] == 1010 + 2320
    assert (summary["peak_jvm_heap_bytes"], summary["peak_python_rss_bytes"]) == (3000, 300)
    assert (summary["input_bytes"], summary["shuffle_read_bytes"],
            summary["shuffle_write_bytes"]) == (10, 5, 7)
    assert (summary["task_count"], summary["executors"], summary["cores"]) == (7, 1, 2)


def test_a_seeds_stages_are_those_of_its_job_groups():
    jobs = [{"jobGroup": "nodewise-s1:read", "stageIds": [0, 1]},
            {"jobGroup": "nodewise-s1:fit", "stageIds": [2]},
            {"jobGroup": "nodewise-s12:fit", "stageIds": [3]},
            {"jobGroup": None, "stageIds": [4]}, {"stageIds": [5]}]
    stages = [{"stageId": n} for n in range(6)]
    assert resources.stages_of_groups(jobs, stages, "nodewise-s1:") == stages[:3]
    assert resources.stages_of_groups(jobs, stages, "nodewise-s12:") == [stages[3]]
    assert resources.stages_of_groups(jobs, stages, "nodewise-s2:") == []


def _task(index, executor, cpu_ns, run_ms):
    return {"index": index, "executorId": executor,
            "taskMetrics": {"executorCpuTime": cpu_ns, "executorRunTime": run_ms}}


def test_work_per_node_maps_executors_to_nodes_through_the_partitions_they_read():
    # Partition 0 and 2 held node a's and c's rows; partition 1 ran on b's
    # executor but was empty (only the first task per node reads).
    read_tasks = [_task(0, "7", 0, 0), _task(1, "8", 0, 0), _task(2, "9", 0, 0),
                  _task(3, "8", 0, 0)]
    nodes = resources.executor_nodes(read_tasks, {0: "a", 2: "c", 3: "b"})
    assert nodes == {"7": "a", "8": "b", "9": "c"}
    tasks = read_tasks + [_task(0, "7", 2_000_000_000, 3000), _task(1, "8", 500_000_000, 1000),
                          _task(0, "driver", 9, 9)]
    spread = resources.spread(tasks, nodes, {"7": 100, "8": 200, "9": 300},
                              {"a": 10, "b": 20, "c": 30})
    assert spread["a"] == {"executors": ["7"], "tasks": 2, "input_rows": 10,
                           "cpu_seconds": 2.0, "run_seconds": 3.0, "peak_memory_bytes": 100}
    assert (spread["b"]["tasks"], spread["b"]["cpu_seconds"]) == (3, 0.5)
    assert (spread["c"]["tasks"], spread["c"]["peak_memory_bytes"]) == (1, 300)


def test_finish_run_writes_the_record_and_the_model(spark, tmp_path):
    import json

    from nodewise import runs, training
    from nodewise.jobcli import SeedClock, SharedStart, Stopwatch

    rows = training_rows(spark, tmp_path)
    model = features.build_pipeline().fit(rows)
    clock = SeedClock(SharedStart(spark, [1, 2, 3], Stopwatch()))
    record = training.finish_run(
        model, rows, "local", str(tmp_path / "root"), clock, run_id="n-s1-x", model="n",
        seed=1, train_nodes=["n"], rows_per_node={"n": 60}, train_rows=60, fit_seconds=1.5,
        classifier=names.LOGISTIC_REGRESSION, feature_set="default",
        params={"repartition_by": None, "train_partitions": 1},
        split={"kind": "iid", "manifest_sha256": "a" * 64})
    with open(runs.record_path(str(tmp_path / "root"), "n-s1-x"), encoding="utf-8") as handle:
        written = json.load(handle)
    assert written == record
    assert (written["model"], written["seed"], written["test_rows"]) == ("n", 1, 60)
    assert written["evaluation"]["confusion_matrix"] == [[20, 0, 0], [0, 20, 0], [0, 0, 20]]
    assert written["params"] == {"reg_param": features.REG_PARAM,
                                 "elastic_net_param": features.ELASTIC_NET_PARAM,
                                 "max_iter": features.MAX_ITER, "tol": features.TOL,
                                 "repartition_by": None, "train_partitions": 1}
    assert written["model_description"] is None  # only trees are described
    assert written["fit_seconds"] == 1.5
    assert written["application"]["seeds"] == [1, 2, 3]
    assert written["total_seconds"] == pytest.approx(
        written["application"]["startup_seconds"] / 3 + written["seed_seconds"])
    archive = runs.model_path(str(tmp_path / "root"), "n-s1-x")
    assert written["model_sha256"] == manifest.sha256_of(archive)
    with open(runs.model_info_path(str(tmp_path / "root"), "n-s1-x"), encoding="utf-8") as handle:
        assert json.load(handle) == {"run_id": "n-s1-x", "model": "n", "seed": 1,
                                     "classifier": "logistic_regression",
                                     "feature_set": "default", "train_rows": 60,
                                     "built_from": None, "model_sha256": written["model_sha256"],
                                     "split": {"kind": "iid", "manifest_sha256": "a" * 64}}
    infos, notes = runs.read_model_infos(str(tmp_path / "root"))
    assert list(infos) == ["n-s1-x"] and notes == []
