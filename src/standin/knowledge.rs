//! Knowledge bases on the stand-in (bedrock-agent-runtime): `Retrieve` returns the chunks of the
//! base's local corpus that share the most words with the query; `RetrieveAndGenerate` does the same
//! and then makes the model call a knowledge base makes, priced as that model's call.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::BedrockError;
use super::record::{Bills, CallRecord};
use super::request::{self, Counted};
use super::{State, answer};
use crate::measure::knowledge::Chunk;
use crate::measure::pricing::{Tier, Usage, strip_arn};
use crate::measure::render::Segments;
use crate::measure::tokenize;

/// Results `Retrieve` returns when the request names no number.
const DEFAULT_RESULTS: usize = 5;

/// Most results one call returns (the service model's limit).
const MAX_RESULTS: usize = 100;

/// The prompt a knowledge base sends its model, around the retrieved chunks.
const GENERATION_PROMPT: &str = "You are a question answering agent. Answer the user's question using only the search results below. If the search results do not contain the answer, say so.";

fn invalid(m: impl Into<String>) -> BedrockError {
    BedrockError::Validation(m.into())
}

/// A chunk with its word set, computed once when the stand-in starts, not per request.
#[derive(Debug)]
pub(crate) struct Indexed {
    pub chunk: Chunk,
    pub words: std::collections::BTreeSet<String>,
}

/// Each knowledge base's chunks, indexed for relevance.
pub(crate) fn index(
    kbs: std::collections::BTreeMap<String, Vec<Chunk>>,
) -> std::collections::BTreeMap<String, Vec<Indexed>> {
    kbs.into_iter()
        .map(|(id, chunks)| {
            let indexed = chunks
                .into_iter()
                .map(|chunk| Indexed {
                    words: super::rerank::word_set(&chunk.text),
                    chunk,
                })
                .collect();
            (id, indexed)
        })
        .collect()
}

/// The `n` chunks of knowledge base `id` most relevant to `query`, with their scores.
fn search<'a>(
    st: &'a State,
    id: &str,
    query: &str,
    n: usize,
) -> Result<Vec<(&'a Chunk, f64)>, BedrockError> {
    let chunks = st.knowledge.get(id).ok_or_else(|| {
        BedrockError::NotFound(format!(
            "The knowledge base `{id}` is not declared in the base's costgate.yaml: add `knowledge_bases: {{{id}: {{documents: kb/}}}}` with a directory of its documents."
        ))
    })?;
    let q = super::rerank::word_set(query);
    let scores: Vec<f64> = chunks
        .iter()
        .map(|c| super::rerank::score(&q, &c.words))
        .collect();
    Ok(super::rerank::ranked(&scores, Some(n))
        .into_iter()
        .map(|i| (&chunks[i].chunk, scores[i]))
        .collect())
}

fn location(c: &Chunk) -> Value {
    json!({"type": "S3", "s3Location": {"uri": format!("s3://costgate-knowledge-base/{}", c.source)}})
}

async fn body_of(st: &State, body: Body) -> Result<Value, BedrockError> {
    let bytes = axum::body::to_bytes(body, st.max_body)
        .await
        .map_err(|_| BedrockError::TooLarge { limit: st.max_body })?;
    request::json(&bytes)
}

