"""Command lines of Quarry's Spark jobs, built from a DAG run's params.

The DAGs render every ``SparkSubmitOperator`` field through the functions here (as Jinja macros, with
``render_template_as_native_obj=True``), so a task's ``spark-submit`` command is a pure function of
``(command, params, run_id)`` that the tests rebuild and run through the real CLI (``validate-config``).

Contract with the jobs jar (``io.quarry.jobs.QuarryCli``)::

    spark-submit --class io.quarry.jobs.QuarryCli [--conf k=v ...] <jar> \
        <command> --config FILE [--config FILE ...] --set key=value [--set key=value ...]

with ``<command>`` one of :data:`STAGES`, ``validate-config``, ``compare`` or ``publish``; exit 0 success, 1 job
failure, 2 bad command line or config (nothing ran), 3 a gate failed, 4 drift refused an incremental build
(``build --incremental`` without ``--no-fail-on-drift``).

Idempotency per run: every build run writes its intermediate datasets under ``<work_base>/runs/<run_id>`` (chunks,
embeddings, quantizer, quarantine), its evaluation under ``<work_base>/eval/<run_id>`` and its index version
``<run_id>`` (``segments.version``, built with ``segments.publish=false``) under the shared index root
``<work_base>/index``, which also holds ``CURRENT``; only the ``publish`` task, after the gate, moves ``CURRENT``.
A stage replaces its own output when re-run, so a retried task is safe and never touches another run's data.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Mapping

#: The stage subcommands of the CLI, in pipeline order.
STAGES = ("chunk", "embed", "train", "build", "tune", "evaluate")

#: Main class of the shaded jobs jar.
MAIN_CLASS = "io.quarry.jobs.QuarryCli"

#: Config keys the DAG sets itself for a run; a user override of one of them would break run isolation.
MANAGED_KEYS = (
    "paths.work",
    "paths.index",
    "paths.eval",
    "evaluation.runId",
    "segments.version",
    "segments.publish",
)

#: JVM flags every Quarry driver and executor needs (DJL tokenizers offline, CPU flavour).
REQUIRED_JAVA_OPTIONS = "-DRUST_FLAVOR=cpu -Dai.djl.offline=true"

#: Spark properties applied before the run's ``spark_conf`` param (which wins, except for the JVM flags above,
#: which are always appended to the extraJavaOptions the run gives).
DEFAULT_SPARK_CONF: dict[str, str] = {
    "spark.executorEnv.ORT_DISABLE_TELEMETRY": "1",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "4g",
}

#: Environment of the spark-submit process (and so of a client-mode driver).
SUBMIT_ENV: dict[str, str] = {"ORT_DISABLE_TELEMETRY": "1"}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_JAR_GLOB = "quarry-jobs-*.jar"


def quarry_home() -> Path:
    """Root of the Quarry checkout the DAGs run from: ``$QUARRY_HOME``, else three levels above this package."""
    env = os.environ.get("QUARRY_HOME")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[3]


def default_jar() -> str:
    """The shaded jobs jar: ``$QUARRY_JOBS_JAR``, else the one built under ``<home>/jobs/target``."""
    env = os.environ.get("QUARRY_JOBS_JAR")
    if env:
        return env
    target = quarry_home() / "jobs" / "target"
    jars = sorted(
        p for p in target.glob(_JAR_GLOB) if not p.name.startswith("original-") and "sources" not in p.name
    )
    return str(jars[0]) if jars else str(target / "quarry-jobs-0.1.0-SNAPSHOT.jar")


def default_work_base() -> str:
    """Root of all runs' outputs: ``$QUARRY_WORK_BASE`` (e.g. ``s3a://bucket/quarry``), else ``<home>/target/airflow``."""
    return os.environ.get("QUARRY_WORK_BASE") or str(quarry_home() / "target" / "airflow")


def safe_run_id(run_id: str) -> str:
    """``run_id`` made safe as one path segment on any Hadoop filesystem (no ``:``, ``+``, ``/``).

    >>> safe_run_id("manual__2026-11-21T20:00:00+00:00")
    'manual__2026-11-21T20_00_00_00_00'
    """
    if not run_id:
        raise ValueError("run_id is empty")
    return _UNSAFE.sub("_", run_id).strip("_.") or "run"


def resolve_path(path: str) -> str:
    """A URI (``s3a://...``) or absolute path as is; a relative path against :func:`quarry_home`."""
    if "://" in path or os.path.isabs(path):
        return path
    return str(quarry_home() / path)


