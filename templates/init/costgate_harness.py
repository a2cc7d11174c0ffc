"""costgate's harness helper for Python: copy this file into your repository (`costgate init --mode harness` does).

It has no dependencies beyond the standard library. A harness entry point built on it:

    import costgate_harness as cg

    for case in cg.cases():            # the golden cases costgate hands the harness
        cg.announce(case["id"])        # every following untagged call belongs to this case
        my_app.answer(case["query"], history=case.get("history"))

What it covers (see docs/harness.md for the attribution rules):
- `cases()` reads the JSONL file named by COSTGATE_CASES;
- `announce(id)` sets the current case on the stand-in's control endpoint (and in `current_case`,
  for `tag_boto3`), which is also how a case answered without any model call is known to be done;
- `clear()` unsets it; `metric(id, name, value)` reports one of your offline quality metrics;
- `tag_boto3(client)` adds the `x-costgate-case` header to every call a boto3 client makes, for
  harnesses that answer several cases at once, and `x-costgate-step` inside `with step("name"):`;
- `step(name)` names the pipeline step of the calls made inside it (a condense step, a router), so
  the stand-in answers them with the base's `steps:` answer;
- `converse(model_id, query, history, case_id)` calls Converse on the stand-in with no SDK at all:
  a placeholder for a harness whose application is not wired in yet, never for production.
"""

import contextvars
import json
import os
import urllib.error
import urllib.parse
import urllib.request

#: The case announced last in this context (a thread or task sees its own).
current_case = contextvars.ContextVar("costgate_case", default=None)

#: The step the calls in this context belong to (see `step`).
current_step = contextvars.ContextVar("costgate_step", default=None)

_TIMEOUT_S = 30


def _base_url():
    url = os.environ.get("COSTGATE_MOCK_URL") or os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    if not url:
        raise RuntimeError(
            "COSTGATE_MOCK_URL is not set: run this harness through `costgate run` or `costgate check`"
        )
    return url.rstrip("/")


def _request(method, path, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(_base_url() + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=_TIMEOUT_S) as res:
            raw = res.read()
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")
        raise RuntimeError("{} {}: HTTP {}: {}".format(method, path, e.code, detail)) from None
    return json.loads(raw) if raw.strip() else None


def _case_path(case_id):
    return "/_costgate/case/" + urllib.parse.quote(case_id, safe="")


def cases():
    """The golden cases of this run, as dicts (`id`, `intent`, `query`, `history`, `context`...)."""
    path = os.environ.get("COSTGATE_CASES")
    if not path:
        raise RuntimeError(
            "COSTGATE_CASES is not set: run this harness through `costgate run` or `costgate check`"
        )
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def announce(case_id):
    """Every following call without its own tag is attributed to `case_id`."""
    _request("POST", _case_path(case_id), {})
    current_case.set(case_id)


def clear():
    """No current case: untagged calls are attributed by their text, or reported as unattributed."""
    _request("DELETE", "/_costgate/case")
    current_case.set(None)


def metric(case_id, name, value, higher_is_better=True):
    """Reports an offline quality metric of a case (e.g. recall@3); compared base against head."""
    body = {"name": name, "value": value, "higher_is_better": higher_is_better}
    _request("POST", _case_path(case_id) + "/metric", body)


class step:
    """`with step("condense"):` names the step of every call made inside it (through `tag_boto3`
    clients and `converse`)."""

    def __init__(self, name):
        self.name = name
        self._token = None

    def __enter__(self):
        self._token = current_step.set(self.name)
        return self

    def __exit__(self, *_):
        current_step.reset(self._token)
        return False


def tag_boto3(client):
    """Adds `x-costgate-case: <current case>` (and `x-costgate-step` inside `step`) to every request
    `client` sends."""

    def tag(request, **_):
        case_id = current_case.get()
        if case_id:
            request.headers["x-costgate-case"] = case_id
        step_name = current_step.get()
        if step_name:
            request.headers["x-costgate-step"] = step_name

    client.meta.events.register("before-send", tag)
    return client


def _messages(query, history):
    # Converse wants alternating roles starting with the user: merge repeats, drop a leading answer.
    turns = [(m["role"], m["content"]) for m in (history or [])] + [("user", query)]
    messages = []
    for role, text in turns:
        if not messages and role != "user":
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"][0]["text"] += "\n" + text
        else:
            messages.append({"role": role, "content": [{"text": text}]})
    return messages


def converse(model_id, query, history=None, case_id=None, system=None, max_tokens=None):
    """Converse on the stand-in, unsigned (it ignores signatures). Returns the response as a dict."""
    body = {"messages": _messages(query, history)}
    if system:
        body["system"] = [{"text": system}]
    if max_tokens:
        body["inferenceConfig"] = {"maxTokens": max_tokens}
    meta = {}
    if case_id:
        meta["costgate_case"] = case_id
    if current_step.get():
        meta["costgate_step"] = current_step.get()
    if meta:
        body["requestMetadata"] = meta
    endpoint = os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") or _base_url()
    path = "/model/" + urllib.parse.quote(model_id, safe="") + "/converse"
    req = urllib.request.Request(
        endpoint.rstrip("/") + path,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=_TIMEOUT_S) as res:
            return json.loads(res.read())
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")
        raise RuntimeError("Converse {}: HTTP {}: {}".format(model_id, e.code, detail)) from None
