//! Comparison and verdict (docs/verdict.md): head against base, case by case, with the base's
//! thresholds. Pure functions over priced cases, so every rule is unit-tested without files or
//! processes.

use serde::{Deserialize, Serialize};

use crate::infra::fmt::shown_pct;
use crate::measure::config::Thresholds;

/// The gate's answer. Ordered by how a run reads (review, acceptance and override layer on `Fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    /// Would fail; a complete justification covers it; awaiting an authorised approval.
    ReviewRequired,
    /// Would fail; justified and approved on the current head commit.
    Accepted,
    /// The override label was applied by an authorised approver.
    Overridden,
}

impl Verdict {
    /// Process exit code (docs/verdict.md).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Fail | Verdict::ReviewRequired => 1,
            Verdict::Pass | Verdict::Warn | Verdict::Accepted | Verdict::Overridden => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::ReviewRequired => "review_required",
            Verdict::Accepted => "accepted",
            Verdict::Overridden => "overridden",
        }
    }
}

/// Why a run would fail; later rules (streak, cumulative drift) add their kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailKind {
    QueryRegression,
    WarnStreak,
    CumulativeDrift,
    /// Touches paths of an open override follow-up ticket without bringing the cost back.
    OpenOverrideTicket,
    /// Expectations met at the base broken at the head, or a harness metric worse.
    QualityRegression,
    /// The projected monthly delta exceeds `fail_monthly_delta_usd`.
    MonthlyDelta,
    /// The head calls a model the price table does not price (`thresholds.unpriced: fail`).
    Unpriced,
}

impl FailKind {
    /// The rule's name as a reader sees it beside a reason (`[fail] per-query limit`).
    pub fn rule(self) -> &'static str {
        match self {
            FailKind::QueryRegression => "per-query limit",
            FailKind::WarnStreak => "warn streak",
            FailKind::CumulativeDrift => "cumulative drift",
            FailKind::OpenOverrideTicket => "open override ticket",
            FailKind::QualityRegression => "quality",
            FailKind::MonthlyDelta => "monthly limit",
            FailKind::Unpriced => "unpriced",
        }
    }
}

/// How much a reason weighs: it fails the run or warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Fail,
    Warn,
}

/// The level and rule of one reason, kept beside it (`report.json`'s `reason_labels`, one per
/// reason), so that every output labels each reason without parsing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub level: Level,
    pub rule: String,
}

impl Label {
    pub fn fail(rule: &str) -> Label {
        Label {
            level: Level::Fail,
            rule: rule.into(),
        }
    }

    pub fn warn(rule: &str) -> Label {
        Label {
            level: Level::Warn,
            rule: rule.into(),
        }
    }

    /// `[fail] warn streak · this is the 5th warn…`: the reason after its tag, without the rule's
    /// name when the reason already starts with it.
    pub fn line(&self, reason: &str) -> String {
        let rest = reason
            .strip_prefix(self.rule.as_str())
            .and_then(|r| r.strip_prefix(": "))
            .unwrap_or(reason);
        format!("{} · {rest}", self.tag())
    }

    /// `[fail] per-query limit`.
    pub fn tag(&self) -> String {
        let level = match self.level {
            Level::Fail => "fail",
            Level::Warn => "warn",
        };
        format!("[{level}] {}", self.rule)
    }
}

/// The per-case reason of a case over `fail_query_regression_pct` (also the text `decide` uses).
pub fn fail_reason(id: &str, d: Option<f64>, t: &Thresholds) -> String {
    format!(
        "{id} {} > {}",
        crate::infra::fmt::pct(d),
        crate::infra::fmt::threshold(t.fail_query_regression_pct)
    )
}

/// The per-case reason of a case over `pass_band_pct`.
pub fn band_reason(id: &str, d: f64, t: &Thresholds) -> String {
    format!(
        "{id} {} > {} pass band",
        crate::infra::fmt::pct(Some(d)),
        crate::infra::fmt::threshold(t.pass_band_pct)
    )
}

/// Percentage change as docs/verdict.md defines it. `None` means unbounded: free before, paid now.
pub fn delta_pct(base: f64, head: f64, min_delta_usd: f64) -> Option<f64> {
    let diff = head - base;
    if diff.abs() < min_delta_usd || diff == 0.0 {
        return Some(0.0);
    }
    if base == 0.0 {
        return if diff > 0.0 { None } else { Some(0.0) };
    }
    Some(diff / base * 100.0)
}

/// Nearest-rank percentile (`p` in 0..=100) of `values`; 0 for an empty slice.
pub fn nearest_rank(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// One base case's costs on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair<'a> {
    pub id: &'a str,
    pub base_usd: f64,
    pub head_usd: f64,
    pub weight: f64,
}

