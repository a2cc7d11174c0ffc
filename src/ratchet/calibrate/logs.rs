//! Reads Bedrock model-invocation log records (`schemaType: ModelInvocationLog`), as Bedrock
//! delivers them to S3 (gzip'd JSON lines) or as exported from CloudWatch Logs (plain lines,
//! possibly prefixed with a timestamp). A bad record is counted with its line number and skipped:
//! one truncated line must not throw away a month of logs.
//!
//! Logs are untrusted input of any size: files are read as a stream (gzip decoded on the fly),
//! each line is capped at [`MAX_LINE_BYTES`] and each file at [`MAX_DECOMPRESSED_BYTES`]
//! decompressed (a gzip bomb is refused, not inflated), and a record keeps its token count, not its
//! text, so memory grows with the number of records only.

use std::io::{BufRead, BufReader};
use std::path::Path;

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
    /// Messages in the request (the system prompt counts as one).
    pub message_count: usize,
    /// Tokens of the messages' text with the model's tokenizer; `None` for a model the price
    /// table does not know.
    pub text_tokens: Option<u64>,
    /// All input: `inputTokenCount` plus the cache reads and writes it leaves out.
    pub input_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub output_tokens: Option<u64>,
    /// The request's thinking budget (`thinking: {type: enabled, budget_tokens}`), if any.
    pub thinking_budget: Option<u64>,
    /// `requestMetadata.costgate_step`, when the application names its steps.
    pub step: Option<String>,
    /// Tokens of the answer text in the logged output body (reasoning excluded): what separates
    /// reasoning from the answer. `None` when the output body was not logged inline.
    pub answer_text_tokens: Option<u64>,
}

/// A record that could not be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl Bad {
    /// The reason without its particulars (a path, a value), for counting by kind.
    pub fn reason_kind(&self) -> String {
        self.reason
            .split(" (")
            .next()
            .unwrap_or(&self.reason)
            .to_string()
    }
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<Record>,
    /// Unreadable or incomplete lines.
    pub malformed: Vec<Bad>,
    /// Valid records costgate cannot recount (body stored in S3, no text, other schema).
    pub skipped: Vec<Bad>,
    /// Every invocation with a model id, recountable or not: what the traffic proposal counts.
    pub invocations: Vec<Invocation>,
    /// `Some`: also hand each record's conversation to this sink as it is read, for `costgate
    /// refresh`, which keeps only what it needs of it (calibration does not hold request texts).
    pub conversations: Option<ConversationSink>,
}

/// Where `read` hands each logged conversation: called once per record with text, in log order.
pub struct ConversationSink(pub Box<dyn FnMut(super::conversation::Logged)>);

impl std::fmt::Debug for ConversationSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConversationSink")
    }
}

/// When an invocation was made and for which intent, for `calibrate`'s traffic proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// Milliseconds since the Unix epoch, from `timestamp` or the export's line prefix.
    pub at_ms: Option<i64>,
    pub intent: Option<String>,
    /// `modelId` as logged (a model id, an inference profile id or an ARN): what `init` routes
    /// each intent to.
    pub model_id: String,
    /// `output.outputTokenCount`, when logged.
    pub output_tokens: Option<u64>,
}

fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecord {
    schema_type: Option<String>,
    /// RFC 3339, when the invocation was made.
    timestamp: Option<String>,
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
    /// Prompt-cache tokens, which `inputTokenCount` leaves out.
    cache_read_input_token_count: Option<u64>,
    cache_write_input_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOutput {
    output_token_count: Option<u64>,
    output_body_json: Option<Value>,
}

/// A line longer than this is malformed (a record with a long prompt is well under it).
pub const MAX_LINE_BYTES: usize = 32 << 20;
/// A file that decompresses to more than this is refused.
pub const MAX_DECOMPRESSED_BYTES: u64 = 8 << 30;

/// The limits [`read`] applies (the constants above, smaller in tests).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_line_bytes: usize,
    pub max_decompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: MAX_LINE_BYTES,
            max_decompressed_bytes: MAX_DECOMPRESSED_BYTES,
        }
    }
}

