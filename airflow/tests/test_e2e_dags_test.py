"""End to end: `airflow dags test` of the build DAG on data-samples/, every task a real spark-submit (pyspark's) of the
shaded jobs jar, then the evaluation-only DAG against the version it published.

The build is the session's shared one (conftest ``built_index``: test_refresh_dag refreshes the same version
afterwards). It runs with a bundled embedding model that is not inside the jobs jar (lib.E2E_MODEL, the
``embedding_model`` param): the driver resolves it by id (local Maven repository, model cache or Maven Central) and
ships it to the executors, as on a cluster. The default model is what every other test uses.

Leaves its outputs under target/airflow-test/e2e/work (eval/<run_id>/metrics.json ...), which notebooks/tests
executes the notebooks against. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import json

import quarry_airflow_testlib as lib

E2E = lib.E2E
WORK = lib.E2E_WORK
#: Marker the notebook tests read: which evaluation runs the e2e test produced.
RESULT = E2E / "result.json"
MODEL = lib.E2E_MODEL


def test_build_dag_end_to_end_on_data_samples(built_index):
    from quarry_dags import args as qargs

    airflow_env, build = built_index["env"], built_index["build"]
    tasks = build["tasks"]
    # First build: nothing published yet, so there is no baseline and the gate is skipped; publish still runs.
    expected = {t: "success" for t in ("validate_config", "chunk", "embed", "train", "build", "tune", "evaluate",
                                        "find_baseline", "publish")}
    expected["gate"] = "skipped"
    assert tasks == expected, f"{tasks} (log: {build['log']})"
    assert build["state"] == "success", build

    rid = qargs.safe_run_id(build["run_id"])
    version = qargs.version_id(build["run_id"])
    report = json.loads((WORK / "eval" / rid / "metrics.json").read_text())
    assert report["runId"] == rid and report["indexVersion"] == version
    assert report["modelId"] == MODEL
    # the tune task's choice (lib.E2E_TUNING's grid, on the train split) is what evaluate's hybrid stage used
    assert "train.tsv" in report["tuning"]["tunedOn"], report.get("tuning")
    hybrid = next(st for st in report["stages"] if st["name"] == "hybrid")
    assert hybrid["description"].endswith("(tuned)"), hybrid["description"]
    chosen = report["tuning"]["chosen"]
    assert chosen.startswith(("rrf:k=60,", "convex:minmax,alpha=0.5,", "convex:minmax,alpha=0.8,")), chosen
    assert json.loads((WORK / "index" / version / "manifest.json").read_text())["model"]["modelId"] == MODEL
    assert (WORK / "eval" / rid / "per_query.parquet").exists()
    assert (WORK / "index" / version / "manifest.json").is_file()
    assert built_index["current"] == version
    # the evaluation DAG below finds its baseline through CURRENT: it runs before test_refresh_dag moves it
    assert (WORK / "index" / "CURRENT").read_text().strip() == version, "run before test_refresh_dag (file order)"
    assert (WORK / "runs" / rid / "embeddings").is_dir()
    RESULT.write_text(json.dumps({"build": rid}))

    # Evaluation-only DAG on the published version, probing every list (nprobe = nlist of IVF16), gated against the
    # build's evaluation (found through CURRENT: no baseline_run_id given).
    conf = lib.e2e_conf(nprobe=16, index_version=version, overrides=[f"embedding.model={MODEL}"])
    evaluation = lib.dag_test(airflow_env, "quarry_evaluate_index", "2026-01-03T00:00:00+00:00", conf,
                           E2E / "evaluate.log")
    tasks = evaluation["tasks"]
    assert {t: tasks[t] for t in ("validate_config", "evaluate", "find_baseline")} == dict.fromkeys(
        ("validate_config", "evaluate", "find_baseline"), "success"), f"{tasks} (log: {evaluation['log']})"
    eval_rid = qargs.safe_run_id(evaluation["run_id"])
    out = WORK / "eval" / eval_rid
    assert json.loads((out / "metrics.json").read_text())["parameters"]["nprobe"] == 16
    # compare ran for real: it wrote its comparison, and its task state agrees with the gate's verdict (exit 3 fails
    # the task). Which way it goes is deterministic for a given build (seeded), but not this test's business.
    comparison = json.loads((out / "comparison.json").read_text())
    passed = comparison.get("passed")
    assert passed in (True, False), comparison
    assert tasks["compare"] == ("success" if passed else "failed"), f"{tasks} {comparison}"
    assert evaluation["state"] == ("success" if passed else "failed")
    RESULT.write_text(json.dumps({"build": rid, "evaluate": eval_rid, "comparePassed": passed,
                                  "seconds": {"build": build["seconds"], "evaluate": evaluation["seconds"]}},
                                 indent=1))
