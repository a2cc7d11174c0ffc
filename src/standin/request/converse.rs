//! Converse-shaped bodies (Converse, ConverseStream, CountTokens' `converse`, and Nova's InvokeModel
//! body, which shares them): content blocks, cache points, system blocks and tool definitions, the
//! service tier.

use serde_json::Value;

use super::{
    Blocks, Mark, Msg, Prompt, array, conversation, invalid, role, tool_names, tool_results, uint,
};
use crate::measure::pricing::{Tier, Ttl};
use crate::standin::error::BedrockError;
use crate::standin::media::{self, MediaRule};
use crate::standin::reasoning;

/// One Converse/Nova content block: text, tool use (name and input), tool results, reasoning;
/// images and binary documents as estimated media (their bytes are base64 in JSON bodies); cache
/// points carry nothing to count.
fn converse_block(b: &Value, out: &mut Blocks) {
    if let Some(t) = b["text"].as_str() {
        out.text(t);
    } else if let Some(tu) = b.get("toolUse") {
        out.text(format!(
            "{}{}",
            tu["name"].as_str().unwrap_or(""),
            tu["input"]
        ));
    } else if let Some(tr) = b.get("toolResult") {
        for c in tr["content"].as_array().into_iter().flatten() {
            match c.get("json") {
                Some(j) if c["text"].is_null() => out.text(j.to_string()),
                _ => converse_block(c, out),
            }
        }
    } else if let Some(r) = b["reasoningContent"]["reasoningText"]["text"].as_str() {
        out.text(r);
    } else if let Some(img) = b.get("image") {
        let bytes = img["source"]["bytes"].as_str().and_then(media::decode);
        let m = media::image(bytes.as_deref());
        out.media(
            "image",
            bytes.as_deref().unwrap_or(img.to_string().as_bytes()),
            m,
        );
    } else if let Some(doc) = b.get("document") {
        let source = &doc["source"];
        if let Some(t) = source["text"].as_str() {
            out.text(t);
        } else if let Some(bytes) = source["bytes"].as_str().and_then(media::decode) {
            out.document(doc["format"].as_str().unwrap_or(""), &bytes);
        } else {
            // An S3 location: nothing to measure.
            out.media(
                "document",
                doc.to_string().as_bytes(),
                media::unmeasured_document(),
            );
        }
    }
}

/// A Converse/Nova `cachePoint` block's TTL, when the block is one.
fn cache_point(b: &Value, path: &str) -> Result<Option<Ttl>, BedrockError> {
    let Some(cp) = b.get("cachePoint") else {
        return Ok(None);
    };
    if cp["type"].as_str() != Some("default") {
        return Err(invalid(format!(
            "Malformed input request: `{path}.cachePoint.type` must be `default`."
        )));
    }
    ttl(&cp["ttl"], &format!("{path}.cachePoint.ttl")).map(Some)
}

pub(super) fn ttl(v: &Value, path: &str) -> Result<Ttl, BedrockError> {
    match v {
        Value::Null => Ok(Ttl::FiveMinutes),
        Value::String(s) if s == "5m" => Ok(Ttl::FiveMinutes),
        Value::String(s) if s == "1h" => Ok(Ttl::OneHour),
        other => Err(invalid(format!(
            "Malformed input request: `{path}` must be `5m` or `1h`, got {other}."
        ))),
    }
}

pub(super) fn converse_messages(
    v: &Value,
    path: &str,
    marks: &mut Vec<Mark>,
) -> Result<Vec<Msg>, BedrockError> {
    let mut out = Vec::new();
    for (i, m) in array(v, path)?.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let mut blocks = Blocks::default();
        for (j, b) in array(&m["content"], &format!("{p}.content"))?
            .iter()
            .enumerate()
        {
            if let Some(ttl) = cache_point(b, &format!("{p}.content[{j}]"))? {
                marks.push(Mark::Message {
                    index: i,
                    parts: blocks.parts.len(),
                    ttl,
                });
            }
            converse_block(b, &mut blocks);
        }
        out.push(Msg {
            role: role(m, &p)?,
            parts: blocks.parts,
            media: blocks.media,
        });
    }
    Ok(out)
}

/// Converse/Nova system blocks and `toolConfig`: tool definitions are the first system part
/// (Bedrock's order), so a cache point among the tools caches them alone.
pub(super) fn converse_system(
    system: &Value,
    tools: Option<&Value>,
    marks: &mut Vec<Mark>,
) -> Result<Vec<String>, BedrockError> {
    let mut out = Blocks::default();
    if let Some(tools) = tools.filter(|t| !t.is_null()) {
        // Tool definitions are sent to the model as part of its instructions.
        out.text(tools.to_string());
        for (i, t) in tools["tools"].as_array().into_iter().flatten().enumerate() {
            if let Some(ttl) = cache_point(t, &format!("toolConfig.tools[{i}]"))? {
                marks.push(Mark::System { parts: 1, ttl });
            }
        }
    }
    for (i, b) in system.as_array().into_iter().flatten().enumerate() {
        if let Some(ttl) = cache_point(b, &format!("system[{i}]"))? {
            marks.push(Mark::System {
                parts: out.parts.len(),
                ttl,
            });
        }
        converse_block(b, &mut out);
    }
    // System blocks are text, guard content and cache points: never media.
    Ok(out.parts)
}

fn service_tier(v: &Value) -> Result<Tier, BedrockError> {
    match v["type"].as_str() {
        None if v.is_null() => Ok(Tier::Standard),
        Some(t) => tier_named(t, "serviceTier.type"),
        None => Err(invalid(
            "Malformed input request: `serviceTier.type` must be a string.",
        )),
    }
}

/// Bedrock's tier names (`default` and `reserved` are billed at the standard on-demand price).
pub fn tier_named(name: &str, path: &str) -> Result<Tier, BedrockError> {
    Ok(match name {
        "default" | "reserved" => Tier::Standard,
        "priority" => Tier::Priority,
        "flex" => Tier::Flex,
        other => {
            return Err(invalid(format!(
                "Malformed input request: `{path}` must be one of priority, default, flex, reserved; got `{other}`."
            )));
        }
    })
}

/// A Converse (or ConverseStream, or CountTokens `converse`) body.
pub fn converse(v: &Value) -> Result<Prompt, BedrockError> {
    let mut marks = Vec::new();
    let system = converse_system(&v["system"], v.get("toolConfig"), &mut marks)?;
    let tag = |key: &str| match &v["requestMetadata"][key] {
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let case_tag = tag("costgate_case");
    let messages = converse_messages(&v["messages"], "messages", &mut marks)?;
    conversation(&messages, true)?;
    Ok(Prompt {
        system,
        messages,
        max_tokens: uint(
            &v["inferenceConfig"]["maxTokens"],
            "inferenceConfig.maxTokens",
        )?,
        case_tag,
        chat: true,
        marks,
        tier: match v["performanceConfig"]["latency"].as_str() {
            Some("optimized") => Tier::LatencyOptimized,
            Some("standard") | None => service_tier(&v["serviceTier"])?,
            Some(other) => {
                return Err(invalid(format!(
                    "Malformed input request: `performanceConfig.latency` must be `standard` or `optimized`, got `{other}`."
                )));
            }
        },
        tools: tool_names(&v["toolConfig"]["tools"]),
        tool_results: tool_results(&v["messages"]),
        media_rule: MediaRule::default(),
        reasoning: reasoning::converse(v)?,
        step: tag("costgate_step"),
        guardrail: v["guardrailConfig"]["guardrailIdentifier"]
            .as_str()
            .map(str::to_string),
    })
}
