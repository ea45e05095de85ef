#!/usr/bin/env python3
"""Computes the reference vectors that EmbedderReferenceTest compares Quarry's Java embedder against.

Independent of Quarry's Java code path: Python onnxruntime + Hugging Face `tokenizers` + numpy pooling written from
the model cards (mean pooling for all-MiniLM-L6-v2 and e5-small-v2, CLS for bge-small-en-v1.5; e5 prefixes
"query: " / "passage: "; bge query instruction; L2 normalization). Model files are read straight from the Maven
Central jars in the local Maven repository.

Run once (not part of the build):
  python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install onnxruntime==1.28.0 tokenizers numpy
  /tmp/refvenv/bin/python lib/embed/src/test/python/make_reference_vectors.py
Versions used for the committed file are recorded in it. Use the onnxruntime version Quarry pins (1.28.0): the
int8 models run by onnxruntime 1.31 differ from 1.28 at cosine ~0.998 (different integer kernels).
"""
import json
import os
import zipfile

import numpy as np
import onnxruntime as ort
import tokenizers

M2 = os.path.expanduser("~/.m2/repository/dev/langchain4j")
MODELS = [
    # id, artifact, version, pooling, query prefix, passage prefix
    ("all-minilm-l6-v2", "all-minilm-l6-v2", "1.20.0-beta30", "mean", "", ""),
    ("all-minilm-l6-v2-q", "all-minilm-l6-v2-q", "1.20.0-beta30", "mean", "", ""),
    ("bge-small-en-v1.5", "bge-small-en-v15", "1.20.0-beta30", "cls",
     "Represent this sentence for searching relevant passages: ", ""),
    ("bge-small-en-v1.5-q", "bge-small-en-v15-q", "1.20.0-beta30", "cls",
     "Represent this sentence for searching relevant passages: ", ""),
    ("e5-small-v2", "e5-small-v2", "1.17.0-beta27", "mean", "query: ", "passage: "),
    ("e5-small-v2-q", "e5-small-v2-q", "1.11.0-beta19", "mean", "query: ", "passage: "),
]
MAX_SEQ = 512
TEXTS = [
    "What is the role of microRNAs in cancer?",
    "Vitamin D deficiency is associated with an increased risk of cardiovascular disease, café-au-lait spots "
    "and naïve T cells (≥ 30 ng/mL).",
    # > 128 tokens: checks that the 128-token truncation baked into MiniLM's tokenizer.json is overridden
    " ".join(["Long passages about protein folding, ribosomes and the endoplasmic reticulum."] * 20),
]


def embed(session, tok, texts, pooling):
    out = []
    for t in texts:
        enc = tok.encode(t)
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in [i.name for i in session.get_inputs()]:
            feeds["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
        hidden = session.run(None, feeds)[0][0]  # seq x dim
        if pooling == "cls":
            v = hidden[0]
        else:
            m = mask[0].astype(np.float64)[:, None]
            v = (hidden.astype(np.float64) * m).sum(0) / m.sum()
        v = v / np.linalg.norm(v)
        out.append({"text": t, "tokens": len(enc.ids), "vector": [round(float(x), 7) for x in v]})
    return out


def main():
    result = {"generator": "lib/embed/src/test/python/make_reference_vectors.py",
              "onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__, "maxSeqLength": MAX_SEQ,
              "models": {}}
    for mid, art, ver, pooling, qp, pp in MODELS:
        jar = f"{M2}/langchain4j-embeddings-{art}/{ver}/langchain4j-embeddings-{art}-{ver}.jar"
        with zipfile.ZipFile(jar) as z:
            onnx = z.read(f"{mid}.onnx")
            tok = tokenizers.Tokenizer.from_str(z.read(f"{mid}-tokenizer.json").decode("utf-8"))
        tok.no_padding()
        tok.enable_truncation(MAX_SEQ)
        session = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])
        result["models"][mid] = {
            "pooling": pooling,
            "queries": embed(session, tok, [qp + t for t in TEXTS], pooling),
            "passages": embed(session, tok, [pp + t for t in TEXTS], pooling),
        }
        print(mid, "dim", len(result["models"][mid]["queries"][0]["vector"]),
              "tokens", [q["tokens"] for q in result["models"][mid]["passages"]])
    here = os.path.dirname(os.path.abspath(__file__))
    dst = os.path.join(here, "..", "resources", "io", "quarry", "embed", "reference-vectors.json")
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
        f.write("\n")
    print("wrote", os.path.normpath(dst))


if __name__ == "__main__":
    main()
