"""bin/bench-cluster's parsing of bench-train's output and its speed-up table (no cluster needed; the 100k run
itself is a benchmark, not a test: docs/benchmarks.md "Spark standalone cluster (issue 12)")."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cluster as bc  # noqa: E402

HEADER = ("| N | spec | sample | PQ sample | generate s | sample s | OPQ s | IVF s | PQ s | metrics s | encode s | "
          "total s | MSE | peak heap MiB |")


def _stdout(row: str) -> str:
    # as BenchTrainCommand prints it: each row when done, then the summary table with the same row again
    return f"{row}\n\nSynthetic clustered unit vectors: d=384 ...\n\n{HEADER}\n|---:|---|\n{row}\n"


def test_rows_parsed_once_and_speed_up_per_step():
    one = bc.parse_rows(_stdout("| 5000 | IVF1024,PQ48x8 | 5000 | 5000 | 1.6 | 0.0 | 0.0 | 60.0 | 13.0 | 1.5 | 1.4 "
                                "| 77.5 | 0.0744 | 374 |"))
    two = bc.parse_rows(_stdout("| 5000 | IVF1024,PQ48x8 | 5000 | 5000 | 0.8 | 0.0 | 0.0 | 40.0 | 6.5 | 1.0 | 0.7 "
                                "| 49.0 | 0.0744 | 305 |"))
    assert len(one) == 1 and one[0]["IVF s"] == "60.0" and one[0]["spec"] == "IVF1024,PQ48x8"
    lines = bc.table([1, 2], {1: one, 2: two}, {1: 100.0, 2: 80.0})
    assert lines[2].startswith("| 1 | 5000 | IVF1024,PQ48x8 | 1.6 | 0.0 | 0.0 | 60.0 |")
    ratio = [c.strip() for c in lines[-1].strip("|").split("|")]
    assert ratio[0] == "speed-up 1→2"
    steps = dict(zip(bc.STEPS, ratio[3:3 + len(bc.STEPS)]))
    assert steps == {"generate s": "2.00x", "sample s": "n/a", "OPQ s": "n/a", "IVF s": "1.50x", "PQ s": "2.00x",
                     "metrics s": "1.50x", "encode s": "2.00x", "total s": "1.58x"}
    assert ratio[-1] == "1.25x"


# bench-train's table as printed on 2026-12-02 (1 worker, 100k, IVF1024,PQ48x8): the row once as it finishes and once
# in the final table, with the IVF MSE and CPU-second columns the parser does not use
STDOUT = """MLlib BLAS: driver dev.ludovic.netlib.blas.VectorBLAS, executor dev.ludovic.netlib.blas.VectorBLAS
| N | spec | sample | PQ sample | generate s | sample s | OPQ s | IVF s | PQ s | metrics s | encode s | total s | IVF MSE | MSE | peak heap MiB | CPU s: OPQ | IVF | PQ | encode |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| 100000 | IVF1024,PQ48x8 | 100000 | 65536 | 2.7 | 0.8 | 0.8 | 60.7 | 94.5 | 18.6 | 27.5 | 205.6 | 0.3288 | 0.1085 | 287 | 0.4 | 9.8 | 3.3 | 0.4 |
| N | spec | sample | PQ sample | generate s | sample s | OPQ s | IVF s | PQ s | metrics s | encode s | total s | IVF MSE | MSE | peak heap MiB | CPU s: OPQ | IVF | PQ | encode |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| 100000 | IVF1024,PQ48x8 | 100000 | 65536 | 2.7 | 0.8 | 0.8 | 60.7 | 94.5 | 18.6 | 27.5 | 205.6 | 0.3288 | 0.1085 | 287 | 0.4 | 9.8 | 3.3 | 0.4 |
"""


def test_rows_are_read_by_the_header_names_once_each():
    rows = bc.parse_rows(STDOUT)
    assert len(rows) == 1
    r = rows[0]
    assert (r["N"], r["spec"], r["IVF s"], r["total s"], r["MSE"], r["peak heap MiB"]) == (
        "100000", "IVF1024,PQ48x8", "60.7", "205.6", "0.1085", "287")


def test_no_header_no_rows():
    assert bc.parse_rows("| 100000 | IVF1024,PQ48x8 | 1 | 2 |\n") == []
