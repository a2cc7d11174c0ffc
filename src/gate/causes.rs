//! Causes, not lists: the per-case reasons grouped by (rule, intent, what grew), with the
//! case count, the range of deltas, the growth of that segment and the file behind it, so a PR that
//! changes one prompt reads as one line ("42 chit_chat cases +29.6%…+33.7% > 25%: system prompt
//! +138 tokens (app/prompts/system.j2)") instead of forty-two.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::gate::grown;
pub use crate::gate::report::Cause;
use crate::gate::report::{CaseReport, Report, SideCost, Status};
use crate::gate::verdict::{FailKind, Label};
pub use crate::gate::verdict::{band_reason, fail_reason};
use crate::infra::fmt::{pct, threshold};
use crate::measure::config::Thresholds;

/// Where the files behind a cause come from: `(intent, what)` → the changed files.
pub type FileHints<'a> = &'a dyn Fn(&str, &str) -> Vec<String>;

/// Groups the report's per-case reasons. `quality_failed`: the quality rule fired (broken
/// expectations beyond the allowance are then causes too).
pub fn group(
    cases: &[CaseReport],
    t: &Thresholds,
    quality_failed: bool,
    files: FileHints<'_>,
) -> Vec<Cause> {
    let gated: Vec<&CaseReport> = cases.iter().filter(|c| c.status != Status::Added).collect();
    let over_fail = |c: &&CaseReport| c.delta_pct.is_none_or(|d| d > t.fail_query_regression_pct);
    let failing: Vec<&CaseReport> = gated.iter().copied().filter(over_fail).collect();
    // As `decide` words it: the band is a reason only when nothing fails.
    let (rule, cost_cases) = if failing.is_empty() {
        let band = gated
            .iter()
            .copied()
            .filter(|c| c.delta_pct.is_some_and(|d| d > t.pass_band_pct))
            .collect();
        ("pass-band", band)
    } else {
        ("query-regression", failing)
    };
    let mut groups: BTreeMap<(String, String), Vec<&CaseReport>> = BTreeMap::new();
    for c in cost_cases {
        groups
            .entry((c.intent.clone(), what_changed(c)))
            .or_default()
            .push(c);
    }
    let mut out: Vec<Cause> = groups
        .into_iter()
        .map(|((intent, what), cs)| cost_cause(rule, intent, what, &cs, t, files))
        .collect();
    if quality_failed {
        let mut q: BTreeMap<(String, String), Vec<&CaseReport>> = BTreeMap::new();
        for c in &gated {
            let mut kinds: Vec<&str> = c
                .quality_broken
                .iter()
                .map(|b| b.split(' ').next().unwrap_or(b))
                .collect();
            kinds.dedup();
            for k in kinds {
                q.entry((c.intent.clone(), k.to_string()))
                    .or_default()
                    .push(c);
            }
        }
        out.extend(
            q.into_iter()
                .map(|((intent, what), cs)| quality_cause(intent, what, &cs, files)),
        );
    }
    // Largest first, then a stable order.
    out.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.line.cmp(&b.line)));
    out
}

/// The one thing to blame for a case's cost change.
fn what_changed(c: &CaseReport) -> String {
    if c.model_changed {
        return "model".into();
    }
    // A guardrail, rerank or embedding call the head adds is why the calls grew.
    if let Some(g) = c
        .grew
        .as_deref()
        .filter(|g| matches!(*g, "guardrail" | "rerank" | "embedding"))
    {
        return g.to_string();
    }
    // An extra model call (another turn of an agent loop, a second step) is why its segments
    // grew, not the other way round.
    if let (Some(b), Some(h)) = (&c.base, &c.head) {
        if h.calls > b.calls {
            return "calls".into();
        }
    }
    if let Some(g) = &c.grew {
        return g.clone();
    }
    match (&c.base, &c.head) {
        (Some(b), Some(h)) if h.output_tokens > b.output_tokens => "output".into(),
        _ => "price".into(),
    }
}

