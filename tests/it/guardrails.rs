//! Guardrails on the stand-in: `ApplyGuardrail` and Converse's `guardrailConfig` through boto3,
//! priced per text unit per policy type the base declares; a case that scripts an intervention
//! is blocked and its model call not billed; an undeclared guardrail is named.

use serde_json::Value;

use costgate::measure::guardrails::{Guardrail, Guardrails};

use crate::support::standin::{boto3_script, settings, start};

const SCRIPT: &str = r#"
import json
import boto3
c = boto3.client("bedrock-runtime")
out = {}
r = c.apply_guardrail(guardrailIdentifier="gr-support", guardrailVersion="1", source="INPUT",
                      content=[{"text": {"text": "x" * 1500}}])
out["apply"] = [r["action"], r["usage"]["contentPolicyUnits"], r["usage"]["topicPolicyUnits"], r["usage"]["wordPolicyUnits"]]
msgs = lambda q: [{"role": "user", "content": [{"text": q}]}]
g = {"guardrailIdentifier": "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr-support", "guardrailVersion": "1"}
r = c.converse(modelId="amazon.nova-micro-v1:0", messages=msgs("Is volume 12 of Frieren in stock?"), guardrailConfig=g)
out["converse"] = [r["stopReason"], r["usage"]["outputTokens"]]
r = c.converse(modelId="amazon.nova-micro-v1:0", messages=msgs("hello there"), guardrailConfig=g)
out["blocked"] = [r["stopReason"], r["output"]["message"]["content"][0]["text"], r["usage"]["inputTokens"]]
try:
    c.apply_guardrail(guardrailIdentifier="gr-nope", guardrailVersion="1", source="INPUT", content=[{"text": {"text": "x"}}])
    out["undeclared"] = None
except c.exceptions.ResourceNotFoundException as e:
    out["undeclared"] = e.response["Error"]["Message"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardrail_checks_are_billed_per_text_unit_per_policy() {
    crate::support::require_python(&["boto3"]);
    let mut s = settings();
    // GD-3 ("hello there") scripts an intervention.
    s.cases[2].guardrail = Some(costgate::measure::dataset::GuardrailScript::Intervene);
    s.guardrails = Guardrails(
        [(
            "gr-support".to_string(),
            Guardrail {
                policies: vec!["content".into(), "denied_topics".into()],
            },
        )]
        .into(),
    );
    let server = start(s).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, SCRIPT, &[]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["apply"], serde_json::json!(["NONE", 2, 2, 0]));
    assert_eq!(v["converse"], serde_json::json!(["end_turn", 150]));
    assert_eq!(v["blocked"][0], "guardrail_intervened");
    assert_eq!(v["blocked"][2], 0);
    assert!(v["undeclared"].as_str().unwrap().contains("gr-nope"), "{v}");
    let calls = server.state().calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    // 1,500 characters: 2 text units × (content $0.15 + denied topics $0.15) per 1,000.
    assert_eq!(calls[0].cost_usd, 2.0 * 0.15 / 1000.0 + 2.0 * 0.15 / 1000.0);
    assert_eq!(calls[0].kind, costgate::standin::record::Bills::Guardrail);
    // Converse: the model's tokens plus one text unit for the input and one for the answer, twice.
    let c = &calls[1];
    assert_eq!(c.guardrail_text_units, 2);
    assert_eq!(c.guardrail_usd, 2.0 * 0.15 / 1000.0 * 2.0);
    assert!(c.cost_usd > c.guardrail_usd);
    // Blocked: the guardrail's input check only, no model tokens.
    let b = &calls[2];
    assert_eq!((b.input_tokens, b.output_tokens), (0, 0));
    assert_eq!(b.cost_usd, 0.15 / 1000.0 * 2.0);
    server.shutdown().await.unwrap();
}

/// The other two ways a model call names a guardrail: InvokeModel's guardrail header (the body
/// then carries `amazon-bedrock-guardrailAction`) and ConverseStream's `guardrailConfig`.
const HEADERS: &str = r#"
import json
import boto3
c = boto3.client("bedrock-runtime")
out = {}
body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 20,
        "messages": [{"role": "user", "content": "Is volume 12 of Frieren in stock?"}]}
r = c.invoke_model(modelId="anthropic.claude-3-haiku-20240307-v1:0", body=json.dumps(body),
                   guardrailIdentifier="gr-support", guardrailVersion="1")
out["invoke"] = json.loads(r["body"].read())["amazon-bedrock-guardrailAction"]
r = c.converse_stream(modelId="amazon.nova-micro-v1:0", messages=[{"role": "user", "content": [{"text": "hello there"}]}],
                      guardrailConfig={"guardrailIdentifier": "gr-support", "guardrailVersion": "1", "streamProcessingMode": "sync"})
stops = [e["messageStop"]["stopReason"] for e in r["stream"] if "messageStop" in e]
out["stream"] = stops
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guardrail_header_and_converse_stream_apply_the_guardrail_too() {
    crate::support::require_python(&["boto3"]);
    let mut s = settings();
    s.cases[2].guardrail = Some(costgate::measure::dataset::GuardrailScript::Intervene);
    s.guardrails = Guardrails(
        [(
            "gr-support".to_string(),
            Guardrail {
                policies: vec!["sensitive_information".into()],
            },
        )]
        .into(),
    );
    let server = start(s).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, HEADERS, &[]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["invoke"], "NONE");
    assert_eq!(v["stream"], serde_json::json!(["guardrail_intervened"]));
    let calls = server.state().calls();
    assert_eq!(calls.len(), 2);
    // Input and a 20-token answer: one text unit each, at $0.10 per 1,000 for sensitive information.
    assert_eq!(calls[0].guardrail_usd, 2.0 * 0.10 / 1000.0);
    assert_eq!(
        calls[1].output_tokens, 0,
        "the blocked stream bills no model tokens"
    );
    server.shutdown().await.unwrap();
}