def _join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def version_id(run_id: str) -> str:
    """Index version id of a build run: :func:`safe_run_id`, shortened with a hash past 64 characters (the limit of
    ``segments.version``)."""
    rid = safe_run_id(run_id)
    if len(rid) <= 64:
        return rid
    return rid[:51] + "-" + hashlib.sha256(rid.encode("utf-8")).hexdigest()[:12]


def run_layout(params: Mapping[str, Any], run_id: str) -> dict[str, str]:
    """The managed config keys of one run: where it reads and writes, its evaluation and index version names.

    A build run (no ``index_version`` param) writes ``runs/<run_id>`` and the unpublished index version
    ``<run_id>``; ``publish`` makes it CURRENT after the gate. An evaluation run (``index_version`` = the build run
    id that made the version) reads that build's ``runs/<index_version>`` (the embeddings, for exact search) and
    version, and writes only ``eval/<run_id>``.
    """
    base = resolve_path(str(params.get("work_base") or default_work_base()))
    rid = safe_run_id(run_id)
    evaluated = params.get("index_version")
    if evaluated:
        version = str(evaluated)
        if safe_run_id(version) != version or len(version) > 64:
            raise ValueError(f"params.index_version: not a version id ([A-Za-z0-9._-], <= 64 chars): {version!r}")
        work, publish = version, None
    else:
        version, work, publish = version_id(run_id), rid, "false"
    layout = {
        "paths.work": _join(base, "runs", work),
        "paths.index": _join(base, "index"),
        "paths.eval": _join(base, "eval"),
        "evaluation.runId": rid,
        "segments.version": version,
    }
    if publish is not None:
        layout["segments.publish"] = publish
    return layout


def _check_override(item: str) -> tuple[str, str]:
    if not isinstance(item, str) or "=" not in item:
        raise ValueError(f"params.overrides: expected 'key=value', got {item!r}")
    key, value = item.split("=", 1)
    key = key.strip()
    if not key:
        raise ValueError(f"params.overrides: empty key in {item!r}")
    if key in MANAGED_KEYS:
        raise ValueError(
            f"params.overrides: '{key}' is set by the DAG per run (use params.work_base instead); got {item!r}"
        )
    return key, value


def config_sets(params: Mapping[str, Any], run_id: str) -> list[tuple[str, str]]:
    """Every ``--set`` of a run, lowest precedence first: named params, free overrides, then the run layout."""
    sets: list[tuple[str, str]] = []
    if params.get("index_spec"):
        sets.append(("quantizer.spec", str(params["index_spec"])))
    if params.get("embedding_model"):
        sets.append(("embedding.model", str(params["embedding_model"])))
    if params.get("nprobe"):
        sets.append(("evaluation.nprobe", str(int(params["nprobe"]))))
    if params.get("queries"):
        sets.append(("evaluation.queries", resolve_path(str(params["queries"]))))
    if params.get("qrels"):
        sets.append(("evaluation.qrels", resolve_path(str(params["qrels"]))))
    for item in params.get("overrides") or []:
        sets.append(_check_override(item))
    sets.extend(run_layout(params, run_id).items())
    return sets


def cli_args(command: str, params: Mapping[str, Any], run_id: str, extra: list[str] | None = None) -> list[str]:
    """Arguments after the jar: ``<command> --config ... --set ...`` (then ``extra``, command-specific options)."""
    if not command:
        raise ValueError("command is empty")
    configs = params.get("config_files") or []
    if isinstance(configs, str):
        configs = [configs]
    args = [command]
    for c in configs:
        args += ["--config", resolve_path(str(c))]
    for key, value in config_sets(params, run_id):
        args += ["--set", f"{key}={value}"]
    return args + list(extra or [])


def read_text(uri: str) -> str | None:
    """Text of a small file on the local filesystem or a URI pyarrow can open (``s3a://`` read as ``s3://``, with
    the worker's AWS credentials); ``None`` if it does not exist."""
    if "://" not in uri or uri.startswith("file://"):
        path = Path(uri[len("file://") :] if uri.startswith("file://") else uri)
        return path.read_text(encoding="utf-8") if path.is_file() else None
    import pyarrow.fs as pafs

    if uri.startswith("s3a://"):
        uri = "s3://" + uri[len("s3a://") :]
    fs, path = pafs.FileSystem.from_uri(uri)
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as stream:
        return stream.read().decode("utf-8")


def find_baseline(params: Mapping[str, Any]) -> str | None:
    """Evaluation run id the gate compares against: the ``baseline_run_id`` param if given, else the evaluation of
    the version ``<work_base>/index/CURRENT`` names (a build run's version id is its evaluation's run id), if that
    evaluation exists; ``None`` (no gate) when there is none, e.g. before the first publish."""
    if params.get("baseline_run_id"):
        return str(params["baseline_run_id"])
    base = resolve_path(str(params.get("work_base") or default_work_base()))
    current = read_text(_join(base, "index", "CURRENT"))
    if not current or not current.strip():
        return None
    version = current.strip()
    if read_text(_join(base, "eval", version, "metrics.json")) is None:
        return None
    return version


