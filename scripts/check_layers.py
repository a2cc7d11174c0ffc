#!/usr/bin/env python3
"""Checks the layering rule of docs/architecture.md and prints each offence (exit 1); run by .ci/run.

1. Each top-level module of src/ imports only from itself and from layers below it (LAYERS, top to
   bottom; modules on one line are siblings and may not import each other).
2. Inside each top-level folder, the second-level modules form no import cycle (a folder's mod.rs
   is the node `mod`).
Unit tests (`#[cfg(test)]` onwards) may reach anywhere: the rule is about library code."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

LAYERS = [
    ["cmd"],
    ["action", "ratchet"],
    ["clients"],
    ["output"],
    ["gate"],
    ["harness"],
    ["standin"],
    ["measure"],
    ["infra"],
]
RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}


def sources():
    for dirpath, _, files in os.walk(ROOT):
        for f in sorted(files):
            if f.endswith(".rs"):
                path = os.path.join(dirpath, f)
                parts = os.path.relpath(path, ROOT).split(os.sep)
                parts[-1] = parts[-1].removesuffix(".rs")
                text = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0]
                yield parts, text


def submodules(top):
    folder = os.path.join(ROOT, top)
    if not os.path.isdir(folder):
        return set()
    return {n.removesuffix(".rs") for n in os.listdir(folder)} - {"mod"}


def second_level(parts):
    """The node a file belongs to inside its top-level folder."""
    if len(parts) == 1 or parts[1] == "mod":
        return "mod"
    return parts[1]


def main():
    bad = []
    inner = {}
    for parts, text in sources():
        top = parts[0]
        if top in ("main", "lib"):
            continue
        if top not in RANK:
            bad.append(f"src/{'/'.join(parts)}.rs: top-level module `{top}` is in no layer of scripts/check_layers.py")
            continue
        for dep in sorted(set(re.findall(r"crate::([a-z_]+)", text)) - {top}):
            if dep in RANK and RANK[dep] <= RANK[top]:
                bad.append(f"src/{'/'.join(parts)}.rs: `{top}` imports `crate::{dep}`, which is not below it")
        subs = submodules(top)
        node = second_level(parts)
        edges = inner.setdefault(top, {}).setdefault(node, set())
        for name in re.findall(rf"crate::{top}::([a-z_]+)", text):
            edges.add(name if name in subs else "mod")
        if len(parts) == 2:
            edges.update(n for n in re.findall(r"\bsuper::([a-z_]+)", text) if n in subs)
    for top, deps in sorted(inner.items()):
        for comp in cycles(deps):
            where = "; ".join(f"{a} -> {', '.join(sorted(d for d in deps[a] if d in comp))}" for a in comp)
            bad.append(f"import cycle inside src/{top}/ between {', '.join(comp)}: {where}")
    for line in bad:
        print(line)
    if bad:
        sys.exit(1)
    print(f"layers: {len(RANK)} top-level modules in {len(LAYERS)} layers, no upward import, no cycle inside a folder")


def cycles(deps):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps.get(v, ())):
            if w == v:
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


if __name__ == "__main__":
    main()
