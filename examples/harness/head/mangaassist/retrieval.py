"""Retrieval: embeds the query, finds candidate catalogue volumes, reranks them and keeps the titles
of the best, to ground the answer.

The production service searches a vector index built offline. Here the index is stubbed with a word
scorer over the catalogue (the query embedding is still computed and billed, as in production),
which keeps retrieval deterministic under costgate's stand-in (see docs/harness.md).
"""

import json
import os
import re

import boto3

from .bedrock import client
from .catalogue import CATALOGUE, render

# How many catalogue entries go into a recommendation prompt.
TOP_K = 8

# How many candidate volumes the reranker sees (Bedrock bills one rerank query per started 100).
RERANK_CANDIDATES = 60

EMBED_MODEL = "amazon.titan-embed-text-v2:0"
RERANK_MODEL = "arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0"

_WORD = re.compile(r"[\w']+")
_agent = None


def _agent_client():
    global _agent
    if _agent is None:
        # AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME (set by costgate's harness mode) is honoured by boto3.
        _agent = boto3.client("bedrock-agent-runtime", region_name=os.environ.get("AWS_REGION", "us-east-1"))
    return _agent


def _score(query_words, entry):
    text = " ".join([entry["title"], " ".join(entry["genres"]), entry["blurb"]]).lower()
    return sum(1 for w in query_words if len(w) > 2 and w in text)


def _candidates(order, n):
    """The first `n` volumes, taking one volume of each title in `order` per round, so every
    relevant series is among the candidates: (entry index, text)."""
    out, volume = [], 1
    while len(out) < n and any(CATALOGUE[i]["volumes"] >= volume for i in order):
        for i in order:
            entry = CATALOGUE[i]
            if entry["volumes"] >= volume and len(out) < n:
                out.append((i, "{} volume {}: {}".format(entry["title"], volume, " ".join(entry["genres"]))))
        volume += 1
    return out


def embed(query):
    body = json.dumps({"inputText": query, "dimensions": 256})
    out = client().invoke_model(modelId=EMBED_MODEL, body=body, contentType="application/json")
    return json.loads(out["body"].read())["embedding"]


def retrieve(query, k=TOP_K, rerank=False):
    """The k best entries (ties keep catalogue order), rendered as prompt lines. With `rerank`, the
    query is embedded, the best candidate volumes are reranked by Bedrock, and their titles kept."""
    words = [w.lower() for w in _WORD.findall(query)]
    ranked = sorted(range(len(CATALOGUE)), key=lambda i: (-_score(words, CATALOGUE[i]), i))
    if not rerank:
        return [render(CATALOGUE[i]) for i in ranked[:k]]
    embed(query)
    volumes = _candidates(ranked, RERANK_CANDIDATES)
    results = _agent_client().rerank(
        queries=[{"type": "TEXT", "textQuery": {"text": query}}],
        sources=[{"type": "INLINE", "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": text}}}
                 for _, text in volumes],
        rerankingConfiguration={"type": "BEDROCK_RERANKING_MODEL", "bedrockRerankingConfiguration": {
            "numberOfResults": RERANK_CANDIDATES, "modelConfiguration": {"modelArn": RERANK_MODEL}}},
    )["results"]
    titles = []
    for r in results:
        i = volumes[r["index"]][0]
        if i not in titles:
            titles.append(i)
    return [render(CATALOGUE[i]) for i in titles[:k]]
