"""End to end: `airflow dags test` of the build DAG on data-samples/, every task a real spark-submit (pyspark's) of the
shaded jobs jar, then the evaluation-only DAG against the version it published.

Leaves its outputs under target/airflow-test/e2e/work (eval/<run_id>/metrics.json ...), which notebooks/tests
executes the notebooks against. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import quarry_airflow_testlib as lib

E2E = lib.TEST_ROOT / "e2e"
WORK = E2E / "work"
#: Marker the notebook tests read: which evaluation runs the e2e test produced.
RESULT = E2E / "result.json"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["AIRFLOW_HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SPARK_HOME", None)
    # A failure shows at once instead of after the retry delays (retries themselves are covered in test_dags).
    env["QUARRY_TASK_RETRIES"] = "0"
    return env


def _airflow(env: dict[str, str], *args: str, timeout: int = 300):
    return lib.run([str(Path(sys.executable).parent / "airflow"), *args], timeout=timeout, env=env,
                   stdin=subprocess.DEVNULL)


def _json_list(stdout: str) -> list:
    """The JSON list an `airflow ... -o json` command printed (its last line starting with '[')."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("["):
            return json.loads(line)
    raise AssertionError(f"no JSON list in:\n{stdout[-2000:]}")


def _dag_test(env, dag_id: str, logical_date: str, conf: dict, log: Path) -> dict:
    """Runs `airflow dags test` and returns {task_id: state} of the run it made (saved in the test's own DB)."""
    result = _airflow(env, "dags", "test", dag_id, logical_date, "-c", json.dumps(conf), timeout=2400)
    log.write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    runs = _airflow(env, "dags", "list-runs", dag_id, "-o", "json")
    assert runs.returncode == 0, runs.stderr[-3000:]
    run_list = _json_list(runs.stdout)
    assert len(run_list) == 1, run_list
    run_id = run_list[0]["run_id"]
    states = _airflow(env, "tasks", "states-for-dag-run", dag_id, run_id, "-o", "json")
    assert states.returncode == 0, states.stderr[-3000:]
    rows = _json_list(states.stdout)
    task_states = {t["task_id"]: t["state"] for t in rows}
    seconds = {}
    for t in rows:
        if t.get("start_date") and t.get("end_date"):
            start, end = (datetime.fromisoformat(t[k]) for k in ("start_date", "end_date"))
            seconds[t["task_id"]] = round((end - start).total_seconds(), 1)
    print(f"{dag_id} task wall times (s): {seconds}")
    return {"run_id": run_id, "state": run_list[0]["state"], "tasks": task_states, "seconds": seconds,
            "log": str(log)}


#: The jobs jar the DAG runs: a copy, so that a rebuild of jobs/target during the run cannot swap classes under it.
JAR = E2E / "quarry-jobs.jar"


@pytest.fixture(scope="module")
def airflow_env():
    jar = lib.jobs_jar()
    lib.spark_submit()
    shutil.rmtree(E2E, ignore_errors=True)
    home = E2E / "airflow-home"
    home.mkdir(parents=True)
    shutil.copyfile(jar, JAR)
    env = _env(home)
    migrate = _airflow(env, "db", "migrate")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env


def _common_conf() -> dict:
    return {
        "config_files": ["conf/quarry.yaml"],
        "work_base": str(WORK),
        "jar": str(JAR),
        "spark_conf": {"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "3g"},
    }


def test_build_dag_end_to_end_on_data_samples(airflow_env):
    from quarry_dags import args as qargs

    build = _dag_test(airflow_env, "quarry_build_index", "2026-01-02T00:00:00+00:00", _common_conf(),
                      E2E / "build.log")
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
    assert (WORK / "eval" / rid / "per_query.parquet").exists()
    assert (WORK / "index" / version / "manifest.json").is_file()
    assert (WORK / "index" / "CURRENT").read_text().strip() == version
    assert (WORK / "runs" / rid / "embeddings").is_dir()
    RESULT.write_text(json.dumps({"build": rid}))

    # Evaluation-only DAG on the published version, probing every list (nprobe = nlist of IVF16), gated against the
    # build's evaluation (found through CURRENT: no baseline_run_id given).
    conf = dict(_common_conf(), nprobe=16, index_version=version)
    evaluation = _dag_test(airflow_env, "quarry_evaluate_index", "2026-01-03T00:00:00+00:00", conf,
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
