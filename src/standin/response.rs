//! Response bodies: Converse's, and each InvokeModel family's own shape (usage field names differ by
//! family), both whole and as the stream events of ConverseStream / InvokeModelWithResponseStream.

use base64::Engine;
use serde_json::{Value, json};

use super::answer;
use super::eventstream::write_event;
use super::request::{Family, Prompt};
use super::script::{self, ToolUse};

/// Words per stream delta.
const DELTA_WORDS: usize = 8;

/// Bytes of a tool call's input JSON per stream delta.
const DELTA_JSON_BYTES: usize = 24;

/// A synthetic answer and its usage.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub text: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The request's cap cut the answer short.
    pub capped: bool,
    /// The model id as requested (echoed by families that echo it).
    pub model: String,
    pub latency_ms: u64,
    pub request_id: String,
    /// Prompt-cache tokens as Bedrock's sequential cache served them (part of `input_tokens`).
    pub cache_read: u64,
    pub cache_write: u64,
    /// The scripted tool call this answer makes instead of text.
    pub tool: Option<ToolUse>,
    /// The reasoning before the answer (its tokens are part of `output_tokens`).
    pub reasoning: Option<Reasoning>,
    /// `NONE` or `INTERVENED` when the call applied a guardrail.
    pub guardrail_action: Option<&'static str>,
    /// The tier the call was served (and priced) at.
    pub tier: crate::measure::pricing::Tier,
    /// The model a prompt router sent the call to (Converse names it in `trace.promptRouter`).
    pub routed: Option<String>,
}

/// A call's reasoning as the response shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reasoning {
    pub tokens: u64,
    /// What the response shows: the reasoning text, or `[REDACTED]` where the model hides it
    /// (Nova 2), billed all the same.
    pub text: String,
    /// Anthropic models sign their reasoning; other families' reasoning is unsigned.
    pub signature: Option<String>,
}

impl Reasoning {
    /// The reasoning of `tokens` tokens as `base_id`'s responses carry it.
    pub fn new(tokens: u64, base_id: &str, encoding: crate::measure::tokenize::Encoding) -> Self {
        let text = if base_id.starts_with("amazon.nova") {
            "[REDACTED]".to_string()
        } else {
            answer::text(tokens, encoding)
        };
        let signature = base_id.starts_with("anthropic.").then(|| {
            // Opaque to clients, which send it back unchanged; fixed so answers repeat exactly.
            base64::engine::general_purpose::STANDARD
                .encode(format!("costgate-reasoning-signature:{tokens}"))
        });
        Reasoning {
            tokens,
            text,
            signature,
        }
    }

    /// Converse's `reasoningContent` block.
    fn converse_block(&self) -> Value {
        let mut text = json!({"text": self.text});
        if let Some(sig) = &self.signature {
            text["signature"] = json!(sig);
        }
        json!({"reasoningContent": {"reasoningText": text}})
    }
}

