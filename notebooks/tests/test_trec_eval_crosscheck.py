"""Keeps "trec_eval-exact" proven: jobs/src/test/python/eval/crosscheck_trec_eval.py re-evaluates every stage's TREC
run of the evaluations the Airflow end-to-end test produced (airflow/tests/test_e2e_dags_test.py, which bin/test-python
runs first; it writes target/airflow-test/e2e/result.json naming them) with pytrec_eval (trec_eval 9.x; the
pytrec-eval-terrier wheel pinned in airflow/requirements.txt) and fails when any metric of metrics.json, mean or per
query, differs by 5e-5 or more.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "target" / "airflow-test" / "e2e"
SCRIPT = REPO / "jobs" / "src" / "test" / "python" / "eval" / "crosscheck_trec_eval.py"


def _evaluation_dirs() -> list[Path]:
    result = E2E / "result.json"
    assert result.is_file(), (
        f"{result} missing: the Airflow end-to-end test (airflow/tests/test_e2e_dags_test.py) did not produce an "
        "evaluation; run bin/test-python, which runs it first")
    runs = json.loads(result.read_text())
    ids = [runs[k] for k in ("build", "evaluate") if k in runs]
    return [E2E / "work" / "eval" / rid for rid in dict.fromkeys(ids)]


def test_metrics_equal_trec_eval_on_the_end_to_end_evaluations():
    dirs = _evaluation_dirs()
    assert dirs
    for d in dirs:
        report = json.loads((d / "metrics.json").read_text())
        dataset = report["dataset"]
        assert dataset["format"] == "beir", "the cross-check script reads BEIR qrels"
        qrels = Path(dataset["qrels"])
        if not qrels.is_absolute():
            qrels = REPO / qrels
        proc = subprocess.run([sys.executable, str(SCRIPT), str(d), str(qrels)], capture_output=True, text=True,
                              timeout=600)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"{d}: Quarry's metrics differ from trec_eval's:\n{out}"
        # every stage of metrics.json was checked
        for stage in report["stages"]:
            assert f"{stage['name']}: " in proc.stdout, out
        assert "worst absolute difference" in proc.stdout, out