fn cost_cause(
    rule: &str,
    intent: String,
    what: String,
    cs: &[&CaseReport],
    t: &Thresholds,
    files: FileHints<'_>,
) -> Cause {
    // Unbounded (None) sorts above every number.
    let key = |d: Option<f64>| d.unwrap_or(f64::INFINITY);
    let delta_min = cs
        .iter()
        .map(|c| c.delta_pct)
        .min_by(|a, b| key(*a).total_cmp(&key(*b)));
    let delta_max = cs
        .iter()
        .map(|c| c.delta_pct)
        .max_by(|a, b| key(*a).total_cmp(&key(*b)));
    let grown: Vec<i64> = cs
        .iter()
        .filter_map(|c| match (&c.base, &c.head) {
            (Some(b), Some(h)) => grown::growth(&what, b, h),
            _ => None,
        })
        .collect();
    let (tokens_min, tokens_max) = (grown.iter().min().copied(), grown.iter().max().copied());
    let files = files(&intent, &what);
    let limit = if rule == "pass-band" {
        format!("{} pass band", threshold(t.pass_band_pct))
    } else {
        threshold(t.fail_query_regression_pct)
    };
    let who = if cs.len() == 1 {
        format!("{} {intent}", cs[0].id)
    } else {
        format!("{} {intent} cases", cs.len())
    };
    let range = range_of(
        delta_min.flatten(),
        delta_max.flatten(),
        delta_max.is_some_and(|d| d.is_none()),
        cs.len(),
    );
    let mut because = describe(&what, tokens_min, tokens_max, cs);
    if !files.is_empty() {
        because.push_str(&format!(" ({})", files.join(", ")));
    }
    let line = format!("{who} {range} > {limit}: {because}");
    Cause {
        rule: rule.to_string(),
        intent,
        what,
        cases: cs.len(),
        ids: cs.iter().map(|c| c.id.clone()).collect(),
        delta_min_pct: delta_min.flatten(),
        delta_max_pct: delta_max.flatten(),
        tokens_min,
        tokens_max,
        files,
        line,
        because,
    }
}

fn range_of(min: Option<f64>, max: Option<f64>, unbounded: bool, n: usize) -> String {
    let max_s = if unbounded { pct(None) } else { pct(max) };
    match (n, min) {
        (1, _) => max_s,
        (_, Some(lo)) if Some(lo) == max && !unbounded => pct(Some(lo)),
        (_, Some(lo)) => format!("{}…{max_s}", pct(Some(lo))),
        (_, None) => max_s,
    }
}

fn tokens(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) if a == b => format!("{a:+} tokens"),
        (Some(a), Some(b)) => format!("{a:+}…{b:+} tokens"),
        _ => String::new(),
    }
}

fn describe(what: &str, min: Option<i64>, max: Option<i64>, cs: &[&CaseReport]) -> String {
    let model = |s: &Option<SideCost>| {
        s.as_ref()
            .and_then(|s| s.model.clone())
            .unwrap_or_else(|| "bypass".into())
    };
    match what {
        "system" => format!("system prompt {}", tokens(min, max)),
        "history" => format!("history {}", tokens(min, max)),
        "prompt" => format!("prompt {}", tokens(min, max)),
        "overhead" => format!("message overhead {}", tokens(min, max)),
        "output" => format!("answer {}", tokens(min, max)),
        "reasoning" => grown::reasoning(min, max, cs),
        "guardrail" | "rerank" | "embedding" => grown::extras(what, min, max, cs),
        "model" => {
            let mut changes: Vec<String> = cs
                .iter()
                .map(|c| format!("{} → {}", model(&c.base), model(&c.head)))
                .collect();
            changes.sort();
            changes.dedup();
            if changes.len() == 1 {
                format!("model {}", changes[0])
            } else {
                format!("model changed ({} different changes)", changes.len())
            }
        }
        "calls" => {
            let calls = |s: &Option<SideCost>| s.as_ref().map_or(0, |s| s.calls);
            let (lo, hi) = cs.iter().fold((u64::MAX, 0), |(lo, hi), c| {
                let d = calls(&c.head) - calls(&c.base).min(calls(&c.head));
                (lo.min(d), hi.max(d))
            });
            if lo == hi {
                format!("+{lo} model call(s) per case")
            } else {
                format!("+{lo}…+{hi} model calls per case")
            }
        }
        _ => "the same tokens cost more (price or cache)".into(),
    }
}

