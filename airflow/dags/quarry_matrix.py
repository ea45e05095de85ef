"""Airflow DAG ``quarry_matrix``: an experiment, ``quarry pipeline --matrix`` in one Spark application.

    validate_config -> matrix

``matrix`` (param, one item per axis, values separated by ``;``: index specs contain commas), e.g.
``["quantizer.spec=IVF16,PQ24x8;IVF32,PQ48x8", "embedding.model=bge-small-en-v1.5-q"]``: every variant of the cross
product is built and evaluated, chunks and embeddings shared where their inputs agree, and compared in one
``quarry report`` leaderboard (baseline = the first variant). Invalid keys or values fail the ``matrix`` task with
exit 2 before any data is read (never retried). Outputs under ``<work_base>/runs/<run_id>/matrix/``: ``<variant>/``
(quantizer, index, evaluation), ``shared/`` (chunks, embeddings) and ``report/leaderboard.{md,html,json}``. Nothing is
published: ``<work_base>/index/CURRENT`` is untouched.

Trigger: ``airflow dags trigger quarry_matrix -c '{"matrix": ["quantizer.spec=IVF16,PQ24x8;IVF32,PQ48x8"]}'``.
"""

from __future__ import annotations

from airflow.sdk import Param, chain

from quarry_dags.tasks import common_params, quarry_dag, quarry_task

params = common_params()
params.update(
    {
        "matrix": Param(
            ["quantizer.spec=IVF16,PQ24x8;IVF16,PQ48x8"],
            type="array",
            minItems=1,
            items={"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.]*=.+$"},
            description="Axes of the experiment, 'key=value1;value2' each (--matrix of quarry pipeline); the "
            "variants are their cross product.",
        ),
    }
)

with quarry_dag(
    "quarry_matrix",
    "Quarry: build, evaluate and compare every variant of a config matrix (nothing published)",
    params=params,
    tags=["experiment"],
    doc_md=__doc__,
) as dag:
    validate = quarry_task("validate-config", retries=0)
    matrix = quarry_task("pipeline", task_id="matrix", extra_args="quarry_matrix_args(params)", retries=0)
    chain(validate, matrix)
