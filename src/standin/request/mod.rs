//! Request bodies: Converse and every InvokeModel body family, parsed into one normalised
//! [`Prompt`] (system text, messages, output cap, case tag) whose tokens are counted the same way
//! render mode counts a rendered prompt. Malformed bodies become `ValidationException`s that name
//! the offending field.

use serde_json::Value;

mod chat;
mod converse;

use super::error::BedrockError;
use super::media::{self, Media, MediaRule};
use super::reasoning::Asked;
use crate::measure::cache::{Digester, Point};
use crate::measure::pricing::{ModelPrice, Tier, Ttl};
use crate::measure::render::Segments;
use crate::measure::tokenize;
pub use chat::invoke;
pub use converse::{converse, tier_named};

/// The request/response shape of an InvokeModel body, chosen by the model id's provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Anthropic Messages API (`anthropic_version: bedrock-2023-05-31`).
    Anthropic,
    /// Amazon Nova (`messages-v1`).
    Nova,
    /// Amazon Titan Text (`inputText`).
    Titan,
    /// Meta Llama (`prompt`, `max_gen_len`).
    Llama,
    /// Mistral text completion (`prompt`) or chat (`messages`).
    Mistral,
    /// OpenAI chat completions (gpt-oss).
    OpenAi,
}

impl Family {
    /// The family of a resolved base model id (profile prefix and ARN already stripped).
    pub fn of(base_id: &str) -> Option<Family> {
        let f = if base_id.starts_with("anthropic.") {
            Family::Anthropic
        } else if base_id.starts_with("amazon.nova") {
            Family::Nova
        } else if base_id.starts_with("amazon.titan-text") || base_id.starts_with("amazon.titan-tg")
        {
            Family::Titan
        } else if base_id.starts_with("meta.") {
            Family::Llama
        } else if base_id.starts_with("mistral.") {
            Family::Mistral
        } else if base_id.starts_with("openai.") {
            Family::OpenAi
        } else {
            return None;
        };
        Some(f)
    }
}

/// One message of a request: its role and its text parts (content blocks), each counted alone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Msg {
    pub role: String,
    pub parts: Vec<String>,
    /// Images and binary documents: `(index, media)` where `parts[index]` is a placeholder naming
    /// the content (so cache prefixes and context checks see it) that is not counted as text.
    pub media: Vec<(usize, Media)>,
}

impl Msg {
    /// Text tokens and estimated media tokens of the first `take` parts.
    /// `media` is sorted by index: blocks are read in order.
    fn tokens(&self, enc: tokenize::Encoding, rule: MediaRule, take: usize) -> (u64, u64) {
        let mut media = self.media.iter().peekable();
        let (mut text, mut estimated) = (0, 0);
        for (i, part) in self.parts.iter().enumerate().take(take) {
            match media.peek() {
                Some((at, m)) if *at == i => {
                    estimated += rule.tokens(m);
                    media.next();
                }
                _ => text += enc.count(part),
            }
        }
        (text, estimated)
    }
}

/// Where decoded media go while a message's blocks are read.
#[derive(Default)]
struct Blocks {
    parts: Vec<String>,
    media: Vec<(usize, Media)>,
}

impl Blocks {
    fn text(&mut self, t: impl Into<String>) {
        self.parts.push(t.into());
    }

    /// A placeholder part for `media`, named by a digest of its bytes so two different images
    /// never share a cache prefix.
    fn media(&mut self, kind: &str, bytes: &[u8], m: Media) {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(bytes);
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        self.media.push((self.parts.len(), m));
        self.parts.push(format!("\u{1}{kind}:{hex}"));
    }

    /// A document's text is counted as text; a binary document is estimated.
    fn document(&mut self, format: &str, bytes: &[u8]) {
        match media::document(format, bytes) {
            Ok(text) => self.text(text),
            Err(m) => self.media("document", bytes, m),
        }
    }
}

