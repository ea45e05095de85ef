"""The whole pipeline on data-samples/ submitted with pyspark's spark-submit to a real Spark standalone cluster (one
master, two workers of 1 core each, all on 127.0.0.1), client mode: the driver is the spark-submit JVM, chunking,
embedding (ONNX Runtime), training passes and index building run in the two workers' executors.

Asserts that the application ran on the cluster (the master lists it FINISHED with 2 cores; each worker ran an
executor of it that ran tasks) and that the pipeline's outputs are complete and good (every stage summary, the
counts agree across stages, the index version is published, nDCG@10 far above random). Outputs and logs stay under
target/cluster-test/ for inspection. A few minutes on a loaded 2-core machine; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_submit import REPO, jobs_jar, run, submit_command, submit_env  # noqa: E402
from spark_standalone import StandaloneCluster  # noqa: E402

ROOT = REPO / "target" / "cluster-test"
DATA = REPO / "data-samples" / "scifact"
WORKERS = 2
#: Upper bound of the spark-submit (the run takes ~3-5 min on a loaded 2-core machine): fail, never hang.
SUBMIT_TIMEOUT = int(os.environ.get("QUARRY_CLUSTER_TEST_TIMEOUT", "1200"))


@pytest.fixture(scope="module")
def cluster():
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    with StandaloneCluster(ROOT / "cluster", workers=WORKERS, cores=1, memory="2g") as c:
        yield c


def _summaries(stdout: str) -> dict[str, dict]:
    """The stage summaries `quarry pipeline` prints (a JSON object per stage, pretty-printed), by stage name."""
    out, dec, pos = {}, json.JSONDecoder(), 0
    while (start := stdout.find("{", pos)) >= 0:
        if start > 0 and stdout[start - 1] != "\n":
            pos = start + 1
            continue
        try:
            obj, pos = dec.raw_decode(stdout, start)
        except ValueError:
            pos = start + 1
            continue
        if isinstance(obj, dict) and "stage" in obj:
            out[obj["stage"]] = obj
    return out


def test_pipeline_on_standalone_cluster(cluster):
    jar = jobs_jar()
    if jar is None:
        pytest.fail("jobs/target/quarry-jobs-*.jar not found: build it first (mvn -B -q -DskipTests package -pl jobs -am)")
    # a copy: a rebuild of jobs/target during the run cannot swap classes under the executors
    shutil.copy(jar, ROOT / "quarry-jobs.jar")
    work = ROOT / "work"
    app = f"quarry-cluster-test-{os.getpid()}"
    master = cluster.master_url
    # Under spark-submit the master comes from --master (the CLI only falls back to spark.master of the config when
    # spark-submit set none); --set spark.master makes the resolved config say the same.
    args = ["pipeline", "--config", str(REPO / "conf" / "quarry.yaml"),
            "--set", f"paths.work={work}",
            "--set", f"input.corpus={DATA / 'corpus.jsonl'}",
            "--set", f"evaluation.queries={DATA / 'queries.jsonl'}",
            "--set", f"evaluation.qrels={DATA / 'qrels' / 'test.tsv'}",
            "--set", f"tuning.qrels={DATA / 'qrels' / 'train.tsv'}",
            "--set", f"spark.master={master}",
            "--set", "evaluation.sweepNprobe=[]",
            "--set", "evaluation.sweepCandidates=[]",
            # a small tuning grid (tune runs on the driver only; the default grid adds ~2 min under load)
            "--set", "tuning.strategies=[rrf, convex]",
            "--set", "tuning.normalizations=[minmax]",
            "--set", "tuning.alphas=[0.5, 0.8]",
            "--set", "tuning.rrfKs=[60]",
            "--set", "tuning.depths=[200]",
            "--set", "tuning.nprobes=[8]"]
    cmd = submit_command(master, ROOT / "quarry-jobs.jar", args, name=app, executors=WORKERS,
                         executor_memory="1g", driver_memory="2g")
    (ROOT / "command.txt").write_text(" ".join(cmd) + "\n")
    t0 = time.monotonic()
    # cwd outside the repo: every input path is absolute, as on a real cluster
    code = run(cmd, submit_env(cluster.base / "conf"), SUBMIT_TIMEOUT, ROOT / "stdout.txt", ROOT / "stderr.txt",
               cwd=ROOT)
    seconds = time.monotonic() - t0
    stdout = (ROOT / "stdout.txt").read_text()
    stderr_tail = "\n".join((ROOT / "stderr.txt").read_text(errors="replace").splitlines()[-60:])
    assert code == 0, f"spark-submit exit {code}\n{stdout[-3000:]}\n--- stderr ---\n{stderr_tail}"
    print(f"pipeline on {master} ({WORKERS} workers x 1 core): {seconds:.0f} s")

    # --- it ran on the cluster ---------------------------------------------------------------------------------
    entry = cluster.wait_app_finished(app, timeout=60)
    assert entry["cores"] == WORKERS, entry
    app_id = entry["id"]
    for i in range(WORKERS):
        ws = cluster.worker_state(i)
        finished = [e for e in ws.get("finishedexecutors", []) + ws.get("executors", []) if e.get("appid") == app_id]
        assert finished, f"worker {i} ran no executor of {app_id}: {ws}"
        logs = list((cluster.worker_dir(i) / app_id).glob("*/stderr"))
        assert logs, f"no executor log of {app_id} under {cluster.worker_dir(i)}"
        text = "".join(p.read_text(errors="replace") for p in logs)
        assert "Running task" in text and "Finished task" in text, f"executor on worker {i} ran no task ({logs})"
        # the worker logs each executor's command line first: the JVM flags reached the executors
        assert '"-DRUST_FLAVOR=cpu" "-Dai.djl.offline=true"' in text, f"executor JVM flags missing ({logs})"

    # --- the pipeline's outputs ----------------------------------------------------------------------------------
    s = _summaries(stdout)
    for stage in ("chunk", "embed", "train", "build", "tune", "evaluate"):
        assert stage in s, f"no summary of {stage} in:\n{stdout[-3000:]}"
    corpus_docs = sum(1 for line in (DATA / "corpus.jsonl").read_text().splitlines() if line.strip())
    chunk, embed, build = s["chunk"], s["embed"], s["build"]
    assert chunk["records"] == corpus_docs, chunk
    assert chunk["documents"] + chunk.get("quarantined", 0) + chunk.get("documentsWithoutTokens", 0) == corpus_docs
    assert chunk["chunks"] >= chunk["documents"] > 0.9 * corpus_docs, chunk
    assert embed["chunks"] == chunk["chunks"], (chunk, embed)
    for p in (work / "chunks", work / "embeddings", work / "quantizer"):
        assert p.is_dir() and any(p.iterdir()), p
    assert list((work / "embeddings").rglob("*.parquet")), "no embedding parquet files"

    index = work / "index"
    version = (index / "CURRENT").read_text().strip()
    assert (index / version / "manifest.json").is_file(), version
    # the build summary adds up: the published version holds every embedded chunk, spread over the shards (pipeline
    # builds it unpublished and moves CURRENT only after evaluation and gate)
    assert build["version"] == version and build["published"] is False, build
    assert build["chunks"] == embed["chunks"] and build["docs"] == chunk["documents"], (build, chunk)
    assert len(build["chunksPerShard"]) == build["shards"] == 2, build
    assert sum(build["chunksPerShard"].values()) == build["chunks"], build

    ev = work / "eval" / "latest"
    metrics = json.loads((ev / "metrics.json").read_text())
    assert metrics["indexVersion"] == version
    judged = {line.split("\t")[0] for line in (DATA / "qrels" / "test.tsv").read_text().splitlines()[1:] if line}
    per_query: dict[str, int] = {}
    for line in (ev / "run.trec").read_text().splitlines():
        f = line.split()
        assert len(f) == 6, line
        per_query[f[0]] = per_query.get(f[0], 0) + 1
    assert judged <= per_query.keys() and set(per_query.values()) == {100}
    stages = {st["name"]: st for st in metrics["stages"]}
    # random ranking of 400 documents with ~1.2 relevant per query: nDCG@10 ~ 0.02, Recall@100 ~ 0.25
    for name in ("ivfpq", metrics["finalStage"]):
        m = stages[name]["metrics"]
        assert m["nDCG@10"] > 0.5, (name, m)
        assert m["Recall@100"] > 0.85, (name, m)
        assert stages[name]["emptyRankings"] == 0, (name, stages[name])
    assert "nDCG@10" in (ev / "report.md").read_text()
    # the evaluate summary is the final stage's metrics; tune wrote its choice into the published version
    assert s["evaluate"]["queries"] == len(judged) and s["evaluate"]["finalStage"] == metrics["finalStage"]
    assert s["evaluate"]["metrics"]["nDCG@10"] == pytest.approx(stages[metrics["finalStage"]]["metrics"]["nDCG@10"])
    assert s["tune"]["version"] == version and s["tune"]["written"] is True, s["tune"]
