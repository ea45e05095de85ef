"""The spark-submit command lines the DAGs produce are accepted by the real jobs CLI, run through real spark-submit.

Needs the shaded jobs jar (built by `mvn package`; bin/test-python builds it when missing) and pyspark's spark-submit.
"""

from __future__ import annotations

import json

import pytest

import quarry_airflow_testlib as lib

from quarry_dags import args as qargs

DAG_IDS = ["quarry_build_index", "quarry_evaluate_index"]


def _submit(task) -> list[str]:
    cmd = lib.submit_command(task)
    lib.jobs_jar()
    cmd[0] = lib.spark_submit()
    return cmd


def _resolved_config(stdout: str) -> dict:
    start = stdout.find("{")
    assert start >= 0, f"no JSON config in the output of validate-config:\n{stdout}"
    return json.loads(stdout[start:])


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_validate_task_command_line_is_accepted_and_sets_the_run_layout(dagbag, dag_id, tmp_path):
    dag = dagbag.dags[dag_id]
    overrides = {"overrides": ["segments.shards=3"], "work_base": str(tmp_path / "base"), "nprobe": 4}
    if dag_id == "quarry_build_index":
        overrides.update(index_spec="IVF8,PQ24x8", embedding_model="bge-small-en-v1.5-q")
    else:
        overrides.update(
            queries="data-samples/scifact/queries.jsonl",
            qrels="data-samples/scifact/qrels/test.tsv",
            index_version="manual__2026-01-02T00_00_00_00_00",
        )
    params = lib.resolved_params(dag, **overrides)
    task = lib.render(dag.task_dict["validate_config"], params)
    result = lib.run(_submit(task), env=None)
    assert result.returncode == 0, result.stderr[-4000:]
    config = _resolved_config(result.stdout)
    rid = qargs.safe_run_id(lib.RUN_ID)
    version = overrides.get("index_version", rid)
    assert config["paths"]["work"] == f"{tmp_path}/base/runs/{version}"
    assert config["segments"]["version"] == version
    assert config["segments"]["publish"] is (dag_id != "quarry_build_index")
    assert config["paths"]["index"] == f"{tmp_path}/base/index"
    assert config["paths"]["eval"] == f"{tmp_path}/base/eval"
    assert config["evaluation"]["runId"] == rid
    assert config["evaluation"]["nprobe"] == 4
    assert config["segments"]["shards"] == 3
    if dag_id == "quarry_build_index":
        assert config["quantizer"]["spec"] == "IVF8,PQ24x8"
        assert config["embedding"]["model"] == "bge-small-en-v1.5-q"
    else:
        assert config["evaluation"]["queries"] == f"{lib.REPO}/data-samples/scifact/queries.jsonl"


def test_invalid_params_fail_the_validate_task_naming_the_field(dagbag):
    dag = dagbag.dags["quarry_build_index"]
    params = lib.resolved_params(dag, overrides=["segments.shards=0", "evaluation.k=-1"])
    result = lib.run(_submit(lib.render(dag.task_dict["validate_config"], params)))
    assert result.returncode == 2, result.stdout + result.stderr[-4000:]
    assert "segments.shards" in result.stderr and "evaluation.k" in result.stderr


def test_matrix_task_command_line_reaches_the_cli_and_invalid_variants_fail_before_any_work(dagbag, tmp_path):
    """The quarry_matrix DAG's pipeline --matrix command line, through real spark-submit: a value that no variant
    config accepts fails with exit 2 naming the variant and the field, and nothing is written."""
    dag = dagbag.dags["quarry_matrix"]
    params = lib.resolved_params(
        dag, work_base=str(tmp_path / "base"), matrix=["quantizer.spec=IVF8,PQ24x8;IVF8,PQ5x8", "segments.shards=1"]
    )
    task = lib.render(dag.task_dict["matrix"], params)
    args = task.application_args
    assert args[0] == "pipeline"
    assert args[-4:] == ["--matrix", "quantizer.spec=IVF8,PQ24x8;IVF8,PQ5x8", "--matrix", "segments.shards=1"]
    result = lib.run(_submit(task))
    assert result.returncode == 2, result.stdout + result.stderr[-4000:]
    assert "spec-IVF8-PQ5x8_shards-1: quantizer.spec" in result.stderr
    assert not (tmp_path / "base").exists()


def _commands():
    """(command, options it must accept) over every task of the three DAGs."""
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(lib.DAGS), include_examples=False)
    seen: dict[str, set[str]] = {}
    for dag_id in [*DAG_IDS, "quarry_refresh_index", "quarry_matrix"]:
        dag = bag.dags[dag_id]
        extra = {"index_version": "v1"} if dag_id == "quarry_evaluate_index" else {}
        params = lib.resolved_params(dag, baseline_run_id="some-run", **extra)
        for task in dag.tasks:
            if task.task_id in ("find_baseline", "find_base", "choose_path"):
                continue
            xcoms = {"find_base": {"base": "v0", "chunks_from": "", "reuse_from": ""}}
            args = lib.render(task, params, xcoms=xcoms).application_args
            seen.setdefault(args[0], set()).update(a for a in args[1:] if a.startswith("--"))
    return sorted((c, tuple(sorted(o))) for c, o in seen.items())


@pytest.mark.parametrize("command,options", _commands())
def test_every_subcommand_the_dags_run_exists_with_their_options(dagbag, command, options):
    """Each subcommand parses: an unknown probe option makes picocli print the subcommand's usage and run nothing."""
    dag = dagbag.dags["quarry_build_index"]
    task = lib.render(dag.task_dict["validate_config"], lib.resolved_params(dag))
    cmd = _submit(task)
    jar_at = cmd.index(task.application)
    result = lib.run(cmd[: jar_at + 1] + [command, "--quarry-contract-probe"])
    out = result.stdout + result.stderr
    assert result.returncode == 2, f"quarry {command}: exit {result.returncode}\n{out[-3000:]}"
    usage = out[out.find("Usage: quarry") :]
    assert usage.startswith(f"Usage: quarry {command} "), f"the CLI has no subcommand {command!r}:\n{out[-3000:]}"
    for option in options:
        assert option in usage, f"quarry {command} does not take {option}:\n{usage}"