/// Counts a request's message texts with its model's tokenizer (`None`: unknown model).
pub type Counter<'a> = &'a dyn Fn(&str, &[Vec<String>]) -> Option<u64>;

/// Opens `path` for [`read`]: gzip (by its magic bytes, whatever the file is called) is decoded
/// as it is read.
pub fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::new(std::fs::File::open(path)?);
    let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Reads one file's records from `reader`. Errors (I/O, corrupt gzip, over the size limit) name
/// what went wrong; malformed lines are counted in `out`, not errors.
pub fn read(
    file: &str,
    reader: impl BufRead,
    intent_key: &str,
    count: Counter<'_>,
    limits: Limits,
    out: &mut Parsed,
) -> Result<(), String> {
    let mut reader = reader.take(limits.max_decompressed_bytes + 1);
    let mut line = Vec::new();
    let mut line_no = 0usize;
    loop {
        line.clear();
        line_no += 1;
        let (n, too_long) = read_line_capped(&mut reader, &mut line, limits.max_line_bytes)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        if reader.limit() == 0 {
            return Err(format!(
                "decompresses to more than {} bytes; refused (split the export, or it is not a log)",
                limits.max_decompressed_bytes
            ));
        }
        if too_long {
            out.malformed.push(Bad {
                file: file.to_string(),
                line: line_no,
                reason: format!("line longer than {} bytes", limits.max_line_bytes),
            });
            continue;
        }
        parse_line(file, line_no, &line, intent_key, count, out);
    }
    Ok(())
}

/// Reads up to and including the next `\n`, keeping at most `max` bytes of it; returns the bytes
/// consumed and whether the line was longer.
fn read_line_capped(
    r: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(usize, bool)> {
    let (mut consumed, mut too_long) = (0usize, false);
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((consumed, too_long));
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long && line.len() + chunk.len() <= max {
            line.extend_from_slice(chunk);
        } else {
            too_long = true;
            line.clear();
        }
        let used = done.unwrap_or(buf.len());
        r.consume(used);
        consumed += used;
        if done.is_some() {
            return Ok((consumed, too_long));
        }
    }
}

/// Parses one file's (decompressed) contents held in memory (tests, small inputs).
pub fn parse(file: &str, bytes: &[u8], intent_key: &str, count: Counter<'_>, out: &mut Parsed) {
    // Reading from memory cannot fail, and the limit is far above a test input.
    let _ = read(file, bytes, intent_key, count, Limits::default(), out);
}

/// No request or answer is anywhere near this many tokens; a log line above it is corrupt, and its
/// counts would overflow the sums or swamp the ratios.
const MAX_TOKEN_COUNT: u64 = 100_000_000;

