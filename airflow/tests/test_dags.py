"""The DAGs import, have the expected task graph, and build the arguments the jobs' CLI expects."""

from __future__ import annotations

import pytest

import quarry_airflow_testlib as lib

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from quarry_dags import args as qargs

BUILD = "quarry_build_index"
EVALUATE = "quarry_evaluate_index"


def test_dagbag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {BUILD, EVALUATE, "quarry_refresh_index", "quarry_matrix"}


def _edges(dag):
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


def test_build_dag_is_one_chain_of_stages(dagbag):
    dag = dagbag.dags[BUILD]
    order = ["validate_config", "chunk", "embed", "train", "build", "tune", "evaluate", "find_baseline", "gate",
             "publish"]
    assert {t.task_id for t in dag.tasks} == set(order)
    assert _edges(dag) == set(zip(order, order[1:]))
    assert dag.schedule is None or str(dag.timetable.summary) == "None"
    assert dag.max_active_runs == 1
    assert dag.render_template_as_native_obj


def test_evaluate_dag_graph(dagbag):
    dag = dagbag.dags[EVALUATE]
    order = ["validate_config", "evaluate", "find_baseline", "compare"]
    assert {t.task_id for t in dag.tasks} == set(order)
    assert _edges(dag) == set(zip(order, order[1:]))


