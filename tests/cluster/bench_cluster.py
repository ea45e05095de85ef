"""bench-train on a Spark standalone cluster with 1 worker, then 2 workers (1 core each, a fresh cluster each time,
all on 127.0.0.1): how quantizer training and encoding steps scale with executors. Prints (and writes to
``<out>/bench-cluster.md``) bench-train's own rows for each cluster size, a per-step table and the 1-worker /
N-worker time ratio per step. Run through ``bin/bench-cluster``; see docs/benchmarks.md "Spark standalone cluster
(issue 12)".
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_submit import REPO, jobs_jar, run, submit_command, submit_env  # noqa: E402
from spark_standalone import StandaloneCluster  # noqa: E402

#: the bench-train columns this script reads (BenchTrainCommand's table has more; they are found by the header)
COLUMNS = ["N", "spec", "generate s", "sample s", "OPQ s", "IVF s", "PQ s", "metrics s", "encode s", "total s", "MSE",
           "peak heap MiB"]
STEPS = ["generate s", "sample s", "OPQ s", "IVF s", "PQ s", "metrics s", "encode s", "total s"]
APP_NAME = "quarry-bench-train"
ROW = re.compile(r"^\|\s*\d+\s*\|")
HEADER = re.compile(r"^\|\s*N\s*\|\s*spec\s*\|")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_rows(stdout: str) -> list[dict[str, str]]:
    """bench-train's result rows, each as {column: cell} by the names of the header printed before it (the table
    gains columns over time: IVF MSE, CPU seconds); rows without every column of ``COLUMNS`` are skipped."""
    rows, seen, header = [], set(), None
    for line in stdout.splitlines():
        if HEADER.match(line):
            header = _cells(line)
        elif header and ROW.match(line) and line not in seen:  # each row is printed twice (as it finishes, then in
            seen.add(line)                                      # the table)
            cells = _cells(line)
            if len(cells) == len(header):
                row = dict(zip(header, cells))
                if all(c in row for c in COLUMNS):
                    rows.append(row)
    return rows


def table(sizes: list[int], results: dict[int, list[dict[str, str]]], walls: dict[int, float]) -> list[str]:
    """Markdown rows: bench-train's step times per cluster size, then the speed-up (first size's time / this
    size's time) per step."""
    lines = ["| workers | N | spec | " + " | ".join(STEPS) + " | MSE | peak heap MiB | submit wall s |",
             "|---:|---:|---|" + "---:|" * (len(STEPS) + 3)]
    for w in sizes:
        for r in results[w]:
            lines.append(f"| {w} | {r['N']} | {r['spec']} | " + " | ".join(r[s] for s in STEPS)
                         + f" | {r['MSE']} | {r['peak heap MiB']} | {walls[w]:.0f} |")
    first = sizes[0]
    for w in sizes[1:]:
        for r0, r in zip(results[first], results[w]):
            ratio = []
            for s in STEPS:
                t0, t1 = float(r0[s]), float(r[s])
                ratio.append(f"{t0 / t1:.2f}x" if t1 > 0 else "n/a")
            lines.append(f"| speed-up {first}→{w} | {r['N']} | {r['spec']} | " + " | ".join(ratio)
                         + f" | | | {walls[first] / walls[w]:.2f}x |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench-cluster", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", default="100000", help="bench-train --n (vector counts, comma-separated)")
    ap.add_argument("--specs", default="IVF1024,PQ48x8", help="bench-train --specs (';'-separated)")
    ap.add_argument("--partitions", type=int, default=8, help="bench-train --partitions")
    ap.add_argument("--workers", default="1,2", help="cluster sizes to compare, 1 core each (default: 1,2)")
    ap.add_argument("--worker-memory", default="2g", help="memory of each worker (default: 2g)")
    ap.add_argument("--executor-memory", default="2g", help="spark.executor.memory (default: 2g)")
    ap.add_argument("--driver-memory", default="3g", help="client-mode driver heap (default: 3g)")
    ap.add_argument("--out", default=str(REPO / "target" / "bench-cluster"), help="logs and results directory")
    ap.add_argument("--timeout", type=float, default=7200, help="upper bound of each bench-train run, seconds")
    ap.add_argument("extra", nargs="*", help="more bench-train options, after --")
    a = ap.parse_args(argv)
    jar = jobs_jar()
    if jar is None:
        print("bench-cluster: jobs jar not found: mvn -B -q -DskipTests package -pl jobs -am", file=sys.stderr)
        return 2
    out = Path(a.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copy(jar, out / "quarry-jobs.jar")
    sizes = [int(w) for w in a.workers.split(",")]
    results: dict[int, list[dict[str, str]]] = {}
    walls: dict[int, float] = {}
    for w in sizes:
        base = out / f"workers-{w}"
        with StandaloneCluster(base / "cluster", workers=w, cores=1, memory=a.worker_memory) as c:
            args = ["bench-train", "--n", a.n, "--specs", a.specs, "--partitions", str(a.partitions),
                    "--master", c.master_url, *a.extra]  # bench-train sets its master itself: the same URL
            # bench-train names its application itself (quarry-bench-train); one application per fresh cluster
            cmd = submit_command(c.master_url, out / "quarry-jobs.jar", args, name=APP_NAME,
                                 executors=w, executor_memory=a.executor_memory, driver_memory=a.driver_memory)
            (base / "command.txt").write_text(" ".join(cmd) + "\n")
            print(f"==> {w} worker(s) x 1 core at {c.master_url}: {' '.join(args)}", flush=True)
            t0 = time.monotonic()
            code = run(cmd, submit_env(c.base / "conf"), a.timeout, base / "stdout.txt", base / "stderr.txt",
                       cwd=base)
            walls[w] = time.monotonic() - t0
            if code != 0:
                tail = "\n".join((base / "stderr.txt").read_text(errors="replace").splitlines()[-40:])
                print(f"bench-cluster: bench-train on {w} worker(s) exited {code}\n{tail}", file=sys.stderr)
                return 1
            app = c.wait_app_finished(APP_NAME, timeout=60)
            used = sum(1 for i in range(w) if any(e.get("appid") == app["id"]
                                                  for e in c.worker_state(i).get("finishedexecutors", [])))
            if used != w:
                print(f"bench-cluster: only {used} of {w} workers ran an executor of {app['id']}", file=sys.stderr)
                return 1
        results[w] = parse_rows((base / "stdout.txt").read_text())
        if not results[w]:
            print(f"bench-cluster: no result rows in {base / 'stdout.txt'}", file=sys.stderr)
            return 1

    lines = [f"bench-train --n {a.n} --specs \"{a.specs}\" --partitions {a.partitions} {' '.join(a.extra)}".rstrip(),
             f"on a Spark standalone cluster on 127.0.0.1, workers of 1 core / {a.worker_memory}, executor memory "
             f"{a.executor_memory}, client-mode driver {a.driver_memory} (peak heap = the driver's)", "",
             *table(sizes, results, walls)]
    text = "\n".join(lines) + "\n"
    (out / "bench-cluster.md").write_text(text)
    print()
    print(text)
    print(f"(logs: {out}/workers-<n>/, result: {out / 'bench-cluster.md'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
