//! The retrieval half of a Bedrock application's bill, on InvokeModel: embedding models (billed per
//! input token, and per image where the model takes images) and rerank models (per query). Each call is attributed to its case
//! like a chat call (its texts hold the query), counted, priced and recorded.

use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use super::State;
use super::embed::{self, Embed};
use super::error::BedrockError;
use super::record::{Bills, CallRecord};
use super::request::{self, Counted};
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
    let attributed = st.attribute_texts(&e.texts, headers);
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
    rec.kind = Bills::Embedding;
    rec.unpriced = resolved.unpriced || !price.prices(&usage);
    rec.attribute(attributed);
    st.log(rec);
    let request_id = st.request_id();
    let mut r =
        super::service::json_reply(&embed::respond(&e, input_tokens, &request_id), &request_id);
    let h = r.headers_mut();
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
