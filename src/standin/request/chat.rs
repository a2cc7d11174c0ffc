//! Chat-shaped InvokeModel bodies (Anthropic Messages, OpenAI chat, Mistral chat) and the
//! single-prompt families (Titan Text, Llama, Mistral completion); Nova's body reads as Converse's.

use serde_json::Value;

use super::converse::{converse_messages, converse_system, ttl};
use super::{
    Blocks, Family, Mark, Msg, Prompt, array, conversation, invalid, role, string, tool_names,
    tool_results, uint,
};
use crate::measure::pricing::Ttl;
use crate::standin::error::BedrockError;
use crate::standin::media;
use crate::standin::reasoning;

/// An Anthropic `cache_control` marker's TTL, when the block carries one.
fn cache_control(b: &Value, path: &str) -> Result<Option<Ttl>, BedrockError> {
    match b.get("cache_control") {
        None | Some(Value::Null) => Ok(None),
        Some(cc) => {
            if cc["type"].as_str() != Some("ephemeral") {
                return Err(invalid(format!(
                    "Malformed input request: `{path}.cache_control.type` must be `ephemeral`."
                )));
            }
            ttl(&cc["ttl"], &format!("{path}.cache_control.ttl")).map(Some)
        }
    }
}

/// Anthropic / OpenAI content: a string, or an array of text, tool, image and document blocks.
/// `marks` receives, per `cache_control` block, the number of parts up to and including it.
fn chat_content(
    v: &Value,
    path: &str,
    out: &mut Blocks,
    marks: &mut Vec<(usize, Ttl)>,
) -> Result<(), BedrockError> {
    match v {
        Value::String(s) => out.text(s.clone()),
        Value::Array(blocks) => {
            for (i, b) in blocks.iter().enumerate() {
                let marked = cache_control(b, &format!("{path}[{i}]"))?;
                chat_block(b, path, out)?;
                if let Some(ttl) = marked {
                    marks.push((out.parts.len(), ttl));
                }
            }
        }
        Value::Null => {}
        _ => {
            return Err(invalid(format!(
                "Malformed input request: `{path}` must be a string or an array of content blocks."
            )));
        }
    }
    Ok(())
}

/// One Anthropic or OpenAI content block. Images and binary documents arrive base64-encoded
/// (Anthropic `source.data`, an OpenAI `data:` URL) and are estimated; text documents are text.
fn chat_block(b: &Value, path: &str, out: &mut Blocks) -> Result<(), BedrockError> {
    match b["type"].as_str() {
        Some("text") => out.text(b["text"].as_str().unwrap_or("")),
        Some("tool_use") => out.text(format!(
            "{}{}",
            b["name"].as_str().unwrap_or(""),
            b["input"]
        )),
        Some("tool_result") => chat_content(&b["content"], path, out, &mut Vec::new())?,
        Some("image") => {
            let bytes = b["source"]["data"].as_str().and_then(media::decode);
            let m = media::image(bytes.as_deref());
            out.media(
                "image",
                bytes.as_deref().unwrap_or(b.to_string().as_bytes()),
                m,
            );
        }
        Some("image_url") => {
            let url = b["image_url"]["url"].as_str().unwrap_or("");
            let bytes = url
                .split_once(";base64,")
                .and_then(|(_, data)| media::decode(data));
            let m = media::image(bytes.as_deref());
            out.media("image", bytes.as_deref().unwrap_or(url.as_bytes()), m);
        }
        Some("document") => {
            let source = &b["source"];
            let data = source["data"].as_str().unwrap_or("");
            match source["type"].as_str() {
                Some("text") => out.text(data),
                Some("base64") => match media::decode(data) {
                    Some(bytes) => {
                        out.document(source["media_type"].as_str().unwrap_or(""), &bytes)
                    }
                    None => out.media("document", data.as_bytes(), media::unmeasured_document()),
                },
                Some("content") => chat_content(&source["content"], path, out, &mut Vec::new())?,
                _ => out.media(
                    "document",
                    source.to_string().as_bytes(),
                    media::unmeasured_document(),
                ),
            }
        }
        _ => {}
    }
    Ok(())
}

fn chat_messages(
    v: &Value,
    system: &mut Vec<String>,
    marks: &mut Vec<Mark>,
) -> Result<Vec<Msg>, BedrockError> {
    let mut out = Vec::new();
    for (i, m) in array(v, "messages")?.iter().enumerate() {
        let p = format!("messages[{i}]");
        let role = role(m, &p)?;
        let mut at = Vec::new();
        let mut blocks = Blocks::default();
        chat_content(&m["content"], &format!("{p}.content"), &mut blocks, &mut at)?;
        let Blocks { mut parts, media } = blocks;
        // An OpenAI assistant turn's tool calls are model output fed back as input: counted as
        // the stand-in counts the tool use it answers with (name, then arguments).
        for call in m["tool_calls"].as_array().into_iter().flatten() {
            let f = &call["function"];
            parts.push(format!(
                "{}{}",
                f["name"].as_str().unwrap_or(""),
                f["arguments"].as_str().unwrap_or("")
            ));
        }
        if role == "system" || role == "developer" {
            // OpenAI system messages carry text only.
            system.extend(parts);
        } else {
            let index = out.len();
            marks.extend(
                at.into_iter()
                    .map(|(parts, ttl)| Mark::Message { index, parts, ttl }),
            );
            out.push(Msg { role, parts, media });
        }
    }
    Ok(out)
}

