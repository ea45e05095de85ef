#!/usr/bin/env python3
"""FAISS reference for `quarry bench-train --faiss DIR`: same vectors, spec, sample caps and iterations.

Reads what bench-train wrote to DIR (base.fvecs, query.fvecs, quarry-knn.ivecs, quarry.json), trains FAISS step by
step so each step can be timed like Quarry's:
  opq     OPQMatrix(d, M): niter = opqIterations, niter_pq = 4, max_train_points = maxPointsPerCentroid x 2^nbits
  ivf     rotating the base + Clustering(d, nlist): niter = maxIter, max_points_per_centroid, seed (k-means on a
          sample of maxPointsPerCentroid x nlist vectors, as Quarry)
  pq      IndexIVFPQ residual PQ (coarse quantizer already trained) on maxPointsPerCentroid x 2^nbits vectors
  encode  index.add(base): rotate, assign, encode every vector
then searches the queries at the same nprobe and prints per-step seconds, the Quarry/FAISS time ratio, the IVF
MSE and the reconstruction MSE of both (to locate a recall gap step by step) and 1-recall@1/@10 (fraction of queries whose exact inner-product nearest neighbour, from a flat FAISS index, is in the
first R results) for both.

Not a project dependency: run it from a throwaway venv, e.g.
  python3 -m venv /tmp/faissvenv && /tmp/faissvenv/bin/pip install faiss-cpu numpy
  FAISS_THREADS=2 /tmp/faissvenv/bin/python lib/bench/scripts/faiss_train_bench.py DIR
"""
import json
import os
import re
import sys
import time

import faiss
import numpy as np

from faiss_ann import read_vecs  # TEXMEX .fvecs/.ivecs reader (the script directory is on sys.path)


