//! What a reviewer reads first (docs/verdict.md, "Reading the comment"): the rule that decided the
//! verdict with its limit, the cause with its file, the money with the limits it is measured
//! against, and where the money went, intent by intent. Quality failures lead with quality, never
//! with a saving.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::gate::monthly::{people_usd, requests, signed_usd};
use crate::gate::report::Cause;
use crate::gate::report::Report;
use crate::gate::verdict::{FailKind, Level, delta_pct};
use crate::infra::fmt::{pct, sig3, threshold};

/// The first screen's lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FirstScreen {
    /// `per-query limit 25%: 42 chit_chat queries +27.0%…+33.7%`.
    pub rule: Option<String>,
    /// `system prompt +138 tokens (app/prompts/system.j2)`.
    pub cause: Option<String>,
    /// `+$130/month (+8.9%) at 1.2M requests · warn above $50/month, fail above $500/month`.
    pub money: String,
}

/// One intent's row of "where the money went".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentRow {
    pub intent: String,
    pub cases: usize,
    pub base: String,
    pub head: String,
    pub change: String,
    pub change_pct: String,
    /// The intent's first cause, or `-`.
    pub cause: String,
    /// The change in dollars, for sorting (dollars per month when `traffic` is set).
    #[serde(skip)]
    delta: f64,
}

pub fn first_screen(report: &Report) -> FirstScreen {
    let (rule, cause) = deciding(report);
    FirstScreen {
        rule,
        cause: cause.map(|c| c.because.clone()).filter(|b| !b.is_empty()),
        money: money(report),
    }
}

/// The largest cause of `rule`.
fn top_cause<'a>(report: &'a Report, rule: &str) -> Option<&'a Cause> {
    // Causes are sorted largest first.
    report.causes.iter().find(|c| c.rule == rule)
}

/// `42 chit_chat queries +27.0%…+33.7%` (and how many more cases the rule caught elsewhere).
fn who(report: &Report, c: &Cause) -> String {
    let range = match (c.delta_min_pct, c.delta_max_pct) {
        (Some(a), Some(b)) if c.cases > 1 && pct(Some(a)) != pct(Some(b)) => {
            format!("{}…{}", pct(Some(a)), pct(Some(b)))
        }
        (_, max) => pct(max),
    };
    let who = if c.cases == 1 {
        format!(
            "{} ({})",
            c.ids.first().map_or("", String::as_str),
            c.intent
        )
    } else {
        format!("{} {} queries", c.cases, c.intent)
    };
    let others: usize = report
        .causes
        .iter()
        .filter(|o| o.rule == c.rule && !std::ptr::eq(*o, c))
        .map(|o| o.cases)
        .sum();
    if others > 0 {
        format!("{who} {range}, and {others} more")
    } else {
        format!("{who} {range}")
    }
}

/// The rule that decided the verdict, worded with its limit, and the cause behind it.
fn deciding(report: &Report) -> (Option<String>, Option<&Cause>) {
    let t = &report.thresholds;
    let s = &report.summary;
    let kinds = &report.fail_kinds;
    if kinds.contains(&FailKind::QualityRegression) {
        let cause = top_cause(report, "quality-regression");
        let rule = match s.broken_expectations.filter(|n| *n > 0) {
            Some(n) => {
                format!("quality: {n} expectation(s) met at the base are broken at the head")
            }
            None => labelled(report, Level::Fail).unwrap_or_else(|| "quality".into()),
        };
        return (Some(rule), cause);
    }
    if kinds.contains(&FailKind::QueryRegression) {
        if let Some(c) = top_cause(report, "query-regression") {
            let rule = cases_rule("per-query limit", t.fail_query_regression_pct, report, c);
            return (Some(rule), Some(c));
        }
    }
    let biggest = report.causes.first();
    if let (true, Some(limit), Some(d)) = (
        kinds.contains(&FailKind::MonthlyDelta),
        t.fail_monthly_delta_usd,
        s.monthly_delta_usd,
    ) {
        return (Some(monthly_rule("monthly limit", limit, d)), biggest);
    }
    if !kinds.is_empty() {
        return (labelled(report, Level::Fail), biggest);
    }
    // A warn: the per-case band's cause first (it names the cases), then p95, the monthly
    // warning, and any other warning as it is.
    if let Some(c) = top_cause(report, "pass-band") {
        let rule = cases_rule("pass band", t.pass_band_pct, report, c);
        return (Some(rule), Some(c));
    }
    let warned = |rule: &str| {
        report
            .reason_labels
            .iter()
            .any(|l| l.level == Level::Warn && l.rule == rule)
    };
    if warned("p95 limit") {
        let rule = format!(
            "p95 limit {}: the p95 case {}",
            threshold(t.warn_p95_regression_pct),
            pct(s.p95_delta_pct)
        );
        return (Some(rule), biggest);
    }
    if let (true, Some(limit), Some(d)) = (
        warned("monthly warn limit"),
        t.warn_monthly_delta_usd,
        s.monthly_delta_usd,
    ) {
        return (Some(monthly_rule("monthly warn limit", limit, d)), biggest);
    }
    (labelled(report, Level::Warn), biggest)
}

