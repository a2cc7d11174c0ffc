//! The stand-in's router in process (no socket): each request goes through `router` with
//! `tower::ServiceExt::oneshot`, so the request path (parse, meter, answer, record, reply) is
//! tested without the wire. The loopback tests in `tests/it/mock_*.rs` cover the wire and the SDKs.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{Settings, State, router};
use crate::measure::dataset::Case;
use crate::measure::pricing::PricingTable;

const HAIKU: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";

fn state() -> Arc<State> {
    let mut s = Settings::new(PricingTable::builtin());
    s.cases = crate::infra::yaml::from_str::<Vec<Case>>(
        "- id: Q-1\n  intent: chat\n  query: where is my order?\n  output_tokens: 12\n",
    )
    .unwrap();
    s.keep_calls = true;
    Arc::new(State::new(s).unwrap())
}

async fn send(st: &Arc<State>, req: Request<Body>) -> (StatusCode, Value, String) {
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let kind = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body, kind)
}

fn post(uri: &str, body: Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn converse(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": text}]}],
           "system": [{"text": "You help."}]})
}

#[tokio::test]
async fn converse_is_answered_counted_attributed_and_recorded() {
    let st = state();
    let uri = format!("/model/{HAIKU}/converse");
    let (status, body, _) = send(&st, post(&uri, converse("where is my order?"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let calls = st.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.operation, "Converse");
    assert_eq!(call.case.as_deref(), Some("Q-1"), "attributed by its query");
    assert_eq!(call.output_tokens, 12, "the case's own output length");
    assert_eq!(body["usage"]["inputTokens"], json!(call.input_tokens));
    assert_eq!(body["usage"]["outputTokens"], json!(12));
    assert!(call.cost_usd > 0.0);
    assert_eq!(call.stop_reason, Some("end_turn"));
}

#[tokio::test]
async fn count_tokens_counts_what_converse_bills_and_costs_nothing() {
    let st = state();
    let wrapped = json!({"input": {"converse": converse("where is my order?")}});
    let (status, body, _) = send(&st, post(&format!("/model/{HAIKU}/count-tokens"), wrapped)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    send(
        &st,
        post(
            &format!("/model/{HAIKU}/converse"),
            converse("where is my order?"),
        ),
    )
    .await;
    let calls = st.calls();
    assert_eq!(calls[0].operation, "CountTokens");
    assert_eq!(calls[0].cost_usd, 0.0);
    assert_eq!(calls[0].case, None, "counting is attributed to no case");
    assert_eq!(body["inputTokens"], json!(calls[1].input_tokens));
}

#[tokio::test]
async fn errors_have_bedrock_kinds_and_are_never_recorded() {
    let st = state();
    let cases = [
        (
            post("/model/no.such-model/converse", converse("hi")),
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
        ),
        (
            post(&format!("/model/{HAIKU}/dance"), converse("hi")),
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
        ),
        (
            post(&format!("/model/{HAIKU}/converse"), json!({"messages": 3})),
            StatusCode::BAD_REQUEST,
            "ValidationException",
        ),
        (
            post("/_costgate/case/NOT-A-CASE", json!({})),
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
        ),
        (
            post("/nowhere", json!({})),
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
        ),
    ];
    for (req, want_status, want_kind) in cases {
        let uri = req.uri().to_string();
        let (status, body, kind) = send(&st, req).await;
        assert_eq!(
            (status, kind.as_str()),
            (want_status, want_kind),
            "{uri}: {body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{uri}: {body}"
        );
    }
    assert!(st.calls().is_empty());
    // The unknown operations are counted by name for the report.
    let ops = st.unknown_operations();
    assert_eq!(ops[&format!("POST /model/{HAIKU}/dance")], 1, "{ops:?}");
    assert_eq!(ops["POST /nowhere"], 1, "{ops:?}");
}

#[tokio::test]
async fn unknown_operations_are_counted_in_bounded_memory() {
    let st = state();
    for i in 0..3 * super::MAX_UNKNOWN_OPERATIONS {
        let path = format!("/spray/{i}/{}", "x".repeat(1000));
        let (status, ..) = send(&st, post(&path, json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let ops = st.unknown_operations();
    assert_eq!(
        ops.len(),
        super::MAX_UNKNOWN_OPERATIONS + 1,
        "{:?}",
        ops.keys()
    );
    assert_eq!(
        ops["(other operations)"],
        2 * super::MAX_UNKNOWN_OPERATIONS as u64
    );
    assert!(ops.keys().all(|k| k.chars().count() <= 200));
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_before_parsing() {
    let mut s = Settings::new(PricingTable::builtin());
    s.max_body = 64;
    s.keep_calls = true;
    let st = Arc::new(State::new(s).unwrap());
    let big = converse(&"x".repeat(200));
    let (status, _, kind) = send(&st, post(&format!("/model/{HAIKU}/converse"), big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(kind, "ValidationException");
    assert!(st.calls().is_empty());
}

#[tokio::test]
async fn the_control_endpoint_attributes_later_calls_to_its_case() {
    let st = state();
    let (status, ..) = send(&st, post("/_costgate/case/Q-1", json!({}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A query that matches no case is attributed to the case the harness set.
    send(
        &st,
        post(
            &format!("/model/{HAIKU}/converse"),
            converse("unrelated words"),
        ),
    )
    .await;
    assert_eq!(st.calls()[0].case.as_deref(), Some("Q-1"));
    assert!(st.announced().contains("Q-1"));
}

#[tokio::test]
async fn a_scripted_tool_the_request_does_not_declare_is_named_where_the_user_looks() {
    let mut s = Settings::new(PricingTable::builtin());
    s.cases = crate::infra::yaml::from_str::<Vec<Case>>(
        "- id: T-1\n  intent: chat\n  query: is volume 3 in stock?\n  tool_calls:\n    - name: check_stock\n      input: {volume: 3}\n",
    )
    .unwrap();
    s.keep_calls = true;
    let st = Arc::new(State::new(s).unwrap());
    let body = json!({
        "messages": [{"role": "user", "content": [{"text": "is volume 3 in stock?"}]}],
        "toolConfig": {"tools": [{"toolSpec": {"name": "search_catalogue",
            "inputSchema": {"json": {"type": "object"}}}}]}
    });
    let (status, body, _) = send(&st, post(&format!("/model/{HAIKU}/converse"), body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let call = &st.calls()[0];
    assert_eq!(call.skipped_tools, ["check_stock"]);
    let line = serde_json::to_value(call).unwrap();
    assert_eq!(
        line["skipped_tools"],
        json!(["check_stock"]),
        "the call record names it"
    );
    assert_eq!(st.skipped_tools().get("check_stock"), Some(&1));
}

#[tokio::test]
async fn without_a_dataset_per_case_state_is_bounded() {
    let mut s = Settings::new(PricingTable::builtin());
    s.keep_calls = false;
    let st = Arc::new(State::new(s).unwrap());
    for i in 0..super::MAX_UNLISTED_CASES + 50 {
        let (status, ..) = send(&st, post(&format!("/_costgate/case/id-{i}"), json!({}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    assert_eq!(st.announced().len(), super::MAX_UNLISTED_CASES);
    assert_eq!(st.progress().0, super::MAX_UNLISTED_CASES);
}

#[tokio::test]
async fn every_new_route_refuses_a_body_over_the_cap_and_bills_nothing() {
    let mut s = Settings::new(PricingTable::builtin());
    s.max_body = 64;
    s.keep_calls = true;
    let st = Arc::new(State::new(s).unwrap());
    let big = json!({"padding": "x".repeat(200)});
    for path in [
        "/rerank",
        "/guardrail/gr-1/version/1/apply",
        "/openai/v1/chat/completions",
        "/openai/v1/responses",
        "/model/amazon.titan-embed-text-v2:0/invoke",
        "/model/cohere.rerank-v3-5:0/invoke",
    ] {
        let (status, _, kind) = send(&st, post(path, big.clone())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(kind, "ValidationException", "{path}");
    }
    assert!(st.calls().is_empty());
}

#[tokio::test]
async fn malformed_bodies_on_the_new_routes_get_bedrock_errors_and_no_bill() {
    let st = state();
    for (path, body) in [
        ("/rerank", json!({"queries": []})),
        (
            "/rerank",
            json!({"queries": [{"type": "TEXT", "textQuery": {"text": "x"}}], "sources": [{"type": "INLINE"}]}),
        ),
        (
            "/guardrail/gr-undeclared/version/1/apply",
            json!({"source": "INPUT", "content": [{"text": {"text": "x"}}]}),
        ),
        (
            "/guardrail/gr-1/version/1/apply",
            json!({"source": "SIDEWAYS"}),
        ),
        ("/openai/v1/chat/completions", json!({"messages": []})),
        (
            "/openai/v1/chat/completions",
            json!({"model": "openai.gpt-oss-20b-1:0", "messages": []}),
        ),
        (
            "/openai/v1/responses",
            json!({"model": "openai.gpt-oss-20b-1:0"}),
        ),
        (
            "/model/amazon.titan-embed-text-v2:0/invoke",
            json!({"inputText": "x", "dimensions": 7}),
        ),
        (
            "/model/cohere.embed-english-v3/invoke",
            json!({"texts": ["x"]}),
        ),
        (
            "/model/cohere.rerank-v3-5:0/invoke",
            json!({"query": "x", "documents": ["a"], "api_version": 1}),
        ),
        (
            "/model/amazon.titan-embed-text-v2:0/converse",
            converse("hello"),
        ),
    ] {
        let (status, _, kind) = send(&st, post(path, body.clone())).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{path} {body}: {status}"
        );
        assert!(kind.ends_with("Exception"), "{path}: {kind}");
    }
    assert!(st.calls().is_empty(), "{:?}", st.calls());
}
