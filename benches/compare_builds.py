#!/usr/bin/env python3
"""`costgate check` on the example scaled to 5,000 cases, run by several costgate binaries
interleaved (15 rounds), medians compared, reports checked byte-identical.

    python3 benches/compare_builds.py NAME=PATH [NAME=PATH ...]

Used to compare a change against the commit before it (build the old commit in a git worktree
with its own CARGO_TARGET_DIR) and to price features such as the allocator ceiling
(docs/performance.md). Needs PyYAML for the example's YAML cases."""
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 15


def trees(tmp: Path):
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
        elif f.suffix in (".yaml", ".yml"):
            cases += yaml.safe_load(f.read_text())
    scaled = []
    while len(scaled) < 5000:
        i = len(scaled)
        c = dict(cases[i % len(cases)])
        c["id"] = f"{c['id']}-x{i // len(cases)}"
        for k in ("expected_cost_band", "added"):
            c.pop(k, None)
        scaled.append(c)
    body = "".join(json.dumps(c, ensure_ascii=False, default=str) + "\n" for c in scaled)
    for side in (base, head):
        (side / "golden" / "cases.jsonl").write_text(body)
    return base, head


def main():
    bins = dict(a.split("=", 1) for a in sys.argv[1:])
    if not bins:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as d:
        base, head = trees(Path(d))
        args = ["check", "--format", "json", "--base-dir", str(base), "--head-dir", str(head)]
        times = {k: [] for k in bins}
        outs = {}
        for _ in range(ROUNDS):
            for k, b in bins.items():
                s = time.perf_counter()
                outs[k] = subprocess.run([b] + args, capture_output=True).stdout
                times[k].append(time.perf_counter() - s)
    first = next(iter(bins))
    print("reports byte-identical:", all(o == outs[first] for o in outs.values()))
    for k, t in times.items():
        print(f"{k}: median {statistics.median(t):.3f} s, "
              f"ratio to {first} {statistics.median(t) / statistics.median(times[first]):.3f}")


if __name__ == "__main__":
    main()
