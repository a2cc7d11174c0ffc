//! A model request as the stand-in understands it: the model (a prompt router resolved to the
//! model its rule picks), the body read by operation and family, the request's reasoning, step,
//! guardrail and tier, and its exact count.

use axum::http::HeaderMap;
use base64::Engine;

use super::error::BedrockError;
use super::media::MediaRule;
use super::request::{self, Counted, Family, Prompt};
use super::{STEP_HEADER, State};
use crate::measure::pricing::{Resolved, Tier};
use crate::measure::reasoning::Setting;
use crate::measure::routers::Routers;

/// InvokeModel's service tier (the service model's `serviceTier` member of InvokeModelRequest).
const TIER_HEADER: &str = "x-amzn-bedrock-service-tier";

/// InvokeModel's latency setting (`performanceConfigLatency` of InvokeModelRequest).
const LATENCY_HEADER: &str = "x-amzn-bedrock-performanceconfig-latency";

/// InvokeModel's guardrail (`guardrailIdentifier` of InvokeModelRequest).
const GUARDRAIL_HEADER: &str = "x-amzn-bedrock-guardrailidentifier";

/// A model operation the stand-in serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operation {
    Converse,
    ConverseStream,
    Invoke,
    InvokeStream,
    CountTokens,
    /// `POST /openai/v1/chat/completions`.
    OpenAiChat,
    /// `POST /openai/v1/responses`.
    OpenAiResponses,
}