/// Parses one line (without its `\n`).
fn parse_line(
    file: &str,
    line_no: usize,
    raw_line: &[u8],
    intent_key: &str,
    count: Counter<'_>,
    out: &mut Parsed,
) {
    {
        let bad = |reason: String| Bad {
            file: file.to_string(),
            line: line_no,
            reason,
        };
        let Ok(line) = std::str::from_utf8(raw_line) else {
            out.malformed.push(bad("not UTF-8".into()));
            return;
        };
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        // CloudWatch exports prefix each event with its timestamp: start at the JSON object.
        let json = match line.find('{') {
            Some(at) => &line[at..],
            None => {
                out.malformed.push(bad("no JSON object on the line".into()));
                return;
            }
        };
        let rec: RawRecord = match serde_json::from_str(json) {
            Ok(r) => r,
            Err(e) => {
                out.malformed.push(bad(format!("invalid JSON: {e}")));
                return;
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
            return;
        }
        let Some(model_id) = rec.model_id.filter(|m| !m.is_empty()) else {
            out.malformed.push(bad("no `modelId`".into()));
            return;
        };
        let intent = rec
            .request_metadata
            .as_ref()
            .and_then(|m| m.get(intent_key))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            });
        let prefix = &line[..line.len() - json.len()];
        out.invocations.push(Invocation {
            at_ms: rec
                .timestamp
                .as_deref()
                .and_then(parse_time)
                .or_else(|| parse_time(prefix)),
            intent: intent.clone(),
            model_id: model_id.clone(),
            output_tokens: rec.output.as_ref().and_then(|o| o.output_token_count),
        });
        let Some(input) = rec.input else {
            out.malformed.push(bad("no `input`".into()));
            return;
        };
        let cache_read_tokens = input.cache_read_input_token_count.unwrap_or(0);
        let cache_write_tokens = input.cache_write_input_token_count.unwrap_or(0);
        let Some(input_tokens) = input.input_token_count else {
            out.malformed.push(bad("no `input.inputTokenCount`".into()));
            return;
        };
        let counts = [
            ("input.inputTokenCount", input_tokens),
            ("input.cacheReadInputTokenCount", cache_read_tokens),
            ("input.cacheWriteInputTokenCount", cache_write_tokens),
            (
                "output.outputTokenCount",
                rec.output
                    .as_ref()
                    .and_then(|o| o.output_token_count)
                    .unwrap_or(0),
            ),
        ];
        if let Some((key, n)) = counts.iter().find(|(_, n)| *n > MAX_TOKEN_COUNT) {
            out.malformed.push(bad(format!(
                "`{key}` is {n}, not a token count any model bills (the largest context is far below {MAX_TOKEN_COUNT})"
            )));
            return;
        }
        let body = match (input.input_body_json, input.input_body_s3_path) {
            (Some(b), _) => b,
            (None, Some(path)) => {
                out.skipped.push(bad(format!(
                    "request body stored in S3 ({path}), not inline"
                )));
                return;
            }
            (None, None) => {
                out.malformed.push(bad("no `input.inputBodyJson`".into()));
                return;
            }
        };
        let messages = messages_of(&body);
        if messages.iter().all(|m| m.iter().all(|t| t.is_empty())) {
            out.skipped.push(bad("no text in the request body".into()));
            return;
        }
        if let Some(ConversationSink(sink)) = out.conversations.as_mut() {
            sink(super::conversation::Logged {
                file: file.to_string(),
                line: line_no,
                intent: intent.clone(),
                input_tokens: input_tokens + cache_read_tokens + cache_write_tokens,
                conversation: super::conversation::conversation(&body),
            });
        }
        let text_tokens = count(&model_id, &messages);
        let step = rec
            .request_metadata
            .as_ref()
            .and_then(|m| m.get("costgate_step"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let answer_text_tokens = rec
            .output
            .as_ref()
            .and_then(|o| o.output_body_json.as_ref())
            .and_then(answer_texts)
            .and_then(|t| count(&model_id, &[t]));
        out.records.push(Record {
            file: file.to_string(),
            line: line_no,
            model_id,
            intent,
            message_count: messages.len(),
            text_tokens,
            input_tokens: input_tokens + cache_read_tokens + cache_write_tokens,
            cache_read_tokens,
            cache_write_tokens,
            output_tokens: rec.output.and_then(|o| o.output_token_count),
            thinking_budget: thinking_budget(&body),
            step,
            answer_text_tokens,
        });
    }
}

/// The thinking budget of an Anthropic body, or of a Converse request's
/// `additionalModelRequestFields`.
fn thinking_budget(body: &Value) -> Option<u64> {
    [
        &body["thinking"],
        &body["additionalModelRequestFields"]["thinking"],
    ]
    .into_iter()
    .find(|t| t["type"].as_str() == Some("enabled"))
    .and_then(|t| t["budget_tokens"].as_u64())
}

/// The answer's text in a logged output body, without its reasoning: Anthropic `content` text
/// blocks, Converse `output.message.content` text blocks, OpenAI `choices[].message.content`
/// (gpt-oss's `<reasoning>` part removed). `None` for a body of another shape.
fn answer_texts(out: &Value) -> Option<Vec<String>> {
    let blocks = out["content"]
        .as_array()
        .or_else(|| out["output"]["message"]["content"].as_array());
    if let Some(blocks) = blocks {
        return Some(
            blocks
                .iter()
                .filter(|b| b["type"].as_str().is_none_or(|t| t == "text"))
                .filter_map(|b| b["text"].as_str().map(str::to_string))
                .collect(),
        );
    }
    let choices = out["choices"].as_array()?;
    Some(
        choices
            .iter()
            .filter_map(|c| c["message"]["content"].as_str())
            .map(|t| match t.split_once("</reasoning>") {
                Some((_, answer)) => answer.to_string(),
                None => t.to_string(),
            })
            .collect(),
    )
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
        parse(
            "a.jsonl",
            text.as_bytes(),
            "intent",
            &|_, m| Some(m.len() as u64),
            &mut p,
        );
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].intent.as_deref(), Some("faq"));
        assert_eq!(p.records[0].output_tokens, Some(4));
        let lines: Vec<usize> = p.malformed.iter().map(|b| b.line).collect();
        assert_eq!(lines, [2, 4, 6]);
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.skipped[0].line, 5);
    }

    #[test]
    fn an_implausible_token_count_is_a_malformed_line_naming_the_key() {
        let text = "{\"modelId\":\"m\",\"input\":{\"inputBodyJson\":{\"prompt\":\"hi\"},\"inputTokenCount\":18446744073709551615,\"cacheReadInputTokenCount\":5}}\n{\"modelId\":\"m\",\"input\":{\"inputBodyJson\":{\"prompt\":\"hi\"},\"inputTokenCount\":3},\"output\":{\"outputTokenCount\":18446744073709551615}}\n";
        let mut p = Parsed::default();
        parse("a.jsonl", text.as_bytes(), "intent", &count, &mut p);
        assert!(p.records.is_empty());
        let bad: Vec<(usize, &str)> = p
            .malformed
            .iter()
            .map(|b| (b.line, b.reason.as_str()))
            .collect();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!(bad[0].0, 1);
        assert!(
            bad[0]
                .1
                .starts_with("`input.inputTokenCount` is 18446744073709551615"),
            "{bad:?}"
        );
        assert_eq!(bad[1].0, 2);
        assert!(bad[1].1.starts_with("`output.outputTokenCount`"), "{bad:?}");
    }

    fn count(_: &str, m: &[Vec<String>]) -> Option<u64> {
        Some(m.iter().flatten().map(|t| t.len() as u64).sum())
    }

    const REC: &str = "{\"modelId\":\"m\",\"input\":{\"inputBodyJson\":{\"prompt\":\"hello\"},\"inputTokenCount\":3}}\n";

    #[test]
    fn a_gzip_bomb_is_refused_at_the_limit_without_inflating_it() {
        use std::io::Write;
        // 64 MiB of zeros after one record: a few KiB compressed.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(REC.as_bytes()).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        let bytes = gz.finish().unwrap();
        assert!(bytes.len() < 1 << 20);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.json.gz");
        std::fs::write(&path, &bytes).unwrap();
        let limits = Limits {
            max_line_bytes: 1 << 16,
            max_decompressed_bytes: 8 << 20,
        };
        let mut p = Parsed::default();
        let err = read(
            "bomb",
            open(&path).unwrap(),
            "intent",
            &count,
            limits,
            &mut p,
        )
        .unwrap_err();
        assert!(
            err.contains("decompresses to more than 8388608 bytes"),
            "{err}"
        );
        assert_eq!(p.records.len(), 1, "what came before the limit is kept");
    }

    #[test]
    fn an_overlong_line_is_malformed_and_the_next_line_is_read() {
        let text = format!("{REC}{{\"x\":\"{}\"}}\n{REC}", "a".repeat(5000));
        let limits = Limits {
            max_line_bytes: 1000,
            max_decompressed_bytes: 1 << 20,
        };
        let mut p = Parsed::default();
        read("f", text.as_bytes(), "intent", &count, limits, &mut p).unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.malformed.len(), 1);
        assert_eq!(p.malformed[0].line, 2);
        assert!(p.malformed[0].reason.contains("longer than 1000 bytes"));
        assert_eq!(p.records[1].line, 3);
        assert_eq!(p.records[0].text_tokens, Some(5));
    }
}