/// `per-query limit 25%: 42 chit_chat queries +27.0%…+33.7%`.
fn cases_rule(name: &str, limit_pct: f64, report: &Report, c: &Cause) -> String {
    format!("{name} {}: {}", threshold(limit_pct), who(report, c))
}

/// `monthly limit $500: +$612/month`.
fn monthly_rule(name: &str, limit: f64, delta: f64) -> String {
    format!("{name} {}: {}/month", people_usd(limit), signed_usd(delta))
}

/// `rule: reason` of the first reason at `level`.
fn labelled(report: &Report, level: Level) -> Option<String> {
    report
        .reason_labels
        .iter()
        .zip(&report.reasons)
        .find(|(l, _)| l.level == level)
        .map(|(l, r)| {
            // Some reasons already start with their rule ("warn streak: this is the 5th warn…").
            if r.starts_with(&l.rule) {
                r.clone()
            } else {
                format!("{}: {r}", l.rule)
            }
        })
}

/// The money: dollars per month with the limits, or the dataset's total when `traffic` is unset.
fn money(report: &Report) -> String {
    let s = &report.summary;
    let t = &report.thresholds;
    match (s.monthly_delta_usd, s.requests_per_month) {
        (Some(d), Some(n)) => {
            let mut limits = Vec::new();
            if let Some(w) = t.warn_monthly_delta_usd {
                limits.push(format!("warn above {}/month", people_usd(w)));
            }
            if let Some(f) = t.fail_monthly_delta_usd {
                limits.push(format!("fail above {}/month", people_usd(f)));
            }
            let mut line = format!(
                "{}/month ({}) at {} requests",
                signed_usd(d),
                pct(s.total_delta_pct),
                requests(n)
            );
            if !limits.is_empty() {
                line.push_str(&format!(" · {}", limits.join(", ")));
            }
            line
        }
        _ => format!(
            "{} over the golden dataset ({} → {}); set `traffic` in costgate.yaml for dollars per month",
            pct(s.total_delta_pct),
            sig3(s.base_total_usd),
            sig3(s.head_total_usd)
        ),
    }
}

/// Where the money went: one row per intent, the largest dollar change first.
pub fn by_intent(report: &Report) -> Vec<IntentRow> {
    let min = report.thresholds.min_cost_delta_usd;
    let mut sums: BTreeMap<&str, (usize, f64, f64)> = BTreeMap::new();
    for c in &report.cases {
        let e = sums.entry(c.intent.as_str()).or_default();
        e.0 += 1;
        e.1 += c.base.as_ref().map_or(0.0, |s| s.cost_usd);
        e.2 += c.head.as_ref().map_or(0.0, |s| s.cost_usd);
    }
    let monthly: BTreeMap<&str, (f64, f64)> = report
        .summary
        .monthly_by_intent
        .iter()
        .map(|m| (m.intent.as_str(), (m.base_usd, m.head_usd)))
        .collect();
    let mut rows: Vec<IntentRow> = sums
        .into_iter()
        .map(|(intent, (cases, base, head))| {
            let (b, h, show): (f64, f64, fn(f64) -> String) = match monthly.get(intent) {
                Some(&(b, h)) => (b, h, people_usd),
                None if !monthly.is_empty() => (0.0, 0.0, people_usd),
                None => (base, head, sig3),
            };
            let cause = report
                .causes
                .iter()
                .find(|c| c.intent == intent)
                .map(|c| c.because.clone())
                .or_else(|| grown(report, intent))
                .unwrap_or_else(|| "-".to_string());
            IntentRow {
                intent: intent.to_string(),
                cases,
                base: show(b),
                head: show(h),
                change: if monthly.is_empty() {
                    format!("{}{}", if h >= b { "+" } else { "-" }, sig3((h - b).abs()))
                } else {
                    signed_usd(h - b)
                },
                change_pct: pct(delta_pct(base, head, min)),
                cause,
                delta: h - b,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.delta
            .abs()
            .total_cmp(&a.delta.abs())
            .then_with(|| a.intent.cmp(&b.intent))
    });
    rows
}

/// For an intent no rule named: the segment that grew in most of its dearer cases
/// (`system prompt grew in 24 case(s)`), or the model change.
fn grown(report: &Report, intent: &str) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in report.cases.iter().filter(|c| c.intent == intent) {
        if c.delta_usd <= 0.0 {
            continue;
        }
        let what = if c.model_changed {
            "model changed"
        } else {
            match c.grew.as_deref() {
                Some("system") => "system prompt grew",
                Some("history") => "history grew",
                Some("prompt") => "prompt grew",
                Some("overhead") => "message overhead grew",
                Some("reasoning") => "reasoning grew",
                Some("guardrail") => "guardrail checks grew",
                Some("rerank") => "rerank queries grew",
                Some("embedding") => "embeddings grew",
                Some(_) => "input grew",
                None => continue,
            }
        };
        *counts.entry(what).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(what, n)| format!("{what} in {n} case(s)"))
}
