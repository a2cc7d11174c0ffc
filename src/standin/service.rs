//! What the non-chat operations (embeddings, rerank, guardrails, knowledge bases) share: finding
//! the case of a call from its texts, and answering JSON with a request id.

use std::sync::atomic::Ordering;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::attribution::Method;
use super::request::{Msg, Prompt};
use super::{CASE_HEADER, State, lock};

impl State {
    /// The case of a call whose input is `texts`: its `x-costgate-case` header, else the control
    /// endpoint's case, else the case whose query the texts hold.
    pub(crate) fn attribute_texts<S: AsRef<str>>(
        &self,
        texts: &[S],
        headers: &HeaderMap,
    ) -> Option<(String, Method)> {
        let prompt = Prompt {
            messages: texts
                .iter()
                .map(|t| Msg {
                    role: "user".into(),
                    parts: vec![t.as_ref().to_string()],
                    media: Vec::new(),
                })
                .collect(),
            ..Prompt::default()
        };
        let header_case = headers.get(CASE_HEADER).and_then(|v| v.to_str().ok());
        let current = lock(&self.current).clone();
        self.cases
            .attribute(&prompt, header_case, current.as_deref())
    }

    /// The priced model `model` names (profile and ARN stripped), else a model of a known
    /// provider served unpriced; `None` for an id of no provider.
    pub(crate) fn model(&self, model: &str) -> Option<crate::measure::pricing::Resolved> {
        self.pricing
            .resolve(model)
            .ok()
            .or_else(|| self.pricing.unpriced(model))
    }

    /// The next request id, in the UUID shape Bedrock's have.
    pub(crate) fn request_id(&self) -> String {
        let seq = self.served.fetch_add(1, Ordering::Relaxed);
        format!("00000000-0000-4000-8000-{seq:012x}")
    }
}

/// A 200 answer with a JSON body and its request id.
pub(crate) fn json_reply(body: &Value, request_id: &str) -> Response {
    let mut r = (StatusCode::OK, serde_json::to_vec(body).unwrap_or_default()).into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    r
}
