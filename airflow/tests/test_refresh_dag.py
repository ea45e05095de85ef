"""The refresh DAG (issue 15): task graph, command lines, the base/branch helpers, and end to end with
`airflow dags test` on data-samples/: on the build the session's end-to-end run published (conftest
``built_index``), an incremental refresh (the default path), and a refresh whose drift threshold sends it down the
retrain path — every task a real spark-submit of the shaded jobs jar.
"""

from __future__ import annotations

import json

import pytest

import quarry_airflow_testlib as lib
from quarry_dags import args as qargs

REFRESH = "quarry_refresh_index"


def _edges(dag):
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


def test_refresh_dag_graph_branches_between_incremental_and_retrain(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.dags[REFRESH]
    assert _edges(dag) == {
        ("validate_config", "find_base"), ("find_base", "chunk"), ("chunk", "embed"),
        ("embed", "build_incremental"), ("build_incremental", "choose_path"),
        ("choose_path", "train"), ("choose_path", "tune"), ("train", "build_full"), ("build_full", "tune"),
        ("tune", "evaluate"), ("evaluate", "find_baseline"), ("find_baseline", "gate"), ("gate", "publish"),
    }
    assert dag.task_dict["tune"].trigger_rule == "none_failed_min_one_success"
    assert dag.task_dict["publish"].trigger_rule == "none_failed"
    assert dag.max_active_runs == 1


def test_refresh_command_lines(dagbag):
    dag = dagbag.dags[REFRESH]
    params = lib.resolved_params(dag, overrides=["segments.shards=3"])
    xcoms = {"find_base": {"base": "v-base", "chunks_from": "/w/runs/v-base/chunks",
                           "reuse_from": "/w/runs/v-base/embeddings"}}
    config = qargs.cli_args("build", params, lib.RUN_ID)[1:]
    inc = lib.render(dag.task_dict["build_incremental"], params, xcoms=xcoms).application_args
    assert inc == ["build", *config, "--incremental", "--no-fail-on-drift", "--base", "v-base"]
    full = lib.render(dag.task_dict["build_full"], params, xcoms=xcoms).application_args
    assert full == ["build", *config]
    embed = lib.render(dag.task_dict["embed"], params, xcoms=xcoms).application_args
    assert embed[-2:] == ["--set", "embedding.reuseFrom=/w/runs/v-base/embeddings"]
    chunk = lib.render(dag.task_dict["chunk"], params, xcoms=xcoms).application_args
    assert chunk[-2:] == ["--set", "chunking.reuseFrom=/w/runs/v-base/chunks"]
    rid = qargs.safe_run_id(lib.RUN_ID)
    # per-run isolation as in the build DAG: the version is the run id, built unpublished
    assert f"segments.version={rid}" in config and "segments.publish=false" in config


def test_refresh_base_and_path(tmp_path):
    params = {"work_base": str(tmp_path)}
    with pytest.raises(ValueError, match="quarry_build_index first"):
        qargs.refresh_base(params)
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_text("v1\n")
    assert qargs.refresh_base(params) == {"base": "v1", "chunks_from": "", "reuse_from": ""}
    emb = tmp_path / "runs" / "v1" / "embeddings"
    emb.mkdir(parents=True)
    (emb / "_model.json").write_text("{}")
    assert qargs.refresh_base(params) == {"base": "v1", "chunks_from": "", "reuse_from": str(emb)}
    chunks = tmp_path / "runs" / "v1" / "chunks"
    chunks.mkdir(parents=True)
    (chunks / "_summary.json").write_text("{}")
    assert qargs.refresh_base(params) == {"base": "v1", "chunks_from": str(chunks), "reuse_from": str(emb)}
    assert qargs.refresh_base(dict(params, base_version="v0"))["base"] == "v0"
    with pytest.raises(ValueError, match="refresh.json"):
        qargs.refresh_path(params, lib.RUN_ID)
    work = tmp_path / "runs" / qargs.safe_run_id(lib.RUN_ID)
    work.mkdir(parents=True)
    (work / "refresh.json").write_text(json.dumps({"path": "retrain"}))
    assert qargs.refresh_path(params, lib.RUN_ID) == "retrain"


E2E = lib.E2E
WORK = lib.E2E_WORK


def _conf(overrides: list[str]) -> dict:
    # the shared build's embedding model, so that the refresh reuses its embeddings
    return lib.e2e_conf(overrides=[f"embedding.model={lib.E2E_MODEL}", *overrides])


def test_refresh_dag_end_to_end(built_index):
    """On the session's shared build (conftest ``built_index``, also checked and evaluated by test_e2e_dags_test),
    in the same Airflow home and work base (every run has its own run id, so its own runs/, eval/ and index/
    entries); the base is the version the build published."""
    airflow_env, build = built_index["env"], built_index["build"]
    assert build["state"] == "success", build
    base = qargs.version_id(build["run_id"])
    assert built_index["current"] == base

    # day 1: 10 documents no test query judges dropped, 5 edited: incremental path, no training, embeddings reused
    lines = (lib.REPO / "data-samples" / "scifact" / "corpus.jsonl").read_text().splitlines()
    docs = [json.loads(line) for line in lines if line.strip()]
    judged = {line.split("\t")[1] for line in
              (lib.REPO / "data-samples" / "scifact" / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    dropped = [d["_id"] for d in docs if d["_id"] not in judged][:10]
    day1 = [d for d in docs if d["_id"] not in dropped]
    for d in [d for d in day1 if d["_id"] not in judged][:5]:
        d["text"] += " Revised: replicated in a second cohort."
    corpus = E2E / "day1.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in day1))
    over = [f"input.corpus={corpus}", "segments.driftMaxMseRatio=0"]
    inc = lib.dag_test(airflow_env, REFRESH, "2026-01-03T00:00:00+00:00", _conf(over), E2E / "refresh1.log")
    tasks = inc["tasks"]
    assert tasks["build_incremental"] == "success" and tasks["choose_path"] == "success", inc
    assert tasks["train"] == "skipped" and tasks["build_full"] == "skipped", inc
    v1 = qargs.version_id(inc["run_id"])
    # gate -> publish as in the build DAG: CURRENT moves only when the gate passed
    published = tasks["gate"] == "success"
    assert tasks["publish"] == ("success" if published else "upstream_failed"), inc
    current = (WORK / "index" / "CURRENT").read_text().strip()
    assert current == (v1 if published else base)
    manifest = json.loads((WORK / "index" / v1 / "manifest.json").read_text())
    assert manifest["refresh"]["base"] == base and manifest["refresh"]["path"] == "incremental"
    assert manifest["refresh"]["deletedDocs"] == 10 and manifest["refresh"]["changedDocs"] == 5
    assert manifest["formatVersion"] == 2
    summary = json.loads((WORK / "runs" / qargs.safe_run_id(inc["run_id"]) / "embeddings" / "_summary.json")
                         .read_text())
    assert summary["reused"] > 0 and summary["computed"] <= 5 * 3, summary
    chunked = json.loads((WORK / "runs" / qargs.safe_run_id(inc["run_id"]) / "chunks" / "_summary.json")
                         .read_text())
    # only the 5 edited documents were tokenized; the others' chunks were copied from the base run's
    assert chunked["reuse"] == "used" and chunked["documentsChunked"] == 5, chunked
    assert chunked["documentsReused"] == len(day1) - 5 == chunked["documents"] - 5, chunked

    # day 2: any change is too much (driftMaxChangedShare=0): the retrain path, then gate and publish as usual
    day2 = day1[20:]
    corpus2 = E2E / "day2.jsonl"
    corpus2.write_text("".join(json.dumps(d) + "\n" for d in day2))
    over2 = [f"input.corpus={corpus2}", "segments.driftMaxChangedShare=0"]
    ret = lib.dag_test(airflow_env, REFRESH, "2026-01-04T00:00:00+00:00", _conf(over2), E2E / "refresh2.log")
    tasks = ret["tasks"]
    assert tasks["build_incremental"] == "success" and tasks["train"] == "success", ret
    assert tasks["build_full"] == "success" and tasks["tune"] == "success" and tasks["evaluate"] == "success", ret
    rid2 = qargs.safe_run_id(ret["run_id"])
    decision = json.loads((WORK / "runs" / rid2 / "refresh.json").read_text())
    assert decision["path"] == "retrain" and decision["base"] == current
    v2 = qargs.version_id(ret["run_id"])
    manifest2 = json.loads((WORK / "index" / v2 / "manifest.json").read_text())
    assert "refresh" not in manifest2 and manifest2["formatVersion"] == 1
    assert tasks["publish"] in ("success", "skipped", "upstream_failed"), ret
