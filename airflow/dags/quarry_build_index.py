"""Airflow DAG ``quarry_build_index``: build, evaluate, gate and publish one Quarry index version.

    validate_config -> chunk -> embed -> train -> build -> tune -> evaluate -> find_baseline -> gate -> publish

One ``SparkSubmitOperator`` per stage, each running the shaded jobs jar's CLI (``io.quarry.jobs.QuarryCli``) with the
run's configs and ``--set`` overrides (see ``quarry_dags/args.py``). ``validate_config`` runs the CLI's
``validate-config`` on exactly the arguments the stages get, so a bad param fails the run in seconds, before any data
is touched; every stage validates them again when it starts.

Runs are isolated by run id: intermediate data under ``<work_base>/runs/<run_id>``, the evaluation under
``<work_base>/eval/<run_id>``, the index version under ``<work_base>/index``; a retried task replaces only its own
output. ``find_baseline`` picks the evaluation to gate against (the ``baseline_run_id`` param, else the one of the
version CURRENT names) and skips the gate when there is none (first build); ``gate`` runs ``quarry compare`` (exit
3 = a gated metric dropped beyond ``evaluation.gate``; never retried, writes comparison.md beside the evaluation) and
``publish`` points ``<work_base>/index/CURRENT`` at the new version only when the gate passed or was skipped.

Trigger: ``airflow dags trigger quarry_build_index -c '{"index_spec": "IVF256,PQ48x8",
"config_files": ["conf/scifact.yaml"]}'``. Operations: docs/operations.md.
"""

from __future__ import annotations

from airflow.sdk import Param, chain

from quarry_dags import args as qargs
from quarry_dags.tasks import common_params, compare_task, find_baseline_task, quarry_dag, quarry_task

params = common_params()
params.update(
    {
        "index_spec": Param(
            "",
            type="string",
            description="Index spec in FAISS factory notation (quantizer.spec), e.g. IVF256,PQ48x8 or "
            "OPQ48,IVF256,PQ48x8; empty = from the config.",
        ),
        "embedding_model": Param(
            "",
            type="string",
            description="Bundled embedding model id (embedding.model), any id `quarry models` lists, e.g. "
            "e5-small-v2-q (its jar is resolved by id on the driver and shipped to the executors); empty = from "
            "the config.",
        ),
        "baseline_run_id": Param(
            "",
            type="string",
            description="Evaluation run id to gate against (an earlier run under <work_base>/eval); empty = the "
            "evaluation of the version CURRENT points to, and no gate when there is none yet.",
        ),
    }
)

with quarry_dag(
    "quarry_build_index",
    "Quarry: chunk -> embed -> train -> build -> tune -> evaluate -> gate -> publish CURRENT",
    params=params,
    tags=["index"],
    doc_md=__doc__,
    max_active_runs=1,
) as dag:
    validate = quarry_task("validate-config", retries=0)
    # tune: the hybrid fusion chosen on the config's training qrels (tuning.qrels) and written into the new,
    # unpublished version's manifest before it is evaluated; skipped when the config names no training split
    stages = [quarry_task(s, extra_args="['--if-configured']" if s == "tune" else None) for s in qargs.STAGES]
    baseline = find_baseline_task()
    gate = compare_task("gate")
    # Runs when the gate passed, or was skipped because there is nothing to gate against yet.
    publish = quarry_task("publish", trigger_rule="none_failed")
    chain(validate, *stages, baseline, gate, publish)