/// Aggregates of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub cases: usize,
    pub base_total_usd: f64,
    pub head_total_usd: f64,
    pub total_delta_pct: Option<f64>,
    pub base_p95_usd: f64,
    pub head_p95_usd: f64,
    pub p95_delta_pct: Option<f64>,
    pub base_mean_usd: f64,
    pub head_mean_usd: f64,
    pub max_regression_pct: Option<f64>,
    pub max_regression_case: Option<String>,
    /// True when the largest regression is a case that was free and now costs money.
    pub max_regression_unbounded: bool,
    /// The head changes the cost baseline file: a re-baseline, which with a signed-off
    /// justification formally changes the cumulative contract (docs/ratchet.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub head_updates_baseline: bool,
    /// Dollars per month at `traffic` (docs/configuration.md), when it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_base_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_head_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_delta_usd: Option<f64>,
    /// `traffic.requests_per_month`, for the headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_month: Option<f64>,
    /// Each intent's part of the monthly dollars, intents in name order (when `traffic` is set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monthly_by_intent: Vec<IntentMonthly>,
    /// Share of expectations met on each side (docs/quality.md), when the dataset has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_base: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_head: Option<f64>,
    /// Expectations met at the base and broken at the head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_expectations: Option<usize>,
    /// Calls to models the price table does not price, counted at $0: the totals are a floor.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unpriced_calls_base: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unpriced_calls_head: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One intent's dollars per month on each side: `requests_per_month × share × mean cost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentMonthly {
    pub intent: String,
    pub base_usd: f64,
    pub head_usd: f64,
}

/// The cost verdict before justification, override, streak and baseline rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    /// One per reason, in the same order.
    pub labels: Vec<Label>,
    pub fail_kinds: Vec<FailKind>,
    pub summary: Summary,
}

impl Decision {
    /// A later rule fails the run: its reason and kind are added (the kind once) and a pass or
    /// warn becomes a fail. What the review layers decide later (accepted, overridden) is theirs.
    pub fn fail(&mut self, kind: FailKind, reason: String) {
        self.reasons.push(reason);
        self.labels.push(Label::fail(kind.rule()));
        if !self.fail_kinds.contains(&kind) {
            self.fail_kinds.push(kind);
        }
        if matches!(self.verdict, Verdict::Pass | Verdict::Warn) {
            self.verdict = Verdict::Fail;
        }
    }

    /// A later rule (`rule`, its name for readers) warns: its reason is added and a pass
    /// becomes a warn.
    pub fn warn(&mut self, rule: &str, reason: String) {
        self.reasons.push(reason);
        self.labels.push(Label::warn(rule));
        if self.verdict == Verdict::Pass {
            self.verdict = Verdict::Warn;
        }
    }
}

