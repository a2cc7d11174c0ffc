//! Guardrails on the stand-in: `ApplyGuardrail`, and the guardrail a Converse (`guardrailConfig`)
//! or InvokeModel (guardrail headers) call names. What each guardrail checks comes from the base's
//! `guardrails:`; each check bills its text units once per policy type. A case can script an
//! intervention (`guardrail: intervene`): the input is blocked and the model call it prevents is
//! not billed.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::State;
use super::error::BedrockError;
use super::record::{Bills, CallRecord};
use super::request::{self};
use crate::measure::dataset::{Case, GuardrailScript};
use crate::measure::guardrails::{self, POLICIES};

/// What a blocked input is answered with (the guardrail's configured message in production).
pub const BLOCKED_MESSAGE: &str = "Sorry, I can't help with that request.";

/// One guardrail check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The guardrail's id as `guardrails:` names it, with its policies: `gr-1 (content, word)`.
    pub label: String,
    pub text_units: u64,
    pub usd: f64,
    /// Every policy type is priced in the table.
    pub priced: bool,
    pub intervened: bool,
    /// ApplyGuardrail's `usage` object.
    pub usage: Value,
}

/// Checks `texts` with guardrail `id`; `case` scripts an intervention on the input.
pub fn check(
    st: &State,
    id: &str,
    texts: &[&str],
    input: bool,
    case: Option<&Case>,
) -> Result<Check, BedrockError> {
    let (name, g) = st.guardrails.get(id).ok_or_else(|| {
        BedrockError::NotFound(format!(
            "The guardrail `{id}` is not declared in the base's costgate.yaml: add `guardrails: {{{id}: {{policies: [content, denied_topics]}}}}` with the policy types it has, so its checks are priced."
        ))
    })?;
    let units = guardrails::text_units(texts.iter().copied());
    let (usd, priced) = guardrails::cost(g, units, &st.pricing);
    let mut usage = serde_json::Map::new();
    for (policy, field) in POLICIES {
        let n = if g.policies.iter().any(|p| p == policy) {
            units
        } else {
            0
        };
        usage.insert(field.to_string(), json!(n));
    }
    let intervened = input && case.and_then(|c| c.guardrail) == Some(GuardrailScript::Intervene);
    Ok(Check {
        label: format!("{name} ({})", g.policies.join(", ")),
        text_units: units,
        usd,
        priced,
        intervened,
        usage: Value::Object(usage),
    })
}

/// `POST /guardrail/{id}/version/{version}/apply`.
pub(super) async fn apply_guardrail(
    AxState(st): AxState<Arc<State>>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(Path((id, _version))) = path else {
        return BedrockError::Validation(
            "The guardrail identifier in the path is not valid.".into(),
        )
        .into_response();
    };
    let body = match axum::body::to_bytes(body, st.max_body).await {
        Ok(b) => b,
        Err(_) => return BedrockError::TooLarge { limit: st.max_body }.into_response(),
    };
    match apply(&st, &id, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn apply(st: &State, id: &str, headers: &HeaderMap, body: &[u8]) -> Result<Response, BedrockError> {
    let v = request::json(body)?;
    let input = match v["source"].as_str() {
        Some("INPUT") => true,
        Some("OUTPUT") => false,
        _ => {
            return Err(BedrockError::Validation(
                "1 validation error detected: Value at 'source' failed to satisfy constraint: Member must satisfy enum value set: [INPUT, OUTPUT]".into(),
            ));
        }
    };
    let texts: Vec<String> = v["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"]["text"].as_str().map(str::to_string))
        .collect();
    if v["content"].as_array().is_none_or(Vec::is_empty) {
        return Err(BedrockError::Validation(
            "1 validation error detected: Value at 'content' failed to satisfy constraint: Member must not be null or empty".into(),
        ));
    }
    let attributed = st.attribute_texts(&texts, headers);
    let case = attributed.as_ref().and_then(|(id, _)| st.cases.get(id));
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let c = check(st, id, &refs, input, case)?;
    let mut rec = CallRecord::service(
        "ApplyGuardrail",
        (id, &format!("guardrail/{id}")),
        Bills::Guardrail,
    );
    rec.cost_usd = c.usd;
    rec.guardrail = Some(c.label.clone());
    rec.guardrail_text_units = c.text_units;
    rec.guardrail_usd = c.usd;
    rec.unpriced = !c.priced;
    rec.attribute(attributed);
    st.log(rec);
    let request_id = st.request_id();
    let (action, outputs) = if c.intervened {
        ("GUARDRAIL_INTERVENED", json!([{"text": BLOCKED_MESSAGE}]))
    } else {
        ("NONE", json!([]))
    };
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    let out = json!({
        "usage": c.usage,
        "action": action,
        "outputs": outputs,
        "assessments": [{}],
        "guardrailCoverage": {"textCharacters": {"guarded": chars, "total": chars}},
    });
    Ok(super::service::json_reply(&out, &request_id))
}