impl Operation {
    pub(super) fn parse(s: &str) -> Option<Operation> {
        Some(match s {
            "converse" => Operation::Converse,
            "converse-stream" => Operation::ConverseStream,
            "invoke" => Operation::Invoke,
            "invoke-with-response-stream" => Operation::InvokeStream,
            "count-tokens" => Operation::CountTokens,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Operation::Converse => "Converse",
            Operation::ConverseStream => "ConverseStream",
            Operation::Invoke => "InvokeModel",
            Operation::InvokeStream => "InvokeModelWithResponseStream",
            Operation::CountTokens => "CountTokens",
            Operation::OpenAiChat => "ChatCompletions",
            Operation::OpenAiResponses => "Responses",
        }
    }
}

/// A model request as the stand-in understood it.
pub(super) struct Request {
    /// The model id as the client sent it.
    pub model: String,
    pub resolved: Resolved,
    pub prompt: Prompt,
    /// The InvokeModel body family; `None` for Converse and CountTokens.
    pub family: Option<Family>,
    pub counted: Counted,
    /// The reasoning the call bills, checked against the model (none for CountTokens).
    pub reasoning: Option<Setting>,
    /// The step the call names (`requestMetadata.costgate_step` or the step header).
    pub step: Option<String>,
    /// The guardrail the call applies (Converse `guardrailConfig`, InvokeModel's header).
    pub guardrail: Option<String>,
    /// An OpenAI-compatible request asked for a stream (`stream: true`).
    pub stream: bool,
    /// The model a prompt router sent the call to.
    pub routed: Option<String>,
    /// That router's own fee per request (0 unless the pricing file prices it).
    pub router_fee: f64,
}

/// The body by operation and family, the service tier, the exact count, the routed model and the
/// reasoning it bills. `resolved` is [`resolve`]'s answer for `model`, found once per request.
pub(super) fn parse(
    st: &State,
    op: Operation,
    (model, resolved): (&str, Resolved),
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Request, BedrockError> {
    let family = || {
        Family::of(&resolved.base_id).ok_or_else(|| {
            BedrockError::Validation(format!(
                "The stand-in does not know the InvokeModel body format of `{}`; use Converse, or a model of the Anthropic, Amazon Nova, Amazon Titan Text, Meta Llama, Mistral or OpenAI families.",
                resolved.base_id
            ))
        })
    };
    let json = request::json(body)?;
    let (mut prompt, fam) = match op {
        Operation::Converse | Operation::ConverseStream => (request::converse(&json)?, None),
        Operation::Invoke | Operation::InvokeStream => {
            let f = family()?;
            let mut p = request::invoke(f, &json)?;
            if let Some(t) = headers.get(TIER_HEADER) {
                let name = t.to_str().unwrap_or("");
                p.tier = request::tier_named(name, TIER_HEADER)?;
            }
            if headers
                .get(LATENCY_HEADER)
                .is_some_and(|v| v.as_bytes() == b"optimized")
            {
                p.tier = Tier::LatencyOptimized;
            }
            (p, Some(f))
        }
        Operation::CountTokens => (count_tokens_input(&json, family)?, None),
        Operation::OpenAiChat => (
            request::invoke(Family::OpenAi, &json)?,
            Some(Family::OpenAi),
        ),
        Operation::OpenAiResponses => (super::openai::responses_prompt(&json)?, None),
    };
    prompt.media_rule = MediaRule::for_model(&resolved.base_id);
    let step = prompt.step.clone().or_else(|| {
        headers
            .get(STEP_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let guardrail = prompt.guardrail.clone().or_else(|| {
        headers
            .get(GUARDRAIL_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let mut counted = prompt.count(&resolved.price);
    let mut resolved = resolved;
    let (mut routed, mut router_fee) = (None, 0.0);
    if Routers::is_router(model) {
        let target = router(st, model)?.pick(counted.input_tokens).to_string();
        if crate::measure::pricing::strip_arn(&target) != resolved.base_id {
            resolved = resolve(st, &target)?;
            prompt.media_rule = MediaRule::for_model(&resolved.base_id);
            counted = prompt.count(&resolved.price);
        }
        // The router's own fee, when the pricing file prices the router by its ARN.
        router_fee = st
            .pricing
            .resolve(model)
            .ok()
            .and_then(|r| r.price.units.per_request)
            .unwrap_or(0.0);
        routed = Some(target);
    }
    // Checked against the model that answers (a router's routed model).
    let reasoning = match op {
        Operation::CountTokens => None,
        _ => super::reasoning::settle(prompt.reasoning, &resolved.base_id, prompt.max_tokens)?,
    };
    Ok(Request {
        model: model.to_string(),
        resolved,
        prompt,
        family: fam,
        counted,
        reasoning,
        step,
        guardrail,
        stream: json["stream"].as_bool() == Some(true),
        routed,
        router_fee,
    })
}

/// The model a call names; a model the table does not price is still served, and recorded as
/// unpriced.
pub(super) fn resolve(st: &State, model: &str) -> Result<Resolved, BedrockError> {
    // A prompt router is parsed and counted as its first model, then routed (`route`).
    if Routers::is_router(model) {
        let first = router(st, model)?
            .models
            .first()
            .cloned()
            .unwrap_or_default();
        return resolve(st, &first);
    }
    st.model(model)
        .ok_or_else(|| BedrockError::ModelNotFound(model.to_string()))
}

/// The base's declaration of router `arn`.
fn router<'a>(
    st: &'a State,
    arn: &str,
) -> Result<&'a crate::measure::routers::Router, BedrockError> {
    st.routers.0.get(arn).ok_or_else(|| {
        BedrockError::NotFound(format!(
            "The prompt router `{arn}` is not declared in the base's costgate.yaml: add `routers: {{\"{arn}\": {{models: [cheap-model, big-model], rule: shortest}}}}` so its calls are routed and priced."
        ))
    })
}

/// CountTokens wraps a Converse request or a base64 InvokeModel body.
fn count_tokens_input(
    json: &serde_json::Value,
    family: impl Fn() -> Result<Family, BedrockError>,
) -> Result<Prompt, BedrockError> {
    let input = &json["input"];
    if let Some(c) = input.get("converse") {
        return request::converse(c);
    }
    let Some(b) = input["invokeModel"]["body"].as_str() else {
        return Err(BedrockError::Validation(
            "Malformed input request: `input` must hold `converse` or `invokeModel`.".into(),
        ));
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b)
        .map_err(|e| {
            BedrockError::Validation(format!(
                "Malformed input request: `input.invokeModel.body` is not base64: {e}."
            ))
        })?;
    request::invoke(family()?, &request::json(&raw)?)
}
