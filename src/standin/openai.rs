//! Bedrock Runtime's OpenAI-compatible endpoints under `/openai/v1`: Chat Completions and
//! Responses, each whole or streamed as server-sent events. The body is OpenAI's; the model is named in it.
//! Counting, attribution, reasoning, steps and pricing are the model operations' own.

use serde_json::{Value, json};

use super::answer;
use super::error::BedrockError;
use super::request::{self, Prompt};
use super::response::Answer;

/// Words per streamed delta.
const DELTA_WORDS: usize = 8;

/// The model a body names.
pub fn model(v: &Value) -> Result<String, BedrockError> {
    v["model"]
        .as_str()
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .ok_or_else(|| BedrockError::Validation("Missing required parameter: 'model'.".to_string()))
}

/// A Responses API body as a prompt: `instructions` is the system part, `input` a string or a
/// list of messages (content a string or `input_text` parts).
pub fn responses_prompt(v: &Value) -> Result<Prompt, BedrockError> {
    let messages = match &v["input"] {
        Value::String(s) => json!([{"role": "user", "content": s}]),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|m| {
                    let content = match &m["content"] {
                        Value::Array(parts) => Value::Array(
                            parts
                                .iter()
                                .map(|p| json!({"type": "text", "text": p["text"].as_str().unwrap_or("")}))
                                .collect(),
                        ),
                        other => other.clone(),
                    };
                    json!({"role": m["role"].as_str().unwrap_or("user"), "content": content})
                })
                .collect(),
        ),
        _ => {
            return Err(BedrockError::Validation(
                "Missing required parameter: 'input'.".to_string(),
            ));
        }
    };
    let mut body = json!({"messages": messages});
    if let Some(i) = v["instructions"].as_str() {
        if let Value::Array(m) = &mut body["messages"] {
            m.insert(0, json!({"role": "system", "content": i}));
        }
    }
    body["max_completion_tokens"] = v["max_output_tokens"].clone();
    body["reasoning"] = v["reasoning"].clone();
    body["tools"] = v["tools"].clone();
    request::invoke(request::Family::OpenAi, &body)
}

/// InvokeModel's OpenAI usage, with both detail objects always present, as the endpoint sends them.
fn usage(a: &Answer) -> Value {
    let mut u = a.openai_usage();
    u["prompt_tokens_details"] = json!({"cached_tokens": a.cache_read});
    u["completion_tokens_details"] =
        json!({"reasoning_tokens": a.reasoning.as_ref().map_or(0, |r| r.tokens)});
    u
}

/// A chat completion, with the reasoning in the message's `reasoning` field (not in the content,
/// as it is through InvokeModel).
pub fn chat(a: &Answer) -> Value {
    let mut message = json!({"role": "assistant", "content": a.text});
    if let Some(r) = &a.reasoning {
        message["reasoning"] = json!(r.text);
    }
    json!({
        "id": format!("chatcmpl-{}", a.request_id),
        "object": "chat.completion",
        // Fixed, so answers are byte-identical run to run.
        "created": 0,
        "model": a.model,
        "choices": [{"index": 0, "message": message, "finish_reason": if a.capped { "length" } else { "stop" }}],
        "usage": usage(a),
    })
}

