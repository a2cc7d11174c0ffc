"""Retrieval: picks the catalogue entries most related to the query, to ground the answer."""

import re

from .catalogue import CATALOGUE, render

# How many catalogue entries go into a recommendation prompt.
TOP_K = 3

_WORD = re.compile(r"[\w']+")


def _score(query_words, entry):
    text = " ".join([entry["title"], " ".join(entry["genres"]), entry["blurb"]]).lower()
    return sum(1 for w in query_words if len(w) > 2 and w in text)


def retrieve(query, k=TOP_K):
    """The k best entries (ties keep catalogue order), rendered as prompt lines."""
    words = [w.lower() for w in _WORD.findall(query)]
    ranked = sorted(range(len(CATALOGUE)), key=lambda i: (-_score(words, CATALOGUE[i]), i))
    return [render(CATALOGUE[i]) for i in ranked[:k]]
