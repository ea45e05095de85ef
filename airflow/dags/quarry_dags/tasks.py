"""Factory of Quarry's ``SparkSubmitOperator`` tasks and the params both DAGs share.

Every task runs ``spark-submit --class io.quarry.jobs.QuarryCli <jar> <command> <args>`` with its arguments rendered
at run time from the DAG run's params (see :mod:`quarry_dags.args`), on the Spark connection named by
``$QUARRY_SPARK_CONN_ID`` (default ``quarry_spark``; its host is the master: ``local[*]``, ``yarn``,
``k8s://https://...``, ``spark://host:7077``). See docs/operations.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG, Param, task

from quarry_dags import args as qargs

#: Airflow connection holding the Spark master (conn type ``spark``).
SPARK_CONN_ID = os.environ.get("QUARRY_SPARK_CONN_ID", "quarry_spark")

#: Retries of the data stages (each is idempotent per run id, so a retry is safe).
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "quarry",
    "retries": int(os.environ.get("QUARRY_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=12),
}


def quarry_dag(
    dag_id: str,
    description: str,
    *,
    params: dict[str, Param],
    tags: list[str],
    doc_md: str | None,
    max_active_runs: int | None = None,
) -> DAG:
    """A Quarry DAG with the settings every Quarry DAG shares: triggered only (no schedule, no catch-up), the
    retries of :data:`DEFAULT_ARGS`, the argument macros of :mod:`quarry_dags.args` rendered as native objects
    (argument lists stay lists), tagged ``quarry``. Use as ``with quarry_dag(...) as dag:``.

    :param max_active_runs: ``1`` for the DAGs that move ``CURRENT`` (one publish at a time); Airflow's default when
        ``None``
    """
    extra: dict[str, Any] = {} if max_active_runs is None else {"max_active_runs": max_active_runs}
    return DAG(
        dag_id=dag_id,
        description=description,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        default_args=DEFAULT_ARGS,
        params=params,
        user_defined_macros=qargs.MACROS,
        render_template_as_native_obj=True,
        tags=["quarry", *tags],
        doc_md=doc_md,
        **extra,
    )


def common_params() -> dict[str, Param]:
    """Params both DAGs take (defaults resolved when the DAG file is parsed; a run may override each one)."""
    return {
        "config_files": Param(
            ["conf/quarry.yaml"],
            type="array",
            items={"type": "string"},
            minItems=1,
            description="Quarry YAML configs, lowest precedence first; relative paths are resolved against "
            "QUARRY_HOME, URIs (s3a://...) are passed as they are.",
        ),
        "overrides": Param(
            [],
            type="array",
            items={"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.]*=.*$"},
            description="Extra config overrides 'key=value' (--set), e.g. segments.shards=4. The per-run keys "
            f"{', '.join(qargs.MANAGED_KEYS)} are set by the DAG.",
        ),
        "work_base": Param(
            qargs.default_work_base(),
            type="string",
            minLength=1,
            description="Root of all runs: runs/<run_id> (intermediate data), eval/<run_id>, index/ (versions + "
            "CURRENT). Any Hadoop URI, e.g. s3a://bucket/quarry.",
        ),
        "spark_conf": Param(
            {},
            type="object",
            description="Extra Spark properties (--conf) for every task, e.g. {\"spark.executor.memory\": \"8g\"}.",
        ),
        "jar": Param(
            qargs.default_jar(),
            type="string",
            minLength=1,
            description="The shaded jobs jar (local path on the worker, or a URI spark-submit can fetch).",
        ),
        "nprobe": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="IVF lists probed per query at evaluation (evaluation.nprobe); null = from the config.",
        ),
    }


def quarry_task(command: str, task_id: str | None = None, extra_args: str | None = None, **kwargs: Any):
    """One ``SparkSubmitOperator`` running ``quarry <command>`` with the run's config arguments.

    :param command: CLI subcommand (``chunk`` ... ``evaluate``, ``validate-config``, ``compare``, ``publish``)
    :param task_id: task id; defaults to the command
    :param extra_args: a Jinja expression (without braces) giving a list of command-specific arguments appended
        after the config arguments, e.g. ``"['--baseline', params.baseline_run_id]"``
    """
    extra = extra_args or "[]"
    return SparkSubmitOperator(
        task_id=task_id or command.replace("-", "_"),
        conn_id=SPARK_CONN_ID,
        application="{{ params.jar }}",
        java_class=qargs.MAIN_CLASS,
        name=f"quarry-{command}-{{{{ run_id }}}}",
        application_args=f"{{{{ quarry_args('{command}', params, run_id, {extra}) }}}}",
        conf="{{ quarry_spark_conf(params) }}",
        env_vars="{{ quarry_env() }}",
        **kwargs,
    )


def find_baseline_task():
    """Short-circuit task ``find_baseline``: returns (as XCom) the evaluation run id the next ``compare`` gates
    against (:func:`quarry_dags.args.find_baseline`), or skips that ``compare`` when there is none. Only its direct
    downstream is skipped: a ``publish`` with trigger rule ``none_failed`` still runs."""

    @task.short_circuit(task_id="find_baseline", ignore_downstream_trigger_rules=False, retries=1)
    def find_baseline(params=None):
        baseline = qargs.find_baseline(params or {})
        if baseline:
            print(f"gating against evaluation {baseline!r}")
        else:
            print("no baseline evaluation (no baseline_run_id param and no evaluated CURRENT): skipping the gate")
        return baseline

    return find_baseline()


def compare_task(task_id: str):
    """``quarry compare`` of this run's evaluation against ``find_baseline``'s; exit 3 (a gated metric dropped
    beyond its tolerance) fails the task, and is never retried."""
    return quarry_task(
        "compare",
        task_id=task_id,
        extra_args="quarry_compare_args(ti.xcom_pull(task_ids='find_baseline'), params, run_id)",
        retries=0,
    )
