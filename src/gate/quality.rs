//! Quality beside cost (docs/quality.md): each case's `expect` checked on each side, the metrics a
//! harness reports, and the `quality-regression` rule. No model is called, so answers are not
//! scored; what is checked are the deterministic levers that trade quality for cost: what reaches
//! the model (`context_includes`), which model serves (`model`), whether one is called (`bypass`).

use std::collections::BTreeMap;

use crate::gate::report::{CaseReport, Status};
pub use crate::gate::report::{MetricSummary, SideQuality};
use crate::gate::verdict::{Decision, FailKind};
pub use crate::measure::config::QualityPolicy;
use crate::measure::dataset::Expect;
pub use crate::measure::dataset::found_in;
pub use crate::measure::render::Metric;

/// How the reason for broken expectations begins (the causes replace it with their own lines).
pub const BROKEN_PREFIX: &str = "quality: ";

/// What a side did for a case, as far as expectations can see.
pub struct Observed<'a> {
    /// For each `context_includes` string, whether a model input of the case held it.
    pub context_found: &'a [bool],
    /// The models that served the case's calls (`" + "`-joined), `None` when none was called.
    pub models: Option<&'a str>,
    pub calls: u64,
    pub metrics: &'a BTreeMap<String, Metric>,
}

/// Checks `expect` against what a side did. `resolve` maps a model id (profile, alias) to the
/// model it bills as, so `us.` and `global.` profiles meet an expectation naming the base id.
pub fn evaluate(
    expect: Option<&Expect>,
    seen: &Observed<'_>,
    resolve: &dyn Fn(&str) -> String,
) -> Option<SideQuality> {
    let mut q = SideQuality {
        metrics: seen.metrics.clone(),
        ..SideQuality::default()
    };
    let mut check = |label: String, met: bool| {
        q.of += 1;
        if met {
            q.met += 1;
        } else {
            q.unmet.push(label);
        }
    };
    if let Some(e) = expect {
        for (i, text) in e.context_includes.iter().enumerate() {
            let found = seen.context_found.get(i).copied().unwrap_or(false);
            check(format!("context_includes {text:?}"), found);
        }
        if let Some(want) = &e.model {
            let want_id = resolve(want);
            let met = seen.calls > 0
                && seen
                    .models
                    .is_some_and(|m| m.split(" + ").all(|m| resolve(m) == want_id));
            check(format!("model {want}"), met);
        }
        if let Some(want) = e.bypass {
            check(format!("bypass {want}"), (seen.calls == 0) == want);
        }
    }
    (!q.is_empty()).then_some(q)
}

/// The expectations met at the base and not at the head.
pub fn broken(base: Option<&SideQuality>, head: Option<&SideQuality>) -> Vec<String> {
    match (base, head) {
        (Some(b), Some(h)) => h
            .unmet
            .iter()
            .filter(|u| !b.unmet.contains(u))
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// The dataset's quality on both sides and what the `quality-regression` rule makes of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assessment {
    /// Share of expectations met, `None` when the dataset has none.
    pub base_share: Option<f64>,
    pub head_share: Option<f64>,
    /// Expectations met at the base and broken at the head, summed over cases.
    pub broken: usize,
    /// Cases with at least one broken expectation.
    pub broken_cases: Vec<String>,
    pub metrics: Vec<MetricSummary>,
    /// `quality-regression` reasons; empty when quality holds.
    pub reasons: Vec<String>,
}

/// The share of expectations met over `sides`, `None` when they hold none.
pub fn share<'a>(sides: impl Iterator<Item = &'a SideQuality>) -> Option<f64> {
    let (met, of) = sides.fold((0u64, 0u64), |(m, o), q| {
        (m + u64::from(q.met), o + u64::from(q.of))
    });
    (of > 0).then(|| met as f64 / of as f64)
}

/// Applies the `quality-regression` rule to the gated cases (added cases are not gated).
pub fn assess(cases: &[CaseReport], policy: &QualityPolicy) -> Assessment {
    let gated = || cases.iter().filter(|c| c.status != Status::Added);
    let share_of = |side: fn(&CaseReport) -> Option<&SideQuality>| share(gated().filter_map(side));
    fn base_q(c: &CaseReport) -> Option<&SideQuality> {
        c.base.as_ref().and_then(|s| s.quality.as_ref())
    }
    fn head_q(c: &CaseReport) -> Option<&SideQuality> {
        c.head.as_ref().and_then(|s| s.quality.as_ref())
    }
    let mut a = Assessment {
        base_share: share_of(base_q),
        head_share: share_of(head_q),
        ..Assessment::default()
    };
    let mut lines = Vec::new();
    for c in gated() {
        if !c.quality_broken.is_empty() {
            a.broken += c.quality_broken.len();
            a.broken_cases.push(c.id.clone());
            lines.push(format!("{} {}", c.id, c.quality_broken.join(", ")));
        }
    }
    if a.broken > policy.max_broken_expectations as usize {
        a.reasons.push(format!(
            "{BROKEN_PREFIX}{} expectation(s) met at base are broken at head (max {}): {}",
            a.broken,
            policy.max_broken_expectations,
            crate::infra::fmt::id_list(&lines)
        ));
    }
    a.metrics = metrics(gated(), policy.metric_drop_pct);
    for m in a.metrics.iter().filter(|m| m.regressed) {
        a.reasons.push(metric_reason(m, policy.metric_drop_pct));
    }
    a
}

