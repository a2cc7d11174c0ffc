#!/usr/bin/env python3
"""CPU time and peak memory of `costgate check` at 5k, 20k and 100k cases, across builds.

Usage: python3 benches/scale.py before=PATH now=PATH [SIZES=5000,20000,100000] [RUNS=3]

Each size gets the shipped example scaled to that many cases (benches/compare.py's check_trees).
Binaries run interleaved; for each the median of user+system CPU seconds and of peak RSS
(GNU time's %M: a Python child's own ru_maxrss would include the benchmark's memory at fork)
is reported, with ratios to the first binary, and the
per-case costs of every binary are checked to be equal (report fields a newer build adds, such
as cache tokens, are not compared). Record results in docs/performance.md as ratios of one run.
"""
import json, os, pathlib, statistics, subprocess, sys, tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from compare import check_trees  # noqa: E402

RUNS = int(os.environ.get("RUNS", "3"))
SIZES = [int(s) for s in os.environ.get("SIZES", "5000,20000,100000").split(",")]


def measure(cmd):
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as stats:
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats.name, *cmd],
                           stdout=out, stderr=subprocess.PIPE)
        if p.returncode not in (0, 1):
            sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode()}")
        user, system, max_kb = stats.read().split()[-3:]
        out.seek(0)
        report = json.loads(out.read())
    costs = [(c["id"], c["base"]["cost_usd"], c["head"]["cost_usd"]) for c in report["cases"]]
    return float(user) + float(system), int(max_kb) * 1024, costs


def main():
    builds = [a.split("=", 1) for a in sys.argv[1:] if "=" in a]
    if not builds:
        sys.exit(__doc__)
    print("| cases | build | CPU s (median) | ratio | peak RSS | bytes/case | RSS ratio |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n in SIZES:
        with tempfile.TemporaryDirectory() as t:
            base, head = check_trees(pathlib.Path(t), n)
            cpu = {k: [] for k, _ in builds}
            rss = {k: [] for k, _ in builds}
            costs = {}
            for _ in range(RUNS):
                for name, path in builds:
                    c, m, k = measure([path, "check", "--format", "json", "--base-dir", str(base), "--head-dir", str(head)])
                    cpu[name].append(c)
                    rss[name].append(m)
                    costs[name] = k
            first = builds[0][0]
            for name, _ in builds:
                if costs[name] != costs[first]:
                    sys.exit(f"{name} prices {n} cases differently from {first}")
                c, m = statistics.median(cpu[name]), statistics.median(rss[name])
                c0, m0 = statistics.median(cpu[first]), statistics.median(rss[first])
                print(f"| {n} | {name} | {c:.2f} | {c / c0:.3f} | {m / 2**20:.0f} MiB | {m / n:.0f} | {m / m0:.3f} |")


if __name__ == "__main__":
    main()
