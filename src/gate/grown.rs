//! What grew, in a cause's words, beyond the prompt's segments: the units of each kind (tokens,
//! reasoning tokens, text units, rerank queries, embedding tokens), the reasoning settings that
//! changed, and the services besides model tokens (embeddings, rerank, guardrails) that grew.

use crate::gate::report::{CaseReport, SideCost};

/// How much `what` grew from `b` to `h`, in its own unit.
pub(super) fn growth(what: &str, b: &SideCost, h: &SideCost) -> Option<i64> {
    let d = |x: u64, y: u64| y as i64 - x as i64;
    match what {
        "system" => Some(d(b.segments.system, h.segments.system)),
        "history" => Some(d(b.segments.history, h.segments.history)),
        "prompt" => Some(d(b.segments.prompt, h.segments.prompt)),
        "overhead" => Some(d(b.segments.overhead, h.segments.overhead)),
        "output" => Some(d(b.output_tokens, h.output_tokens)),
        "reasoning" => Some(d(b.reasoning_tokens, h.reasoning_tokens)),
        "guardrail" => Some(d(
            b.extras.guardrail_text_units,
            h.extras.guardrail_text_units,
        )),
        "rerank" => Some(d(b.extras.rerank_queries, h.extras.rerank_queries)),
        "embedding" => Some(d(b.extras.embedding_tokens, h.extras.embedding_tokens)),
        _ => None,
    }
}

/// "thinking budget 2,048 → 16,384 (+7,168 reasoning tokens)": the setting that changed (or how
/// many changed) and the reasoning tokens it added.
pub(super) fn reasoning(min: Option<i64>, max: Option<i64>, cs: &[&CaseReport]) -> String {
    let settings = |s: &Option<SideCost>| match s.as_ref().map(|s| &s.reasoning) {
        Some(r) if !r.is_empty() => r.join(" + "),
        _ => "no reasoning".to_string(),
    };
    let mut changes: Vec<String> = cs
        .iter()
        .map(|c| (settings(&c.base), settings(&c.head)))
        .filter(|(b, h)| b != h)
        .map(|(b, h)| setting_change(&b, &h))
        .collect();
    changes.sort();
    changes.dedup();
    let what = match changes.as_slice() {
        [one] => one.clone(),
        [] => "reasoning".to_string(),
        many => format!(
            "reasoning settings changed ({} different changes)",
            many.len()
        ),
    };
    match (min, max) {
        (Some(_), Some(_)) => format!("{what} ({} reasoning tokens)", signed_range(min, max)),
        _ => what,
    }
}

/// What grew besides model tokens: the blamed service first (`what`, its units `min…max`), then
/// every other service whose dollars grew in these cases.
pub(super) fn extras(what: &str, min: Option<i64>, max: Option<i64>, cs: &[&CaseReport]) -> String {
    let grew = |kind: &str| {
        cs.iter().any(|c| match (&c.base, &c.head) {
            (Some(b), Some(h)) => {
                let usd = |s: &SideCost| {
                    s.extras
                        .by_kind()
                        .into_iter()
                        .find(|(k, _)| *k == kind)
                        .map_or(0.0, |(_, v)| v)
                };
                usd(h) > usd(b)
            }
            _ => false,
        })
    };
    let units = |kind: &str| {
        let d: Vec<i64> = cs
            .iter()
            .filter_map(|c| match (&c.base, &c.head) {
                (Some(b), Some(h)) => growth(kind, b, h),
                _ => None,
            })
            .collect();
        (d.iter().min().copied(), d.iter().max().copied())
    };
    let part = |kind: &str, (lo, hi): (Option<i64>, Option<i64>)| match kind {
        "guardrail" => {
            let names = |s: &Option<SideCost>| match s.as_ref().map(|s| &s.extras.guardrails) {
                Some(g) if !g.is_empty() => g.join(" + "),
                _ => "no guardrail".to_string(),
            };
            let changes = distinct(cs.iter().map(|c| (names(&c.base), names(&c.head))));
            let what = match changes.as_slice() {
                [(b, h)] if b != h => format!("guardrails {b} → {h}"),
                _ => "guardrail checks grew".to_string(),
            };
            format!("{what} ({} text units)", signed_range(lo, hi))
        }
        "rerank" => format!(
            "rerank {} queries (each started 100 documents is a query)",
            signed_range(lo, hi)
        ),
        _ => format!("embeddings {} tokens", signed_range(lo, hi)),
    };
    let mut parts = vec![part(what, (min, max))];
    for kind in ["rerank", "guardrail", "embedding"] {
        if kind != what && grew(kind) {
            parts.push(part(kind, units(kind)));
        }
    }
    parts.join("; ")
}

/// `(base, head)` descriptions, each once, in order.
fn distinct(pairs: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs.collect();
    v.sort();
    v.dedup();
    v
}

/// `+1`, `+1…+3`: a range of signed counts with thousands separators.
fn signed_range(min: Option<i64>, max: Option<i64>) -> String {
    let signed = |n: i64| {
        let sign = if n < 0 { "-" } else { "+" };
        format!("{sign}{}", crate::infra::fmt::count(n.unsigned_abs()))
    };
    match (min, max) {
        (Some(a), Some(b)) if a == b => signed(a),
        (Some(a), Some(b)) => format!("{}…{}", signed(a), signed(b)),
        _ => "?".to_string(),
    }
}

/// "thinking budget 2,048 → 16,384": the head's setting without the words it shares with the base's.
fn setting_change(base: &str, head: &str) -> String {
    for kind in ["thinking budget ", "effort "] {
        if let (Some(_), Some(h)) = (base.strip_prefix(kind), head.strip_prefix(kind)) {
            return format!("{base} → {h}");
        }
    }
    format!("{base} → {head}")
}