/// A request reduced to what pricing and attribution need.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prompt {
    pub system: Vec<String>,
    pub messages: Vec<Msg>,
    /// The request's output cap (`maxTokens`, `max_tokens`, `maxTokenCount`, `max_gen_len`…).
    pub max_tokens: Option<u64>,
    /// `requestMetadata.costgate_case` (Converse only).
    pub case_tag: Option<String>,
    /// Mistral chat bodies are answered in the chat shape, prompt bodies in the completion shape.
    pub chat: bool,
    /// The request's cache points (Converse and Nova `cachePoint`, Anthropic `cache_control`), in
    /// Bedrock's order: tool definitions, system, messages.
    pub marks: Vec<Mark>,
    /// Converse `serviceTier`, or InvokeModel's `X-Amzn-Bedrock-Service-Tier` header.
    pub tier: Tier,
    /// Names of the tools the request declares (Converse and Nova `toolConfig`, Anthropic and
    /// OpenAI `tools`), in order.
    pub tools: Vec<String>,
    /// Tool results the request carries back (Converse and Nova `toolResult` blocks, Anthropic
    /// `tool_result` blocks, OpenAI `tool` messages): how far its case's tool script has come.
    pub tool_results: usize,
    /// Whose rule estimates the request's images and documents (set from the model).
    pub media_rule: MediaRule,
    /// The reasoning setting the body asks for, checked against the model in the handler.
    pub reasoning: Asked,
    /// `requestMetadata.costgate_step` (Converse; any operation may send `x-costgate-step`).
    pub step: Option<String>,
    /// `guardrailConfig.guardrailIdentifier` (Converse).
    pub guardrail: Option<String>,
}

/// Where a cache point sits: after the first `parts` system parts (tool definitions are the first
/// system part), or after `parts` parts of message `index` (all system parts and earlier messages
/// included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    System {
        parts: usize,
        ttl: Ttl,
    },
    Message {
        index: usize,
        parts: usize,
        ttl: Ttl,
    },
}

impl Mark {
    fn ttl(self) -> Ttl {
        match self {
            Mark::System { ttl, .. } | Mark::Message { ttl, .. } => ttl,
        }
    }
}

/// Input tokens of a request, by segment and in total after `token_scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub segments: Segments,
    pub input_tokens: u64,
}

impl Prompt {
    /// Whether any message carries an image or a binary document (its tokens are estimated).
    pub fn has_media(&self) -> bool {
        self.messages.iter().any(|m| !m.media.is_empty())
    }

    /// Counts input tokens as render mode does: system, history (every message but
    /// the last) and prompt (the last message), plus per-message and per-request overheads, then
    /// `token_scale` once; media estimates are in the model's own tokens and added after it.
    pub fn count(&self, price: &ModelPrice) -> Counted {
        let enc = price.tokenizer;
        let mut segments = Segments {
            system: self.system.iter().map(|p| enc.count(p)).sum(),
            ..Segments::default()
        };
        // Media estimates are in the model's own tokens already: `token_scale` calibrates text.
        let mut estimated = 0;
        let mut tokens = |m: &Msg| {
            let (text, media) = m.tokens(enc, self.media_rule, usize::MAX);
            estimated += media;
            (text, media)
        };
        let mut messages = u64::from(!self.system.is_empty()) + self.messages.len() as u64;
        let (mut history_text, mut prompt_text) = (0, 0);
        if let Some((last, history)) = self.messages.split_last() {
            for m in history {
                let (text, media) = tokens(m);
                history_text += text;
                segments.history += text + media;
            }
            let (text, media) = tokens(last);
            prompt_text = text;
            segments.prompt = text + media;
        } else {
            messages = messages.max(1);
        }
        segments.overhead =
            price.message_overhead_tokens * messages + price.request_overhead_tokens;
        let text = segments.system + history_text + prompt_text + segments.overhead;
        Counted {
            segments,
            input_tokens: tokenize::scale(text, price.token_scale) + estimated,
        }
    }

    /// The prefix before each cache point: tokens (message overheads of the messages it covers and
    /// `token_scale` included) and the digest of its content, in order. The TTL is the last
    /// point's.
    pub fn cache_points(&self, price: &ModelPrice) -> (Vec<Point>, Ttl) {
        let enc = price.tokenizer;
        let overhead = price.message_overhead_tokens;
        let mut points = Vec::with_capacity(self.marks.len());
        for mark in &self.marks {
            let mut d = Digester::default();
            let mut raw = 0u64;
            let mut estimated = 0u64;
            let mut messages = 0u64;
            let (system_parts, covered) = match *mark {
                Mark::System { parts, .. } => (parts.min(self.system.len()), None),
                Mark::Message { index, parts, .. } => (self.system.len(), Some((index, parts))),
            };
            for part in &self.system[..system_parts] {
                raw += enc.count(part);
                d.part("system", part);
            }
            messages += u64::from(system_parts > 0);
            if let Some((index, parts)) = covered {
                for (i, m) in self.messages.iter().enumerate().take(index + 1) {
                    let take = if i == index { parts } else { m.parts.len() };
                    let (text, media) = m.tokens(enc, self.media_rule, take);
                    raw += text;
                    estimated += media;
                    for part in m.parts.iter().take(take) {
                        d.part(&m.role, part);
                    }
                    messages += 1;
                }
            }
            points.push(Point {
                tokens: tokenize::scale(raw + overhead * messages, price.token_scale) + estimated,
                digest: d.digest(),
            });
        }
        let ttl = self.marks.last().map_or(Ttl::FiveMinutes, |m| m.ttl());
        (points, ttl)
    }

