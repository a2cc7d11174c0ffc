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
    let enc = costgate::tokenize::Encoding::ClaudeApprox;
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