impl Answer {
    /// The stop reason in Converse's vocabulary (also Anthropic's and Nova's).
    pub fn converse_stop(&self) -> &'static str {
        if self.guardrail_action == Some("INTERVENED") {
            "guardrail_intervened"
        } else if self.tool.is_some() {
            "tool_use"
        } else if self.capped {
            "max_tokens"
        } else {
            "end_turn"
        }
    }

    /// The stop reason in `family`'s vocabulary.
    pub fn stop(&self, family: Family) -> &'static str {
        match (family, self.capped) {
            _ if self.tool.is_some() && family == Family::OpenAi => "tool_calls",
            (Family::Anthropic | Family::Nova, _) => self.converse_stop(),
            (Family::Titan, false) => "FINISH",
            (Family::Titan, true) => "LENGTH",
            (Family::Llama | Family::Mistral | Family::OpenAi, false) => "stop",
            (Family::Llama | Family::Mistral | Family::OpenAi, true) => "length",
        }
    }

    /// Input tokens neither read from nor written to the cache: what Bedrock's and Anthropic's
    /// `inputTokens` / `input_tokens` report when a request uses prompt caching.
    pub fn uncached(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read + self.cache_write)
    }

    fn usage(&self) -> Value {
        let mut u = json!({"inputTokens": self.uncached(), "outputTokens": self.output_tokens, "totalTokens": self.input_tokens + self.output_tokens});
        if self.cache_read + self.cache_write > 0 {
            u["cacheReadInputTokens"] = json!(self.cache_read);
            u["cacheWriteInputTokens"] = json!(self.cache_write);
        }
        u
    }

    /// Anthropic's usage object (the cache fields only when the request used the cache).
    fn anthropic_usage(&self, output_tokens: u64) -> Value {
        let mut u = json!({"input_tokens": self.uncached(), "output_tokens": output_tokens});
        if self.cache_read + self.cache_write > 0 {
            u["cache_read_input_tokens"] = json!(self.cache_read);
            u["cache_creation_input_tokens"] = json!(self.cache_write);
        }
        u
    }

    fn metrics(&self) -> Value {
        json!({"inputTokenCount": self.input_tokens, "outputTokenCount": self.output_tokens,
               "invocationLatency": self.latency_ms, "firstByteLatency": self.latency_ms})
    }

    /// The answer's content blocks in Converse's (and Nova's) shape: the reasoning first.
    fn converse_content(&self) -> Value {
        let answer = match &self.tool {
            Some(t) => {
                json!({"toolUse": {"toolUseId": tool_id(Family::Nova, t), "name": t.name, "input": t.input}})
            }
            None => json!({"text": self.text}),
        };
        match &self.reasoning {
            Some(r) => json!([r.converse_block(), answer]),
            None => json!([answer]),
        }
    }

    /// Converse-shaped stream events (ConverseStream's, and Nova's chunks) for the content block:
    /// `(event type, payload)` in order, without the message start and stop.
    fn converse_block_events(&self) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        // Reasoning is block 0 (deltas of text, then its signature, no start event); the answer
        // follows it.
        let mut at = 0;
        if let Some(r) = &self.reasoning {
            for delta in answer::chunks(&r.text, DELTA_WORDS) {
                out.push((
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": delta}}}),
                ));
            }
            if let Some(sig) = &r.signature {
                out.push((
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": sig}}}),
                ));
            }
            out.push(("contentBlockStop", json!({"contentBlockIndex": 0})));
            at = 1;
        }
        match &self.tool {
            Some(t) => {
                out.push((
                    "contentBlockStart",
                    json!({"contentBlockIndex": at,
                    "start": {"toolUse": {"toolUseId": tool_id(Family::Nova, t), "name": t.name}}}),
                ));
                for piece in script::pieces(&t.input_json(), DELTA_JSON_BYTES) {
                    out.push((
                        "contentBlockDelta",
                        json!({"contentBlockIndex": at, "delta": {"toolUse": {"input": piece}}}),
                    ));
                }
            }
            None => {
                for delta in answer::chunks(&self.text, DELTA_WORDS) {
                    out.push((
                        "contentBlockDelta",
                        json!({"contentBlockIndex": at, "delta": {"text": delta}}),
                    ));
                }
            }
        }
        out.push(("contentBlockStop", json!({"contentBlockIndex": at})));
        out
    }

    /// Anthropic's content blocks: a `thinking` block before the answer.
    fn anthropic_content(&self) -> Value {
        let answer = match &self.tool {
            Some(t) => {
                json!({"type": "tool_use", "id": tool_id(Family::Anthropic, t), "name": t.name, "input": t.input})
            }
            None => json!({"type": "text", "text": self.text}),
        };
        match &self.reasoning {
            Some(r) => json!([
                {"type": "thinking", "thinking": r.text, "signature": r.signature.clone().unwrap_or_default()},
                answer
            ]),
            None => json!([answer]),
        }
    }

    /// An OpenAI chat answer's content: gpt-oss on Bedrock puts its reasoning, in `<reasoning>`
    /// tags, before the text.
    fn openai_text(&self) -> String {
        match &self.reasoning {
            Some(r) => format!("<reasoning>{}</reasoning>{}", r.text, self.text),
            None => self.text.clone(),
        }
    }

    /// OpenAI's usage object, with the reasoning tokens in `completion_tokens_details`.
    pub(super) fn openai_usage(&self) -> Value {
        let mut u = json!({"prompt_tokens": self.input_tokens, "completion_tokens": self.output_tokens, "total_tokens": self.input_tokens + self.output_tokens});
        if let Some(r) = &self.reasoning {
            u["completion_tokens_details"] = json!({"reasoning_tokens": r.tokens});
        }
        u
    }
}

