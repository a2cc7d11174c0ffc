//! Clients other than boto3 through harness mode, unchanged: the Anthropic SDK's Bedrock client
//! finds the stand-in through `ANTHROPIC_BEDROCK_BASE_URL` alone, its `tools` are billed input, and
//! its `cache_control` markers are priced by the steady-state rule.

use serde_json::Value;

use crate::support::*;

/// `TOOLS` in `tools.txt`: `0` sends none, `1` sends one tool definition.
const APP: &str = r#"
import json, os
from anthropic import AnthropicBedrock
client = AnthropicBedrock()  # endpoint, region and credentials all from the environment
SYSTEM = "You are MangaAssist, the helpful assistant of a manga store. Recommend series in print."
TOOLS = [{"name": "search_catalog", "description": "Search the manga catalogue by title, author or genre and return matching series.",
          "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}]
use_tools = open("tools.txt").read().strip() == "1"
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    kwargs = {"tools": TOOLS} if use_tools else {}
    r = client.messages.create(
        model="anthropic.claude-3-5-haiku-20241022-v1:0",
        max_tokens=20,
        system=[{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": case["query"]}],
        extra_headers={"x-costgate-case": case["id"]},
        **kwargs,
    )
    assert r.usage.output_tokens > 0
    with open("usage-out.jsonl", "a") as f:
        f.write(json.dumps({"id": case["id"], **r.usage.model_dump()}) + "\n")
"#;

#[test]
fn the_anthropic_sdk_bedrock_client_reaches_the_stand_in_and_tools_and_cache_points_are_priced() {
    require_python(&["anthropic", "boto3"]);
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let cfg = "version: 1\ngolden: golden.yaml\nmode: harness\npricing: pricing.yaml\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 120\n";
    for (root, tools) in [(&base, "0"), (&head, "1")] {
        write_tree(
            root,
            &[
                ("costgate.yaml", cfg),
                // The built-in minimum (2,048 tokens) is longer than this system prompt.
                (
                    "pricing.yaml",
                    "models:\n  anthropic.claude-3-5-haiku-20241022-v1:0: {min_cache_tokens: 1}\n",
                ),
                (
                    "golden.yaml",
                    "- {id: A-1, intent: chat, query: manga like Frieren}\n- {id: A-2, intent: chat, query: something like Berserk}\n",
                ),
                ("app.py", APP),
                ("tools.txt", tools),
            ],
        );
    }
    let (code, r, err) = check_json(&base, &head);
    assert!(code == 0 || code == 1, "{err}");
    let a1 = report_case(&r, "A-1");
    let (b, h) = (&a1["base"], &a1["head"]);
    let enc = costgate::measure::tokenize::Encoding::ClaudeApprox;
    let description =
        "Search the manga catalogue by title, author or genre and return matching series.";
    // The tool definition is billed input: the head grows by at least its description.
    let grown = h["input_tokens"].as_u64().unwrap() - b["input_tokens"].as_u64().unwrap();
    assert!(grown >= enc.count(description), "grew by {grown}");
    // Both cases share the cached system prompt (and, at head, the tools before it): read.
    let system = enc.count(
        "You are MangaAssist, the helpful assistant of a manga store. Recommend series in print.",
    );
    assert_eq!(b["cache_read_tokens"].as_u64(), Some(system));
    assert!(h["cache_read_tokens"].as_u64().unwrap() >= system + enc.count(description));
    assert_eq!(b["cache_write_tokens"].as_u64(), Some(0));
    // What the SDK itself saw: the first call wrote the prefix, the second read it.
    let seen: Vec<Value> = std::fs::read_to_string(base.join("usage-out.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        seen[0]["cache_creation_input_tokens"].as_u64(),
        Some(system)
    );
    assert_eq!(seen[1]["cache_read_input_tokens"].as_u64(), Some(system));
}

/// langchain-aws's two chat models, built with no endpoint argument: their boto3 client takes the
/// stand-in from `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. Each call's usage as langchain reports it is
/// written next to the app, for comparison with the stand-in's records.
const LANGCHAIN_APP: &str = r#"
import json, os, urllib.request
from langchain_aws import ChatBedrock, ChatBedrockConverse
url = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"].rstrip("/")
converse = ChatBedrockConverse(model="amazon.nova-micro-v1:0", max_tokens=40)
invoke = ChatBedrock(model_id="anthropic.claude-3-haiku-20240307-v1:0", model_kwargs={"max_tokens": 30})
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    urllib.request.urlopen(urllib.request.Request(url + "/_costgate/case/" + case["id"], method="POST")).read()
    model = converse if case["intent"] == "chat" else invoke
    msg = model.invoke([("system", "You are MangaAssist."), ("human", case["query"])])
    with open("usage-out.jsonl", "a") as f:
        f.write(json.dumps({"id": case["id"], **msg.usage_metadata}) + "\n")
"#;

#[test]
fn langchain_aws_chat_models_reach_the_stand_in_and_report_its_usage() {
    require_python(&["langchain_aws", "boto3"]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nmode: harness\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 120\n",
            ),
            (
                "golden.yaml",
                "- {id: L-1, intent: chat, query: manga like Frieren}\n- {id: L-2, intent: faq, query: is volume 107 of ONE PIECE out?}\n",
            ),
            ("app.py", LANGCHAIN_APP),
        ],
    );
    let out = dir.path().join("out");
    let (code, _, err) = run(costgate()
        .args(["run", "--dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    let seen: Vec<Value> = std::fs::read_to_string(dir.path().join("usage-out.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records: Vec<Value> = std::fs::read_to_string(out.join("calls-tree.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    for (s, r) in seen.iter().zip(&records) {
        assert_eq!(s["id"], r["case"], "attributed by the control endpoint");
        assert_eq!(
            (s["input_tokens"].as_u64(), s["output_tokens"].as_u64()),
            (r["input_tokens"].as_u64(), r["output_tokens"].as_u64()),
            "{s} vs {r}"
        );
    }
    assert_eq!(
        (
            records[0]["operation"].as_str(),
            records[1]["operation"].as_str()
        ),
        (Some("Converse"), Some("InvokeModel"))
    );
}
