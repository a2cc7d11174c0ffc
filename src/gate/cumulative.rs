//! The cumulative rule (docs/ratchet.md): head's mean dollars per session against the base branch's
//! `.cost-baseline.yaml`. Per-PR thresholds let cost climb a few percent at a time; this rule
//! fails a PR once the total climb since the baseline passes `cumulative_fail_pct`.
//!
//! Applied after `verdict::decide` and before the justification/override layers. Its one
//! exception is a formal contract change (docs/ratchet.md): the PR updates the baseline file
//! itself AND carries a justification that is signed off. This rule records whether the head
//! updates the baseline (`summary.head_updates_baseline`); `review::apply` grants the exception
//! (a fail becomes `review_required`, then `accepted`), so a baseline update alone never waives it.

use chrono::NaiveDate;

use crate::gate::baseline::{self, Baseline};
use crate::gate::verdict::{Decision, FailKind};
use crate::infra::diag::{Diagnostic, Diagnostics};
use crate::infra::tree::Tree;
use crate::measure::config::Config;
use crate::measure::dataset::Dataset;

/// The rule as `gate::check` runs it: reads the base's baseline (policy) and whether the head
/// changes that file, then [`apply`]. `justified` is the hook for the PR-body justification.
pub fn check_trees(
    base: &dyn Tree,
    head: &dyn Tree,
    base_cfg: &Config,
    dataset: &Dataset,
    decision: &mut Decision,
    today: NaiveDate,
) -> Result<Vec<String>, Diagnostics> {
    let path = base_cfg.baseline.as_str();
    let read = |t: &dyn Tree| {
        t.read(path)
            .map_err(|e| Diagnostics(vec![Diagnostic::new(path, e.to_string())]))
    };
    let (base_bytes, head_bytes) = (read(base)?, read(head)?);
    let parsed = match &base_bytes {
        None => None,
        Some(b) => Some(Baseline::parse(&String::from_utf8_lossy(b), path)?),
    };
    let input = Input {
        baseline: parsed.as_ref(),
        path,
        head_updates_baseline: head_bytes.is_some() && head_bytes != base_bytes,
        dataset_version: &baseline::dataset_hash(dataset),
        cumulative_fail_pct: base_cfg.thresholds.cumulative_fail_pct,
        today,
    };
    Ok(apply(decision, &input))
}

/// What the rule needs besides the decision.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The base branch's baseline (policy comes from the base); `None` when it has none.
    pub baseline: Option<&'a Baseline>,
    /// Where the baseline lives (`baseline:` of the base's costgate.yaml), for messages.
    pub path: &'a str,
    /// The head changes (or adds) the baseline file.
    pub head_updates_baseline: bool,
    /// `dataset_hash` of the base dataset the verdict was computed on.
    pub dataset_version: &'a str,
    pub cumulative_fail_pct: f64,
    pub today: NaiveDate,
}

/// Applies the rule to `decision` (adding a fail reason and kind when it fires) and returns the
/// notes for the report.
pub fn apply(decision: &mut Decision, input: &Input<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(b) = input.baseline else {
        if input.head_updates_baseline {
            notes.push(format!("this PR adds the cost baseline `{}`; the cumulative rule applies once it is merged", input.path));
        }
        return notes;
    };
    let base_mean = b.metrics.dollars_per_session_mean;
    let head_mean = decision.summary.head_mean_usd;
    // Unbounded (None) when the baseline was free and head costs money.
    let delta = if base_mean == 0.0 {
        if head_mean > 0.0 { None } else { Some(0.0) }
    } else {
        Some((head_mean - base_mean) / base_mean * 100.0)
    };
    let exceeded =
        delta.is_none_or(|d| crate::infra::fmt::shown_pct(d) > input.cumulative_fail_pct);
    let limit = crate::infra::fmt::threshold(input.cumulative_fail_pct);
    let measured = format!(
        "mean $/session {} over baseline",
        crate::infra::fmt::pct(delta)
    );
    decision.summary.head_updates_baseline = input.head_updates_baseline;
    if exceeded {
        {
            // Always a fail here: the formal exception (re-baseline + justification) goes through
            // the justification layer (`review::apply`), which turns it into `review_required` and,
            // with a cost owner's approval, `accepted` -- a contract change is signed off.
            decision.fail(FailKind::CumulativeDrift, format!("{measured} > {limit}"));
            let how = if input.head_updates_baseline {
                "this PR updates the baseline: a complete justification approved by a cost owner accepts the new contract".to_string()
            } else {
                format!(
                    "bring the cost back, or re-baseline in this PR with a justification ({})",
                    crate::infra::docs::page("ratchet.md")
                )
            };
            notes.push(format!(
                "cumulative drift: mean {} per 1,000 sessions at head vs {} in the baseline of {} ({}); {how}",
                crate::infra::fmt::per_thousand(head_mean),
                crate::infra::fmt::per_thousand(base_mean),
                b.date,
                b.commit
            ));
        }
    } else {
        notes.push(format!(
            "{measured} (limit {limit}; baseline of {})",
            b.date
        ));
    }
    if b.overdue(input.today) {
        if let Some(due) = b.rebaseline_due {
            notes.push(format!(
                "re-baseline overdue: `rebaseline_due: {due}` in `{}` has passed; run `costgate baseline` in a PR ({})",
                input.path,
                crate::infra::docs::page("ratchet.md")
            ));
        }
    }
    if b.dataset_version != input.dataset_version {
        notes.push(format!(
            "the baseline was measured on another golden dataset ({}); the cumulative comparison is approximate until re-baselined",
            short(&b.dataset_version)
        ));
    }
    notes
}

