"""Helpers of the Airflow tests: an isolated AIRFLOW_HOME, the dags folder on sys.path, the Spark connection.

Environment is set at import time, before any test module imports Airflow (Airflow reads its config once).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "airflow" / "dags"
TEST_ROOT = REPO / "target" / "airflow-test"
AIRFLOW_HOME = TEST_ROOT / "airflow-home"
#: Spark master of the tests (2 cores on CI).
MASTER = "local[2]"

AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_QUARRY_SPARK": json.dumps({"conn_type": "spark", "host": MASTER}),
        "QUARRY_HOME": str(REPO),
        "ORT_DISABLE_TELEMETRY": "1",
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
)
os.environ.pop("QUARRY_WORK_BASE", None)
os.environ.pop("QUARRY_JOBS_JAR", None)
os.environ.pop("QUARRY_SPARK_CONN_ID", None)
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))

#: The run id the contract tests render with (as `airflow dags trigger` makes them).
RUN_ID = "manual__2026-11-21T20:00:00+00:00"


def jobs_jar() -> Path:
    """The shaded jobs jar, which these tests need; fails (never skips) when it was not built."""
    from quarry_dags import args as qargs

    jar = Path(qargs.default_jar())
    if not jar.is_file():
        pytest.fail(f"{jar} not found: build it first (mvn -B -q -DskipTests package -pl jobs -am)")
    return jar


def spark_submit() -> str:
    """The real spark-submit of the pyspark package installed beside Airflow."""
    beside = Path(sys.executable).parent / "spark-submit"
    exe = str(beside) if beside.is_file() else shutil.which("spark-submit")
    if exe is None:
        pytest.fail("spark-submit not on PATH: install pyspark (airflow/requirements.txt) and activate the venv")
    return exe


def load_dagbag():
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS), include_examples=False)


def resolved_params(dag, **overrides):
    """The params a run of ``dag`` triggered with ``overrides`` gets (validated against the DAG's schema)."""
    params = copy.deepcopy(dag.params)
    params.update(overrides)
    return params.validate()


class FakeTaskInstance:
    """Stands in for ``ti`` in templates: ``xcom_pull`` returns the given values by task id."""

    def __init__(self, xcoms: dict | None = None):
        self.xcoms = xcoms or {}

    def xcom_pull(self, task_ids=None, key="return_value", **_):
        return self.xcoms.get(task_ids)


def render(task, params: dict, run_id: str = RUN_ID, xcoms: dict | None = None):
    """A copy of ``task`` with its templated fields rendered as a run with ``params`` would render them
    (``xcoms``: task id to the value ``ti.xcom_pull`` returns; find_baseline defaults to "baseline-run")."""
    task = copy.deepcopy(task)
    ti = FakeTaskInstance({"find_baseline": "baseline-run", **(xcoms or {})})
    task.render_template_fields({"params": params, "run_id": run_id, "ti": ti}, task.dag.get_template_env())
    return task


def submit_command(task) -> list[str]:
    """The exact spark-submit command line a rendered SparkSubmitOperator task runs."""
    return task._get_hook()._build_spark_submit_command(task.application)


def run(cmd: list[str], timeout: int = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, **kwargs)


def airflow_env(home: Path) -> dict[str, str]:
    """Environment for the `airflow` CLI of this venv with its own AIRFLOW_HOME; task retries off (a failure shows at
    once instead of after the retry delays; retries themselves are covered in test_dags)."""
    env = dict(os.environ)
    env["AIRFLOW_HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SPARK_HOME", None)
    env["QUARRY_TASK_RETRIES"] = "0"
    return env


def airflow(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Runs this venv's `airflow` CLI."""
    return run([str(Path(sys.executable).parent / "airflow"), *args], timeout=timeout, env=env,
               stdin=subprocess.DEVNULL)


def json_list(stdout: str) -> list:
    """The JSON list an `airflow ... -o json` command printed (its last line starting with '[')."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("["):
            return json.loads(line)
    raise AssertionError(f"no JSON list in:\n{stdout[-2000:]}")


def dag_test(env: dict[str, str], dag_id: str, logical_date: str, conf: dict, log: Path) -> dict:
    """Runs `airflow dags test` and returns the run it made (found by its logical date in the test's own DB): run id,
    state, {task_id: state}, task wall times (s) and the log path."""
    result = airflow(env, "dags", "test", dag_id, logical_date, "-c", json.dumps(conf), timeout=2400)
    log.write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    runs = airflow(env, "dags", "list-runs", dag_id, "-o", "json")
    assert runs.returncode == 0, runs.stderr[-3000:]
    matching = [r for r in json_list(runs.stdout) if r["logical_date"].startswith(logical_date[:19])]
    assert len(matching) == 1, matching
    run_id = matching[0]["run_id"]
    states = airflow(env, "tasks", "states-for-dag-run", dag_id, run_id, "-o", "json")
    assert states.returncode == 0, states.stderr[-3000:]
    rows = json_list(states.stdout)
    seconds = {}
    for t in rows:
        if t.get("start_date") and t.get("end_date"):
            start, end = (datetime.fromisoformat(t[k]) for k in ("start_date", "end_date"))
            seconds[t["task_id"]] = round((end - start).total_seconds(), 1)
    print(f"{dag_id} task wall times (s): {seconds}")
    return {"run_id": run_id, "state": matching[0]["state"], "tasks": {t["task_id"]: t["state"] for t in rows},
            "seconds": seconds, "log": str(log)}


def start_airflow(e2e: Path, jar_copy: Path) -> dict[str, str]:
    """A fresh Airflow home under `e2e` (removed first) with a migrated DB, the jobs jar copied to
    `jar_copy` (so a rebuild of jobs/target during the run cannot swap classes under it); returns the
    environment for `airflow`."""
    jar = jobs_jar()
    spark_submit()
    shutil.rmtree(e2e, ignore_errors=True)
    home = e2e / "airflow-home"
    home.mkdir(parents=True)
    shutil.copyfile(jar, jar_copy)
    env = airflow_env(home)
    migrate = airflow(env, "db", "migrate")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env


#: The shared end-to-end run (conftest's ``built_index``): its Airflow home, work base and jar copy. The notebook
#: tests read the evaluations under E2E_WORK/eval that test_e2e_dags_test names in E2E/result.json.
E2E = TEST_ROOT / "e2e"
E2E_WORK = E2E / "work"
#: The jobs jar the DAGs run: a copy, so that a rebuild of jobs/target during the run cannot swap classes under it.
E2E_JAR = E2E / "quarry-jobs.jar"
#: Embedding model of the shared build (issue 26: any bundled id works in the DAGs without extra jars); the refresh
#: runs on that build pass it too (``embedding.model``), so that they reuse its embeddings.
E2E_MODEL = "e5-small-v2-q"
#: Logical date of the shared build run (`airflow dags test` names each run after the time it starts, so every run
#: on the work base has its own runs/<run_id>, eval/<run_id> and index version).
E2E_BUILD_DATE = "2026-01-02T00:00:00+00:00"
#: A small tuning grid for every DAG run on the shared work base (the cluster test's): each tune task still runs
#: for real (spark-submit, the run's layout, the tuned fusion written into its version, evaluate's hybrid stage from
#: it), without the quick start's 1458 grid points (~50-100 s per tune task on a loaded 2-core machine; the build and
#: the two refreshes here run three). The quick start's full grid is run by the Maven PipelineEndToEndTest.
E2E_TUNING = ["tuning.strategies=[rrf, convex]", "tuning.normalizations=[minmax]", "tuning.alphas=[0.5, 0.8]",
              "tuning.rrfKs=[60]", "tuning.depths=[200]", "tuning.nprobes=[8]"]


def e2e_conf(overrides: list[str] = (), **extra) -> dict:
    """The conf of every `airflow dags test` run on the shared work base: :data:`E2E_TUNING`, then ``overrides``,
    then the other params ``extra`` gives."""
    conf = {
        "config_files": ["conf/quarry.yaml"],
        "work_base": str(E2E_WORK),
        "jar": str(E2E_JAR),
        "spark_conf": {"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "3g"},
        "overrides": [*E2E_TUNING, *overrides],
    }
    conf.update(extra)
    return conf


def build_e2e_index() -> dict:
    """A fresh Airflow home and work base under :data:`E2E` and one `airflow dags test` of quarry_build_index on
    data-samples/ with :data:`E2E_MODEL` (every task a real spark-submit). Returns ``env`` (for :func:`airflow`),
    ``build`` (:func:`dag_test`'s result) and ``current`` (``index/CURRENT`` right after the build, before any later
    run on the work base moved it)."""
    env = start_airflow(E2E, E2E_JAR)
    build = dag_test(env, "quarry_build_index", E2E_BUILD_DATE, e2e_conf(embedding_model=E2E_MODEL),
                     E2E / "build.log")
    current_file = E2E_WORK / "index" / "CURRENT"
    current = current_file.read_text().strip() if current_file.is_file() else None
    return {"env": env, "build": build, "current": current}

