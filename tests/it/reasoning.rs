//! Reasoning tokens (docs/pricing.md#reasoning): the stand-in reads each family's reasoning
//! setting, answers with the family's reasoning content and bills it as output, as real clients
//! see it; render mode prices a route's `reasoning`; the cause names the setting that changed.

use serde_json::Value;

use crate::support::standin::{boto3_script, reasoning_settings, start};
use crate::support::*;

const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

/// One case per client and body family, each with a reasoning setting; every client's own usage
/// is written next to the app for comparison with the stand-in's records.
const APP: &str = r#"
import json, os
import boto3
from anthropic import AnthropicBedrock
from langchain_aws import ChatBedrockConverse
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
THINK = {"type": "enabled", "budget_tokens": 2048}
rt = boto3.client("bedrock-runtime")
def tag(params, **kwargs):
    params["headers"]["x-costgate-case"] = CURRENT
rt.meta.events.register("before-call.bedrock-runtime.*", tag)
seen = []
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    CURRENT = case["id"]
    msgs = [{"role": "user", "content": [{"text": case["query"]}]}]
    kind = case["intent"]
    if kind == "converse":
        r = rt.converse(modelId=SONNET, messages=msgs, inferenceConfig={"maxTokens": 4096},
                        additionalModelRequestFields={"thinking": THINK})
        blocks = r["output"]["message"]["content"]
        assert "reasoningContent" in blocks[0] and blocks[0]["reasoningContent"]["reasoningText"]["signature"], blocks[0]
        usage = (r["usage"]["inputTokens"], r["usage"]["outputTokens"])
    elif kind == "stream":
        r = rt.converse_stream(modelId=SONNET, messages=msgs, inferenceConfig={"maxTokens": 4096},
                               additionalModelRequestFields={"thinking": THINK})
        reasoning, text, sig = "", "", None
        for e in r["stream"]:
            d = e.get("contentBlockDelta", {}).get("delta", {})
            reasoning += d.get("reasoningContent", {}).get("text", "")
            sig = d.get("reasoningContent", {}).get("signature", sig)
            text += d.get("text", "")
            if "metadata" in e:
                usage = (e["metadata"]["usage"]["inputTokens"], e["metadata"]["usage"]["outputTokens"])
        assert reasoning and sig and text
    elif kind == "invoke":
        body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4096, "thinking": THINK,
                "messages": [{"role": "user", "content": case["query"]}]}
        r = json.loads(rt.invoke_model(modelId=SONNET, body=json.dumps(body))["body"].read())
        assert [b["type"] for b in r["content"]] == ["thinking", "text"], r["content"]
        usage = (r["usage"]["input_tokens"], r["usage"]["output_tokens"])
    elif kind == "anthropic":
        client = AnthropicBedrock()
        r = client.messages.create(model=SONNET, max_tokens=4096, thinking=THINK,
            messages=[{"role": "user", "content": case["query"]}], extra_headers={"x-costgate-case": case["id"]})
        assert r.content[0].type == "thinking" and r.content[0].signature
        usage = (r.usage.input_tokens, r.usage.output_tokens)
    elif kind == "langchain":
        llm = ChatBedrockConverse(model=SONNET, max_tokens=4096, client=rt,
                                  additional_model_request_fields={"thinking": THINK})
        m = llm.invoke([("human", case["query"])])
        usage = (m.usage_metadata["input_tokens"], m.usage_metadata["output_tokens"])
    elif kind == "gpt":
        body = {"messages": [{"role": "user", "content": case["query"]}], "reasoning_effort": "high"}
        r = json.loads(rt.invoke_model(modelId="openai.gpt-oss-120b-1:0", body=json.dumps(body))["body"].read())
        assert r["choices"][0]["message"]["content"].startswith("<reasoning>")
        usage = (r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"])
        assert r["usage"]["completion_tokens_details"]["reasoning_tokens"] == 16384
    elif kind == "nova":
        r = rt.converse(modelId="us.amazon.nova-2-lite-v1:0", messages=msgs,
                        additionalModelRequestFields={"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}})
        assert r["output"]["message"]["content"][0]["reasoningContent"]["reasoningText"]["text"] == "[REDACTED]"
        usage = (r["usage"]["inputTokens"], r["usage"]["outputTokens"])
    seen.append({"id": case["id"], "input": usage[0], "output": usage[1]})
with open("usage-out.json", "w") as f:
    json.dump(seen, f)
"#;

const GOLDEN: &str = "\
- {id: R-1, intent: converse, query: manga like Frieren, output_tokens: 30}
- {id: R-2, intent: stream, query: something like Berserk, output_tokens: 30}
- {id: R-3, intent: invoke, query: a short comedy, output_tokens: 30}
- {id: R-4, intent: anthropic, query: a long fantasy epic, output_tokens: 30}
- {id: R-5, intent: langchain, query: what is shonen, output_tokens: 30}
- {id: R-6, intent: gpt, query: a sports manga, output_tokens: 30}
- {id: R-7, intent: nova, query: a romance series, output_tokens: 30}
";

#[test]
fn every_client_reports_the_reasoning_the_stand_in_billed() {
    require_python(&["boto3", "anthropic", "langchain_aws"]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nmode: harness\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 180\n",
            ),
            ("golden.yaml", GOLDEN),
            ("app.py", APP),
        ],
    );
    let out = dir.path().join("out");
    let (code, _, err) = run(costgate()
        .args(["run", "--dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    let seen: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("usage-out.json")).unwrap())
            .unwrap();
    let records: Vec<Value> = std::fs::read_to_string(out.join("calls-tree.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 7, "{records:#?}");
    // Budget 2,048 at the default share of 0.5; gpt-oss at high; Nova at low.
    let reasoning = |id: &str| match id {
        "R-6" => 16_384,
        _ => 1_024,
    };
    assert_eq!(seen.len(), 7, "every client reported its usage: {seen:?}");
    for s in &seen {
        let id = s["id"].as_str().unwrap();
        let r = records
            .iter()
            .find(|r| r["case"] == id)
            .unwrap_or_else(|| panic!("no record for {id}"));
        assert_eq!(r["reasoning_tokens"].as_u64(), Some(reasoning(id)), "{r}");
        assert_eq!(
            r["output_tokens"].as_u64(),
            Some(reasoning(id) + 30),
            "reasoning comes before the case's 30-token answer: {r}"
        );
        assert_eq!(
            (s["input"].as_u64(), s["output"].as_u64()),
            (r["input_tokens"].as_u64(), r["output_tokens"].as_u64()),
            "{id}: the client's usage is the stand-in's record"
        );
    }
    assert_eq!(
        records.iter().find(|r| r["case"] == "R-1").unwrap()["reasoning"],
        "thinking budget 2,048"
    );
    // The run's report carries the reasoning per case.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let r6 = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "R-6")
        .unwrap();
    assert_eq!(r6["reasoning_tokens"], 16_384, "{r6}");
}

/// Settings Bedrock rejects are rejected the same way and never billed; a cap cuts the answer
/// before the reasoning; the streams carry the family's reasoning events.
const WIRE: &str = r#"
import json, sys
import boto3
c = boto3.client("bedrock-runtime")
S = sys.argv[1]
msgs = [{"role": "user", "content": [{"text": "Is volume 12 of Frieren in stock?"}]}]
out = {"errors": []}
def fail(call):
    try:
        call()
        out["errors"].append(None)
    except c.exceptions.ValidationException as e:
        out["errors"].append(e.response["Error"]["Message"])
think = lambda b: {"thinking": {"type": "enabled", "budget_tokens": b}}
fail(lambda: c.converse(modelId=S, messages=msgs, inferenceConfig={"maxTokens": 4096}, additionalModelRequestFields=think(512)))
fail(lambda: c.converse(modelId=S, messages=msgs, inferenceConfig={"maxTokens": 2048}, additionalModelRequestFields=think(2048)))
fail(lambda: c.converse(modelId="anthropic.claude-opus-4-7", messages=msgs, inferenceConfig={"maxTokens": 9000}, additionalModelRequestFields=think(2048)))
fail(lambda: c.converse(modelId=S, messages=msgs, outputConfig={"effort": "high"}))
fail(lambda: c.converse(modelId="amazon.nova-pro-v1:0", messages=msgs, additionalModelRequestFields={"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}}))
# A cap above the reasoning but below reasoning + answer: the answer is cut, not the reasoning.
r = c.converse(modelId="anthropic.claude-opus-4-7", messages=msgs, inferenceConfig={"maxTokens": 1100},
               outputConfig={"effort": "low"}, additionalModelRequestFields={"thinking": {"type": "adaptive"}})
out["capped"] = [r["stopReason"], r["usage"]["outputTokens"], r["output"]["message"]["content"][1]["text"]]
# Adaptive thinking on Opus 4.7, effort from outputConfig.
r = c.converse(modelId="anthropic.claude-opus-4-7", messages=msgs, outputConfig={"effort": "medium"},
               additionalModelRequestFields={"thinking": {"type": "adaptive"}})
out["adaptive"] = r["usage"]["outputTokens"]
body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [{"role": "user", "content": "hello there"}]}
r = c.invoke_model_with_response_stream(modelId=S, body=json.dumps(body))
chunks = [json.loads(e["chunk"]["bytes"]) for e in r["body"] if "chunk" in e]
out["stream"] = [(ch["type"], ch.get("index"), (ch.get("delta") or ch.get("content_block") or {}).get("type")) for ch in chunks]
out["thinking"] = "".join(ch["delta"].get("thinking", "") for ch in chunks if ch["type"] == "content_block_delta")
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_rejected_unbilled_and_streams_carry_thinking() {
    require_python(&["boto3"]);
    let server = start(reasoning_settings()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, WIRE, &[SONNET]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap_or("(accepted)"))
        .collect();
    assert_eq!(errors.len(), 5, "{errors:?}");
    for (e, says) in errors.iter().zip([
        "budget_tokens: Input should be greater than or equal to 1024",
        "`max_tokens` must be greater than `thinking.budget_tokens`",
        "\"thinking.type.enabled\" is not supported for this model",
        "does not support an effort setting",
        "reasoning config value is invalid",
    ]) {
        assert!(e.contains(says), "{e} should say {says}");
    }
    // Effort low reasons 1,024 tokens; the cap of 1,100 leaves 76 of the default 150-token answer.
    assert_eq!(v["capped"][0], "max_tokens", "{v}");
    assert_eq!(v["capped"][1], 1_100);
    let enc = costgate::measure::tokenize::Encoding::ClaudeApprox;
    assert_eq!(enc.count(v["capped"][2].as_str().unwrap()), 76);
    assert_eq!(v["adaptive"], 4_096 + 150, "adaptive at medium");
    let stream: Vec<(String, Option<u64>, Option<String>)> =
        serde_json::from_value(v["stream"].clone()).unwrap();
    let kinds: Vec<(&str, Option<u64>, Option<&str>)> = stream
        .iter()
        .map(|(t, i, k)| (t.as_str(), *i, k.as_deref()))
        .collect();
    assert_eq!(kinds[1], ("content_block_start", Some(0), Some("thinking")));
    assert!(kinds.contains(&("content_block_delta", Some(0), Some("thinking_delta"))));
    assert!(kinds.contains(&("content_block_delta", Some(0), Some("signature_delta"))));
    assert!(kinds.contains(&("content_block_start", Some(1), Some("text"))));
    assert_eq!(enc.count(v["thinking"].as_str().unwrap()), 1_024);
    // Only the three accepted calls were billed.
    let calls = server.state().calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert_eq!(
        calls.iter().map(|c| c.reasoning_tokens).collect::<Vec<_>>(),
        [1_024, 4_096, 1_024]
    );
    server.shutdown().await.unwrap();
}

fn render_tree(root: &std::path::Path, reasoning: &str, policy: &str) {
    write_tree(
        root,
        &[
            (
                "costgate.yaml",
                &format!(
                    "version: 1\ngolden: golden/\nroutes: app/routes.yaml\npricing: pricing.yaml\n{policy}"
                ),
            ),
            // Round prices and an exact tokenizer: every cost below is a plain formula.
            (
                "pricing.yaml",
                &format!(
                    "models:\n  {SONNET}: {{input_per_mtok: 3, output_per_mtok: 15, tokenizer: cl100k_base}}\n"
                ),
            ),
            (
                "golden/cases.yaml",
                "- {id: T-1, intent: recommendation, query: manga like Frieren}\n- {id: T-2, intent: faq, query: is volume 12 out?}\n",
            ),
            (
                "app/routes.yaml",
                &format!(
                    "recommendation:\n  model: {SONNET}\n  output_tokens: 200\n  max_output_tokens: 20000\n  reasoning: {reasoning}\nfaq:\n  model: {SONNET}\n  output_tokens: 50\n"
                ),
            ),
        ],
    );
}

#[test]
fn a_raised_thinking_budget_fails_and_the_cause_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    render_tree(&base, "{budget_tokens: 2048}", "");
    // The head raises the budget, and tries to price reasoning cheaper: policy is the base's.
    render_tree(
        &head,
        "{budget_tokens: 16384}",
        "reasoning: {budget_share: 0.01}\n",
    );
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 1, "{err}");
    let t1 = report_case(&r, "T-1");
    assert_eq!(t1["base"]["reasoning_tokens"], 1_024);
    assert_eq!(t1["head"]["reasoning_tokens"], 8_192);
    assert_eq!(t1["head"]["output_tokens"], 8_192 + 200);
    assert_eq!(t1["grew"], "reasoning");
    let input = t1["head"]["input_tokens"].as_f64().unwrap();
    assert_eq!(
        t1["head"]["cost_usd"].as_f64().unwrap(),
        (input * 3.0 + (8_192.0 + 200.0) * 15.0) / 1e6
    );
    assert_eq!(report_case(&r, "T-2")["base"]["reasoning_tokens"], 0);
    let cause = r["causes"][0]["line"].as_str().unwrap();
    assert!(
        cause.contains("thinking budget 2,048 → 16,384") && cause.contains("+7,168"),
        "{cause}"
    );
    let policy = r["policy_changes"].to_string();
    assert!(policy.contains("reasoning"), "{policy}");

    // The terminal says it too.
    let (_, text, _) = check_dirs(&base, &head, "text");
    assert!(text.contains("thinking budget 2,048 → 16,384"), "{text}");
}

#[test]
fn a_reasoning_setting_the_model_does_not_take_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    render_tree(&base, "{budget_tokens: 2048}", "");
    render_tree(&head, "{budget_tokens: 512}", "");
    let (code, _, err) = check_dirs(&base, &head, "text");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("app/routes.yaml")
            && err.contains("route `recommendation`")
            && err.contains("at least 1024"),
        "{err}"
    );
    render_tree(&head, "{effort: high}", "");
    let (code, _, err) = check_dirs(&base, &head, "text");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("takes no effort setting"), "{err}");
}
