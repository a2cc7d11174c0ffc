//! Reads Bedrock model-invocation log records (`schemaType: ModelInvocationLog`), as Bedrock
//! delivers them to S3 (gzip'd JSON lines) or as exported from CloudWatch Logs (plain lines,
//! possibly prefixed with a timestamp). A bad record is counted with its line number and skipped:
//! one truncated line must not throw away a month of logs.

use std::io::Read;

use serde::Deserialize;
use serde_json::Value;

/// One usable record: what production counted, and the request body's messages to recount.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub file: String,
    pub line: usize,
    pub model_id: String,
    /// `requestMetadata[intent_key]`, when present.
    pub intent: Option<String>,
    /// Text parts of each message (the system prompt counts as one message).
    pub messages: Vec<Vec<String>>,
    pub input_tokens: u64,
    pub output_tokens: Option<u64>,
}

/// A record that could not be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<Record>,
    /// Unreadable or incomplete lines.
    pub malformed: Vec<Bad>,
    /// Valid records costgate cannot recount (body stored in S3, no text, other schema).
    pub skipped: Vec<Bad>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecord {
    schema_type: Option<String>,
    model_id: Option<String>,
    #[serde(default)]
    request_metadata: Option<serde_json::Map<String, Value>>,
    input: Option<RawInput>,
    output: Option<RawOutput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawInput {
    input_body_json: Option<Value>,
    input_body_s3_path: Option<String>,
    input_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOutput {
    output_token_count: Option<u64>,
}

/// Decompresses gzip (by its magic bytes, whatever the file is called) or returns the bytes.
pub fn decode(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Parses one file's (decompressed) contents.
pub fn parse(file: &str, bytes: &[u8], intent_key: &str, out: &mut Parsed) {
    for (i, raw_line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let bad = |reason: String| Bad {
            file: file.to_string(),
            line: line_no,
            reason,
        };
        let Ok(line) = std::str::from_utf8(raw_line) else {
            out.malformed.push(bad("not UTF-8".into()));
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        // CloudWatch exports prefix each event with its timestamp: start at the JSON object.
        let json = match line.find('{') {
            Some(at) => &line[at..],
            None => {
                out.malformed.push(bad("no JSON object on the line".into()));
                continue;
            }
        };
        let rec: RawRecord = match serde_json::from_str(json) {
            Ok(r) => r,
            Err(e) => {
                out.malformed.push(bad(format!("invalid JSON: {e}")));
                continue;
            }
        };
        if rec
            .schema_type
            .as_deref()
            .is_some_and(|s| s != "ModelInvocationLog")
        {
            out.skipped.push(bad(format!(
                "schemaType `{}` is not ModelInvocationLog",
                rec.schema_type.unwrap_or_default()
            )));
            continue;
        }
        let Some(model_id) = rec.model_id.filter(|m| !m.is_empty()) else {
            out.malformed.push(bad("no `modelId`".into()));
            continue;
        };
        let Some(input) = rec.input else {
            out.malformed.push(bad("no `input`".into()));
            continue;
        };
        let Some(input_tokens) = input.input_token_count else {
            out.malformed.push(bad("no `input.inputTokenCount`".into()));
            continue;
        };
        let body = match (input.input_body_json, input.input_body_s3_path) {
            (Some(b), _) => b,
            (None, Some(path)) => {
                out.skipped.push(bad(format!(
                    "request body stored in S3 ({path}), not inline"
                )));
                continue;
            }
            (None, None) => {
                out.malformed.push(bad("no `input.inputBodyJson`".into()));
                continue;
            }
        };
        let messages = messages_of(&body);
        if messages.iter().all(|m| m.iter().all(|t| t.is_empty())) {
            out.skipped.push(bad("no text in the request body".into()));
            continue;
        }
        let intent = rec
            .request_metadata
            .as_ref()
            .and_then(|m| m.get(intent_key))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            });
        out.records.push(Record {
            file: file.to_string(),
            line: line_no,
            model_id,
            intent,
            messages,
            input_tokens,
            output_tokens: rec.output.and_then(|o| o.output_token_count),
        });
    }
}

/// Every `text` string inside a value (content blocks, tool results…), in order.
fn texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| texts_in_block(x, out)),
        other => texts_in_block(other, out),
    }
}

fn texts_in_block(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("text", Value::String(s)) => out.push(s.clone()),
                    (_, Value::Object(_) | Value::Array(_)) => texts_in_block(x, out),
                    _ => {}
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| texts_in_block(x, out)),
        _ => {}
    }
}

/// The messages of a request body in any of Bedrock's families: Converse and Nova (`system`
/// blocks, `messages[].content[]`), Anthropic Messages (`system` string or blocks), OpenAI chat
/// (`messages[].content` string or parts), Titan (`inputText`), Llama and Mistral (`prompt`).
pub fn messages_of(body: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    if let Some(system) = body.get("system") {
        let mut t = Vec::new();
        texts(system, &mut t);
        if !t.is_empty() {
            out.push(t);
        }
    }
    if let Some(Value::Array(msgs)) = body.get("messages") {
        for m in msgs {
            let mut t = Vec::new();
            if let Some(c) = m.get("content") {
                texts(c, &mut t);
            }
            out.push(t);
        }
    }
    for key in ["inputText", "prompt"] {
        if let Some(Value::String(s)) = body.get(key) {
            out.push(vec![s.clone()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_body_family_yields_its_messages() {
        let converse = serde_json::json!({"system": [{"text": "S"}], "messages": [{"role": "user", "content": [{"text": "a"}, {"image": {}}, {"text": "b"}]}]});
        assert_eq!(
            messages_of(&converse),
            vec![vec!["S".to_string()], vec!["a".into(), "b".into()]]
        );
        let anthropic = serde_json::json!({"system": "S", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [{"type": "text", "text": "r"}]}]});
        assert_eq!(
            messages_of(&anthropic),
            vec![vec!["S".to_string()], vec!["q".into()], vec!["r".into()]]
        );
        assert_eq!(
            messages_of(&serde_json::json!({"inputText": "t"})),
            vec![vec!["t".to_string()]]
        );
        assert_eq!(
            messages_of(&serde_json::json!({"prompt": "p", "max_gen_len": 5})),
            vec![vec!["p".to_string()]]
        );
    }

    #[test]
    fn bad_lines_are_counted_with_their_numbers_and_the_rest_is_read() {
        let text = "{\"schemaType\":\"ModelInvocationLog\",\"modelId\":\"m\",\"input\":{\"inputBodyJson\":{\"prompt\":\"hi\"},\"inputTokenCount\":3},\"output\":{\"outputTokenCount\":4},\"requestMetadata\":{\"intent\":\"faq\"}}\nnot json\n\n{\"modelId\":\"m\",\"input\":{\"inputTokenCount\":1}}\n2026-11-20T23:00:19.000Z {\"modelId\":\"m\",\"input\":{\"inputBodyS3Path\":\"s3://b/k\",\"inputTokenCount\":9}}\n{\"modelId\":\"m\",\"input\":{\"inputBodyJson\":{\"prompt\":\"x\"},\"inputTokenCount\":2}";
        let mut p = Parsed::default();
        parse("a.jsonl", text.as_bytes(), "intent", &mut p);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].intent.as_deref(), Some("faq"));
        assert_eq!(p.records[0].output_tokens, Some(4));
        let lines: Vec<usize> = p.malformed.iter().map(|b| b.line).collect();
        assert_eq!(lines, [2, 4, 6]);
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.skipped[0].line, 5);
    }
}
