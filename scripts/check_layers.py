#!/usr/bin/env python3
"""Checks the layering rule of docs/architecture.md: no module outside src/cmd/ imports from the
command layer, and the top-level modules of src/ form no import cycle. Prints each offence and
exits 1; run by .ci/run."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_deps():
    deps = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            top = os.path.relpath(path, ROOT).split(os.sep)[0].removesuffix(".rs")
            if top in ("main", "lib"):
                continue
            # Unit tests may reach anywhere; the rule is about library code.
            text = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0]
            found = set(re.findall(r"crate::([a-z_]+)", text)) - {top}
            deps.setdefault(top, set()).update(found)
    return deps


def cycles(deps):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in deps.get(v, ()):
            if w not in deps:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def main():
    deps = module_deps()
    bad = 0
    for m, ds in sorted(deps.items()):
        if m != "cmd" and "cmd" in ds:
            print(f"src/{m}: imports from the command layer (crate::cmd)")
            bad += 1
    for c in cycles(deps):
        edges = "; ".join(f"{a} -> {', '.join(sorted(d for d in deps[a] if d in c))}" for a in c)
        print(f"import cycle between {', '.join(c)}: {edges}")
        bad += 1
    if bad:
        sys.exit(1)
    print(f"layers: {len(deps)} modules, no cycles, nothing imports from cmd")


if __name__ == "__main__":
    main()
