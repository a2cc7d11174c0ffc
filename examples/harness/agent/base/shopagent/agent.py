"""The agent loop: the model asks for tools, the loop runs them and sends the results back, until
the model answers with text. Every turn is a Converse call carrying the whole conversation so far."""

import os

import boto3

from . import catalogue

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
MAX_TURNS = 6
SYSTEM = ("You are MangaAssist's stock assistant. Find titles in the catalogue with the tools you are given, "
          "then answer the customer briefly with what you found.")

TOOLS = {
    "search_catalog": {
        "description": "Search the manga catalogue by genre, theme or title words; returns up to three entries.",
        "properties": {"q": {"type": "string", "description": "What to search for."}},
        "run": lambda args: catalogue.search(args["q"]),
    },
}

_client = None


def client():
    global _client
    if _client is None:
        # AWS_ENDPOINT_URL_BEDROCK_RUNTIME (set by costgate's harness mode) is honoured by boto3 itself.
        _client = boto3.client("bedrock-runtime", region_name=os.environ.get("AWS_REGION", "us-east-1"))
    return _client


def tool_config():
    return {"tools": [{"toolSpec": {"name": name, "description": t["description"],
                                    "inputSchema": {"json": {"type": "object", "properties": t["properties"]}}}}
                      for name, t in TOOLS.items()]}


def answer(query, case_id=None):
    messages = [{"role": "user", "content": [{"text": query}]}]
    for _ in range(MAX_TURNS):
        kwargs = {"modelId": MODEL, "system": [{"text": SYSTEM}], "messages": messages,
                  "toolConfig": tool_config(), "inferenceConfig": {"maxTokens": 400}}
        if case_id:
            kwargs["requestMetadata"] = {"costgate_case": case_id}
        out = client().converse(**kwargs)
        message = out["output"]["message"]
        messages.append(message)
        if out["stopReason"] != "tool_use":
            return "".join(b.get("text", "") for b in message["content"])
        results = []
        for block in message["content"]:
            if "toolUse" in block:
                use = block["toolUse"]
                text = TOOLS[use["name"]]["run"](use["input"])
                results.append({"toolResult": {"toolUseId": use["toolUseId"], "content": [{"text": text}]}})
        messages.append({"role": "user", "content": results})
    raise RuntimeError("the agent did not answer within {} turns".format(MAX_TURNS))