/// Anthropic or OpenAI `tools`: one system part before the rest of the system prompt (Bedrock's
/// order), with a cache point when an Anthropic tool carries `cache_control`.
fn chat_tools(v: &Value, p: &mut Prompt) -> Result<(), BedrockError> {
    let Some(tools) = v.as_array().filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    p.system.insert(0, v.to_string());
    for (i, t) in tools.iter().enumerate() {
        if let Some(ttl) = cache_control(t, &format!("tools[{i}]"))? {
            p.marks.push(Mark::System { parts: 1, ttl });
        }
    }
    Ok(())
}

fn single(prompt: &str) -> Vec<Msg> {
    vec![Msg {
        role: "user".into(),
        parts: vec![prompt.to_string()],
        media: Vec::new(),
    }]
}

/// An InvokeModel body of `family`.
pub fn invoke(family: Family, v: &Value) -> Result<Prompt, BedrockError> {
    let mut p = Prompt::default();
    match family {
        Family::Anthropic => {
            string(&v["anthropic_version"], "anthropic_version")?;
            p.max_tokens = uint(&v["max_tokens"], "max_tokens")?;
            if p.max_tokens.is_none() {
                return Err(invalid(
                    "Malformed input request: required field `max_tokens` is missing.",
                ));
            }
            chat_tools(&v["tools"], &mut p)?;
            let before = p.system.len();
            let mut at = Vec::new();
            // Anthropic system blocks are text: no media to estimate.
            let mut blocks = Blocks::default();
            chat_content(&v["system"], "system", &mut blocks, &mut at)?;
            p.system.extend(blocks.parts);
            p.marks
                .extend(at.into_iter().map(|(parts, ttl)| Mark::System {
                    parts: before + parts,
                    ttl,
                }));
            p.messages = chat_messages(&v["messages"], &mut p.system, &mut p.marks)?;
            conversation(&p.messages, false)?;
            p.chat = true;
            p.reasoning = reasoning::anthropic(v)?;
        }
        Family::Nova => {
            p.system = converse_system(&v["system"], v.get("toolConfig"), &mut p.marks)?;
            p.messages = converse_messages(&v["messages"], "messages", &mut p.marks)?;
            conversation(&p.messages, true)?;
            let ic = &v["inferenceConfig"];
            p.max_tokens = match uint(&ic["max_new_tokens"], "inferenceConfig.max_new_tokens")? {
                Some(n) => Some(n),
                None => uint(&ic["maxTokens"], "inferenceConfig.maxTokens")?,
            };
            p.chat = true;
            p.reasoning = reasoning::nova(&v["reasoningConfig"], "reasoningConfig")?;
        }
        Family::Titan => {
            p.messages = single(string(&v["inputText"], "inputText")?);
            p.max_tokens = uint(
                &v["textGenerationConfig"]["maxTokenCount"],
                "textGenerationConfig.maxTokenCount",
            )?;
        }
        Family::Llama => {
            p.messages = single(string(&v["prompt"], "prompt")?);
            p.max_tokens = uint(&v["max_gen_len"], "max_gen_len")?;
        }
        Family::Mistral => {
            if v.get("messages").is_some() {
                p.messages = chat_messages(&v["messages"], &mut p.system, &mut p.marks)?;
                p.chat = true;
            } else {
                p.messages = single(string(&v["prompt"], "prompt")?);
            }
            p.max_tokens = uint(&v["max_tokens"], "max_tokens")?;
        }
        Family::OpenAi => {
            if v["messages"].as_array().is_some_and(Vec::is_empty) {
                return Err(invalid(
                    "Malformed input request: `messages` must contain at least one message.",
                ));
            }
            p.messages = chat_messages(&v["messages"], &mut p.system, &mut p.marks)?;
            chat_tools(&v["tools"], &mut p)?;
            p.max_tokens = match uint(&v["max_completion_tokens"], "max_completion_tokens")? {
                Some(n) => Some(n),
                None => uint(&v["max_tokens"], "max_tokens")?,
            };
            p.chat = true;
            p.reasoning = reasoning::openai(v)?;
        }
    }
    let tools = match family {
        Family::Nova => &v["toolConfig"]["tools"],
        Family::Anthropic | Family::OpenAi => &v["tools"],
        Family::Titan | Family::Llama | Family::Mistral => &Value::Null,
    };
    p.tools = tool_names(tools);
    p.tool_results = tool_results(&v["messages"]);
    Ok(p)
}
