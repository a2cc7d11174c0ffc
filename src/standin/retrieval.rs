//! The retrieval half of a Bedrock application's bill, on InvokeModel: embedding models (billed per
//! input token, and per image where the model takes images) and rerank models (per query). Each call is attributed to its case
//! like a chat call (its texts hold the query), counted, priced and recorded.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::embed::{self, Embed};
use super::error::BedrockError;
use super::record::CallRecord;
use super::request::{self, Counted, Msg, Prompt};
use super::{CASE_HEADER, State, lock};
use crate::measure::pricing::{Resolved, Tier, Usage};
use crate::measure::render::Segments;
use crate::measure::tokenize;

/// Answers an InvokeModel call to an embedding or rerank model; `None` when `resolved` is neither,
/// so the chat path takes the call. Other operations on such a model are rejected as Bedrock does.
pub(super) fn invoke(
    st: &State,
    operation: &'static str,
    resolved: &Resolved,
    model: &str,
    headers: &HeaderMap,
    body: &[u8],
    started: Instant,
) -> Option<Result<Response, BedrockError>> {
    let kind = embed::Kind::of(&resolved.base_id);
    let rerank = super::rerank::is_rerank(&resolved.base_id);
    if kind.is_none() && !rerank {
        return None;
    }
    if operation != "InvokeModel" {
        return Some(Err(BedrockError::Validation(format!(
            "The model {} does not support {operation}: call it with InvokeModel.",
            resolved.base_id
        ))));
    }
    Some(match kind {
        Some(kind) => embedding(st, kind, resolved, model, headers, body, started),
        None => super::rerank::invoke(st, resolved, model, headers, body),
    })
}

fn embedding(
    st: &State,
    kind: embed::Kind,
    resolved: &Resolved,
    model: &str,
    headers: &HeaderMap,
    body: &[u8],
    started: Instant,
) -> Result<Response, BedrockError> {
    let e: Embed = embed::parse(kind, &request::json(body)?)?;
    let price = &resolved.price;
    let raw: u64 = e.texts.iter().map(|t| price.tokenizer.count(t)).sum();
    let input_tokens = tokenize::scale(raw, price.token_scale);
    // The texts stand in for a prompt: the case's query in them attributes the call.
    let prompt = Prompt {
        messages: e
            .texts
            .iter()
            .map(|t| Msg {
                role: "user".into(),
                parts: vec![t.clone()],
                media: Vec::new(),
            })
            .collect(),
        ..Prompt::default()
    };
    let header_case = headers.get(CASE_HEADER).and_then(|v| v.to_str().ok());
    let current = lock(&st.current).clone();
    let attributed = st.cases.attribute(&prompt, header_case, current.as_deref());
    let usage = Usage {
        input_tokens,
        images: e.images,
        ..Usage::default()
    };
    let counted = Counted {
        segments: Segments {
            prompt: input_tokens,
            ..Segments::default()
        },
        input_tokens,
    };
    let mut rec = CallRecord::new(
        "InvokeModel",
        (model, &resolved.base_id),
        &counted,
        Tier::Standard,
        None,
        Vec::new(),
    );
    rec.bill(&usage, price.cost_of(&usage), "end_turn");
    rec.stop_reason = None;
    rec.images = e.images;
    rec.kind = "embedding";
    rec.unpriced = resolved.unpriced || !price.prices(&usage);
    let (case, method) = attributed.map_or((None, None), |(c, m)| (Some(c), Some(m)));
    rec.case = case;
    rec.attribution = method;
    st.log(rec);
    let seq = st.served.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("00000000-0000-4000-8000-{seq:012x}");
    let body =
        serde_json::to_vec(&embed::respond(&e, input_tokens, &request_id)).unwrap_or_default();
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    h.insert(
        "x-amzn-bedrock-input-token-count",
        HeaderValue::from(input_tokens),
    );
    h.insert(
        "x-amzn-bedrock-invocation-latency",
        HeaderValue::from(started.elapsed().as_millis() as u64),
    );
    Ok(r)
}