fn quality_cause(intent: String, what: String, cs: &[&CaseReport], files: FileHints<'_>) -> Cause {
    let broken: usize = cs
        .iter()
        .map(|c| {
            c.quality_broken
                .iter()
                .filter(|b| b.starts_with(&what))
                .count()
        })
        .sum();
    let who = if cs.len() == 1 {
        format!("{} {intent}", cs[0].id)
    } else {
        format!("{} {intent} cases", cs.len())
    };
    let how = match what.as_str() {
        "context_includes" => {
            format!("lost retrieved context: {broken} expected string(s) no longer reach the model")
        }
        "model" => "no longer served by the expected model".to_string(),
        "bypass" => "changed whether a model is called (expect.bypass)".to_string(),
        other => format!("broke expect.{other}"),
    };
    let files = files(&intent, &format!("quality:{what}"));
    let mut because = how;
    if !files.is_empty() {
        because.push_str(&format!(" ({})", files.join(", ")));
    }
    let line = format!("{who} {because}");
    Cause {
        rule: "quality-regression".into(),
        intent,
        what,
        cases: cs.len(),
        ids: cs.iter().map(|c| c.id.clone()).collect(),
        delta_min_pct: None,
        delta_max_pct: None,
        tokens_min: None,
        tokens_max: None,
        files,
        line,
        because,
    }
}

/// What the reader sees under "Why": the causes first, then the reasons no cause covers (p95,
/// total, cumulative, streak, monthly, metrics, end of life).
pub fn why(report: &Report) -> Vec<String> {
    let t = &report.thresholds;
    let ids: std::collections::BTreeSet<&str> = report
        .causes
        .iter()
        .filter(|c| c.rule != "quality-regression")
        .flat_map(|c| c.ids.iter().map(String::as_str))
        .collect();
    // A per-case cost reason is "<id> <delta> > <limit>" (see `fail_reason`, `band_reason`).
    let fail_tail = format!("> {}", threshold(t.fail_query_regression_pct));
    let band_tail = format!("> {} pass band", threshold(t.pass_band_pct));
    let per_case = |r: &str| {
        let head = r
            .strip_suffix(band_tail.as_str())
            .or_else(|| r.strip_suffix(fail_tail.as_str()));
        head.and_then(|h| h.trim_end().rsplit_once(' '))
            .is_some_and(|(id, _delta)| ids.contains(id))
    };
    let quality_grouped = report.causes.iter().any(|c| c.rule == "quality-regression");
    let mut out: Vec<String> = report
        .causes
        .iter()
        .map(|c| format!("{} · {}", cause_label(c).tag(), c.line))
        .collect();
    // Reports of earlier versions carry no labels: their reasons are shown as they are.
    let labels =
        (report.reason_labels.len() == report.reasons.len()).then_some(&report.reason_labels);
    for (i, r) in report.reasons.iter().enumerate() {
        if per_case(r) || (quality_grouped && r.starts_with(crate::gate::quality::BROKEN_PREFIX)) {
            continue;
        }
        out.push(match labels.and_then(|l| l.get(i)) {
            Some(l) => l.line(r),
            None => r.clone(),
        });
    }
    out
}

/// The level and rule of a cause.
pub fn cause_label(c: &Cause) -> Label {
    match c.rule.as_str() {
        "pass-band" => Label::warn("pass band"),
        "quality-regression" => Label::fail(FailKind::QualityRegression.rule()),
        _ => Label::fail(FailKind::QueryRegression.rule()),
    }
}

