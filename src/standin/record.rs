//! The per-request audit trail: one [`CallRecord`] per call, kept in memory for harness mode and
//! appended as one JSONL line per call to `--record FILE`.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::attribution::Method;
use super::request::Counted;
use crate::measure::cache::{Claim, Dropped};
use crate::measure::pricing::{Tier, Usage};
use crate::measure::render::Segments;

/// One call the stand-in answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// UTC, RFC 3339 with milliseconds.
    pub time: String,
    /// `Converse`, `ConverseStream`, `InvokeModel`, `InvokeModelWithResponseStream`, `CountTokens`.
    pub operation: &'static str,
    /// The model id as the client sent it (profile id or ARN included).
    pub model: String,
    /// The priced model it resolved to.
    pub model_id: String,
    pub case: Option<String>,
    pub attribution: Option<Method>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub segments: Segments,
    /// Prompt-cache tokens as served, in call order (the first call with a prefix writes it); part
    /// of `input_tokens`. The gate prices by the steady-state rule from `cache` instead.
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_read_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
    /// Full precision, unrounded, at the usage as served.
    pub cost_usd: f64,
    pub stop_reason: Option<&'static str>,
    /// The service tier the request asked for.
    #[serde(skip_serializing_if = "is_standard")]
    pub service_tier: Tier,
    /// The call's honoured cache points, for the steady-state rule.
    #[serde(skip)]
    pub cache: Option<Claim>,
    /// Cache points Bedrock would not honour, and unpriced tiers: noted once per run.
    #[serde(skip)]
    pub dropped: Vec<Dropped>,
    /// Scripted tools of the case this call should have used but did not declare: skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_tools: Vec<String>,
    /// Indices of the case's `expect.context_includes` strings this call's input held.
    #[serde(skip)]
    pub context_hits: Vec<usize>,
    /// Reasoning tokens billed (part of `output_tokens`).
    #[serde(skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
    /// The reasoning setting the call was billed at ("thinking budget 2,048", "effort high").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// The step the call named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Images billed per image (multimodal embeddings).
    #[serde(skip_serializing_if = "is_zero")]
    pub images: u64,
    /// Rerank queries billed (each started 100 documents one query).
    #[serde(skip_serializing_if = "is_zero")]
    pub queries: u64,
    /// What the call bills.
    #[serde(skip_serializing_if = "Bills::is_model")]
    pub kind: Bills,
    /// A guardrail the call applied (Converse `guardrailConfig`, InvokeModel's guardrail headers,
    /// ApplyGuardrail): its id, the text units it checked and their price, part of `cost_usd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub guardrail_text_units: u64,
    #[serde(skip_serializing_if = "is_zero_usd")]
    pub guardrail_usd: f64,
    /// A prompt router's own fee, part of `cost_usd`.
    #[serde(skip_serializing_if = "is_zero_usd")]
    pub router_fee_usd: f64,
    /// The price table has no price for the model (or unit): `cost_usd` is 0, a floor.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unpriced: bool,
}

impl CallRecord {
    /// A call as counted, before anything is billed: all a CountTokens call records. `model` is
    /// the id as the client sent it and the priced id it resolved to.
    pub fn new(
        operation: &'static str,
        (model, model_id): (&str, &str),
        counted: &Counted,
        tier: Tier,
        cache: Option<Claim>,
        dropped: Vec<Dropped>,
    ) -> CallRecord {
        CallRecord {
            time: now_rfc3339(),
            operation,
            model: model.to_string(),
            model_id: model_id.to_string(),
            case: None,
            attribution: None,
            input_tokens: counted.input_tokens,
            output_tokens: 0,
            segments: counted.segments,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            cost_usd: 0.0,
            stop_reason: None,
            service_tier: tier,
            cache,
            skipped_tools: dropped
                .iter()
                .filter_map(|d| match d {
                    Dropped::ToolNotDeclared { tool } => Some(tool.clone()),
                    _ => None,
                })
                .collect(),
            dropped,
            context_hits: Vec::new(),
            reasoning_tokens: 0,
            reasoning: None,
            step: None,
            images: 0,
            queries: 0,
            kind: Bills::Model,
            guardrail: None,
            guardrail_text_units: 0,
            guardrail_usd: 0.0,
            router_fee_usd: 0.0,
            unpriced: false,
        }
    }

    /// The call as answered and billed: its usage as served, its cost at that usage.
    pub fn bill(&mut self, usage: &Usage, cost_usd: f64, stop_reason: &'static str) {
        self.output_tokens = usage.output_tokens;
        self.cache_read_tokens = usage.cache_read_tokens;
        self.cache_write_tokens = usage.cache_write_tokens;
        self.cost_usd = cost_usd;
        self.stop_reason = Some(stop_reason);
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_usd(x: &f64) -> bool {
    *x == 0.0
}

/// What a call bills, which decides where its cost counts in a case (`Extras`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bills {
    /// A model's tokens (with any guardrail it applied and a router's fee).
    Model,
    /// An embedding model's input tokens and images.
    Embedding,
    /// Rerank queries.
    Rerank,
    /// ApplyGuardrail's text units.
    Guardrail,
    /// A knowledge base's Retrieve: free on Bedrock.
    Retrieve,
}

impl Bills {
    fn is_model(&self) -> bool {
        *self == Bills::Model
    }
}

fn is_standard(t: &Tier) -> bool {
    *t == Tier::Standard
}

impl CallRecord {
    /// A call that bills no model tokens (rerank, guardrail, retrieval): nothing counted yet.
    pub fn service(operation: &'static str, model: (&str, &str), kind: Bills) -> CallRecord {
        let mut rec = CallRecord::new(
            operation,
            model,
            &Counted {
                segments: Default::default(),
                input_tokens: 0,
            },
            Tier::Standard,
            None,
            Vec::new(),
        );
        rec.kind = kind;
        rec
    }

    /// Sets the case the call belongs to and how it was found.
    pub fn attribute(&mut self, attributed: Option<(String, Method)>) {
        let (case, method) = attributed.map_or((None, None), |(c, m)| (Some(c), Some(m)));
        self.case = case;
        self.attribution = method;
    }

    /// CountTokens is free on Bedrock and answers no prompt: it is audited but never priced.
    pub fn is_billable(&self) -> bool {
        self.operation != "CountTokens"
    }
}

/// Appends records to a JSONL file, one `write` per line so a crash never leaves half a line.
#[derive(Debug)]
pub struct Recorder {
    file: Mutex<File>,
}

impl Recorder {
    pub fn create(path: &Path) -> std::io::Result<Recorder> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Recorder {
            file: Mutex::new(file),
        })
    }

    pub fn write(&self, record: &CallRecord) {
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = f.write_all(&line) {
            tracing::error!("cannot append to the record file: {e}");
        }
    }

    pub fn flush(&self) {
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = f.flush().and_then(|_| f.sync_data());
    }
}

/// Now, as `2026-11-27T10:35:38.123Z`.
pub fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_millis())
}

/// Formats Unix seconds as UTC (Howard Hinnant's days-to-civil algorithm).
fn rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_795_775_738, 123), "2026-11-27T10:35:38.123Z");
    }
}