/// A tool call's id in `family`'s style (Converse and Nova share one), made from its step so that
/// answers are byte-identical run to run and unique within a conversation.
fn tool_id(family: Family, t: &ToolUse) -> String {
    match family {
        Family::Anthropic => format!("toolu_bdrk_costgate{:04}", t.step),
        Family::OpenAi | Family::Mistral => format!("call_costgate{:04}", t.step),
        Family::Nova | Family::Titan | Family::Llama => format!("tooluse_costgate{:04}", t.step),
    }
}

/// An OpenAI chat message's `tool_calls`, with the whole arguments or an empty string (a stream's
/// first chunk).
fn openai_tool_calls(t: &ToolUse, arguments: &str) -> Value {
    json!([{"index": 0, "id": tool_id(Family::OpenAi, t), "type": "function",
            "function": {"name": t.name, "arguments": arguments}}])
}

/// The Converse response body, with the served tier when the request chose one.
pub fn converse(a: &Answer) -> Value {
    let mut v = json!({
        "output": {"message": {"role": "assistant", "content": a.converse_content()}},
        "stopReason": a.converse_stop(),
        "usage": a.usage(),
        "metrics": {"latencyMs": a.latency_ms},
    });
    served_tier(a, &mut v);
    if let Some(m) = &a.routed {
        v["trace"] = json!({"promptRouter": {"invokedModelId": m}});
    }
    v
}

/// Converse's `serviceTier` / `performanceConfig` members: how the call was served.
fn served_tier(a: &Answer, v: &mut Value) {
    use crate::measure::pricing::Tier;
    match a.tier {
        Tier::Standard | Tier::Batch => {}
        Tier::LatencyOptimized => v["performanceConfig"] = json!({"latency": "optimized"}),
        t => v["serviceTier"] = json!({"type": t.name()}),
    }
}

/// The ConverseStream event-stream body.
pub fn converse_stream(a: &Answer) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.text.len() * 2 + 512);
    write_event(&mut out, "messageStart", &json!({"role": "assistant"}));
    for (kind, payload) in a.converse_block_events() {
        write_event(&mut out, kind, &payload);
    }
    write_event(
        &mut out,
        "messageStop",
        &json!({"stopReason": a.converse_stop()}),
    );
    let mut metadata = json!({"usage": a.usage(), "metrics": {"latencyMs": a.latency_ms}});
    served_tier(a, &mut metadata);
    if let Some(m) = &a.routed {
        metadata["trace"] = json!({"promptRouter": {"invokedModelId": m}});
    }
    write_event(&mut out, "metadata", &metadata);
    out
}

/// The InvokeModel response body of `family`, with `amazon-bedrock-guardrailAction` when the call
/// applied a guardrail.
pub fn invoke(family: Family, prompt: &Prompt, a: &Answer) -> Value {
    let mut v = invoke_body(family, prompt, a);
    if let (Some(action), Value::Object(m)) = (a.guardrail_action, &mut v) {
        m.insert("amazon-bedrock-guardrailAction".into(), json!(action));
    }
    v
}