    /// Every text of the request, for finding a case's query in it.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.system
            .iter()
            .chain(self.messages.iter().flat_map(|m| m.parts.iter()))
            .map(String::as_str)
    }
}

fn invalid(msg: impl Into<String>) -> BedrockError {
    BedrockError::Validation(msg.into())
}

/// Parses a JSON body, or says where it is malformed.
pub fn json(body: &[u8]) -> Result<Value, BedrockError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "Malformed input request: {e}. The body must be a JSON object."
        ))
    })?;
    if !v.is_object() {
        return Err(invalid(
            "Malformed input request: the body must be a JSON object.",
        ));
    }
    Ok(v)
}

fn uint(v: &Value, path: &str) -> Result<Option<u64>, BedrockError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(|| {
            invalid(format!(
                "Malformed input request: `{path}` must be a non-negative integer, got {n}."
            ))
        }),
        other => Err(invalid(format!(
            "Malformed input request: `{path}` must be an integer, got {other}."
        ))),
    }
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, BedrockError> {
    v.as_array().ok_or_else(|| {
        if v.is_null() {
            invalid(format!(
                "Malformed input request: required field `{path}` is missing."
            ))
        } else {
            invalid(format!(
                "Malformed input request: `{path}` must be an array."
            ))
        }
    })
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, BedrockError> {
    v.as_str().ok_or_else(|| {
        if v.is_null() {
            invalid(format!(
                "Malformed input request: required field `{path}` is missing."
            ))
        } else {
            invalid(format!(
                "Malformed input request: `{path}` must be a string."
            ))
        }
    })
}

fn role(m: &Value, path: &str) -> Result<String, BedrockError> {
    Ok(string(&m["role"], &format!("{path}.role"))?.to_string())
}

/// Bedrock's rules for a conversation (Converse, Nova and Anthropic Messages bodies): at least one
/// message, the first from the user and, for Converse-shaped bodies, roles alternating. A request
/// that breaks one is rejected before it is counted, so it is never billed.
fn conversation(messages: &[Msg], alternate: bool) -> Result<(), BedrockError> {
    let Some(first) = messages.first() else {
        return Err(invalid(
            "Malformed input request: `messages` must contain at least one message.",
        ));
    };
    if first.role != "user" {
        return Err(invalid(format!(
            "A conversation must start with a user message: `messages[0].role` is `{}`. Try again with a conversation that starts with a user message.",
            first.role
        )));
    }
    for (i, pair) in messages.windows(2).enumerate() {
        if !matches!(pair[1].role.as_str(), "user" | "assistant") {
            return Err(invalid(format!(
                "Malformed input request: `messages[{}].role` must be `user` or `assistant`, got `{}`.",
                i + 1,
                pair[1].role
            )));
        }
        if alternate && pair[0].role == pair[1].role {
            return Err(invalid(format!(
                "A conversation must alternate between user and assistant roles: `messages[{}]` and `messages[{}]` are both `{}`. Make sure the conversation alternates between user and assistant roles and try again.",
                i,
                i + 1,
                pair[1].role
            )));
        }
    }
    Ok(())
}

/// The names of declared tools, whatever the family's shape: Converse and Nova
/// `{toolSpec: {name}}`, Anthropic `{name}`, OpenAI `{function: {name}}`. Cache points among the
/// tools are not tools.
fn tool_names(tools: &Value) -> Vec<String> {
    tools
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            t["toolSpec"]["name"]
                .as_str()
                .or_else(|| t["function"]["name"].as_str())
                .or_else(|| t["name"].as_str())
        })
        .map(str::to_string)
        .collect()
}

