"""Airflow DAG ``quarry_evaluate_index``: evaluate a published index version against a labeled set and a baseline.

    validate_config -> evaluate -> find_baseline -> compare

``evaluate`` searches the labeled queries (``queries``/``qrels`` params, else the config's) over the index version
``index_version`` (required: a version under ``<work_base>/index``, named after the build run that made it; the
published one is ``cat <work_base>/index/CURRENT``), using that build's embeddings (``<work_base>/runs/<version>``)
for the ``exact`` stage (brute-force search), and writes only ``<work_base>/eval/<run_id>``;
``compare`` checks it against the evaluation run ``baseline_run_id`` (default: the evaluation of the version CURRENT
names; skipped when there is none) and fails with exit 3 when a gated metric dropped beyond ``evaluation.gate``. Nothing is rebuilt, so this DAG is cheap enough to run on every new labeled set or search setting (nprobe).

Trigger: ``airflow dags trigger quarry_evaluate_index -c '{"index_version": "manual__2026-11-20T10_00_00_00_00",
"baseline_run_id": "manual__2026-11-20T10_00_00_00_00", "nprobe": 32}'``. Operations: docs/operations.md.
"""

from __future__ import annotations

from airflow.sdk import Param, chain

from quarry_dags.tasks import common_params, compare_task, find_baseline_task, quarry_dag, quarry_task

params = common_params()
params.update(
    {
        "index_version": Param(
            type="string",
            pattern="^[A-Za-z0-9._-]{1,64}$",
            description="Index version to evaluate: a directory under <work_base>/index, named after the build run "
            "that made it (the published one: cat <work_base>/index/CURRENT).",
        ),
        "queries": Param("", type="string", description="Queries file (evaluation.queries); empty = the config's."),
        "qrels": Param("", type="string", description="Relevance judgments (evaluation.qrels); empty = the config's."),
        "baseline_run_id": Param(
            "",
            type="string",
            description="Evaluation run id to compare against; empty = the evaluation of the version CURRENT names "
            "(compare is skipped when there is none).",
        ),
    }
)

with quarry_dag(
    "quarry_evaluate_index",
    "Quarry: evaluate a published index version against a labeled set and a baseline",
    params=params,
    tags=["evaluation"],
    doc_md=__doc__,
) as dag:
    validate = quarry_task("validate-config", retries=0)
    evaluate = quarry_task("evaluate")
    chain(validate, evaluate, find_baseline_task(), compare_task("compare"))
