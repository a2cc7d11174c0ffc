//! The model operations' request path: body cap, the request as [`super::call`] reads it, metering,
//! attribution, the answer (a tool call, a step's answer or synthetic text after the call's
//! reasoning, through its guardrail), the audit record and the response in the operation's own
//! wire shape.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use super::call::{Operation, Request, parse, resolve};
use super::error::BedrockError;
use super::record::CallRecord;
use super::request::{self, Prompt};
use super::response::{self, Answer, Reasoning};
use super::{CASE_HEADER, State, answer, eventstream, lock, script};
use crate::measure::cache::{self, Dropped};
use crate::measure::pricing::{Ttl, Usage};
use crate::measure::reasoning::Split;
use crate::measure::render::DEFAULT_OUTPUT_TOKENS;
use crate::measure::steps::StepAnswer;
use crate::measure::tokenize;

/// `POST /openai/v1/chat/completions`.
pub(super) async fn openai_chat(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    openai(st, Operation::OpenAiChat, headers, body).await
}

/// `POST /openai/v1/responses`.
pub(super) async fn openai_responses(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    openai(st, Operation::OpenAiResponses, headers, body).await
}

/// The OpenAI-compatible operations name the model in the body.
async fn openai(st: Arc<State>, op: Operation, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let body = match axum::body::to_bytes(body, st.max_body).await {
        Ok(b) => b,
        Err(_) => return BedrockError::TooLarge { limit: st.max_body }.into_response(),
    };
    let model = match request::json(&body).and_then(|v| super::openai::model(&v)) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    match handle(&st, op, &model, &headers, &body, started) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

pub(super) async fn model_operation(
    AxState(st): AxState<Arc<State>>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let Ok(Path((model, op))) = path else {
        return BedrockError::Validation(
            "The model identifier in the path is not valid percent-encoded UTF-8.".into(),
        )
        .into_response();
    };
    let Some(op) = Operation::parse(&op) else {
        let path = format!("/model/{model}/{op}");
        st.unknown_operation("POST", &path);
        return BedrockError::UnknownOperation(path).into_response();
    };
    let body = match axum::body::to_bytes(body, st.max_body).await {
        Ok(b) => b,
        Err(_) => return BedrockError::TooLarge { limit: st.max_body }.into_response(),
    };
    match handle(&st, op, &model, &headers, &body, started) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn handle(
    st: &State,
    op: Operation,
    model: &str,
    headers: &HeaderMap,
    body: &[u8],
    started: Instant,
) -> Result<Response, BedrockError> {
    let resolved = resolve(st, model)?;
    if op != Operation::CountTokens {
        if let Some(r) =
            super::retrieval::invoke(st, op.name(), &resolved, model, headers, body, started)
        {
            return r;
        }
    }
    let req = parse(st, op, (model, resolved), headers, body)?;
    let mut metered = meter(&req);
    let seq = st.served.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("00000000-0000-4000-8000-{seq:012x}");
    if op == Operation::CountTokens {
        // Counting is free and attributed to no case.
        metered.dropped.clear();
        metered.claim = None;
        st.log(record(op, &req, metered));
        let body = serde_json::json!({"inputTokens": req.counted.input_tokens});
        return Ok(reply(
            "application/json",
            serde_json::to_vec(&body).unwrap_or_default(),
            &request_id,
            None,
        ));
    }
    let answered = answer_call(st, &req, &mut metered, headers, started, request_id)?;
    let mut call = record(op, &req, metered);
    call.bill(
        &answered.usage,
        req.resolved.price.cost_of(&answered.usage),
        answered.answer.converse_stop(),
    );
    call.case = answered.case;
    call.attribution = answered.method;
    call.reasoning_tokens = answered.answer.reasoning.as_ref().map_or(0, |r| r.tokens);
    call.reasoning = req.reasoning.map(|r| r.to_string());
    call.step = req.step.clone();
    call.context_hits = answered.context_hits;
    call.cost_usd += req.router_fee;
    call.router_fee_usd = req.router_fee;
    if let Some(g) = &answered.guard {
        call.cost_usd += g.usd;
        call.guardrail = Some(g.label.clone());
        call.guardrail_text_units = g.text_units;
        call.guardrail_usd = g.usd;
        call.unpriced |= !g.priced;
        if g.intervened {
            // The model call the guardrail prevented is not billed.
            call.input_tokens = 0;
            call.segments = Default::default();
        }
    }
    st.log(call);
    respond(op, &req, &answered.answer)
}

fn record(op: Operation, req: &Request, metered: Metered) -> CallRecord {
    let mut rec = CallRecord::new(
        op.name(),
        (&req.model, &req.resolved.base_id),
        &req.counted,
        req.prompt.tier,
        metered.claim,
        metered.dropped,
    );
    rec.unpriced = req.resolved.unpriced;
    rec
}

/// What metering a request found before answering it.
pub(super) struct Metered {
    pub claim: Option<cache::Claim>,
    pub ttl: Ttl,
    pub dropped: Vec<Dropped>,
}

/// The cache points Bedrock would honour, and what it would not (estimated media, points below
/// a model's minimum, an unpriced tier).
fn meter(req: &Request) -> Metered {
    let (resolved, prompt) = (&req.resolved, &req.prompt);
    let mut dropped = Vec::new();
    if prompt.has_media() {
        dropped.push(Dropped::MediaEstimated {
            model: resolved.base_id.clone(),
        });
    }
    let (points, ttl) = prompt.cache_points(&resolved.price);
    let claim = cache::eligible(
        &resolved.base_id,
        &resolved.price,
        ttl,
        points,
        &mut dropped,
    );
    if resolved.price.tier(prompt.tier).is_none() {
        dropped.push(Dropped::UnpricedTier {
            model: resolved.base_id.clone(),
            tier: prompt.tier,
        });
    }
    Metered {
        claim,
        ttl,
        dropped,
    }
}

/// A model call's answer and the case it belongs to.
struct Answered {
    answer: Answer,
    usage: Usage,
    case: Option<String>,
    method: Option<super::attribution::Method>,
    context_hits: Vec<usize>,
    /// The guardrail's checks of the input and the answer.
    guard: Option<super::guardrail::Check>,
}

/// Attributes the call to a case, takes the case's scripted tool call, its step's answer or a
/// synthetic answer of the case's length after the call's reasoning, and serves the prompt cache
/// in call order.
fn answer_call(
    st: &State,
    req: &Request,
    metered: &mut Metered,
    headers: &HeaderMap,
    started: Instant,
    request_id: String,
) -> Result<Answered, BedrockError> {
    let (resolved, prompt) = (&req.resolved, &req.prompt);
    let header_case = headers.get(CASE_HEADER).and_then(|v| v.to_str().ok());
    let current = lock(&st.current).clone();
    let attributed = st.cases.attribute(prompt, header_case, current.as_deref());
    let info = attributed.as_ref().and_then(|(id, _)| st.cases.get(id));
    let mut skipped = Vec::new();
    let tool = info.and_then(|c| script::next(&c.tool_calls, prompt, &mut skipped));
    metered.dropped.extend(
        skipped
            .into_iter()
            .map(|tool| Dropped::ToolNotDeclared { tool }),
    );
    let case = info;
    let guard_in = match req.guardrail.as_deref() {
        Some(id) => {
            let texts: Vec<&str> = prompt.texts().collect();
            Some(super::guardrail::check(st, id, &texts, true, case)?)
        }
        None => None,
    };
    let blocked = guard_in.as_ref().is_some_and(|g| g.intervened);
    let reasoning = req.reasoning.map_or(0, |s| st.reasoning.tokens(s));
    let (text, split) = match &tool {
        _ if blocked => (
            super::guardrail::BLOCKED_MESSAGE.to_string(),
            Split::default(),
        ),
        // A tool call is as long as its input, never cut by the request's cap.
        Some(t) => (
            String::new(),
            Split::new(reasoning, t.output_tokens(&resolved.price), None),
        ),
        None => st.answer_text(req, case, reasoning)?,
    };
    let guard = match (guard_in, req.guardrail.as_deref()) {
        (Some(mut g), Some(id)) if !blocked => {
            let out = super::guardrail::check(st, id, &[&text], false, case)?;
            g.text_units += out.text_units;
            g.usd += out.usd;
            Some(g)
        }
        (g, _) => g,
    };
    let served = if blocked {
        Default::default()
    } else {
        metered
            .claim
            .as_ref()
            .map(|c| lock(&st.cache).serve(c))
            .unwrap_or_default()
    };
    let input_tokens = if blocked { 0 } else { req.counted.input_tokens };
    let output_tokens = split.output();
    let usage = Usage {
        input_tokens,
        output_tokens,
        cache_read_tokens: served.read,
        cache_write_tokens: served.write,
        cache_ttl: metered.ttl,
        tier: prompt.tier,
        ..Usage::default()
    };
    let answer = Answer {
        text,
        input_tokens,
        output_tokens,
        capped: split.capped,
        model: req.model.clone(),
        latency_ms: started.elapsed().as_millis() as u64,
        request_id,
        cache_read: served.read,
        cache_write: served.write,
        tool: if blocked { None } else { tool },
        tier: prompt.tier,
        routed: req.routed.clone(),
        guardrail_action: guard
            .as_ref()
            .map(|g| if g.intervened { "INTERVENED" } else { "NONE" }),
        // A setting priced at 0 tokens (a policy of 0) shows no reasoning block.
        reasoning: (req.reasoning.is_some() && split.reasoning > 0)
            .then(|| Reasoning::new(split.reasoning, &resolved.base_id, resolved.price.tokenizer)),
    };
    let (case, method) = attributed.map_or((None, None), |(c, m)| (Some(c), Some(m)));
    let context_hits = case
        .as_deref()
        .map_or_else(Vec::new, |id| st.context_hits(id, prompt));
    Ok(Answered {
        answer,
        usage,
        case,
        method,
        context_hits,
        guard,
    })
}

/// The answer in the operation's own wire shape.
fn respond(op: Operation, req: &Request, answer: &Answer) -> Result<Response, BedrockError> {
    let uncached = answer.uncached();
    let usage = Some((&uncached, &answer.output_tokens, answer.latency_ms));
    let id = &answer.request_id;
    Ok(match (op, req.family) {
        (Operation::Converse, _) => reply(
            "application/json",
            json_bytes(&response::converse(answer)),
            id,
            usage,
        ),
        (Operation::ConverseStream, _) => reply(
            eventstream::CONTENT_TYPE,
            response::converse_stream(answer),
            id,
            usage,
        ),
        (Operation::Invoke, Some(f)) => reply(
            "application/json",
            json_bytes(&response::invoke(f, &req.prompt, answer)),
            id,
            usage,
        ),
        (Operation::OpenAiChat, _) if req.stream => reply(
            "text/event-stream",
            super::openai::chat_stream(answer),
            id,
            None,
        ),
        (Operation::OpenAiChat, _) => reply(
            "application/json",
            json_bytes(&super::openai::chat(answer)),
            id,
            None,
        ),
        (Operation::OpenAiResponses, _) if req.stream => reply(
            "text/event-stream",
            super::openai::responses_stream(answer),
            id,
            None,
        ),
        (Operation::OpenAiResponses, _) => reply(
            "application/json",
            json_bytes(&super::openai::responses(answer)),
            id,
            None,
        ),
        (Operation::InvokeStream, Some(f)) => reply(
            eventstream::CONTENT_TYPE,
            response::invoke_stream(f, &req.prompt, answer),
            id,
            usage,
        ),
        // Invoke operations always carry a family (checked in `parse`).
        _ => return Err(BedrockError::Validation("unsupported operation".into())),
    })
}

impl State {
    /// Which of case `id`'s expected context strings occur in the request's text (system parts,
    /// which hold the tool definitions, and every message part, tool results included).
    fn context_hits(&self, id: &str, prompt: &Prompt) -> Vec<usize> {
        let Some(case) = self
            .cases
            .get(id)
            .filter(|c| !c.expected_context().is_empty())
        else {
            return Vec::new();
        };
        let mut texts: Vec<&str> = prompt.system.iter().map(String::as_str).collect();
        for m in &prompt.messages {
            texts.extend(m.parts.iter().map(String::as_str));
        }
        crate::measure::dataset::found_in(case.expected_context(), &texts)
            .into_iter()
            .enumerate()
            .filter_map(|(i, found)| found.then_some(i))
            .collect()
    }

    /// The answer text of a call that makes no tool call, and its split of the output: the step's
    /// answer when the call names a declared step, else synthetic text of the case's length (its
    /// own `output_tokens`, else its intent's calibrated length, else render mode's default).
    fn answer_text(
        &self,
        req: &Request,
        case: Option<&crate::measure::dataset::Case>,
        reasoning: u64,
    ) -> Result<(String, Split), BedrockError> {
        let price = &req.resolved.price;
        let cap = req.prompt.max_tokens;
        let stepped = match req.step.as_deref() {
            Some(name) => match self.steps.answer(name, case) {
                Some(Ok(a)) => Some(a),
                Some(Err(e)) => {
                    return Err(BedrockError::Validation(format!(
                        "costgate step `{name}`: {e}. Fix the step's `answer` in the base's costgate.yaml."
                    )));
                }
                None => {
                    self.undeclared_step(name);
                    None
                }
            },
            None => None,
        };
        let wanted = match stepped {
            Some(StepAnswer::Text(text)) => {
                let count = |t: &str| tokenize::scale(price.tokenizer.count(t), price.token_scale);
                let full = count(&text);
                let split = Split::new(reasoning, full, cap);
                if !split.capped {
                    return Ok((text, split));
                }
                let kept = answer::prefix_within(&text, split.answer, count);
                let split = Split {
                    answer: count(kept),
                    ..split
                };
                return Ok((kept.to_string(), split));
            }
            Some(StepAnswer::Tokens(n)) => n,
            None => self.answer_length(case),
        };
        let split = Split::new(reasoning, wanted, cap);
        Ok((answer::text(split.answer, price.tokenizer), split))
    }

    /// The length of a case's synthetic answer: its own `output_tokens`, else its intent's
    /// calibrated length, else render mode's default.
    pub(super) fn answer_length(&self, case: Option<&crate::measure::dataset::Case>) -> u64 {
        case.and_then(|c| c.output_tokens)
            .or_else(|| case.and_then(|c| self.output_by_intent.get(&c.intent).copied()))
            .unwrap_or(DEFAULT_OUTPUT_TOKENS)
    }

    pub(super) fn log(&self, rec: CallRecord) {
        if let Some(r) = &self.recorder {
            r.write(&rec);
        }
        // Progress counts dataset cases only: a tag naming no case is not progress.
        if let (Some(case), true) = (&rec.case, rec.is_billable()) {
            let mut seen = lock(&self.seen);
            if self.may_track(case, seen.len(), seen.contains(case)) {
                seen.insert(case.clone());
            }
        }
        for tool in &rec.skipped_tools {
            *lock(&self.skipped_tools).entry(tool.clone()).or_default() += 1;
        }
        if self.keep_calls {
            lock(&self.calls).push(rec);
        }
    }
}

fn json_bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn reply(
    content_type: &'static str,
    body: Vec<u8>,
    request_id: &str,
    usage: Option<(&u64, &u64, u64)>,
) -> Response {
    let mut r = if content_type == eventstream::CONTENT_TYPE {
        (StatusCode::OK, eventstream::streamed(body)).into_response()
    } else {
        (StatusCode::OK, body).into_response()
    };
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some((input, output, latency)) = usage {
        h.insert(
            "x-amzn-bedrock-input-token-count",
            HeaderValue::from(*input),
        );
        h.insert(
            "x-amzn-bedrock-output-token-count",
            HeaderValue::from(*output),
        );
        h.insert(
            "x-amzn-bedrock-invocation-latency",
            HeaderValue::from(latency),
        );
    }
    r
}
