#!/usr/bin/env python3
"""Cut the small SciFact slice in data-samples/scifact from the full BEIR SciFact.

The slice keeps whole BEIR files' formats and is deterministic (fixed seed):
  * QUERIES test queries (first by query id order after a seeded shuffle) whose judged documents are all kept;
  * every document judged for those queries, plus seeded random distractor documents up to DOCS in total;
  * queries.jsonl holds only the kept test queries (text only, metadata dropped: it is never retrieval input);
  * qrels/test.tsv holds their judgments, in BEIR's header + TSV format.

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
    with open(os.path.join(src, "queries.jsonl"), encoding="utf-8") as f, \
            open(os.path.join(dst, "queries.jsonl"), "w", encoding="utf-8", newline="\n") as out:
        keep = set(kept_q)
        for line in f:
            q = json.loads(line)
            if q["_id"] in keep:
                out.write(json.dumps({"_id": q["_id"], "text": q["text"], "metadata": {}}) + "\n")
    with open(os.path.join(dst, "qrels", "test.tsv"), "w", encoding="utf-8", newline="\n") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for q in kept_q:
            for d, s in qrels[q]:
                out.write(f"{q}\t{d}\t{s}\n")
    print(f"{len(kept_d)} documents ({len(judged)} judged), {len(kept_q)} test queries, "
          f"{sum(len(qrels[q]) for q in kept_q)} judgments -> {dst}")


if __name__ == "__main__":
    main()