def main():
    data = sys.argv[1]
    faiss.omp_set_num_threads(int(os.environ.get("FAISS_THREADS", "2")))
    q = json.load(open(os.path.join(data, "quarry.json")))
    xb = read_vecs(os.path.join(data, "base.fvecs"), np.float32)
    xq = read_vecs(os.path.join(data, "query.fvecs"), np.float32)
    qknn = read_vecs(os.path.join(data, "quarry-knn.ivecs"), np.int32)
    n, d = xb.shape
    m = re.fullmatch(r"(?:OPQ(\d+),)?(?:IVF(\d+),)?PQ(\d+)x(\d+)", q["spec"])
    if not m:
        raise SystemExit(f"spec {q['spec']}: this script compares [OPQ<M>,][IVF<nlist>,]PQ<M>x<nbits> specs")
    opq_m = int(m.group(1) or 0)
    nlist = int(m.group(2) or 1)
    pq_m, nbits = int(m.group(3)), int(m.group(4))
    ksub = 1 << nbits
    mppc, niter, seed = q["maxPointsPerCentroid"], q["maxIter"], q["seed"]
    rng = np.random.default_rng(seed)

    flat = faiss.IndexFlatIP(d)
    flat.add(xb)
    _, gt = flat.search(xq, 1)
    del flat

    t = {}
    t0 = time.time()
    opq = None
    if opq_m:
        opq = faiss.OPQMatrix(d, opq_m)
        opq.niter = q["opqIterations"]
        opq.niter_pq = 4
        if os.environ.get("FAISS_OPQ_INIT") == "identity":  # experiment: start from R = I as Quarry does
            faiss.copy_array_to_vector(np.eye(d, dtype=np.float32).ravel(), opq.A)
        opq.max_train_points = mppc * ksub
        opq.train(xb)
    t["opq"] = time.time() - t0

    t0 = time.time()
    xt = opq.apply_py(xb) if opq is not None else xb
    quantizer = faiss.IndexFlatL2(d)
    if nlist > 1:
        cp = faiss.ClusteringParameters()
        cp.niter = niter
        cp.seed = seed
        cp.max_points_per_centroid = mppc
        clus = faiss.Clustering(d, nlist, cp)
        clus.train(xt, quantizer)
    else:
        quantizer.add(np.zeros((1, d), dtype=np.float32))
    t["ivf"] = time.time() - t0
    ivf_mse = float(quantizer.search(xt, 1)[0].mean()) if nlist > 1 else float((xt * xt).sum(axis=1).mean())

    t0 = time.time()
    ivfpq = faiss.IndexIVFPQ(quantizer, d, nlist, pq_m, nbits, faiss.METRIC_INNER_PRODUCT)
    ivfpq.pq.cp.niter = niter
    ivfpq.pq.cp.seed = seed
    ivfpq.pq.cp.max_points_per_centroid = mppc
    sub = xt[rng.permutation(n)[: min(n, mppc * ksub)]] if n > mppc * ksub else xt
    ivfpq.train(sub)  # the coarse quantizer holds nlist centroids, so only the residual PQ is trained
    t["pq"] = time.time() - t0
    del xt, sub

    index = faiss.IndexPreTransform(opq, ivfpq) if opq is not None else ivfpq
    t0 = time.time()
    index.add(xb)
    t["encode"] = time.time() - t0
    sse = 0.0
    for i0 in range(0, n, 65536):  # in blocks: the decoded base would double the memory at 1M
        blk = xb[i0:i0 + 65536]
        sse += float(((index.sa_decode(index.sa_encode(blk)) - blk) ** 2).sum(dtype=np.float64))
    mse = sse / n
    ivfpq.nprobe = q["nprobe"]
    t0 = time.time()
    _, fknn = index.search(xq, 10)
    t["search"] = time.time() - t0

    def recall(knn, k):
        return float((knn[:, :k] == gt[:, :1]).any(axis=1).mean())

    qs = q["seconds"]
    q_train = sum(qs.get(s, 0.0) for s in ("sample", "opq", "ivf", "pq", "metrics"))
    f_train = t["opq"] + t["ivf"] + t["pq"]
    print(f"\nQuarry (Spark {q['master']}) vs FAISS {faiss.__version__} ({os.environ.get('FAISS_THREADS', '2')} "
          f"threads): {q['spec']}, N = {n}, d = {d}, {xq.shape[0]} queries, nprobe {q['nprobe']}, maxIter {niter}, "
          f"maxPointsPerCentroid {mppc}, opqIterations {q['opqIterations']}, Quarry IVF init {q.get('ivfInit')} "
          f"solver {q.get('ivfSolver')} training {q.get('ivfTraining', 'flat')}\n")
    print("| step | Quarry s | FAISS s | ratio |")
    print("|---|---:|---:|---:|")
    rows = [("sample", qs.get("sample", 0.0), 0.0), ("opq", qs.get("opq", 0.0), t["opq"]),
            ("ivf", qs.get("ivf", 0.0), t["ivf"]), ("pq", qs.get("pq", 0.0), t["pq"]),
            ("metrics", qs.get("metrics", 0.0), 0.0), ("train total", q_train, f_train),
            ("encode", qs.get("encode", 0.0), t["encode"]), ("search", qs.get("search", 0.0), t["search"])]
    for name, a, b in rows:
        ratio = f"{a / b:.2f}" if b > 0 else "–"
        print(f"| {name} | {a:.1f} | {b:.1f} | {ratio} |")
    print()
    print("| trainer | IVF MSE | MSE | R@1 | R@10 |")
    print("|---|---:|---:|---:|---:|")
    print(f"| quarry | {q.get('ivfMse', float('nan')):.4f} | {q.get('mse', float('nan')):.4f} | "
          f"{recall(qknn, 1):.3f} | {recall(qknn, 10):.3f} |")
    print(f"| faiss | {ivf_mse:.4f} | {mse:.4f} | {recall(fknn, 1):.3f} | {recall(fknn, 10):.3f} |")
    print("\nIVF MSE: mean squared distance of the (rotated) training sample to its nearest centroid (FAISS: of every "
          "base vector); MSE: mean squared reconstruction error of every base vector.")


if __name__ == "__main__":
    main()