/// The streamed chat completion: `data:` events of `chat.completion.chunk`s (reasoning deltas,
/// then content deltas, then the finish reason and the usage), then `data: [DONE]`.
pub fn chat_stream(a: &Answer) -> Vec<u8> {
    let id = format!("chatcmpl-{}", a.request_id);
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": a.model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    if let Some(r) = &a.reasoning {
        for d in answer::chunks(&r.text, DELTA_WORDS) {
            events.push(chunk(json!({"reasoning": d}), Value::Null));
        }
    }
    for d in answer::chunks(&a.text, DELTA_WORDS) {
        events.push(chunk(json!({"content": d}), Value::Null));
    }
    events.push(chunk(
        json!({}),
        json!(if a.capped { "length" } else { "stop" }),
    ));
    let mut last = json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": a.model, "choices": []});
    last["usage"] = usage(a);
    events.push(last);
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&serde_json::to_vec(&e).unwrap_or_default());
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// A Responses API response: a reasoning item when the call reasoned, then the message.
pub fn responses(a: &Answer) -> Value {
    let mut output = Vec::new();
    if let Some(r) = &a.reasoning {
        output.push(
            json!({"type": "reasoning", "id": format!("rs_{}", a.request_id),
            "summary": [], "content": [{"type": "reasoning_text", "text": r.text}]}),
        );
    }
    output.push(json!({"type": "message", "id": format!("msg_{}", a.request_id), "status": "completed",
        "role": "assistant", "content": [{"type": "output_text", "text": a.text, "annotations": []}]}));
    let reasoning = a.reasoning.as_ref().map_or(0, |r| r.tokens);
    json!({
        "id": format!("resp_{}", a.request_id),
        "object": "response",
        "created_at": 0,
        "status": if a.capped { "incomplete" } else { "completed" },
        "incomplete_details": if a.capped { json!({"reason": "max_output_tokens"}) } else { Value::Null },
        "model": a.model,
        "output": output,
        "usage": {"input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
                  "total_tokens": a.input_tokens + a.output_tokens,
                  "input_tokens_details": {"cached_tokens": a.cache_read},
                  "output_tokens_details": {"reasoning_tokens": reasoning}},
    })
}

/// The streamed Responses API answer: server-sent events from `response.created` to
/// `response.completed` (which carries the whole response and its usage), each with its
/// `sequence_number`.
pub fn responses_stream(a: &Answer) -> Vec<u8> {
    let whole = responses(a);
    let items = whole["output"].as_array().cloned().unwrap_or_default();
    let mut events: Vec<Value> = Vec::new();
    let mut created = whole.clone();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    created["usage"] = Value::Null;
    events.push(json!({"type": "response.created", "response": created}));
    for (at, item) in items.iter().enumerate() {
        let id = item["id"].clone();
        let mut open = item.clone();
        open["content"] = json!([]);
        if item["type"] == "message" {
            open["status"] = json!("in_progress");
        }
        events
            .push(json!({"type": "response.output_item.added", "output_index": at, "item": open}));
        let (text, delta_kind, done_kind) = if item["type"] == "reasoning" {
            (
                item["content"][0]["text"].as_str().unwrap_or(""),
                "response.reasoning_text.delta",
                "response.reasoning_text.done",
            )
        } else {
            events.push(json!({"type": "response.content_part.added", "item_id": id, "output_index": at, "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []}}));
            (
                item["content"][0]["text"].as_str().unwrap_or(""),
                "response.output_text.delta",
                "response.output_text.done",
            )
        };
        for d in answer::chunks(text, DELTA_WORDS) {
            events.push(json!({"type": delta_kind, "item_id": id, "output_index": at, "content_index": 0, "delta": d, "logprobs": []}));
        }
        events.push(json!({"type": done_kind, "item_id": id, "output_index": at, "content_index": 0, "text": text, "logprobs": []}));
        if item["type"] == "message" {
            events.push(json!({"type": "response.content_part.done", "item_id": id, "output_index": at, "content_index": 0,
                "part": {"type": "output_text", "text": text, "annotations": []}}));
        }
        events.push(json!({"type": "response.output_item.done", "output_index": at, "item": item}));
    }
    events.push(json!({"type": "response.completed", "response": whole}));
    let mut out = Vec::new();
    for (n, mut e) in events.into_iter().enumerate() {
        e["sequence_number"] = json!(n);
        let kind = e["type"].as_str().unwrap_or("").to_string();
        out.extend_from_slice(format!("event: {kind}\ndata: ").as_bytes());
        out.extend_from_slice(&serde_json::to_vec(&e).unwrap_or_default());
        out.extend_from_slice(b"\n\n");
    }
    out
}
