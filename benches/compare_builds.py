#!/usr/bin/env python3
"""`costgate check` on the example scaled to 5,000 cases, run by several costgate binaries
interleaved (15 rounds), medians compared, reports checked byte-identical.

    python3 benches/compare_builds.py NAME=PATH [NAME=PATH ...]

Used to compare a change against the commit before it (build the old commit in a git worktree
with its own CARGO_TARGET_DIR) and to price features such as the allocator ceiling
(docs/performance.md). Needs PyYAML for the example's YAML cases."""
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compare import check_trees

ROUNDS = 15


def main():
    bins = dict(a.split("=", 1) for a in sys.argv[1:])
    if not bins:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as d:
        base, head = check_trees(Path(d))
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
