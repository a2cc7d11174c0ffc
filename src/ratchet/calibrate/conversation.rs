//! The conversation of a logged request, for `costgate refresh`'s candidates: the last user
//! message is the query, the earlier user and assistant turns the history. System prompts, tool
//! blocks and images are not the user's words and are left out.

use serde_json::Value;

use crate::measure::dataset::{Message, Role};

/// One logged request as `refresh` sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub file: String,
    pub line: usize,
    pub intent: Option<String>,
    /// All input tokens production billed (the long tail is weighted by it).
    pub input_tokens: u64,
    /// The conversation, or why none could be taken.
    pub conversation: Result<Conversation, &'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub query: String,
    pub history: Vec<Message>,
}

/// The conversation of a request body of any family: `messages` (Converse, Nova, Anthropic,
/// OpenAI, Mistral chat) or Titan's `inputText`. Prompt-style bodies (Llama, Mistral `prompt`)
/// wrap the user's words in a chat template and are refused.
pub fn conversation(body: &Value) -> Result<Conversation, &'static str> {
    let mut turns: Vec<Message> = Vec::new();
    match (body.get("messages"), body.get("inputText")) {
        (Some(Value::Array(msgs)), _) => {
            for m in msgs {
                let role = match m.get("role").and_then(Value::as_str) {
                    Some("user") => Role::User,
                    Some("assistant") => Role::Assistant,
                    _ => continue,
                };
                let text = text_of(m.get("content").unwrap_or(&Value::Null));
                if !text.trim().is_empty() {
                    turns.push(Message {
                        role,
                        content: text,
                    });
                }
            }
        }
        (_, Some(Value::String(t))) => turns.push(Message {
            role: Role::User,
            content: t.clone(),
        }),
        _ if body.get("prompt").is_some() => {
            return Err("prompt-style body: the user's words are inside a chat template");
        }
        _ => return Err("no messages in the request body"),
    }
    let last_user = turns
        .iter()
        .rposition(|m| m.role == Role::User)
        .ok_or("no user message with text")?;
    let query = turns[last_user].content.clone();
    turns.truncate(last_user);
    Ok(Conversation {
        query,
        history: turns,
    })
}

/// The text blocks of a message's content: a string, or `text` blocks (`{"text"}`,
/// `{"type": "text", "text"}`), joined by newlines.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| match b {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => {
                    let typed_text = o.get("type").is_none_or(|t| t == "text");
                    o.get("text").and_then(Value::as_str).filter(|_| typed_text)
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_user_turn_is_the_query_and_earlier_turns_the_history() {
        let converse = serde_json::json!({"system": [{"text": "S"}], "messages": [
            {"role": "user", "content": [{"text": "hi"}]},
            {"role": "assistant", "content": [{"text": "hello!"}]},
            {"role": "user", "content": [{"text": "a manga like"}, {"image": {}}, {"text": "Frieren"}]}
        ]});
        let c = conversation(&converse).unwrap();
        assert_eq!(c.query, "a manga like\nFrieren");
        assert_eq!(c.history.len(), 2);
        let anthropic = serde_json::json!({"system": "S", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "q"}, {"type": "tool_result", "content": "x"}]}
        ]});
        assert_eq!(conversation(&anthropic).unwrap().query, "q");
        let openai = serde_json::json!({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "q2"}]});
        assert_eq!(conversation(&openai).unwrap().query, "q2");
        assert_eq!(
            conversation(&serde_json::json!({"inputText": "t"}))
                .unwrap()
                .query,
            "t"
        );
    }

    #[test]
    fn bodies_without_the_users_words_are_refused() {
        assert!(conversation(&serde_json::json!({"prompt": "<s>[INST] q [/INST]"})).is_err());
        assert!(
            conversation(&serde_json::json!({"messages": [{"role": "assistant", "content": "a"}]}))
                .is_err()
        );
        assert!(conversation(&serde_json::json!({})).is_err());
    }
}
