//! Rerank: bedrock-agent-runtime's `Rerank` (`POST /rerank`) and the rerank models' own InvokeModel
//! bodies (Cohere Rerank 3.5, Amazon Rerank 1.0). Documents are ranked by deterministic word
//! overlap with the query, so an application's rerank step keeps the documents that share the
//! query's words. Billed per query, a query of more than 100 documents once per started 100.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::State;
use super::embed::words;
use super::error::BedrockError;
use super::record::{Bills, CallRecord};
use super::request::{self};
use crate::measure::pricing::{Resolved, Usage, strip_arn};

/// Documents one billed query covers.
pub const DOCUMENTS_PER_QUERY: usize = 100;

/// Most documents one Rerank call takes (the service model's limit).
const MAX_SOURCES: usize = 1000;

/// Whether `base_id` is a rerank model.
pub fn is_rerank(base_id: &str) -> bool {
    base_id.starts_with("cohere.rerank") || base_id.starts_with("amazon.rerank")
}

/// Billed queries for one query over `documents` documents.
pub fn queries(documents: usize) -> u64 {
    documents.div_ceil(DOCUMENTS_PER_QUERY).max(1) as u64
}

/// The distinct lowercased words of `text`: what relevance compares.
pub fn word_set(text: &str) -> BTreeSet<String> {
    words(text).collect()
}

/// A document's relevance to a query, from their word sets: the share of the query's distinct
/// words it holds, in (0, 1], with a small share of the document's length so that ties order by
/// focus. The same inputs always give the same score.
pub fn score(query: &BTreeSet<String>, document: &BTreeSet<String>) -> f64 {
    let shared = query.intersection(document).count() as f64;
    let share = |of: &BTreeSet<String>| {
        if of.is_empty() {
            0.0
        } else {
            shared / of.len() as f64
        }
    };
    // Never 0 or 1: real rerankers answer a probability.
    0.001 + 0.989 * (0.9 * share(query) + 0.1 * share(document))
}

/// Each document's [`score`] against `query`.
pub fn scores(query: &str, documents: &[String]) -> Vec<f64> {
    let q = word_set(query);
    documents.iter().map(|d| score(&q, &word_set(d))).collect()
}

/// Indices of `documents` by descending score (ties by index), the first `top` of them.
pub fn ranked(scores: &[f64], top: Option<usize>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    order.truncate(top.unwrap_or(order.len()));
    order
}

/// One rerank as the stand-in understood it.
struct Call<'a> {
    operation: &'static str,
    model: &'a str,
    resolved: &'a Resolved,
    query: &'a str,
    documents: &'a [String],
}

/// Attributes, prices and records a rerank; returns the scores.
fn bill(st: &State, c: &Call<'_>, headers: &HeaderMap) -> Vec<f64> {
    let attributed = st.attribute_texts(&[c.query], headers);
    let usage = Usage {
        queries: queries(c.documents.len()),
        ..Usage::default()
    };
    let mut rec = CallRecord::service(c.operation, (c.model, &c.resolved.base_id), Bills::Rerank);
    let price = &c.resolved.price;
    rec.bill(&usage, price.cost_of(&usage), "end_turn");
    rec.stop_reason = None;
    rec.queries = usage.queries;
    rec.unpriced = c.resolved.unpriced || !price.prices(&usage);
    rec.attribute(attributed);
    st.log(rec);
    scores(c.query, c.documents)
}

fn invalid(msg: String) -> BedrockError {
    BedrockError::Validation(msg)
}

/// An InvokeModel body of a rerank model: `{query, documents, top_n, api_version}`.
pub(super) fn invoke(
    st: &State,
    resolved: &Resolved,
    model: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, BedrockError> {
    let v = request::json(body)?;
    let query = v["query"]
        .as_str()
        .filter(|q| !q.is_empty())
        .ok_or_else(|| invalid("Malformed input request: #: required key [query] not found, please reformat your input and try again.".into()))?;
    let documents: Vec<String> = match &v["documents"] {
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|d| d.as_str().map_or_else(|| d.to_string(), str::to_string))
            .collect(),
        _ => {
            return Err(invalid("Malformed input request: #/documents: expected minimum item count: 1, please reformat your input and try again.".into()));
        }
    };
    if resolved.base_id.starts_with("cohere.") {
        match v["api_version"].as_u64() {
            Some(n) if n >= 2 => {}
            Some(n) => {
                return Err(invalid(format!(
                    "Malformed input request: #/api_version: {n} is not greater or equal to 2, please reformat your input and try again."
                )));
            }
            None => {
                return Err(invalid("Malformed input request: #: required key [api_version] not found, please reformat your input and try again.".into()));
            }
        }
    }
    let top = v["top_n"].as_u64().map(|n| n as usize);
    let call = Call {
        operation: "InvokeModel",
        model,
        resolved,
        query,
        documents: &documents,
    };
    let s = bill(st, &call, headers);
    let id = st.request_id();
    let results: Vec<Value> = ranked(&s, top)
        .into_iter()
        .map(|i| json!({"index": i, "relevance_score": s[i]}))
        .collect();
    Ok(super::service::json_reply(
        &json!({"id": id, "results": results}),
        &id,
    ))
}