fn invoke_body(family: Family, prompt: &Prompt, a: &Answer) -> Value {
    let stop = a.stop(family);
    match family {
        Family::Anthropic => json!({
            "id": format!("msg_bdrk_{}", a.request_id.replace('-', "")),
            "type": "message",
            "role": "assistant",
            "model": a.model,
            "content": a.anthropic_content(),
            "stop_reason": stop,
            "stop_sequence": null,
            "usage": a.anthropic_usage(a.output_tokens),
        }),
        Family::Nova => json!({
            "output": {"message": {"role": "assistant", "content": a.converse_content()}},
            "stopReason": stop,
            "usage": {"inputTokens": a.uncached(), "outputTokens": a.output_tokens, "totalTokens": a.input_tokens + a.output_tokens,
                      "cacheReadInputTokenCount": a.cache_read, "cacheWriteInputTokenCount": a.cache_write},
        }),
        Family::Titan => json!({
            "inputTextTokenCount": a.input_tokens,
            "results": [{"tokenCount": a.output_tokens, "outputText": a.text, "completionReason": stop}],
        }),
        Family::Llama => json!({
            "generation": a.text,
            "prompt_token_count": a.input_tokens,
            "generation_token_count": a.output_tokens,
            "stop_reason": stop,
        }),
        Family::Mistral if !prompt.chat => {
            json!({"outputs": [{"text": a.text, "stop_reason": stop}]})
        }
        Family::Mistral => json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": a.text}, "stop_reason": stop}],
        }),
        Family::OpenAi => json!({
            "id": format!("chatcmpl-{}", a.request_id),
            "object": "chat.completion",
            // Fixed, so answers are byte-identical run to run.
            "created": 0,
            "model": a.model,
            "choices": [{"index": 0, "message": match &a.tool {
                Some(t) => json!({"role": "assistant", "content": null, "tool_calls": openai_tool_calls(t, &t.input_json())}),
                None => json!({"role": "assistant", "content": a.openai_text()}),
            }, "finish_reason": stop}],
            "usage": a.openai_usage(),
        }),
    }
}

