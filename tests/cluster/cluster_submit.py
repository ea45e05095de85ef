"""spark-submit of the Quarry jobs jar to a standalone cluster (client mode, loopback), shared by the cluster test
and bin/bench-cluster. The flags are the ones the README's "Running with spark-submit" and the Airflow DAGs use."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from spark_standalone import HOST, pyspark_home

REPO = Path(__file__).resolve().parents[2]
MAIN_CLASS = "io.quarry.jobs.QuarryCli"
JAVA_OPTIONS = "-DRUST_FLAVOR=cpu -Dai.djl.offline=true"


def jobs_jar() -> Path | None:
    """The shaded jobs jar under jobs/target (not original-*/sources), or None when it is not built."""
    jars = sorted(p for p in (REPO / "jobs" / "target").glob("quarry-jobs-*.jar")
                  if not p.name.startswith("original-") and "sources" not in p.name)
    return jars[0] if jars else None


def submit_command(master_url: str, jar: Path, app_args: list[str], name: str, executor_memory: str = "1g",
                   driver_memory: str = "2g", executors: int | None = None, extra_conf: dict | None = None) -> list[str]:
    """``spark-submit --master spark://… --class io.quarry.jobs.QuarryCli … <jar> <app_args>`` (client mode).

    One executor of 1 core per worker (standalone gives an application every free core unless capped); with
    ``executors`` the driver waits (bounded) until that many executors registered before its first job, so the
    work is spread over all of them from the start."""
    conf = {
        "spark.executor.cores": "1",
        "spark.driver.host": HOST,
        "spark.driver.bindAddress": HOST,
        "spark.ui.enabled": "false",
        "spark.executorEnv.ORT_DISABLE_TELEMETRY": "1",
        "spark.driver.extraJavaOptions": JAVA_OPTIONS,
        "spark.executor.extraJavaOptions": JAVA_OPTIONS,
    }
    if executors:
        conf.update({"spark.cores.max": str(executors),
                     "spark.scheduler.minRegisteredResourcesRatio": "1.0",
                     "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s"})
    conf.update(extra_conf or {})
    cmd = [str(pyspark_home() / "bin" / "spark-submit"), "--master", master_url, "--deploy-mode", "client",
           "--name", name, "--class", MAIN_CLASS, "--driver-memory", driver_memory,
           "--executor-memory", executor_memory]
    for k, v in conf.items():
        cmd += ["--conf", f"{k}={v}"]
    return cmd + [str(jar), *app_args]


def submit_env(conf_dir: Path) -> dict[str, str]:
    """Environment of spark-submit (and so of the client-mode driver): pyspark as SPARK_HOME, loopback, no ORT
    telemetry, an empty SPARK_CONF_DIR (no stray spark-defaults.conf)."""
    env = dict(os.environ)
    env.pop("PYSPARK_PYTHON", None)
    env.update({"SPARK_HOME": str(pyspark_home()), "SPARK_LOCAL_IP": HOST, "ORT_DISABLE_TELEMETRY": "1",
                "SPARK_CONF_DIR": str(conf_dir)})
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float, stdout: Path, stderr: Path, cwd: Path = REPO) -> int:
    """Runs ``cmd`` in its own process group, output to files; on timeout kills the whole group and raises
    ``subprocess.TimeoutExpired`` (never hangs)."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                             start_new_session=True)
        try:
            return p.wait(timeout=timeout)
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)
            raise