/// Applies the verdict table of docs/verdict.md to the base dataset's cases.
pub fn decide(pairs: &[Pair<'_>], t: &Thresholds) -> Decision {
    decide_excluding(pairs, t, &std::collections::BTreeSet::new())
}

/// [`decide`], with the cases in `noisy` (a nondeterministic harness) left out of the per-query
/// and per-case band rules; they still count in totals and percentiles.
pub fn decide_excluding(
    pairs: &[Pair<'_>],
    t: &Thresholds,
    noisy: &std::collections::BTreeSet<&str>,
) -> Decision {
    let min = t.min_cost_delta_usd;
    let base_total: f64 = pairs.iter().map(|p| p.base_usd * p.weight).sum();
    let head_total: f64 = pairs.iter().map(|p| p.head_usd * p.weight).sum();
    let weights: f64 = pairs.iter().map(|p| p.weight).sum();
    let base_costs: Vec<f64> = pairs.iter().map(|p| p.base_usd).collect();
    let head_costs: Vec<f64> = pairs.iter().map(|p| p.head_usd).collect();
    let base_p95 = nearest_rank(&base_costs, 95.0);
    let head_p95 = nearest_rank(&head_costs, 95.0);
    let total_delta = delta_pct(base_total, head_total, min);
    let p95_delta = delta_pct(base_p95, head_p95, min);

    let deltas: Vec<(&str, Option<f64>)> = pairs
        .iter()
        .map(|p| (p.id, delta_pct(p.base_usd, p.head_usd, min)))
        .collect();
    // Largest regression: unbounded first, then by percentage; ties keep dataset order.
    let mut max: Option<(&str, Option<f64>)> = None;
    for &(id, d) in &deltas {
        let better = match (max, d) {
            (None, _) => true,
            (Some((_, None)), _) => false,
            (Some(_), None) => true,
            (Some((_, Some(m))), Some(x)) => x > m,
        };
        if better {
            max = Some((id, d));
        }
    }
    let (max_case, max_pct, max_unbounded) = match max {
        Some((id, d)) if d.is_none_or(|x| x > 0.0) => (Some(id.to_string()), d, d.is_none()),
        _ => (None, Some(0.0), false),
    };

    let mut fails: Vec<(Option<f64>, String)> = deltas
        .iter()
        .filter(|(id, _)| !noisy.contains(id))
        .filter(|(_, d)| d.is_none_or(|x| shown_pct(x) > t.fail_query_regression_pct))
        .map(|&(id, d)| (d, fail_reason(id, d, t)))
        .collect();
    // Worst first: unbounded, then by percentage descending; stable for ties.
    fails.sort_by(|a, b| match (a.0, b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.total_cmp(&x),
    });

    let summary = Summary {
        cases: pairs.len(),
        base_total_usd: base_total,
        head_total_usd: head_total,
        total_delta_pct: total_delta,
        base_p95_usd: base_p95,
        head_p95_usd: head_p95,
        p95_delta_pct: p95_delta,
        base_mean_usd: if weights > 0.0 {
            base_total / weights
        } else {
            0.0
        },
        head_mean_usd: if weights > 0.0 {
            head_total / weights
        } else {
            0.0
        },
        max_regression_pct: max_pct,
        max_regression_case: max_case,
        max_regression_unbounded: max_unbounded,
        head_updates_baseline: false,
        monthly_base_usd: None,
        monthly_head_usd: None,
        monthly_delta_usd: None,
        requests_per_month: None,
        monthly_by_intent: Vec::new(),
        quality_base: None,
        quality_head: None,
        broken_expectations: None,
        unpriced_calls_base: 0,
        unpriced_calls_head: 0,
    };

    if !fails.is_empty() {
        return Decision {
            verdict: Verdict::Fail,
            labels: vec![Label::fail(FailKind::QueryRegression.rule()); fails.len()],
            reasons: fails.into_iter().map(|(_, r)| r).collect(),
            fail_kinds: vec![FailKind::QueryRegression],
            summary,
        };
    }
    let mut warns = Vec::new();
    let mut labels = Vec::new();
    if p95_delta.is_none_or(|x| shown_pct(x) > t.warn_p95_regression_pct) {
        labels.push(Label::warn("p95 limit"));
        warns.push(format!(
            "p95 {} > {}",
            crate::infra::fmt::pct(p95_delta),
            crate::infra::fmt::threshold(t.warn_p95_regression_pct)
        ));
    }
    if total_delta.is_none_or(|x| shown_pct(x) > t.pass_band_pct) {
        labels.push(Label::warn("pass band"));
        warns.push(format!(
            "total {} > {} pass band",
            crate::infra::fmt::pct(total_delta),
            crate::infra::fmt::threshold(t.pass_band_pct)
        ));
    }
    let mut band: Vec<(f64, String)> = deltas
        .iter()
        .filter(|(id, _)| !noisy.contains(id))
        .filter_map(|&(id, d)| {
            d.filter(|x| shown_pct(*x) > t.pass_band_pct)
                .map(|x| (x, band_reason(id, x, t)))
        })
        .collect();
    band.sort_by(|a, b| b.0.total_cmp(&a.0));
    labels.extend(band.iter().map(|_| Label::warn("pass band")));
    warns.extend(band.into_iter().map(|(_, r)| r));
    let verdict = if warns.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Warn
    };
    Decision {
        verdict,
        reasons: warns,
        labels,
        fail_kinds: Vec::new(),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&'static str, f64, f64)]) -> Vec<Pair<'static>> {
        v.iter()
            .map(|&(id, b, h)| Pair {
                id,
                base_usd: b,
                head_usd: h,
                weight: 1.0,
            })
            .collect()
    }

    #[test]
    fn every_reason_carries_its_level_and_rule() {
        let t = Thresholds::default();
        let d = decide(&pairs(&[("A", 1.0, 1.5), ("B", 1.0, 1.0)]), &t);
        assert_eq!(d.labels, [Label::fail("per-query limit")]);
        assert_eq!(d.labels.len(), d.reasons.len());
        let d = decide(&pairs(&[("A", 1.0, 1.2), ("B", 1.0, 1.0)]), &t);
        assert_eq!(d.labels.len(), d.reasons.len());
        assert!(d.labels.iter().all(|l| l.level == Level::Warn), "{d:?}");
        let mut d = d;
        d.fail(
            FailKind::WarnStreak,
            "warn streak: the 5th warn in a row".into(),
        );
        let last = d.labels.last().unwrap();
        assert_eq!(
            last.line(d.reasons.last().unwrap()),
            "[fail] warn streak · the 5th warn in a row"
        );
        assert_eq!(
            Label::warn("p95 limit").line("p95 +13.0% > 10%"),
            "[warn] p95 limit · p95 +13.0% > 10%"
        );
    }

    #[test]
    fn thresholds_compare_what_the_report_shows() {
        let t = Thresholds::default();
        // +25.04% shows as +25.0%: not above the 25% fail threshold.
        let d = decide(&pairs(&[("A", 1.0, 1.2504)]), &t);
        assert_eq!(d.verdict, Verdict::Warn, "{:?}", d.reasons);
        // +25.06% shows as +25.1%: above it.
        let d = decide(&pairs(&[("A", 1.0, 1.2506)]), &t);
        assert_eq!(d.verdict, Verdict::Fail, "{:?}", d.reasons);
        // +10.04% total shows as +10.0%: inside the pass band.
        let d = decide(&pairs(&[("A", 1.0, 1.1004)]), &t);
        assert_eq!(d.verdict, Verdict::Pass, "{:?}", d.reasons);
    }

    #[test]
    fn nearest_rank_p95() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 95.0), 19.0);
        assert_eq!(nearest_rank(&[5.0], 95.0), 5.0);
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 95.0), 95.0);
        assert_eq!(nearest_rank(&[], 95.0), 0.0);
    }

    #[test]
    fn delta_rules() {
        assert_eq!(delta_pct(1.0, 1.25, 1e-6), Some(25.0));
        assert_eq!(delta_pct(0.001, 0.0010005, 1e-6), Some(0.0)); // below min delta
        assert_eq!(delta_pct(0.0, 0.001, 1e-6), None); // unbounded
        assert_eq!(delta_pct(0.0, 0.0, 1e-6), Some(0.0));
    }

    #[test]
    fn exactly_at_threshold_is_not_a_fail() {
        let d = decide(&pairs(&[("a", 1.0, 1.25)]), &Thresholds::default());
        assert_eq!(d.verdict, Verdict::Warn, "{:?}", d.reasons);
        // +25.01% shows as +25.0%: a reader could not see why it failed.
        let d = decide(&pairs(&[("a", 1.0, 1.2501)]), &Thresholds::default());
        assert_eq!(d.verdict, Verdict::Warn, "{:?}", d.reasons);
        let d = decide(&pairs(&[("a", 1.0, 1.2506)]), &Thresholds::default());
        assert_eq!(d.verdict, Verdict::Fail);
        assert_eq!(d.reasons, ["a +25.1% > 25%"]);
    }

    #[test]
    fn free_to_paid_is_an_unbounded_fail() {
        let d = decide(
            &pairs(&[("a", 1.0, 1.0), ("b", 0.0, 0.01)]),
            &Thresholds::default(),
        );
        assert_eq!(d.verdict, Verdict::Fail);
        assert_eq!(d.reasons, ["b +∞% > 25%"]);
        assert!(d.summary.max_regression_unbounded);
        assert_eq!(d.summary.max_regression_case.as_deref(), Some("b"));
    }

    #[test]
    fn p95_or_band_warns_and_small_moves_pass() {
        // 20 cases: the nearest-rank p95 is the 19th smallest, so two expensive cases move it.
        let mut v: Vec<(&'static str, f64, f64)> = vec![("x", 1.0, 1.0); 18];
        v.push(("big1", 2.0, 2.3)); // +15%: p95 and band both move
        v.push(("big2", 2.0, 2.3));
        let d = decide(&pairs(&v), &Thresholds::default());
        assert_eq!(d.verdict, Verdict::Warn);
        assert!(
            d.reasons.iter().any(|r| r.starts_with("p95 +15.0%")),
            "{:?}",
            d.reasons
        );
        let d = decide(
            &pairs(&[("a", 1.0, 1.05), ("b", 1.0, 0.9)]),
            &Thresholds::default(),
        );
        assert_eq!(d.verdict, Verdict::Pass, "{:?}", d.reasons);
        assert_eq!(d.summary.max_regression_case.as_deref(), Some("a"));
    }

    #[test]
    fn improvements_only_pass_with_no_max_regression() {
        let d = decide(&pairs(&[("a", 1.0, 0.5)]), &Thresholds::default());
        assert_eq!(d.verdict, Verdict::Pass);
        assert_eq!(d.summary.max_regression_case, None);
        assert_eq!(d.summary.total_delta_pct, Some(-50.0));
    }

    #[test]
    fn weights_scale_totals_not_percentiles() {
        let p = vec![
            Pair {
                id: "a",
                base_usd: 1.0,
                head_usd: 1.0,
                weight: 3.0,
            },
            Pair {
                id: "b",
                base_usd: 2.0,
                head_usd: 2.0,
                weight: 1.0,
            },
        ];
        let d = decide(&p, &Thresholds::default());
        assert_eq!(d.summary.base_total_usd, 5.0);
        assert_eq!(d.summary.base_mean_usd, 1.25);
    }
}
