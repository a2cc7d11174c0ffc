"""MangaAssist's request handling: intent routing, retrieval, a cheap model for simple intents, a
template bypass for order status, a condense step before retrieval for follow-up questions, and a
two-call flow (triage, then an answer with extended thinking) for escalations."""

import json

from . import retrieval
from .bedrock import client

SYSTEM = ("You are MangaAssist, the assistant of an online manga shop. Answer in the customer's language, "
          "be concise and friendly, and only recommend titles from the catalogue excerpts you are given.")

HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
MICRO = "amazon.nova-micro-v1:0"

# Recommendations pass through this guardrail (declared with its policies in costgate.yaml).
GUARDRAIL = "gr-support"

# Escalations think before they answer; Anthropic requires max_tokens above the budget.
THINKING_BUDGET = 2048


def _converse(model, messages, max_tokens, system=SYSTEM, case_id=None, step=None, thinking=None,
              guardrail=None):
    kwargs = {
        "modelId": model,
        "system": [{"text": system}],
        "messages": messages,
        "inferenceConfig": {"maxTokens": max_tokens},
    }
    if thinking:
        # Extended thinking does not combine with a changed temperature.
        kwargs["additionalModelRequestFields"] = {"thinking": {"type": "enabled", "budget_tokens": thinking}}
    else:
        kwargs["inferenceConfig"]["temperature"] = 0.3
    if guardrail:
        kwargs["guardrailConfig"] = {"guardrailIdentifier": guardrail, "guardrailVersion": "1"}
    metadata = {}
    if case_id:
        metadata["costgate_case"] = case_id
    if step:
        # Names the pipeline step, so costgate's stand-in answers it as the step would.
        metadata["costgate_step"] = step
    if metadata:
        kwargs["requestMetadata"] = metadata
    out = client().converse(**kwargs)
    # With thinking on, the reasoning block comes first: the answer is the text block.
    return next(b["text"] for b in out["output"]["message"]["content"] if "text" in b)


def _user(text):
    return {"role": "user", "content": [{"text": text}]}


def _history(history):
    return [{"role": m["role"], "content": [{"text": m["content"]}]} for m in history or []]


def recommend(query, history=None, case_id=None):
    # No condense step: the conversation goes into the prompt instead, and retrieval runs on the
    # customer's last message as it stands.
    docs = "\n".join(retrieval.retrieve(query, rerank=True))
    context = ""
    if history:
        transcript = "\n".join("{}: {}".format(m["role"], m["content"]) for m in history)
        context = "Conversation so far:\n{}\n\n".format(transcript)
    prompt = context + "Catalogue excerpts:\n{docs}\n\nCustomer: {query}\nRecommend up to three titles and say why.".format(
        docs=docs, query=query)
    return _converse(HAIKU, _history(history) + [_user(prompt)], 400, case_id=case_id, guardrail=GUARDRAIL)


def product_question(query, case_id=None):
    # Product questions use the Anthropic Messages body directly (InvokeModel), as older code did.
    docs = "\n".join(retrieval.retrieve(query, k=2))
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 300,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": "Catalogue:\n{}\n\nQuestion: {}".format(docs, query)}],
    }
    out = client().invoke_model(modelId=HAIKU, body=json.dumps(body), contentType="application/json")
    return json.loads(out["body"].read())["content"][0]["text"]


def chit_chat(query, case_id=None):
    # Small talk is streamed to the chat widget token by token.
    kwargs = {
        "modelId": MICRO,
        "system": [{"text": SYSTEM}],
        "messages": [_user(query)],
        "inferenceConfig": {"maxTokens": 100},
    }
    if case_id:
        kwargs["requestMetadata"] = {"costgate_case": case_id}
    out = client().converse_stream(**kwargs)
    text = []
    for event in out["stream"]:
        if "contentBlockDelta" in event:
            text.append(event["contentBlockDelta"]["delta"]["text"])
        elif "metadata" in event and event["metadata"]["usage"]["outputTokens"] <= 0:
            raise RuntimeError("stream ended without usage")
    return "".join(text)


def order_status(query, order=None):
    # Template bypass: answered from the order system, never by a model.
    return "Your order {} is on its way. You can track it from My Page.".format(order or "")


def escalate(query, history=None, case_id=None):
    triage = _converse(MICRO, [_user("Rate the urgency (low/high) of: " + query)], 5,
                       system="You triage customer messages.", case_id=case_id, step="triage")
    prompt = "Urgency: {}\nCustomer: {}\nDraft a reply and a hand-off note for a human agent.".format(triage, query)
    return _converse(SONNET, _history(history) + [_user(prompt)], 4096, case_id=case_id,
                     thinking=THINKING_BUDGET)


def answer(intent, query, history=None, case_id=None):
    """Routes one customer message by intent."""
    if intent == "recommendation":
        return recommend(query, history, case_id)
    if intent == "product_question":
        return product_question(query, case_id)
    if intent == "order_status":
        return order_status(query)
    if intent == "escalation":
        return escalate(query, history, case_id)
    return chit_chat(query, case_id)
