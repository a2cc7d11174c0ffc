//! `calibrate`'s traffic proposal: requests per month from the invocation logs' own
//! timestamps, and the intent mix where request metadata carries the intent, written so it can be
//! pasted into `costgate.yaml` as `traffic:`. Logs that are a sample give a sample's rate: scale it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::logs::Invocation;

/// An average month, in days (365.25 / 12).
const DAYS_PER_MONTH: f64 = 30.4375;
/// A shorter window says too little about a month to extrapolate from.
const MIN_SPAN_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub requests_per_month: u64,
    /// Rounded to four decimals, summing to 1; empty when no record carried the intent.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub intent_share: BTreeMap<String, f64>,
    /// Invocations with a timestamp, and the window they span.
    pub invocations: usize,
    pub days: f64,
    /// Share of the invocations whose request metadata named the intent.
    pub with_intent: f64,
}

/// The proposal, or `None` when fewer than two invocations carry a time or they span under an hour.
pub fn propose(invocations: &[Invocation]) -> Option<Proposal> {
    propose_within(invocations, &|_| true)
}

/// [`propose`] with the intent mix over the intents `keep` accepts only (the rate counts every
/// invocation): a mix `traffic.intent_share` can name when the dataset holds only those intents.
pub fn propose_within(invocations: &[Invocation], keep: &dyn Fn(&str) -> bool) -> Option<Proposal> {
    let times: Vec<i64> = invocations.iter().filter_map(|i| i.at_ms).collect();
    let (first, last) = (times.iter().min()?, times.iter().max()?);
    let span = last - first;
    if times.len() < 2 || span < MIN_SPAN_MS {
        return None;
    }
    let days = span as f64 / 86_400_000.0;
    // The rate between the first and the last invocation.
    let per_day = (times.len() - 1) as f64 / days;
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for i in invocations {
        if let Some(intent) = i.intent.as_ref().filter(|i| keep(i)) {
            *counts.entry(intent.as_str()).or_default() += 1;
        }
    }
    let named: u64 = counts.values().sum();
    Some(Proposal {
        requests_per_month: (per_day * DAYS_PER_MONTH).round() as u64,
        intent_share: shares(&counts, named),
        invocations: times.len(),
        days,
        with_intent: named as f64 / invocations.len() as f64,
    })
}

/// Each intent's share to four decimals; the largest takes the rounding remainder, so the shares
/// sum to 1 as `traffic.intent_share` requires.
fn shares(counts: &BTreeMap<&str, u64>, total: u64) -> BTreeMap<String, f64> {
    if total == 0 {
        return BTreeMap::new();
    }
    let round4 = |v: f64| (v * 10_000.0).round() / 10_000.0;
    let mut out: BTreeMap<String, f64> = counts
        .iter()
        .map(|(k, n)| (k.to_string(), round4(*n as f64 / total as f64)))
        .collect();
    let largest = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, _)| k.to_string());
    if let Some(k) = largest {
        let others: f64 = out.iter().filter(|(n, _)| **n != k).map(|(_, v)| v).sum();
        out.insert(k, round4(1.0 - others));
    }
    out
}

/// The proposal as `costgate.yaml` text.
pub fn yaml(p: &Proposal) -> String {
    let mut s = format!("traffic:\n  requests_per_month: {}\n", p.requests_per_month);
    if !p.intent_share.is_empty() {
        let shares: Vec<String> = p
            .intent_share
            .iter()
            .map(|(k, v)| format!("{}: {v}", yaml_key(k)))
            .collect();
        s.push_str(&format!("  intent_share: {{{}}}\n", shares.join(", ")));
    }
    s
}

/// An intent as a YAML flow-mapping key: quoted unless it is plain.
fn yaml_key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.');
    if plain {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64, intent: Option<&str>) -> Invocation {
        Invocation {
            at_ms: Some(1_764_547_200_000 + h * 3_600_000),
            intent: intent.map(String::from),
            model_id: "m".into(),
            output_tokens: None,
        }
    }

    #[test]
    fn a_day_of_hourly_traffic_is_about_730_a_month() {
        // 25 invocations an hour apart: 24 intervals over one day.
        let inv: Vec<Invocation> = (0..25)
            .map(|h| at(h, Some(if h % 4 == 0 { "faq" } else { "chat" })))
            .collect();
        let p = propose(&inv).unwrap();
        assert_eq!(p.requests_per_month, 731); // 24/day × 30.4375 = 730.5
        assert_eq!(p.intent_share["faq"], 0.28);
        assert_eq!(p.intent_share["chat"], 0.72);
        assert_eq!(p.with_intent, 1.0);
        assert_eq!(
            yaml(&p),
            "traffic:\n  requests_per_month: 731\n  intent_share: {chat: 0.72, faq: 0.28}\n"
        );
    }

    #[test]
    fn too_short_a_window_or_no_times_proposes_nothing() {
        assert_eq!(propose(&[at(0, None)]), None);
        let minutes = [
            Invocation {
                at_ms: Some(0),
                intent: None,
                model_id: "m".into(),
                output_tokens: None,
            },
            Invocation {
                at_ms: Some(60_000),
                intent: None,
                model_id: "m".into(),
                output_tokens: None,
            },
        ];
        assert_eq!(propose(&minutes), None);
        assert_eq!(
            propose(&[Invocation {
                at_ms: None,
                intent: None,
                model_id: "m".into(),
                output_tokens: None,
            }]),
            None
        );
    }

    #[test]
    fn shares_sum_to_one_after_rounding() {
        let inv: Vec<Invocation> = (0..7)
            .map(|h| at(h, Some(["a", "b", "c"][h as usize % 3])))
            .collect();
        let p = propose(&inv).unwrap();
        let sum: f64 = p.intent_share.values().sum();
        assert!((sum - 1.0).abs() < 1e-9, "{:?}", p.intent_share);
        assert_eq!(yaml_key("needs quoting: yes"), "\"needs quoting: yes\"");
    }
}
