"""Airflow DAG ``quarry_refresh_index``: refresh the published index version incrementally (issue 15).

    validate_config -> find_base -> chunk -> embed -> build_incremental -> choose_path
        choose_path -> tune                          (incremental or compaction: the default)
        choose_path -> train -> build_full -> tune   (retrain: drift over segments.driftMaxMseRatio /
                                                      segments.driftMaxChangedShare)
    tune -> evaluate -> find_baseline -> gate -> publish

``find_base`` reads the version ``CURRENT`` names (or the ``base_version`` param) and the chunks and embeddings of
the run that made it (``<work_base>/runs/<base>/chunks``, ``.../embeddings``); ``chunk`` reuses the chunks of
unchanged documents (``chunking.reuseFrom``) and ``embed`` the vectors of unchanged chunk texts
(``embedding.reuseFrom``), so only new and edited documents are tokenized and embedded. ``build_incremental`` runs ``quarry build --incremental --base <base> --no-fail-on-drift``: the
base's quantizer is kept (no training), its shards are copied, added and changed documents go into delta shards and
deleted ones become tombstones; on drift it writes nothing under the index and records ``path: retrain`` in
``<work_base>/runs/<run_id>/refresh.json``, which ``choose_path`` reads to branch to ``train`` → ``build_full``.
From ``tune`` on, the tasks are the build DAG's, with the same gate → publish semantics and per-run-id isolation
(``runs/<run_id>``, ``index/<run_id>``, ``eval/<run_id>``). Operations: docs/operations.md ("Refresh").
"""

from __future__ import annotations

from airflow.sdk import Param, chain, task

from quarry_dags import args as qargs
from quarry_dags.tasks import common_params, compare_task, find_baseline_task, quarry_dag, quarry_task

params = common_params()
params.update(
    {
        "base_version": Param(
            "",
            type="string",
            description="Index version to refresh; empty = the version CURRENT names.",
        ),
        "baseline_run_id": Param(
            "",
            type="string",
            description="Evaluation run id to gate against; empty = the evaluation of the version CURRENT points "
            "to, and no gate when there is none.",
        ),
    }
)

BASE = "ti.xcom_pull(task_ids='find_base')"

with quarry_dag(
    "quarry_refresh_index",
    "Quarry: chunk -> embed (reuse) -> incremental build (or retrain on drift) -> evaluate -> gate -> "
    "publish CURRENT",
    params=params,
    tags=["index", "refresh"],
    doc_md=__doc__,
    max_active_runs=1,
) as dag:
    validate = quarry_task("validate-config", retries=0)

    @task(task_id="find_base", retries=1)
    def find_base(params=None):
        found = qargs.refresh_base(params or {})
        print(f"refreshing {found['base']!r}; reusing chunks from {found['chunks_from'] or '(none)'!r}, embeddings "
              f"from {found['reuse_from'] or '(none)'!r}")
        return found

    base = find_base()
    chunk = quarry_task("chunk", extra_args=f"['--set', 'chunking.reuseFrom=' + {BASE}['chunks_from']]")
    embed = quarry_task("embed", extra_args=f"['--set', 'embedding.reuseFrom=' + {BASE}['reuse_from']]")
    build_incremental = quarry_task(
        "build",
        task_id="build_incremental",
        extra_args=f"['--incremental', '--no-fail-on-drift', '--base', {BASE}['base']]",
    )

    @task.branch(task_id="choose_path", retries=1)
    def choose_path(params=None, run_id=None):
        path = qargs.refresh_path(params or {}, run_id)
        print(f"build_incremental decided: {path}")
        return "train" if path == "retrain" else "tune"

    branch = choose_path()
    train = quarry_task("train")
    build_full = quarry_task("build", task_id="build_full")
    # reached from choose_path (incremental/compact) or from build_full (retrain): one of the two is skipped
    tune = quarry_task("tune", extra_args="['--if-configured']", trigger_rule="none_failed_min_one_success")
    evaluate = quarry_task("evaluate")
    baseline = find_baseline_task()
    gate = compare_task("gate")
    publish = quarry_task("publish", trigger_rule="none_failed")

    chain(validate, base, chunk, embed, build_incremental, branch)
    branch >> [train, tune]
    chain(train, build_full, tune)
    chain(tune, evaluate, baseline, gate, publish)
