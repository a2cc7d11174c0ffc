//! Helpers for the stand-in's tests: an in-process server on an ephemeral loopback port, SDK and
//! raw-HTTP clients pointed at it, and expected token counts computed from `costgate::measure::tokenize`.

#![allow(dead_code)]

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use costgate::measure::dataset::Case;
use costgate::measure::pricing::PricingTable;
use costgate::standin::{Server, Settings};

/// A model counted exactly (o200k) and one counted with `claude-approx` (cl100k × 1.0).
pub const OPENAI: &str = "openai.gpt-oss-20b-1:0";
pub const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

pub fn cases() -> Vec<Case> {
    serde_json::from_value(serde_json::json!([
        {"id": "GD-1", "intent": "recommendation", "query": "ワンピースみたいな冒険マンガを教えて", "output_tokens": 40},
        {"id": "GD-2", "intent": "product_question", "query": "Is volume 12 of Frieren in stock?"},
        {"id": "GD-3", "intent": "chit_chat", "query": "hello there"}
    ]))
    .unwrap()
}

/// The stand-in with the test cases, for tests of everything but reasoning: gpt-oss (the exact
/// tokenizer these tests count with) always reasons, so its reasoning is priced at 0 tokens here and
/// every answer is the plain synthetic length. Reasoning's own tests use [`reasoning_settings`].
pub fn settings() -> Settings {
    let mut s = reasoning_settings();
    s.reasoning.effort_tokens = costgate::measure::reasoning::EffortTokens {
        low: 0,
        medium: 0,
        high: 0,
        xhigh: 0,
        max: 0,
    };
    s
}

/// The stand-in with the test cases and the default reasoning policy.
pub fn reasoning_settings() -> Settings {
    let mut s = Settings::new(PricingTable::builtin());
    s.cases = cases();
    s.keep_calls = true;
    s
}

pub async fn start(settings: Settings) -> Server {
    Server::start("127.0.0.1:0", settings)
        .await
        .expect("start stand-in")
}

pub fn sdk(server: &Server) -> aws_sdk_bedrockruntime::Client {
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDCOSTGATETEST",
            "dummy-secret",
            None,
            None,
            "costgate-test",
        ))
        .endpoint_url(server.url())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

/// Runs a Python `script` with boto3 against the stand-in at `url`, with dummy credentials and
/// nothing from the machine's AWS configuration; panics with its stderr unless it exits 0, and
/// returns its stdout.
pub fn boto3_script(url: &str, script: &str, args: &[&str]) -> String {
    let (code, out, err) = crate::support::run(
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url)
            .env("AWS_ACCESS_KEY_ID", "AKIDCOSTGATETEST")
            .env("AWS_SECRET_ACCESS_KEY", "dummy")
            .env("AWS_REGION", "us-east-1")
            // boto3 reads AWS_DEFAULT_REGION only (harness mode sets both).
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE"),
    );
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// Exact input tokens of `texts` for `model` with the built-in table (no overheads, scale 1).
pub fn count(model: &str, texts: &[&str]) -> u64 {
    let price = PricingTable::builtin().resolve(model).unwrap().price;
    let raw: u64 = texts.iter().map(|t| price.tokenizer.count(t)).sum();
    costgate::measure::tokenize::scale(raw, price.token_scale)
}

pub fn cost(model: &str, input: u64, output: u64) -> f64 {
    PricingTable::builtin()
        .resolve(model)
        .unwrap()
        .price
        .cost(input, output)
}

/// POSTs a raw body; returns status, headers and body.
pub async fn post(
    url: &str,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

pub fn header(h: &reqwest::header::HeaderMap, name: &str) -> String {
    h.get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Decodes an event-stream body into (event type, JSON payload) pairs with the SDK's decoder.
pub fn events(body: &[u8]) -> Vec<(String, serde_json::Value)> {
    let mut buf = bytes::Bytes::copy_from_slice(body);
    let mut out = Vec::new();
    while !buf.is_empty() {
        let m = aws_smithy_eventstream::frame::read_message_from(&mut buf).expect("valid frame");
        let ty = m
            .headers()
            .iter()
            .find(|h| h.name().as_str() == ":event-type")
            .unwrap();
        let ty = ty.value().as_string().unwrap().as_str().to_string();
        out.push((ty, serde_json::from_slice(m.payload()).unwrap()));
    }
    out
}

/// The model-family chunks of an InvokeModelWithResponseStream body.
pub fn chunks(body: &[u8]) -> Vec<serde_json::Value> {
    use base64::Engine;
    events(body)
        .into_iter()
        .map(|(ty, v)| {
            assert_eq!(ty, "chunk");
            let raw = base64::engine::general_purpose::STANDARD
                .decode(v["bytes"].as_str().unwrap())
                .unwrap();
            serde_json::from_slice(&raw).unwrap()
        })
        .collect()
}