fn short(v: &str) -> &str {
    v.get(..("sha256:".len() + 12)).unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::baseline::Metrics;
    use crate::gate::verdict::{Pair, Verdict, decide};
    use crate::measure::config::Thresholds;

    fn baseline(mean: f64, due: &str) -> Baseline {
        Baseline {
            date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            commit: "abc123".into(),
            dataset_version: "sha256:aaaa".into(),
            metrics: Metrics {
                dollars_per_session_mean: mean,
                dollars_per_session_p50: mean,
                dollars_per_session_p95: mean,
                avg_input_tokens: 0.0,
                bypass_rate: 0.0,
                model_share: Default::default(),
            },
            rebaseline_due: NaiveDate::parse_from_str(due, "%Y-%m-%d").ok(),
        }
    }

    fn input<'a>(b: Option<&'a Baseline>, updates: bool) -> Input<'a> {
        Input {
            baseline: b,
            path: ".cost-baseline.yaml",
            head_updates_baseline: updates,
            dataset_version: "sha256:aaaa",
            cumulative_fail_pct: 15.0,
            today: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        }
    }

    /// A passing PR (+4% on the one case) whose head mean is 1.04.
    fn passing() -> Decision {
        decide(
            &[Pair {
                id: "a",
                base_usd: 1.0,
                head_usd: 1.04,
                weight: 1.0,
            }],
            &Thresholds::default(),
        )
    }

    #[test]
    fn drift_beyond_the_limit_fails_a_passing_pr() {
        let b = baseline(0.887, "2027-01-01");
        let mut d = passing();
        assert_eq!(d.verdict, Verdict::Pass);
        let notes = apply(&mut d, &input(Some(&b), false));
        assert_eq!(d.verdict, Verdict::Fail);
        assert_eq!(d.fail_kinds, [FailKind::CumulativeDrift]);
        assert_eq!(d.reasons, ["mean $/session +17.2% over baseline > 15%"]);
        assert!(notes[0].contains("bring the cost back"), "{notes:?}");
    }

    #[test]
    fn drift_at_the_limit_passes_with_a_note() {
        let b = baseline(1.04 / 1.15, "2027-01-01");
        let mut d = passing();
        let notes = apply(&mut d, &input(Some(&b), false));
        assert_eq!(d.verdict, Verdict::Pass, "{:?}", d.reasons);
        assert_eq!(
            notes,
            ["mean $/session +15.0% over baseline (limit 15%; baseline of 2026-09-01)"]
        );
    }

    #[test]
    fn a_re_baseline_still_fails_here_and_is_marked_for_the_justification_layer() {
        let b = baseline(0.5, "2027-01-01");
        for updates in [true, false] {
            let mut d = passing();
            let notes = apply(&mut d, &input(Some(&b), updates));
            assert_eq!(d.verdict, Verdict::Fail, "updates={updates}: {notes:?}");
            assert_eq!(d.summary.head_updates_baseline, updates);
        }
        let mut d = passing();
        let notes = apply(&mut d, &input(Some(&b), true));
        assert!(notes[0].contains("approved by a cost owner"), "{notes:?}");
    }

    #[test]
    fn an_existing_fail_gains_the_cumulative_reason_and_kind() {
        let b = baseline(0.5, "2027-01-01");
        let mut d = decide(
            &[Pair {
                id: "a",
                base_usd: 1.0,
                head_usd: 1.5,
                weight: 1.0,
            }],
            &Thresholds::default(),
        );
        apply(&mut d, &input(Some(&b), false));
        assert_eq!(
            d.fail_kinds,
            [FailKind::QueryRegression, FailKind::CumulativeDrift]
        );
        assert_eq!(d.reasons.len(), 2);
    }

    #[test]
    fn overdue_rebaseline_and_dataset_change_are_noted_without_changing_the_verdict() {
        let mut b = baseline(1.0, "2026-10-01");
        b.dataset_version = "sha256:bbbbbbbbbbbbbbbbbbbb".into();
        let mut d = passing();
        let notes = apply(&mut d, &input(Some(&b), false));
        assert_eq!(d.verdict, Verdict::Pass);
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("re-baseline overdue: `rebaseline_due: 2026-10-01`")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("sha256:bbbbbbbbbbbb)")),
            "{notes:?}"
        );
    }

    #[test]
    fn no_baseline_means_no_rule() {
        let mut d = passing();
        assert!(apply(&mut d, &input(None, false)).is_empty());
        assert_eq!(d.verdict, Verdict::Pass);
    }
}