/// The line that pairs cost and quality: "−18.0% cost, 12 cases lost retrieved context".
pub fn pairing(report: &Report) -> Option<String> {
    let q: Vec<&Cause> = report
        .causes
        .iter()
        .filter(|c| c.rule == "quality-regression")
        .collect();
    if q.is_empty() {
        return None;
    }
    let mut by_what: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &q {
        *by_what.entry(c.what.as_str()).or_default() += c.cases;
    }
    let parts: Vec<String> = by_what
        .into_iter()
        .map(|(what, n)| match what {
            "context_includes" => format!("{n} case(s) lost retrieved context"),
            "model" => format!("{n} case(s) no longer served by the expected model"),
            "bypass" => format!("{n} case(s) changed bypass"),
            other => format!("{n} case(s) broke expect.{other}"),
        })
        .collect();
    Some(format!(
        "{} cost, {}",
        pct(report.summary.total_delta_pct),
        parts.join(", ")
    ))
}

/// What a reader reads first, in every output (terminal, comment, summary): the headline in
/// dollars per month, the line pairing cost and quality, the causes, the quality table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Story {
    pub why: Vec<String>,
    pub pairing: Option<String>,
    /// "+$1,240/month at 1.2M requests", when `traffic` is set.
    pub monthly: Option<String>,
    /// The parts of the monthly row: "$4,100", "$5,340", "+$1,240", "1.2M requests".
    pub monthly_base: Option<String>,
    pub monthly_head: Option<String>,
    pub monthly_delta: Option<String>,
    pub requests: Option<String>,
    /// Share of expectations met, as percentages, when the dataset has expectations.
    pub quality: Option<QualityLine>,
    /// Cases with broken expectations, at most ten.
    pub broken_cases: Vec<BrokenCase>,
    /// The deciding rule, the cause and the money (docs/verdict.md).
    pub first: crate::gate::story::FirstScreen,
    /// Where the money went, largest dollar change first.
    pub by_intent: Vec<crate::gate::story::IntentRow>,
    /// The rows are dollars per month (`traffic` is set), not dataset sums.
    pub by_intent_monthly: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityLine {
    pub base: String,
    pub head: String,
    pub broken: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokenCase {
    pub id: String,
    pub intent: String,
    /// "3/3 → 1/3".
    pub met: String,
    pub broken: String,
    pub delta_pct: Option<f64>,
}

pub fn story(report: &Report) -> Story {
    use crate::gate::monthly::{dollars, requests, signed_usd};
    let s = &report.summary;
    let monthly_delta = s.monthly_delta_usd.map(signed_usd);
    let requests = s
        .requests_per_month
        .map(|n| format!("{} requests", requests(n)));
    let monthly = match (&monthly_delta, &requests) {
        (Some(d), Some(n)) => Some(format!("{d}/month at {n}")),
        _ => None,
    };
    let share = |v: f64| format!("{:.1}%", v * 100.0);
    let quality = match (s.quality_base, s.quality_head) {
        (Some(b), Some(h)) => Some(QualityLine {
            base: share(b),
            head: share(h),
            broken: s.broken_expectations.unwrap_or(0),
        }),
        _ => None,
    };
    let met = |side: &Option<SideCost>| {
        side.as_ref()
            .and_then(|s| s.quality.as_ref())
            .map_or_else(|| "-".to_string(), |q| format!("{}/{}", q.met, q.of))
    };
    // Most broken first, so the table shows the worst whatever the dataset's file order.
    let mut broken: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| !c.quality_broken.is_empty())
        .collect();
    broken.sort_by(|a, b| {
        b.quality_broken
            .len()
            .cmp(&a.quality_broken.len())
            .then_with(|| a.id.cmp(&b.id))
    });
    let broken_cases = broken
        .into_iter()
        .take(10)
        .map(|c| BrokenCase {
            id: c.id.clone(),
            intent: c.intent.clone(),
            met: format!("{} → {}", met(&c.base), met(&c.head)),
            broken: c.quality_broken.join(", "),
            delta_pct: c.delta_pct,
        })
        .collect();
    Story {
        why: why(report),
        pairing: pairing(report),
        monthly,
        monthly_base: s.monthly_base_usd.map(dollars),
        monthly_head: s.monthly_head_usd.map(dollars),
        monthly_delta,
        requests,
        quality,
        broken_cases,
        first: crate::gate::story::first_screen(report),
        by_intent: crate::gate::story::by_intent(report),
        by_intent_monthly: !report.summary.monthly_by_intent.is_empty(),
    }
}
