#!/usr/bin/env python3
"""FAISS IndexIVFPQ search on the vectors of Quarry's AdcBenchmark (issue 13, "ADC at FAISS speed").

Reads what `AdcBenchmark --out DIR` wrote to DIR: base.fvecs (n x 384), query.fvecs (256 queries), centroids.fvecs
and codebooks.fvecs (Quarry's trained model), quarry-topk.ivecs and quarry.json (spec, nprobe, k, Quarry's results).
Builds FAISS 'IVF<nlist>,PQ<M>x<nbits>' with the metric of quarry.json (METRIC_INNER_PRODUCT for "ip", METRIC_L2 for
"l2": residual PQ with the precomputed table, IndexIVFPQ::precompute_table, as Quarry's default L2 searcher) in one
of two ways:

  --model quarry (default)  Quarry's coarse centroids (IndexFlatL2 quantizer: Quarry assigns and probes by L2) and
                            Quarry's PQ codebooks are loaded into the index, then the base is added. Same lists, same
                            codes, same codes scanned per query as Quarry; top-k overlap with Quarry is printed.
  --model train             FAISS trains its own index (index_factory, IndexFlatIP quantizer) on the first ntrain
                            base vectors, as Quarry did. Codes scanned per query then differ; compare ns per code.

Then, one thread (faiss.omp_set_num_threads(1)), searches the queries one at a time (xq[i:i+1]) at nprobe and k,
--repeat passes after one warm-up pass, and prints microseconds per query, codes scanned per query
(faiss.cvar.indexIVF_stats.ndis / queries) and ns per scanned code, and, when quarry.json holds Quarry's timings, the
Quarry/FAISS ratios.

Not a project dependency: run it from a throwaway venv, e.g.
  python3 -m venv /tmp/faissvenv && /tmp/faissvenv/bin/pip install faiss-cpu numpy
  /tmp/faissvenv/bin/python lib/bench/scripts/faiss_adc_bench.py DIR [--model quarry|train] [--repeat 20]
"""
import argparse
import json
import os
import re
import time

import faiss
import numpy as np

from faiss_ann import read_vecs  # TEXMEX .fvecs/.ivecs reader (the script directory is on sys.path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--model", choices=["quarry", "train"], default="quarry")
    ap.add_argument("--repeat", type=int, default=20, help="timed passes over the queries (after one warm-up pass)")
    a = ap.parse_args()
    faiss.omp_set_num_threads(1)
    q = json.load(open(os.path.join(a.dir, "quarry.json")))
    xb = read_vecs(os.path.join(a.dir, "base.fvecs"), np.float32)
    xq = read_vecs(os.path.join(a.dir, "query.fvecs"), np.float32)
    n, d = xb.shape
    m = re.fullmatch(r"IVF(\d+),PQ(\d+)(?:x(\d+))?", q["spec"])
    if not m:
        raise SystemExit(f"spec {q['spec']}: this script compares IVF<nlist>,PQ<M>x<nbits> specs")
    nlist, pq_m, nbits = int(m.group(1)), int(m.group(2)), int(m.group(3) or 8)
    nprobe, k = q["nprobe"], q["k"]
    metric = {"ip": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2}[q.get("metric", "ip")]
    metric_name = {"ip": "inner product", "l2": "L2"}[q.get("metric", "ip")]

    if a.model == "quarry":
        quantizer = faiss.IndexFlatL2(d)
        index = faiss.IndexIVFPQ(quantizer, d, nlist, pq_m, nbits, metric)
        quantizer.add(read_vecs(os.path.join(a.dir, "centroids.fvecs"), np.float32))
        books = read_vecs(os.path.join(a.dir, "codebooks.fvecs"), np.float32)
        faiss.copy_array_to_vector(books.ravel(), index.pq.centroids)
        index.is_trained = True
        if metric == faiss.METRIC_L2:
            index.precompute_table()  # train() would have called it; the model was loaded instead
    else:
        index = faiss.index_factory(d, q["spec"], metric)
        index.train(xb[: q["ntrain"]])
    index.add(xb)
    index.nprobe = nprobe

    for i in range(len(xq)):  # warm-up pass
        index.search(xq[i : i + 1], k)
    faiss.cvar.indexIVF_stats.reset()
    labels = np.empty((len(xq), k), dtype=np.int64)
    t0 = time.perf_counter()
    for _ in range(a.repeat):
        for i in range(len(xq)):
            _, labels[i : i + 1] = index.search(xq[i : i + 1], k)
    elapsed = time.perf_counter() - t0
    searches = a.repeat * len(xq)
    us = elapsed / searches * 1e6
    codes = faiss.cvar.indexIVF_stats.ndis / searches
    ns_code = us * 1000 / codes

    print(f"FAISS {faiss.__version__} IndexIVFPQ ({a.model} model): n={n}, {q['spec']}, inner product, "
          f"nprobe={nprobe}, k={k}, {len(xq)} queries one at a time x {a.repeat}, 1 thread")
    print(f"{'what':<20} {'us/query':>10} {'codes/query':>12} {'ns/code':>9}")
    print(f"{'faiss':<20} {us:10.1f} {codes:12.1f} {ns_code:9.2f}")
    if metric == faiss.METRIC_L2:
        print(f"use_precomputed_table = {index.use_precomputed_table}")
    for name in ("search", "scan", "searchScalar", "scanScalar", "scanFloat"):
        r = q.get(name)
        if r:
            print(f"{'quarry ' + name:<20} {r['us_per_query']:10.1f} {q['codes_per_query']:12.1f} "
                  f"{r['ns_per_code']:9.2f}   ns/code quarry/faiss = {r['ns_per_code'] / ns_code:.2f}")
    topk = os.path.join(a.dir, "quarry-topk.ivecs")
    if os.path.exists(topk):
        qt = read_vecs(topk, np.int32)
        same = np.mean([len(set(qt[i][qt[i] >= 0]) & set(labels[i][labels[i] >= 0])) / k for i in range(len(xq))])
        print(f"top-{k} overlap with Quarry's results: {same:.4f}")


if __name__ == "__main__":
    main()
