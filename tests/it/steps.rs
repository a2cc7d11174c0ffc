//! Steps (docs/harness.md#steps): a call that names its step is answered with the step's
//! declared answer, counted exactly, so the next call of the pipeline is built from a realistic
//! answer; the case can override it; an undeclared step is answered as any call and noted.

use serde_json::Value;

use costgate::measure::steps::{Step, Steps};

use crate::support::standin::{boto3_script, settings, start};
use crate::support::*;

const NOVA: &str = "amazon.nova-micro-v1:0";

/// A condense step by request metadata, a route step by header on InvokeModel, a capped condense
/// step, an undeclared step; each answer and usage printed.
const SCRIPT: &str = r#"
import json, sys
import boto3
c = boto3.client("bedrock-runtime")
NOVA = sys.argv[1]
def converse(case, step, text, cap=None):
    kw = {"inferenceConfig": {"maxTokens": cap}} if cap else {}
    r = c.converse(modelId=NOVA, messages=[{"role": "user", "content": [{"text": text}]}],
                   requestMetadata={"costgate_case": case, "costgate_step": step}, **kw)
    return [r["output"]["message"]["content"][0]["text"], r["usage"]["outputTokens"]]
out = {}
out["condense"] = converse("GD-2", "condense", "Rewrite the follow-up as a standalone question.")
out["capped"] = converse("GD-2", "condense", "Rewrite it again.", cap=3)
out["undeclared"] = converse("GD-2", "planner", "Plan the search.")
def header(params, **kwargs):
    params["headers"]["x-costgate-step"] = "route"
    params["headers"]["x-costgate-case"] = "GD-1"
c.meta.events.register("before-call.bedrock-runtime.InvokeModel", header)
body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
        "messages": [{"role": "user", "content": "Which intent is this?"}]}
r = json.loads(c.invoke_model(modelId=sys.argv[2], body=json.dumps(body))["body"].read())
out["route"] = [r["content"][0]["text"], r["usage"]["output_tokens"]]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_step_answers_with_the_declared_text_counted_exactly() {
    require_python(&["boto3"]);
    let mut s = settings();
    s.cases[0]
        .answers
        .insert("route".into(), "gift_finder".into());
    let mut steps = std::collections::BTreeMap::new();
    steps.insert(
        "condense".to_string(),
        Step {
            answer: Some("Standalone question: {{ query }}".into()),
            output_tokens: None,
        },
    );
    steps.insert(
        "route".to_string(),
        Step {
            answer: Some("{{ intent }}".into()),
            output_tokens: None,
        },
    );
    s.steps = Steps(steps);
    let server = start(s).await;
    let url = server.url();
    let haiku = crate::support::standin::HAIKU;
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, SCRIPT, &[NOVA, haiku]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let price = costgate::measure::pricing::PricingTable::builtin()
        .resolve(NOVA)
        .unwrap()
        .price;
    let count =
        |t: &str| costgate::measure::tokenize::scale(price.tokenizer.count(t), price.token_scale);
    let condensed = "Standalone question: Is volume 12 of Frieren in stock?";
    assert_eq!(v["condense"][0], condensed);
    assert_eq!(v["condense"][1].as_u64(), Some(count(condensed)));
    // The cap cuts the step's answer to its first tokens, exactly.
    let capped = v["capped"][0].as_str().unwrap();
    assert!(
        condensed.starts_with(capped) && !capped.is_empty(),
        "{capped}"
    );
    assert_eq!(v["capped"][1], 3);
    assert!(count(capped) <= 3);
    // An undeclared step is answered as any call of its case (GD-2: the 150-token default).
    assert_eq!(v["undeclared"][1], 150);
    // The case's own answer wins over the step's template.
    assert_eq!(v["route"][0], "gift_finder");
    let calls = server.state().calls();
    let steps: Vec<Option<&str>> = calls.iter().map(|c| c.step.as_deref()).collect();
    assert_eq!(
        steps,
        [
            Some("condense"),
            Some("condense"),
            Some("planner"),
            Some("route")
        ]
    );
    assert_eq!(
        server.state().undeclared_steps(),
        [("planner".to_string(), 1)].into_iter().collect()
    );
    server.shutdown().await.unwrap();
}

/// The pipeline a harness runs: condense, then answer with the condensed question in the prompt.
/// At the base the condense step is declared and the next prompt carries the query; a head whose
/// own costgate.yaml drops the declaration still gets the base's steps (policy).
const PIPELINE: &str = r#"
import json, os
import boto3
c = boto3.client("bedrock-runtime")
M = "amazon.nova-micro-v1:0"
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    meta = lambda step: {"costgate_case": case["id"], "costgate_step": step}
    q = c.converse(modelId=M, requestMetadata=meta("condense"),
                   messages=[{"role": "user", "content": [{"text": "Rewrite as a standalone question: " + case["query"]}]}])
    standalone = q["output"]["message"]["content"][0]["text"]
    c.converse(modelId=M, requestMetadata=meta("answer"),
               messages=[{"role": "user", "content": [{"text": "Answer: " + standalone}]}])
"#;

#[test]
fn the_next_prompt_is_built_from_the_step_answer_and_steps_are_the_bases() {
    require_python(&["boto3"]);
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let cfg = "version: 1\ngolden: golden.yaml\nmode: harness\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 120\n";
    let golden = "- {id: S-1, intent: chat, query: manga like Frieren, output_tokens: 20, expect: {context_includes: [\"Answer: manga like Frieren\"]}}\n";
    write_tree(
        &base,
        &[
            (
                "costgate.yaml",
                &format!(
                    "{cfg}steps:\n  condense: {{answer: \"{{{{ query }}}}\"}}\n  answer: {{output_tokens: 20}}\n"
                ),
            ),
            ("golden.yaml", golden),
            ("app.py", PIPELINE),
        ],
    );
    write_tree(
        &head,
        &[
            ("costgate.yaml", cfg),
            ("golden.yaml", golden),
            ("app.py", PIPELINE),
        ],
    );
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 0, "{err}");
    let s1 = report_case(&r, "S-1");
    // Same costs both sides: the head runs on the base's steps.
    assert_eq!(s1["base"]["cost_usd"], s1["head"]["cost_usd"], "{s1}");
    // Condense answers the query (its exact count), the answer step 20 tokens.
    let condensed =
        crate::support::standin::count("amazon.nova-micro-v1:0", &["manga like Frieren"]);
    assert_eq!(
        s1["base"]["output_tokens"].as_u64(),
        Some(condensed + 20),
        "{s1}"
    );
    assert!(
        r["policy_changes"].to_string().contains("steps"),
        "{}",
        r["policy_changes"]
    );
    // The query reached the second prompt through the condense answer, on both sides: with filler
    // as the condense answer, "Answer: manga like Frieren" would be in no model input.
    for side in ["base", "head"] {
        assert_eq!(
            (
                s1[side]["quality"]["met"].as_u64(),
                s1[side]["quality"]["of"].as_u64()
            ),
            (Some(1), Some(1)),
            "{side}: {s1}"
        );
    }
}