@pytest.mark.parametrize("dag_id", [BUILD, EVALUATE])
def test_every_task_is_a_spark_submit_of_the_cli_with_retries(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    for task in dag.tasks:
        if task.task_id == "find_baseline":
            continue
        assert isinstance(task, SparkSubmitOperator), task.task_id
        assert task._conn_id == "quarry_spark"
        assert task._java_class == qargs.MAIN_CLASS
        if task.task_id in ("validate_config", "gate", "compare"):
            # Deterministic outcomes (bad config, exit 3 of a gate): a retry cannot change them.
            assert task.retries == 0, task.task_id
        else:
            assert task.retries >= 1, task.task_id


def test_stage_tasks_run_their_own_subcommand_with_the_same_config_args(dagbag):
    dag = dagbag.dags[BUILD]
    params = lib.resolved_params(dag, index_spec="IVF8,PQ24x8", overrides=["segments.shards=3"])
    expected_config = None
    for task in dag.tasks:
        if task.task_id == "find_baseline":
            continue
        args = lib.render(task, params).application_args
        assert isinstance(args, list) and all(isinstance(a, str) for a in args), (task.task_id, args)
        command = {"validate_config": "validate-config", "gate": "compare"}.get(task.task_id, task.task_id)
        assert args[0] == command
        config = qargs.cli_args(command, params, lib.RUN_ID)[1:]
        assert args[1 : 1 + len(config)] == config
        expected_config = expected_config or config
        assert config == expected_config
    assert "--set" in expected_config and "quantizer.spec=IVF8,PQ24x8" in expected_config
    rid = qargs.safe_run_id(lib.RUN_ID)
    assert f"paths.work={lib.REPO}/target/airflow/runs/{rid}" in expected_config
    assert f"evaluation.runId={rid}" in expected_config
    # Overrides in precedence order: named params, free overrides, the run layout last.
    sets = [expected_config[i + 1] for i, a in enumerate(expected_config) if a == "--set"]
    assert sets.index("quantizer.spec=IVF8,PQ24x8") < sets.index("segments.shards=3") < sets.index(
        f"evaluation.runId={rid}"
    )


def test_spark_submit_command_line(dagbag):
    dag = dagbag.dags[BUILD]
    params = lib.resolved_params(dag, spark_conf={"spark.executor.memory": "6g"})
    task = lib.render(dag.get_task("embed"), params)
    cmd = lib.submit_command(task)
    assert cmd[0] == "spark-submit"
    assert cmd[cmd.index("--master") + 1] == lib.MASTER
    assert cmd[cmd.index("--class") + 1] == qargs.MAIN_CLASS
    jar_at = cmd.index(params["jar"])
    assert cmd[jar_at + 1 :] == task.application_args
    confs = [cmd[i + 1] for i, a in enumerate(cmd[:jar_at]) if a == "--conf"]
    assert "spark.executor.memory=6g" in confs
    assert "spark.executorEnv.ORT_DISABLE_TELEMETRY=1" in confs
    assert "spark.driver.extraJavaOptions=-DRUST_FLAVOR=cpu -Dai.djl.offline=true" in confs
    assert task.env_vars == {"ORT_DISABLE_TELEMETRY": "1"}


def test_gate_compares_with_the_baseline_found_and_writes_beside_the_evaluation(dagbag):
    dag = dagbag.dags[BUILD]
    params = lib.resolved_params(dag, work_base="/b")
    args = lib.render(dag.task_dict["gate"], params, xcoms={"find_baseline": "r0"}).application_args
    rid = qargs.safe_run_id(lib.RUN_ID)
    assert args[0] == "compare"
    assert args[-4:] == ["--baseline", "r0", "--out", f"/b/eval/{rid}"]


def test_publish_runs_when_the_gate_passed_or_was_skipped(dagbag):
    from airflow.task.trigger_rule import TriggerRule

    dag = dagbag.dags[BUILD]
    assert dag.task_dict["publish"].trigger_rule == TriggerRule.NONE_FAILED
    assert dag.task_dict["find_baseline"].ignore_downstream_trigger_rules is False
    for task_id in ("gate", "find_baseline"):
        assert dag.task_dict[task_id].trigger_rule == TriggerRule.ALL_SUCCESS


def test_find_baseline_prefers_the_param_then_the_evaluation_of_current(tmp_path):
    base = {"work_base": str(tmp_path)}
    assert qargs.find_baseline(dict(base, baseline_run_id="r9")) == "r9"
    assert qargs.find_baseline(base) is None  # nothing published yet
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_text("manual__v1\n")
    assert qargs.find_baseline(base) is None  # published, but never evaluated
    (tmp_path / "eval" / "manual__v1").mkdir(parents=True)
    (tmp_path / "eval" / "manual__v1" / "metrics.json").write_text("{}")
    assert qargs.find_baseline(base) == "manual__v1"
    with pytest.raises(ValueError):
        qargs.compare_args("", base, "r")


def test_params_schema_rejects_malformed_overrides(dagbag):
    from airflow.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        lib.resolved_params(dagbag.dags[BUILD], overrides=["no-equals-sign"])


# --- quarry_dags.args, the pure part -------------------------------------------------------------------------


def test_safe_run_id_is_one_hadoop_path_segment():
    assert qargs.safe_run_id("manual__2026-11-21T20:00:00+00:00") == "manual__2026-11-21T20_00_00_00_00"
    assert qargs.safe_run_id("scheduled__a/b c") == "scheduled__a_b_c"
    with pytest.raises(ValueError):
        qargs.safe_run_id("")


def test_overrides_cannot_touch_the_run_layout():
    with pytest.raises(ValueError, match="paths.work"):
        qargs.cli_args("chunk", {"overrides": ["paths.work=/elsewhere"]}, "r1")
    with pytest.raises(ValueError, match="key=value"):
        qargs.cli_args("chunk", {"overrides": ["oops"]}, "r1")


def test_paths_resolve_against_quarry_home_and_uris_pass_through():
    params = {"config_files": ["conf/quarry.yaml", "s3a://b/q.yaml", "/abs/x.yaml"], "work_base": "s3a://b/quarry"}
    args = qargs.cli_args("train", params, "r:1")
    assert args[:7] == ["train", "--config", f"{lib.REPO}/conf/quarry.yaml", "--config", "s3a://b/q.yaml",
                        "--config", "/abs/x.yaml"]
    assert "paths.work=s3a://b/quarry/runs/r_1" in args
    assert "paths.index=s3a://b/quarry/index" in args
    assert "paths.eval=s3a://b/quarry/eval" in args


def test_spark_conf_keeps_required_jvm_flags():
    conf = qargs.spark_conf({"spark_conf": {"spark.driver.extraJavaOptions": "-Xss4m", "spark.driver.memory": "2g"}})
    assert conf["spark.driver.extraJavaOptions"] == "-Xss4m -DRUST_FLAVOR=cpu -Dai.djl.offline=true"
    assert conf["spark.executor.extraJavaOptions"] == "-DRUST_FLAVOR=cpu -Dai.djl.offline=true"
    assert conf["spark.driver.memory"] == "2g"
    assert conf["spark.executorEnv.ORT_DISABLE_TELEMETRY"] == "1"


def test_build_runs_write_an_unpublished_version_named_after_the_run():
    layout = qargs.run_layout({"work_base": "/b"}, "manual__2026-01-02T00:00:00+00:00")
    assert layout == {
        "paths.work": "/b/runs/manual__2026-01-02T00_00_00_00_00",
        "paths.index": "/b/index",
        "paths.eval": "/b/eval",
        "evaluation.runId": "manual__2026-01-02T00_00_00_00_00",
        "segments.version": "manual__2026-01-02T00_00_00_00_00",
        "segments.publish": "false",
    }


def test_evaluation_runs_read_the_build_of_the_version_and_write_only_their_evaluation():
    layout = qargs.run_layout({"work_base": "/b", "index_version": "v7"}, "manual__e:1")
    assert layout == {
        "paths.work": "/b/runs/v7",
        "paths.index": "/b/index",
        "paths.eval": "/b/eval",
        "evaluation.runId": "manual__e_1",
        "segments.version": "v7",
    }
    with pytest.raises(ValueError, match="index_version"):
        qargs.run_layout({"index_version": "../x"}, "r")


def test_version_ids_fit_the_64_character_limit():
    long_id = "scheduled__" + "x" * 80
    vid = qargs.version_id(long_id)
    assert len(vid) == 64 and vid.startswith("scheduled__xxx")
    assert vid == qargs.version_id(long_id) != qargs.version_id(long_id + "y")
    assert qargs.version_id("manual__a") == "manual__a"
