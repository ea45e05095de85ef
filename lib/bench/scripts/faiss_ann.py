#!/usr/bin/env python3
"""FAISS reference for `quarry bench-ann`: same data, specs and nprobe values, same table.

Trains each spec with faiss.index_factory on the base vectors (FAISS defaults: 25 k-means iterations,
256 points per centroid), adds the base, searches the queries and prints 1-recall@1/@10/@100 (the fraction
of queries whose true nearest neighbour is in the first R results) and the mean squared reconstruction error.

Not a project dependency: run it from a throwaway venv, e.g.
  python3 -m venv /tmp/faissenv && /tmp/faissenv/bin/pip install faiss-cpu numpy
  /tmp/faissenv/bin/python lib/bench/scripts/faiss_ann.py /work/shared/data/ann/siftsmall
"""
import glob
import os
import sys
import time

import faiss
import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    d = raw[0]
    rows = raw.reshape(-1, d + 1)
    if not (rows[:, 0] == d).all():
        raise SystemExit(f"{path}: inconsistent dimensions")
    return rows[:, 1:].copy().view(dtype)


def main():
    data = sys.argv[1]
    specs = (sys.argv[2] if len(sys.argv) > 2 else "IVF64,PQ16x8;IVF64,PQ32x8;OPQ16,IVF64,PQ16x8").split(";")
    nprobes = [int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "1,4,16,64").split(",")]
    seed = int(os.environ.get("FAISS_SEED", "1234"))
    # FAISS_METRIC=ip: inner-product indexes (as a Quarry quantizer with metric ip); default L2
    metric = faiss.METRIC_INNER_PRODUCT if os.environ.get("FAISS_METRIC", "l2") == "ip" else faiss.METRIC_L2
    faiss.omp_set_num_threads(int(os.environ.get("FAISS_THREADS", "2")))
    xb = read_vecs(glob.glob(os.path.join(data, "*_base.fvecs"))[0], np.float32)
    xq = read_vecs(glob.glob(os.path.join(data, "*_query.fvecs"))[0], np.float32)
    gt = read_vecs(glob.glob(os.path.join(data, "*_groundtruth.ivecs"))[0], np.int32)
    print(f"FAISS {faiss.__version__} on {data} (base {xb.shape[0]} x {xb.shape[1]}, {xq.shape[0]} queries), "
          f"1-recall@R vs exact ground truth, seed {seed}, metric {os.environ.get('FAISS_METRIC', 'l2')}\n")
    print("| spec | trainer | train s | MSE | nprobe | R@1 | R@10 | R@100 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for spec in specs:
        index = faiss.index_factory(xb.shape[1], spec, metric)
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.seed = seed
        if hasattr(ivf, "pq"):
            ivf.pq.cp.seed = seed
        t0 = time.time()
        index.train(xb)
        secs = time.time() - t0
        index.add(xb)
        rec = index.sa_decode(index.sa_encode(xb))
        mse = float(((xb - rec) ** 2).sum(axis=1).mean())
        for nprobe in nprobes:
            ivf.nprobe = nprobe
            _, ids = index.search(xq, 100)
            r = [float((ids[:, :k] == gt[:, :1]).any(axis=1).mean()) for k in (1, 10, 100)]
            print(f"| {spec} | faiss | {secs:.1f} | {mse:.5g} | {nprobe} | {r[0]:.2f} | {r[1]:.2f} | {r[2]:.2f} |")


if __name__ == "__main__":
    main()