/// The chunks (each one model-family JSON document) of an InvokeModelWithResponseStream answer.
pub fn invoke_chunks(family: Family, prompt: &Prompt, a: &Answer) -> Vec<Value> {
    let deltas = answer::chunks(&a.text, DELTA_WORDS);
    let stop = a.stop(family);
    let mut out = Vec::with_capacity(deltas.len() + 6);
    match family {
        Family::Anthropic => {
            out.push(json!({"type": "message_start", "message": {
                "id": format!("msg_bdrk_{}", a.request_id.replace('-', "")), "type": "message", "role": "assistant",
                "model": a.model, "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": a.anthropic_usage(1)}}));
            let mut at = 0;
            if let Some(r) = &a.reasoning {
                out.push(json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}));
                for d in answer::chunks(&r.text, DELTA_WORDS) {
                    out.push(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": d}}));
                }
                out.push(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": r.signature.clone().unwrap_or_default()}}));
                out.push(json!({"type": "content_block_stop", "index": 0}));
                at = 1;
            }
            match &a.tool {
                Some(t) => {
                    out.push(json!({"type": "content_block_start", "index": at, "content_block":
                        {"type": "tool_use", "id": tool_id(family, t), "name": t.name, "input": {}}}));
                    for piece in script::pieces(&t.input_json(), DELTA_JSON_BYTES) {
                        out.push(json!({"type": "content_block_delta", "index": at, "delta": {"type": "input_json_delta", "partial_json": piece}}));
                    }
                }
                None => {
                    out.push(json!({"type": "content_block_start", "index": at, "content_block": {"type": "text", "text": ""}}));
                    for d in &deltas {
                        out.push(json!({"type": "content_block_delta", "index": at, "delta": {"type": "text_delta", "text": d}}));
                    }
                }
            }
            out.push(json!({"type": "content_block_stop", "index": at}));
            out.push(json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": a.output_tokens}}));
            out.push(json!({"type": "message_stop"}));
        }
        Family::Nova => {
            out.push(json!({"messageStart": {"role": "assistant"}}));
            for (kind, payload) in a.converse_block_events() {
                out.push(Value::Object(
                    [(kind.to_string(), payload)].into_iter().collect(),
                ));
            }
            out.push(json!({"messageStop": {"stopReason": stop}}));
            out.push(json!({"metadata": {"usage": {"inputTokens": a.uncached(), "outputTokens": a.output_tokens,
                "cacheReadInputTokenCount": a.cache_read, "cacheWriteInputTokenCount": a.cache_write}, "metrics": {}, "trace": {}}}));
        }
        Family::Titan => {
            let n = deltas.len().max(1);
            for (i, d) in deltas.iter().enumerate() {
                let last = i + 1 == n;
                out.push(json!({"outputText": d, "index": 0,
                    "totalOutputTextTokenCount": if last { Some(a.output_tokens) } else { None },
                    "completionReason": if last { Some(stop) } else { None },
                    "inputTextTokenCount": if i == 0 { Some(a.input_tokens) } else { None }}));
            }
            if deltas.is_empty() {
                out.push(json!({"outputText": "", "index": 0, "totalOutputTextTokenCount": 0, "completionReason": stop, "inputTextTokenCount": a.input_tokens}));
            }
        }
        Family::Llama => {
            for (i, d) in deltas.iter().enumerate() {
                out.push(json!({"generation": d, "prompt_token_count": if i == 0 { Some(a.input_tokens) } else { None },
                    "generation_token_count": null, "stop_reason": null}));
            }
            out.push(json!({"generation": "", "prompt_token_count": null, "generation_token_count": a.output_tokens, "stop_reason": stop}));
        }
        Family::Mistral if !prompt.chat => {
            for d in &deltas {
                out.push(json!({"outputs": [{"text": d, "stop_reason": null}]}));
            }
            out.push(json!({"outputs": [{"text": "", "stop_reason": stop}]}));
        }
        Family::Mistral | Family::OpenAi => {
            let id = format!("chatcmpl-{}", a.request_id);
            let chunk = |delta: Value| {
                json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": a.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
            };
            if let Some(t) = &a.tool {
                out.push(chunk(json!({"role": "assistant", "content": null, "tool_calls": openai_tool_calls(t, "")})));
                for piece in script::pieces(&t.input_json(), DELTA_JSON_BYTES) {
                    out.push(chunk(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    ));
                }
            }
            // gpt-oss streams its `<reasoning>` part as content before the answer.
            let text = a.openai_text();
            for (i, d) in answer::chunks(&text, DELTA_WORDS).iter().enumerate() {
                let delta = if i == 0 {
                    json!({"role": "assistant", "content": d})
                } else {
                    json!({"content": d})
                };
                out.push(chunk(delta));
            }
            out.push(
                json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": a.model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": stop}],
                "usage": a.openai_usage()}),
            );
        }
    }
    // Bedrock appends its own invocation metrics to the last chunk of every family.
    if let Some(Value::Object(last)) = out.last_mut() {
        last.insert("amazon-bedrock-invocationMetrics".into(), a.metrics());
    }
    out
}

/// The InvokeModelWithResponseStream event-stream body: each chunk base64-encoded in a `chunk` event.
pub fn invoke_stream(family: Family, prompt: &Prompt, a: &Answer) -> Vec<u8> {
    let mut out = Vec::new();
    for c in invoke_chunks(family, prompt, a) {
        let bytes = serde_json::to_vec(&c).unwrap_or_default();
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        write_event(&mut out, "chunk", &json!({"bytes": b64}));
    }
    out
}