def refresh_base(params: Mapping[str, Any]) -> dict[str, str]:
    """Base of a refresh run (``quarry_refresh_index``): the version ``<work_base>/index/CURRENT`` names (or the
    ``base_version`` param), and the chunks and embeddings to reuse — ``<work_base>/runs/<base>/chunks`` and
    ``.../embeddings``, of the build or refresh run that made that version (its version id is its run id) — each
    ``""`` when that run's output is gone (then every document is chunked, or every chunk embedded, again).

    :raises ValueError: when there is no published version to refresh (run ``quarry_build_index`` first)
    """
    base = resolve_path(str(params.get("work_base") or default_work_base()))
    version = str(params.get("base_version") or "").strip()
    if not version:
        current = read_text(_join(base, "index", "CURRENT"))
        version = (current or "").strip()
    if not version:
        raise ValueError(f"no published index version under {_join(base, 'index')}: run quarry_build_index first")
    if safe_run_id(version) != version or len(version) > 64:
        raise ValueError(f"base version is not a version id: {version!r}")
    chunks = _join(base, "runs", version, "chunks")
    chunks_from = chunks if read_text(_join(chunks, "_summary.json")) is not None else ""
    embeddings = _join(base, "runs", version, "embeddings")
    reuse = embeddings if read_text(_join(embeddings, "_model.json")) is not None else ""
    return {"base": version, "chunks_from": chunks_from, "reuse_from": reuse}


def refresh_path(params: Mapping[str, Any], run_id: str) -> str:
    """What the incremental build of a refresh run decided, from ``<paths.work>/refresh.json``: ``incremental``,
    ``compact`` or ``retrain`` (drift: train and build in full).

    :raises ValueError: when the build wrote no decision
    """
    import json

    layout = run_layout(params, run_id)
    text = read_text(_join(layout["paths.work"], "refresh.json"))
    if text is None:
        raise ValueError(f"no refresh.json under {layout['paths.work']}: did build_incremental run?")
    return str(json.loads(text)["path"])


def compare_args(baseline: str, params: Mapping[str, Any], run_id: str) -> list[str]:
    """Options of ``quarry compare`` after the config arguments: the baseline, and ``--out`` = this run's evaluation
    directory (comparison.md and comparison.json beside metrics.json)."""
    if not baseline:
        raise ValueError("compare needs a baseline evaluation run id")
    layout = run_layout(params, run_id)
    return ["--baseline", baseline, "--out", _join(layout["paths.eval"], layout["evaluation.runId"])]


def spark_conf(params: Mapping[str, Any]) -> dict[str, str]:
    """``--conf`` of every task: :data:`DEFAULT_SPARK_CONF`, then ``params.spark_conf``, plus the required JVM flags."""
    conf = dict(DEFAULT_SPARK_CONF)
    for key, value in (params.get("spark_conf") or {}).items():
        conf[str(key)] = str(value)
    for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        current = conf.get(key, "")
        missing = [flag for flag in REQUIRED_JAVA_OPTIONS.split() if flag not in current.split()]
        conf[key] = " ".join([current, *missing]).strip()
    return conf


def submit_env() -> dict[str, str]:
    """Environment variables of the spark-submit process."""
    return dict(SUBMIT_ENV)


def matrix_args(params: Mapping[str, Any]) -> list[str]:
    """``--matrix`` options of ``quarry pipeline`` from the ``matrix`` param (``key=v1;v2`` items, values separated
    by ``;`` since index specs contain commas); the CLI validates every variant before any work (exit 2)."""
    out: list[str] = []
    for item in params.get("matrix") or []:
        if not isinstance(item, str) or "=" not in item:
            raise ValueError(f"params.matrix: expected 'key=value1;value2', got {item!r}")
        out += ["--matrix", item]
    if not out:
        raise ValueError("params.matrix: empty (give at least one 'key=value1;value2' axis)")
    return out


#: Jinja macros the DAGs register (``user_defined_macros``).
MACROS = {
    "quarry_args": cli_args,
    "quarry_spark_conf": spark_conf,
    "quarry_env": submit_env,
    "quarry_run_layout": run_layout,
    "quarry_default_jar": default_jar,
    "quarry_compare_args": compare_args,
    "quarry_matrix_args": matrix_args,
}
