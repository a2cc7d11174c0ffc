//! Prompt routers on the stand-in: a Converse call to a router ARN is served by the model the
//! base's `routers:` rule picks, named in `trace.promptRouter`, counted and priced as that model.

use serde_json::Value;

use costgate::measure::routers::{Router, Routers, Rule};

use crate::support::standin::{boto3_script, settings, start};

const ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1";
const HAIKU: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";
const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

const SCRIPT: &str = r#"
import json, sys
import boto3
c = boto3.client("bedrock-runtime")
out = {}
for name, text in [("short", "hello there"), ("long", "manga " * 400)]:
    r = c.converse(modelId=sys.argv[1], messages=[{"role": "user", "content": [{"text": text}]}])
    out[name] = [r["trace"]["promptRouter"]["invokedModelId"], r["usage"]["inputTokens"]]
try:
    c.converse(modelId=sys.argv[1].replace("anthropic.claude:1", "meta.llama:1"), messages=[{"role": "user", "content": [{"text": "x"}]}])
    out["undeclared"] = None
except c.exceptions.ResourceNotFoundException as e:
    out["undeclared"] = e.response["Error"]["Message"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_arn_is_served_by_the_model_its_rule_picks() {
    crate::support::require_python(&["boto3"]);
    let mut s = settings();
    // The router's own fee, priced in the pricing file by the router's ARN.
    s.pricing = costgate::measure::pricing::PricingTable::with_overrides(
        &format!(
            "models:\n  \"{ARN}\": {{input_per_mtok: 0, output_per_mtok: 0, per_request: 0.0001}}\n"
        ),
        "pricing.yaml",
    )
    .unwrap();
    s.routers = Routers(
        [(
            ARN.to_string(),
            Router {
                models: vec![HAIKU.into(), SONNET.into()],
                rule: Rule::Shortest,
                shortest_tokens: Some(200),
            },
        )]
        .into(),
    );
    let server = start(s).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, SCRIPT, &[ARN]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["short"][0], HAIKU);
    assert_eq!(v["long"][0], SONNET);
    assert!(
        v["undeclared"].as_str().unwrap().contains("meta.llama:1"),
        "{v}"
    );
    let calls = server.state().calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].model.as_str(), calls[0].model_id.as_str()),
        (ARN, HAIKU)
    );
    assert_eq!(calls[1].model_id, SONNET);
    let price = costgate::measure::pricing::PricingTable::builtin()
        .resolve(SONNET)
        .unwrap()
        .price;
    assert_eq!(
        calls[1].cost_usd,
        price.cost(calls[1].input_tokens, calls[1].output_tokens) + 0.0001
    );
    server.shutdown().await.unwrap();
}