fn metrics<'a>(cases: impl Iterator<Item = &'a CaseReport>, drop_pct: f64) -> Vec<MetricSummary> {
    // name → (higher_is_better from the first report, base (sum, n), head (sum, n))
    type Acc = (bool, (f64, usize), (f64, usize));
    let mut by_name: BTreeMap<&str, Acc> = BTreeMap::new();
    for c in cases {
        for (side, is_base) in [(&c.base, true), (&c.head, false)] {
            let Some(q) = side.as_ref().and_then(|s| s.quality.as_ref()) else {
                continue;
            };
            for (name, m) in &q.metrics {
                let e = by_name
                    .entry(name)
                    .or_insert((m.higher_is_better, (0.0, 0), (0.0, 0)));
                let slot = if is_base { &mut e.1 } else { &mut e.2 };
                slot.0 += m.value;
                slot.1 += 1;
            }
        }
    }
    by_name
        .into_iter()
        .map(|(name, (higher, (bs, bn), (hs, hn)))| {
            let mean = |s: f64, n: usize| (n > 0).then(|| s / n as f64);
            let (base_mean, head_mean) = (mean(bs, bn), mean(hs, hn));
            let delta_pct = match (base_mean, head_mean) {
                (Some(b), Some(h)) if b != 0.0 => Some((h - b) / b.abs() * 100.0),
                _ => None,
            };
            let worse_by = |d: f64| if higher { -d } else { d };
            let regressed = match (base_mean, head_mean) {
                // Reported at the base and no longer: it cannot hide by going quiet.
                (Some(_), None) => true,
                (Some(b), Some(h)) if b == 0.0 => worse_by(h - b) > 0.0,
                (Some(_), Some(_)) => delta_pct.is_some_and(|d| worse_by(d) > drop_pct),
                _ => false,
            };
            MetricSummary {
                name: name.to_string(),
                higher_is_better: higher,
                base_mean,
                head_mean,
                base_cases: bn,
                head_cases: hn,
                delta_pct,
                regressed,
            }
        })
        .collect()
}

fn metric_reason(m: &MetricSummary, drop_pct: f64) -> String {
    let dir = if m.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    match (m.base_mean, m.head_mean) {
        (Some(b), None) => format!(
            "quality metric {} was reported for {} case(s) at base (mean {b:.4}) and for none at head",
            m.name, m.base_cases
        ),
        (Some(b), Some(h)) => format!(
            "quality metric {} mean {b:.4} → {h:.4} ({}, {dir}; worse by more than {})",
            m.name,
            crate::infra::fmt::pct_or_dash(m.delta_pct),
            crate::infra::fmt::threshold(drop_pct)
        ),
        _ => format!("quality metric {}", m.name),
    }
}

/// Turns a failing assessment into a fail of kind `quality-regression`, whatever the cost did.
pub fn apply(a: &Assessment, decision: &mut Decision) {
    for r in &a.reasons {
        decision.fail(FailKind::QualityRegression, r.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(context: &[&str], model: Option<&str>, bypass: Option<bool>) -> Expect {
        Expect {
            context_includes: context.iter().map(|s| s.to_string()).collect(),
            model: model.map(String::from),
            bypass,
        }
    }

    fn strip_profile(m: &str) -> String {
        m.strip_prefix("us.").unwrap_or(m).to_string()
    }

    #[test]
    fn each_kind_of_expectation_is_checked() {
        let e = expect(
            &["vol. 107", "Berserk"],
            Some("anthropic.claude"),
            Some(false),
        );
        let none = BTreeMap::new();
        let seen = Observed {
            context_found: &[true, false],
            models: Some("us.anthropic.claude"),
            calls: 1,
            metrics: &none,
        };
        let q = evaluate(Some(&e), &seen, &strip_profile).unwrap();
        assert_eq!((q.met, q.of), (3, 4));
        assert_eq!(q.unmet, ["context_includes \"Berserk\""]);
        // A bypass breaks the context, the model and `bypass: false` at once.
        let bypassed = Observed {
            context_found: &[false, false],
            models: None,
            calls: 0,
            metrics: &none,
        };
        let q = evaluate(Some(&e), &bypassed, &strip_profile).unwrap();
        assert_eq!((q.met, q.of), (0, 4));
        // Two models serving one case never meet a single-model expectation.
        let two = Observed {
            models: Some("amazon.nova-micro + anthropic.claude"),
            calls: 2,
            ..seen
        };
        let q = evaluate(
            Some(&expect(&[], Some("anthropic.claude"), None)),
            &two,
            &strip_profile,
        );
        assert_eq!(q.unwrap().unmet, ["model anthropic.claude"]);
    }

    #[test]
    fn a_case_without_expectations_or_metrics_has_no_quality() {
        let none = BTreeMap::new();
        let seen = Observed {
            context_found: &[],
            models: Some("m"),
            calls: 1,
            metrics: &none,
        };
        assert_eq!(evaluate(None, &seen, &strip_profile), None);
    }

    #[test]
    fn broken_is_met_at_base_and_unmet_at_head() {
        let b = SideQuality {
            met: 1,
            of: 2,
            unmet: vec!["bypass true".into()],
            ..Default::default()
        };
        let h = SideQuality {
            met: 0,
            of: 2,
            unmet: vec!["bypass true".into(), "model m".into()],
            ..Default::default()
        };
        assert_eq!(broken(Some(&b), Some(&h)), ["model m"]);
        assert!(broken(Some(&h), Some(&b)).is_empty(), "a fix is not broken");
    }
}