/// `POST /rerank` (bedrock-agent-runtime).
pub(super) async fn agent_rerank(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let _started = Instant::now();
    let body = match axum::body::to_bytes(body, st.max_body).await {
        Ok(b) => b,
        Err(_) => return BedrockError::TooLarge { limit: st.max_body }.into_response(),
    };
    match rerank(&st, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn rerank(st: &State, headers: &HeaderMap, body: &[u8]) -> Result<Response, BedrockError> {
    let v = request::json(body)?;
    let queries = v["queries"].as_array().map_or(0, Vec::len);
    if queries != 1 {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'queries' failed to satisfy constraint: Member must have length equal to 1 (got {queries})"
        )));
    }
    let query = v["queries"][0]["textQuery"]["text"]
        .as_str()
        .filter(|q| !q.is_empty())
        .ok_or_else(|| invalid("1 validation error detected: Value at 'queries.1.member.textQuery.text' failed to satisfy constraint: Member must not be null or empty".into()))?;
    let sources = v["sources"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if sources.is_empty() || sources.len() > MAX_SOURCES {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'sources' failed to satisfy constraint: Member must have length between 1 and {MAX_SOURCES} (got {})",
            sources.len()
        )));
    }
    let documents: Vec<String> = sources
        .iter()
        .map(|s| {
            let doc = &s["inlineDocumentSource"];
            doc["textDocument"]["text"]
                .as_str()
                .map_or_else(|| doc["jsonDocument"].to_string(), str::to_string)
        })
        .collect();
    let config = &v["rerankingConfiguration"]["bedrockRerankingConfiguration"];
    let arn = config["modelConfiguration"]["modelArn"]
        .as_str()
        .ok_or_else(|| invalid("1 validation error detected: Value at 'rerankingConfiguration.bedrockRerankingConfiguration.modelConfiguration.modelArn' failed to satisfy constraint: Member must not be null".into()))?;
    let model = strip_arn(arn);
    let resolved = st
        .model(model)
        .filter(|r| is_rerank(&r.base_id))
        .ok_or_else(|| {
            invalid(format!(
                "The model {arn} is not a reranking model: use amazon.rerank-v1:0 or cohere.rerank-v3-5:0."
            ))
        })?;
    let top = config["numberOfResults"].as_u64().map(|n| n as usize);
    let call = Call {
        operation: "Rerank",
        model: arn,
        resolved: &resolved,
        query,
        documents: &documents,
    };
    let s = bill(st, &call, headers);
    let results: Vec<Value> = ranked(&s, top)
        .into_iter()
        .map(|i| json!({"index": i, "relevanceScore": s[i]}))
        .collect();
    let id = st.request_id();
    Ok(super::service::json_reply(
        &json!({"results": results}),
        &id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_sharing_the_querys_words_rank_first() {
        let docs: Vec<String> = [
            "quiet cooking stories",
            "a pirate adventure on the grand line",
            "pirate",
        ]
        .map(String::from)
        .to_vec();
        let s = scores("pirate adventure", &docs);
        assert_eq!(ranked(&s, None), [1, 2, 0]);
        assert_eq!(ranked(&s, Some(1)), [1]);
        assert!(s.iter().all(|x| *x > 0.0 && *x < 1.0));
    }

    #[test]
    fn a_query_counts_once_per_started_hundred_documents() {
        assert_eq!(queries(1), 1);
        assert_eq!(queries(100), 1);
        assert_eq!(queries(101), 2);
        assert_eq!(queries(350), 4);
        assert_eq!(queries(0), 1);
    }
}
