#!/usr/bin/env python3
"""Cut the small SciFact slice in data-samples/scifact from the full BEIR SciFact.

The slice keeps whole BEIR files' formats and is deterministic (fixed seed):
  * QUERIES test queries (first by query id order after a seeded shuffle) whose judged documents are all kept;
  * every document judged for those queries, plus seeded random distractor documents up to DOCS in total;
  * queries.jsonl holds the kept test queries, then the kept train queries (text only, metadata dropped: it is never
    retrieval input);
  * qrels/test.tsv holds the test queries' judgments, in BEIR's header + TSV format;
  * qrels/train.tsv holds the judgments of every SciFact *train* query whose judged documents all happen to be in
    the slice (no document is added for them): the training split `quarry tune` chooses the fusion on.

Usage: python3 data-samples/make_scifact_slice.py [../shared/data/beir/scifact] [data-samples/scifact]
"""
import json
import os
import random
import sys

QUERIES = 100
DOCS = 400
SEED = 20261121


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "data", "beir", "scifact")
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "scifact")
    rng = random.Random(SEED)

    qrels = {}
    with open(os.path.join(src, "qrels", "test.tsv"), encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            qid, did, score = line.rstrip("\r\n").split("\t")
            qrels.setdefault(qid, []).append((did, int(score)))

    qids = sorted(qrels)
    rng.shuffle(qids)
    kept_q = sorted(qids[:QUERIES], key=int)
    judged = sorted({d for q in kept_q for d, _ in qrels[q]}, key=int)

    corpus = {}
    order = []
    with open(os.path.join(src, "corpus.jsonl"), encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            corpus[doc["_id"]] = line
            order.append(doc["_id"])
    others = [d for d in order if d not in set(judged)]
    rng.shuffle(others)
    kept_d = set(judged) | set(others[: max(0, DOCS - len(judged))])

    os.makedirs(os.path.join(dst, "qrels"), exist_ok=True)
    with open(os.path.join(dst, "corpus.jsonl"), "w", encoding="utf-8", newline="\n") as out:
        for d in order:  # keep the source order
            if d in kept_d:
                out.write(corpus[d] if corpus[d].endswith("\n") else corpus[d] + "\n")
    train = {}
    with open(os.path.join(src, "qrels", "train.tsv"), encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            qid, did, score = line.rstrip("\r\n").split("\t")
            train.setdefault(qid, []).append((did, int(score)))
    kept_t = sorted((q for q, js in train.items() if all(d in kept_d for d, _ in js)), key=int)
    texts = {}
    with open(os.path.join(src, "queries.jsonl"), encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            texts[q["_id"]] = q["text"]
    with open(os.path.join(dst, "queries.jsonl"), "w", encoding="utf-8", newline="\n") as out:
        for q in kept_q + kept_t:
            out.write(json.dumps({"_id": q, "text": texts[q], "metadata": {}}) + "\n")
    with open(os.path.join(dst, "qrels", "train.tsv"), "w", encoding="utf-8", newline="\n") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for q in kept_t:
            for d, s in train[q]:
                out.write(f"{q}\t{d}\t{s}\n")
    with open(os.path.join(dst, "qrels", "test.tsv"), "w", encoding="utf-8", newline="\n") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for q in kept_q:
            for d, s in qrels[q]:
                out.write(f"{q}\t{d}\t{s}\n")
    print(f"{len(kept_d)} documents ({len(judged)} judged), {len(kept_q)} test queries, "
          f"{sum(len(qrels[q]) for q in kept_q)} judgments, {len(kept_t)} train queries -> {dst}")


if __name__ == "__main__":
    main()