/// Tool results in `messages`, whatever the family's shape: an OpenAI `tool` message, a Converse
/// or Nova `toolResult` block, an Anthropic `tool_result` block.
fn tool_results(messages: &Value) -> usize {
    messages
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            if m["role"].as_str() == Some("tool") {
                return 1;
            }
            m["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| {
                    b.get("toolResult").is_some() || b["type"].as_str() == Some("tool_result")
                })
                .count()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::pricing::PricingTable;
    use serde_json::json;

    #[test]
    fn families_follow_the_provider_prefix() {
        assert_eq!(
            Family::of("anthropic.claude-3-haiku-20240307-v1:0"),
            Some(Family::Anthropic)
        );
        assert_eq!(Family::of("amazon.nova-micro-v1:0"), Some(Family::Nova));
        assert_eq!(
            Family::of("amazon.titan-text-express-v1"),
            Some(Family::Titan)
        );
        assert_eq!(
            Family::of("meta.llama3-3-70b-instruct-v1:0"),
            Some(Family::Llama)
        );
        assert_eq!(Family::of("openai.gpt-oss-20b-1:0"), Some(Family::OpenAi));
        assert_eq!(Family::of("cohere.command-r-v1:0"), None);
    }

    #[test]
    fn converse_segments_are_system_history_and_last_message() {
        let body = json!({
            "system": [{"text": "You are MangaAssist."}],
            "messages": [
                {"role": "user", "content": [{"text": "hello world"}]},
                {"role": "assistant", "content": [{"text": "hi"}]},
                {"role": "user", "content": [{"text": "recommend a manga"}, {"text": "like One Piece"}]}
            ],
            "inferenceConfig": {"maxTokens": 300},
            "requestMetadata": {"costgate_case": "GD-1"}
        });
        let p = converse(&body).unwrap();
        assert_eq!(p.case_tag.as_deref(), Some("GD-1"));
        assert_eq!(p.max_tokens, Some(300));
        let t = PricingTable::builtin();
        let price = t.resolve("openai.gpt-oss-20b-1:0").unwrap().price;
        let c = p.count(&price);
        let e = price.tokenizer;
        assert_eq!(c.segments.system, e.count("You are MangaAssist."));
        assert_eq!(c.segments.history, e.count("hello world") + e.count("hi"));
        assert_eq!(
            c.segments.prompt,
            e.count("recommend a manga") + e.count("like One Piece")
        );
        assert_eq!(c.input_tokens, c.segments.total());
    }

    #[test]
    fn anthropic_requires_version_and_max_tokens() {
        let e = invoke(Family::Anthropic, &json!({"messages": []})).unwrap_err();
        assert!(e.message().contains("anthropic_version"), "{e:?}");
        let e = invoke(
            Family::Anthropic,
            &json!({"anthropic_version": "bedrock-2023-05-31", "messages": []}),
        )
        .unwrap_err();
        assert!(e.message().contains("max_tokens"), "{e:?}");
    }

    #[test]
    fn openai_system_messages_count_as_system() {
        let body = json!({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}], "max_completion_tokens": 5});
        let p = invoke(Family::OpenAi, &body).unwrap();
        assert_eq!(p.system, vec!["be brief".to_string()]);
        assert_eq!(p.messages.len(), 1);
        assert_eq!(p.max_tokens, Some(5));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = invoke(Family::Llama, &json!({"prompt": 3})).unwrap_err();
        assert!(e.message().contains("`prompt` must be a string"), "{e:?}");
        let e = converse(&json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"maxTokens": -1}})).unwrap_err();
        assert!(e.message().contains("inferenceConfig.maxTokens"), "{e:?}");
        assert!(json(b"[1]").is_err());
        assert!(
            json(b"{nope")
                .unwrap_err()
                .message()
                .starts_with("Malformed input request")
        );
    }

    #[test]
    fn anthropic_cache_control_and_tools_come_in_bedrocks_order() {
        let body = json!({
            "anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
            "tools": [{"name": "search", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
            "system": [{"type": "text", "text": "You are MangaAssist.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": "recommend one"}
            ]
        });
        let p = invoke(Family::Anthropic, &body).unwrap();
        assert_eq!(
            p.system.len(),
            2,
            "tool definitions are the first system part"
        );
        assert!(p.system[0].contains("search"));
        assert_eq!(
            p.marks,
            vec![
                Mark::System {
                    parts: 1,
                    ttl: Ttl::FiveMinutes
                },
                Mark::System {
                    parts: 2,
                    ttl: Ttl::OneHour
                },
                Mark::Message {
                    index: 0,
                    parts: 1,
                    ttl: Ttl::FiveMinutes
                },
            ]
        );
        let price = PricingTable::builtin()
            .resolve("openai.gpt-oss-20b-1:0")
            .unwrap()
            .price;
        let (points, ttl) = p.cache_points(&price);
        let e = price.tokenizer;
        assert_eq!(points[0].tokens, e.count(&p.system[0]));
        assert_eq!(
            points[1].tokens,
            e.count(&p.system[0]) + e.count("You are MangaAssist.")
        );
        assert_eq!(points[2].tokens, points[1].tokens + e.count("hello"));
        assert_eq!(ttl, Ttl::FiveMinutes, "the last point's TTL");
        let bad = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "forever"}}]}]});
        let e = invoke(Family::Anthropic, &bad).unwrap_err();
        assert!(
            e.message()
                .contains("messages[0].content[0].cache_control.type"),
            "{e:?}"
        );
    }
}