/// `POST /knowledgebases/{id}/retrieve`.
pub(super) async fn retrieve(
    AxState(st): AxState<Arc<State>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let Ok(Path(id)) = path else {
            return Err(invalid("The knowledge base id in the path is not valid."));
        };
        let v = body_of(&st, body).await?;
        let query = v["retrievalQuery"]["text"]
            .as_str()
            .filter(|q| !q.is_empty())
            .ok_or_else(|| invalid("1 validation error detected: Value at 'retrievalQuery.text' failed to satisfy constraint: Member must not be null or empty"))?;
        let n = match v["retrievalConfiguration"]["vectorSearchConfiguration"]["numberOfResults"].as_u64() {
            None => DEFAULT_RESULTS,
            Some(n) if (1..=MAX_RESULTS as u64).contains(&n) => n as usize,
            Some(n) => {
                return Err(invalid(format!("1 validation error detected: Value '{n}' at 'retrievalConfiguration.vectorSearchConfiguration.numberOfResults' failed to satisfy constraint: Member must have value between 1 and {MAX_RESULTS}")));
            }
        };
        let found = search(&st, &id, query, n)?;
        let mut rec = CallRecord::service("Retrieve", (&id, &format!("knowledge-base/{id}")), Bills::Retrieve);
        rec.attribute(st.attribute_texts(&[query], &headers));
        st.log(rec);
        let results: Vec<Value> = found
            .iter()
            .map(|(c, score)| json!({"content": {"type": "TEXT", "text": c.text}, "location": location(c), "score": score, "metadata": {}}))
            .collect();
        Ok(super::service::json_reply(&json!({"retrievalResults": results}), &st.request_id()))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /retrieveAndGenerate`.
pub(super) async fn retrieve_and_generate(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let v = body_of(&st, body).await?;
        generate(&st, &headers, &v)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn generate(st: &State, headers: &HeaderMap, v: &Value) -> Result<Response, BedrockError> {
    let query = v["input"]["text"]
        .as_str()
        .filter(|q| !q.is_empty())
        .ok_or_else(|| invalid("1 validation error detected: Value at 'input.text' failed to satisfy constraint: Member must not be null or empty"))?;
    let config = &v["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"];
    let (Some(id), Some(arn)) = (
        config["knowledgeBaseId"].as_str(),
        config["modelArn"].as_str(),
    ) else {
        return Err(invalid(
            "retrieveAndGenerateConfiguration.knowledgeBaseConfiguration needs `knowledgeBaseId` and `modelArn`: the stand-in serves the KNOWLEDGE_BASE type.",
        ));
    };
    let model = strip_arn(arn);
    let resolved = st
        .model(model)
        .ok_or_else(|| BedrockError::ModelNotFound(model.to_string()))?;
    let found = search(st, id, query, DEFAULT_RESULTS)?;
    let results: String = found
        .iter()
        .enumerate()
        .map(|(i, (c, _))| {
            format!(
                "<search_result index=\"{}\">{}</search_result>\n",
                i + 1,
                c.text
            )
        })
        .collect();
    let price = &resolved.price;
    let enc = price.tokenizer;
    let system = format!("{GENERATION_PROMPT}\n{results}");
    let segments = Segments {
        system: enc.count(&system),
        prompt: enc.count(query),
        overhead: price.message_overhead_tokens * 2 + price.request_overhead_tokens,
        ..Segments::default()
    };
    let input_tokens = tokenize::scale(segments.total(), price.token_scale);
    let attributed = st.attribute_texts(&[query], headers);
    let output_tokens = st.answer_length(attributed.as_ref().and_then(|(c, _)| st.cases.get(c)));
    let usage = Usage {
        input_tokens,
        output_tokens,
        ..Usage::default()
    };
    let mut rec = CallRecord::new(
        "RetrieveAndGenerate",
        (arn, &resolved.base_id),
        &Counted {
            segments,
            input_tokens,
        },
        Tier::Standard,
        None,
        Vec::new(),
    );
    rec.bill(&usage, price.cost_of(&usage), "end_turn");
    rec.unpriced = resolved.unpriced;
    rec.attribute(attributed);
    st.log(rec);
    let text = answer::text(output_tokens, enc);
    let references: Vec<Value> = found
        .iter()
        .map(|(c, _)| json!({"content": {"type": "TEXT", "text": c.text}, "location": location(c), "metadata": {}}))
        .collect();
    let end = text.chars().count();
    Ok(super::service::json_reply(
        &json!({
            "output": {"text": text},
            "citations": [{"generatedResponsePart": {"textResponsePart": {"text": text, "span": {"start": 0, "end": end}}},
                           "retrievedReferences": references}],
            "sessionId": v["sessionId"].as_str().unwrap_or("costgate-session"),
        }),
        &st.request_id(),
    ))
}
