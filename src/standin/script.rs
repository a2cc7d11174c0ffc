//! Scripted tool use (docs/harness.md): a case's `tool_calls` make the stand-in answer like a model
//! that calls those tools in turn, so an application's agent loop runs in harness mode and every
//! turn of it is priced.
//!
//! The script is followed without state on the stand-in's side: how far a request has come is the
//! number of tool results it carries back. A loop that answers each tool call with one result and
//! sends the conversation so far (what every client's tool loop does) walks the script in order;
//! two applications running the same case concurrently cannot disturb each other, and a retried
//! call gets the same answer as the first.

use serde_json::Value;

use super::request::Prompt;
use crate::measure::dataset::ToolCall;
use crate::measure::pricing::ModelPrice;
use crate::measure::tokenize;

/// The tool call the stand-in answers with.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    /// The step of the script (0 for the first tool call), from which each family's id is made.
    pub step: usize,
    pub name: String,
    pub input: Value,
}

impl ToolUse {
    /// The call's output tokens: what the request that carries it back counts for it (the name,
    /// then the input as compact JSON), so the turn that produced it and the turn that reads it
    /// agree.
    pub fn output_tokens(&self, price: &ModelPrice) -> u64 {
        let text = format!("{}{}", self.name, self.input);
        tokenize::scale(price.tokenizer.count(&text), price.token_scale)
    }

    /// The input as the JSON text that OpenAI's `arguments` and the streams' deltas carry.
    pub fn input_json(&self) -> String {
        self.input.to_string()
    }
}

/// The next step of `script` for `prompt`: the tool call to answer with, or `None` for a text
/// answer. Steps naming a tool the request does not declare are skipped and their names pushed to
/// `skipped`; a request that declares no tool at all (a classifier call inside the same case, say)
/// is not part of the loop and answered with text, without a note.
pub fn next(script: &[ToolCall], prompt: &Prompt, skipped: &mut Vec<String>) -> Option<ToolUse> {
    if script.is_empty() || prompt.tools.is_empty() {
        return None;
    }
    let declared = |t: &&ToolCall| prompt.tools.contains(&t.name);
    skipped.extend(
        script
            .iter()
            .filter(|t| !declared(t))
            .map(|t| t.name.clone()),
    );
    let step = prompt.tool_results;
    script.iter().filter(declared).nth(step).map(|t| ToolUse {
        step,
        name: t.name.clone(),
        input: if t.input.is_null() {
            Value::Object(Default::default())
        } else {
            t.input.clone()
        },
    })
}

/// `s` in pieces of at most `max` bytes, cut on character boundaries: the partial JSON deltas of a
/// streamed tool call.
pub fn pieces(s: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max.max(1));
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, q: &str) -> ToolCall {
        ToolCall {
            name: name.into(),
            input: json!({ "q": q }),
        }
    }

    fn prompt(tools: &[&str], results: usize) -> Prompt {
        Prompt {
            tools: tools.iter().map(|t| t.to_string()).collect(),
            tool_results: results,
            ..Prompt::default()
        }
    }

    #[test]
    fn the_script_advances_with_each_tool_result_and_then_answers_with_text() {
        let script = [call("search", "a"), call("stock", "b")];
        let mut skipped = Vec::new();
        let p = |n| prompt(&["search", "stock"], n);
        assert_eq!(next(&script, &p(0), &mut skipped).unwrap().name, "search");
        let second = next(&script, &p(1), &mut skipped).unwrap();
        assert_eq!((second.step, second.name.as_str()), (1, "stock"));
        assert_eq!(second.input, json!({"q": "b"}));
        assert_eq!(next(&script, &p(2), &mut skipped), None);
        assert!(skipped.is_empty());
    }

    #[test]
    fn undeclared_tools_are_skipped_and_named_and_tool_less_calls_are_not_in_the_loop() {
        let script = [call("search", "a"), call("stock", "b")];
        let mut skipped = Vec::new();
        let only_search = prompt(&["search"], 1);
        assert_eq!(next(&script, &only_search, &mut skipped), None);
        assert_eq!(skipped, ["stock"]);
        skipped.clear();
        assert_eq!(next(&script, &prompt(&[], 0), &mut skipped), None);
        assert!(skipped.is_empty());
        assert_eq!(next(&[], &prompt(&["search"], 0), &mut skipped), None);
    }

    #[test]
    fn a_missing_input_is_an_empty_object() {
        let script = [ToolCall {
            name: "list".into(),
            input: Value::Null,
        }];
        let got = next(&script, &prompt(&["list"], 0), &mut Vec::new()).unwrap();
        assert_eq!(got.input_json(), "{}");
    }

    #[test]
    fn pieces_cut_on_character_boundaries_and_join_back() {
        let s = r#"{"q":"ワンピース like manga"}"#;
        let parts = pieces(s, 5);
        assert!(parts.len() > 3);
        assert!(parts.iter().all(|p| !p.is_empty()));
        assert_eq!(parts.concat(), s);
        assert!(pieces("", 5).is_empty());
    }
}
