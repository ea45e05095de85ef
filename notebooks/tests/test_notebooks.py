"""Executes every notebook in notebooks/ with nbclient, failing on any cell error.

Against the real evaluations the Airflow end-to-end test produced (airflow/tests/test_e2e_dags_test.py writes
target/airflow-test/e2e/result.json naming them; bin/test-python runs it first), and against a minimal metrics.json
(only what every evaluation has) to check the notebooks show notes instead of failing on fields not produced.
Executed copies go to target/notebooks/ for inspection.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
E2E = REPO / "target" / "airflow-test" / "e2e"
OUT = REPO / "target" / "notebooks"


def execute(path: Path, env: dict[str, str], tag: str) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    OUT.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, OUT / f"{path.stem}.{tag}.ipynb")
    return nb


def outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def text_of(nb) -> str:
    parts = []
    for o in outputs(nb):
        parts.append(o.get("text", ""))
        data = o.get("data", {})
        parts.append(data.get("text/plain", "") + data.get("text/markdown", ""))
    return "\n".join(parts)


def images(nb) -> int:
    return sum(1 for o in outputs(nb) if "image/png" in o.get("data", {}))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_end_to_end_evaluation(path):
    result = E2E / "result.json"
    if not result.is_file():
        pytest.fail(f"{result} missing: the Airflow end-to-end test (airflow/tests/test_e2e_dags_test.py) did not "
                    "produce an evaluation; run bin/test-python, which runs it first")
    runs = json.loads(result.read_text())
    eval_root = E2E / "work" / "eval"
    env = {"QUARRY_EVAL_DIR": str(eval_root / runs.get("evaluate", runs["build"]))}
    if "evaluate" in runs:
        env["QUARRY_BASELINE_EVAL_DIR"] = str(eval_root / runs["build"])
    nb = execute(path, env, "e2e")
    text = text_of(nb)
    # Real data: at least the per-stage chart is drawn, and the run id of the evaluation is shown.
    assert images(nb) >= 1
    report = json.loads((Path(env["QUARRY_EVAL_DIR"]) / "metrics.json").read_text())
    assert report["runId"] in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shows_notes_for_fields_not_produced(path, tmp_path):
    minimal = {
        "schemaVersion": 1,
        "runId": "minimal-run",
        # an old stage name (before the one stage vocabulary): shown under its current name, ivfpq
        "stages": [
            {"name": "dense-ivfpq", "queries": 2, "emptyRankings": 0, "metrics": {"nDCG@10": 0.5, "Recall@100": 1.0},
             "perQuery": {"q1": {"nDCG@10": 0.25, "Recall@100": 1.0}, "q2": {"nDCG@10": 0.75, "Recall@100": 1.0}}}
        ],
    }
    (tmp_path / "metrics.json").write_text(json.dumps(minimal))
    nb = execute(path, {"QUARRY_EVAL_DIR": str(tmp_path), "QUARRY_BASELINE_EVAL_DIR": ""}, "minimal")
    text = text_of(nb)
    assert "minimal-run" in text
    assert "ivfpq" in text and "dense-ivfpq" not in text
    assert "no nprobe sweep" in text
    assert "no loss attribution" in text
    assert "no baseline evaluation given" in text
    assert "no comparison.json here" in text
    assert images(nb) == 1  # the per-stage chart only
