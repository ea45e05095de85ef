#!/usr/bin/env python3
"""Writes the malformed-input fixtures of this directory (see README.md). Run from this directory."""
import bz2
import gzip
import json
import os

lines = [
    json.dumps({"_id": "good-1", "title": "Ribosome biogenesis",
                "text": "Ribosomes are assembled in the nucleolus. They translate messenger RNA into protein."}).encode(),
    b'{"_id": "bad-json", "text": "unterminated string}',
    json.dumps({"title": "no id here", "text": "A document without an identifier."}).encode(),
    json.dumps({"_id": "no-text", "title": "Only a title"}).encode(),
    json.dumps({"_id": "empty-text", "title": "Blank", "text": "   \n\t  "}).encode(),
    json.dumps({"_id": "good-2", "title": "", "text": "Insulin resistance precedes type 2 diabetes by years."}).encode(),
    json.dumps({"_id": "good-1", "title": "Duplicate",
                "text": "Same id as the first line: quarantined as duplicate_id."}).encode(),
    b'{"_id": "bad-utf8", "title": "Latin-1 bytes", "text": "caf\xe9 au lait"}',
    b'',  # blank line: skipped, not quarantined
    json.dumps({"_id": "too-long", "title": "Oversize", "text": "word " * 1000}).encode(),
    json.dumps({"_id": 42, "title": "Integer id", "text": "BEIR corpora sometimes use integer ids."}).encode(),
]
data = b"\n".join(lines) + b"\n"
open("corpus.jsonl", "wb").write(data)
open("corpus.jsonl.gz", "wb").write(gzip.compress(data, mtime=0))
open("corpus.jsonl.bz2", "wb").write(bz2.compress(data))
os.makedirs("docs/sub", exist_ok=True)
open("docs/page.html", "w").write(
    "<html><head><title>Protein folding</title></head><body><h1>Chaperones</h1><p>Chaperones help proteins fold.</p>"
    "<script>track()</script><p>Misfolded proteins aggregate.</p></body></html>\n")
open("docs/notes.md", "w").write("# Cell cycle\n\nThe cell cycle has four phases.\n\nCyclins drive the transitions.\n")
open("docs/sub/plain.txt", "w").write("Apoptosis is programmed cell death.\n")
open("docs/sub/empty.txt", "w").write("  \n")
open("docs/latin1.txt", "wb").write(b"na\xefve text in Latin-1\n")
open("docs/ignored.pdf", "wb").write(b"%PDF-1.4 not read: not a .txt/.md/.html file\n")
open("docs/sub/gz.txt.gz", "wb").write(gzip.compress(b"Compressed text files are read transparently.\n", mtime=0))
# a gzip stream cut at two thirds: the lines before the cut are read, then one `unreadable` record
gz = gzip.compress(data, mtime=0)
open("truncated.jsonl.gz", "wb").write(gz[: len(gz) * 2 // 3])
