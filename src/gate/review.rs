//! The human layers of the verdict, applied after `verdict::decide` and any rule the
//! gate itself adds: the warn streak turns a warn into a fail, a justification turns a fail into
//! `review_required` (or `accepted` once signed off), and an honoured emergency override turns a fail
//! into `overridden`. What was found and decided is recorded in the report's optional fields.
//!
//! The facts (who approved, who applied the label, the streak) are gathered by the caller: from the
//! GitHub API in `costgate action`, from `--pr-body`/`--labels` in a local `costgate check`, where
//! there is no approver identity and so a justified fail stays `review_required`.

use crate::gate::justification;
use crate::gate::report::{
    JustificationReport, OpenTicket, OverrideFinding, Report, SignOff, Streak,
};
use crate::gate::verdict::{FailKind, Label, Verdict};
use crate::measure::config::Config;

/// Facts about the PR that the layers consult.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub pr_body: Option<String>,
    /// Present when labels are known (a PR, or `--labels`).
    pub labels: Vec<String>,
    /// The override label's provenance; `None` with the label present means it could not be checked.
    pub override_finding: Option<OverrideFinding>,
    /// An authorised approval on the current head, if any.
    pub sign_off: Option<SignOff>,
    /// Who may approve, for the comment (`@`-less names and rules).
    pub approvers: Vec<String>,
    pub streak: Option<Streak>,
    /// Open override tickets whose paths this PR touches (docs/approvers-runbook.md).
    pub open_tickets: Vec<OpenTicket>,
    /// Why sign-off cannot be had here (local runs), shown instead of "awaiting approval".
    pub no_sign_off_reason: Option<String>,
}

/// Applies the layers in order: warn streak, justification, override.
pub fn apply(report: &mut Report, config: &Config, facts: &Facts) {
    let cost = report.verdict;
    report.review.cost_verdict = Some(cost);
    apply_streak(report, config, facts);
    apply_open_tickets(report, config, facts);

    let measured = report.summary.total_delta_pct;
    if let Some(parsed) = facts
        .pr_body
        .as_deref()
        .and_then(|b| justification::parse(b, &config.justification.key))
    {
        let complete = parsed.is_complete();
        let covers = complete
            && measured.is_some_and(|m| {
                // Compared as the comment shows it: declaring exactly "+340.0%" covers 340.00000000000006.
                parsed
                    .expected_cost_delta_pct
                    .is_some_and(|d| crate::infra::fmt::shown_pct(m) <= d)
            });
        let consulted = report.verdict == Verdict::Fail;
        // Cumulative drift over the baseline is the savings contract itself: a justification
        // changes it only together with a re-baseline in the same PR (docs/ratchet.md).
        let needs_rebaseline = report.fail_kinds.contains(&FailKind::CumulativeDrift)
            && !report.summary.head_updates_baseline;
        if consulted && complete && needs_rebaseline {
            report.reasons.insert(
                0,
                format!(
                    "cumulative drift over the baseline: a justification is accepted only with a re-baseline in this PR (`costgate baseline` updates `{}`)",
                    config.baseline
                ),
            );
        } else if consulted && complete {
            if covers {
                match &facts.sign_off {
                    Some(s) => {
                        report.verdict = Verdict::Accepted;
                        report.review.sign_off = Some(s.clone());
                    }
                    None => report.verdict = Verdict::ReviewRequired,
                }
                report.review.approvers = facts.approvers.clone();
            } else {
                // First, so that a long list of case reasons cannot push it out of view.
                report.reasons.insert(
                    0,
                    format!(
                        "measured total {} exceeds the declared expected-cost-delta {}",
                        crate::infra::fmt::pct(measured),
                        crate::infra::fmt::pct(parsed.expected_cost_delta_pct)
                    ),
                );
            }
        }
        if consulted && !complete {
            let mut what = Vec::new();
            if !parsed.missing.is_empty() {
                what.push(format!("missing {}", parsed.missing.join(", ")));
            }
            what.extend(parsed.problems.iter().cloned());
            report.notes.push(format!(
                "the justification (PR body line {}) is incomplete: {}",
                parsed.line,
                what.join("; ")
            ));
        }
        if report.verdict == Verdict::ReviewRequired {
            let who = if facts.approvers.is_empty() {
                "an authorised approver".to_string()
            } else {
                facts.approvers.join(", ")
            };
            report.notes.push(match &facts.no_sign_off_reason {
                Some(why) => format!(
                    "justified: needs an approving review on the head commit by {who} ({why})"
                ),
                None => format!("justified: needs an approving review on the head commit by {who}"),
            });
        }
        report.review.justification = Some(JustificationReport {
            parsed,
            complete,
            measured_total_delta_pct: measured,
            covers,
            consulted,
        });
    }

    let label = &config.override_.label;
    if facts.labels.iter().any(|l| l == label) || facts.override_finding.is_some() {
        let local = facts.override_finding.is_none();
        let mut finding = facts
            .override_finding
            .clone()
            .unwrap_or_else(|| OverrideFinding {
                label: label.clone(),
                applied_by: None,
                applied_at: None,
                authorised: false,
                why:
                    "who applied the label cannot be checked outside GitHub, so it is not honoured"
                        .into(),
            });
        match report.verdict {
            Verdict::Fail | Verdict::ReviewRequired if finding.authorised => {
                report.verdict = Verdict::Overridden
            }
            Verdict::Pass | Verdict::Warn | Verdict::Accepted => {
                finding.authorised = false;
                finding.why = format!(
                    "not needed: the verdict is {} without it, so it changes nothing and no ticket is opened",
                    report.verdict.as_str()
                );
            }
            _ => {}
        }
        if local {
            // The PR comment has its own section; a local run has only the notes to say it.
            report
                .notes
                .push(format!("label `{}`: {}", finding.label, finding.why));
        }
        report.review.override_ = Some(finding);
    }
}

fn apply_streak(report: &mut Report, config: &Config, facts: &Facts) {
    let Some(streak) = &facts.streak else { return };
    report.review.warn_streak = Some(streak.clone());
    let need = config.thresholds.warn_streak_fail.saturating_sub(1) as usize;
    if report.verdict != Verdict::Warn {
        return;
    }
    if need == 0
        || (streak.previous.len() >= need
            && streak
                .previous
                .iter()
                .take(need)
                .all(|e| e.verdict == Verdict::Warn))
    {
        report.verdict = Verdict::Fail;
        report.fail_kinds.push(FailKind::WarnStreak);
        report
            .reason_labels
            .insert(0, Label::fail(FailKind::WarnStreak.rule()));
        let prs: Vec<String> = streak
            .previous
            .iter()
            .take(need)
            .map(|e| format!("#{}", e.pr))
            .collect();
        report.reasons.insert(
            0,
            format!(
                "warn streak: this is the {} warn in a row (previous merged: {})",
                ordinal(need + 1),
                if prs.is_empty() {
                    "none needed".to_string()
                } else {
                    prs.join(", ")
                }
            ),
        );
    }
}

/// A PR touching the paths of an open override ticket must bring the cost back (total delta below
/// zero) or carry a justification naming the ticket; otherwise it fails.
fn apply_open_tickets(report: &mut Report, config: &Config, facts: &Facts) {
    if facts.open_tickets.is_empty() {
        return;
    }
    report.review.open_tickets = facts.open_tickets.clone();
    let justification = facts
        .pr_body
        .as_deref()
        .and_then(|b| justification::parse(b, &config.justification.key));
    let brings_back = report.summary.total_delta_pct.is_some_and(|d| d < 0.0);
    for t in &facts.open_tickets {
        let named = justification.as_ref().is_some_and(|j| j.mentions(&t.key));
        if brings_back || named {
            continue;
        }
        report
            .reason_labels
            .push(Label::fail(FailKind::OpenOverrideTicket.rule()));
        report.reasons.push(format!(
            "touches {} of open override ticket {} (PR #{}) without bringing the cost back: reduce the cost or add a justification naming {}",
            t.paths.first().map(String::as_str).unwrap_or("paths"),
            t.key,
            t.pr,
            t.key
        ));
        if !report.fail_kinds.contains(&FailKind::OpenOverrideTicket) {
            report.fail_kinds.push(FailKind::OpenOverrideTicket);
        }
        if matches!(report.verdict, Verdict::Pass | Verdict::Warn) {
            report.verdict = Verdict::Fail;
        }
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::report::SideInfo;
    use crate::gate::verdict::{Pair, decide};

    fn config() -> Config {
        Config::parse(
            "version: 1\nroutes: r.yaml\nthresholds:\n  warn_streak_fail: 3\n",
            "costgate.yaml",
        )
        .unwrap()
    }

    /// A report whose one case moves from 1.0 to `head` USD.
    fn report(head: f64) -> Report {
        let d = decide(
            &[Pair {
                id: "GD-1",
                base_usd: 1.0,
                head_usd: head,
                weight: 1.0,
            }],
            &config().thresholds,
        );
        Report {
            schema_version: 1,
            verdict: d.verdict,
            reasons: d.reasons,
            reason_labels: d.labels,
            fail_kinds: d.fail_kinds,
            summary: d.summary,
            base: SideInfo {
                label: "base".into(),
                commit: None,
            },
            head: SideInfo {
                label: "head".into(),
                commit: None,
            },
            thresholds: config().thresholds,
            routing_changes: vec![],
            policy_changes: vec![],
            notes: vec![],
            cache_lost: vec![],
            causes: vec![],
            quality_metrics: vec![],
            cases: vec![],
            review: Default::default(),
        }
    }

    fn body(delta: &str) -> String {
        format!(
            "cost-regression-justification:\n  reason: r\n  expected-cost-delta: {delta}\n  quality-delta: q\n"
        )
    }

    fn sign_off() -> SignOff {
        SignOff {
            approver: "alice".into(),
            commit: "abc".into(),
            submitted_at: None,
            via: "users list".into(),
        }
    }

    #[test]
    fn justification_incomplete_keeps_fail_and_names_missing() {
        let mut r = report(1.5);
        apply(
            &mut r,
            &config(),
            &Facts {
                pr_body: Some("cost-regression-justification:\n  reason: r\n".into()),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Fail);
        let j = r.review.justification.as_ref().unwrap();
        assert_eq!(j.parsed.missing, ["expected-cost-delta", "quality-delta"]);
        assert!(j.consulted && !j.complete);
        assert_eq!(r.review.cost_verdict, Some(Verdict::Fail));
    }

    #[test]
    fn justification_complete_needs_review_then_accepted_on_sign_off() {
        let mut r = report(1.5);
        let facts = Facts {
            pr_body: Some(body("+50%")),
            approvers: vec!["alice".into()],
            ..Default::default()
        };
        apply(&mut r, &config(), &facts);
        assert_eq!(r.verdict, Verdict::ReviewRequired);
        assert_eq!(r.verdict.exit_code(), 1);
        assert_eq!(r.review.approvers, ["alice"]);
        let mut r = report(1.5);
        apply(
            &mut r,
            &config(),
            &Facts {
                sign_off: Some(sign_off()),
                ..facts
            },
        );
        assert_eq!(r.verdict, Verdict::Accepted);
        assert_eq!(r.review.sign_off.as_ref().unwrap().approver, "alice");
    }

    #[test]
    fn a_declared_delta_equal_to_the_shown_measurement_covers_it() {
        // (4.4 − 1.0) / 1.0 × 100 is 340.00000000000006 in floating point; the comment shows +340.0%.
        let mut r = report(4.4);
        assert!(r.summary.total_delta_pct.unwrap() > 340.0);
        apply(
            &mut r,
            &config(),
            &Facts {
                pr_body: Some(body("+340%")),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::ReviewRequired, "{:?}", r.reasons);
        assert!(r.review.justification.as_ref().unwrap().covers);
    }

    #[test]
    fn justification_exceeded_still_fails() {
        let mut r = report(1.5);
        apply(
            &mut r,
            &config(),
            &Facts {
                pr_body: Some(body("+18%")),
                sign_off: Some(sign_off()),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.reasons
                .iter()
                .any(|x| x.contains("exceeds the declared expected-cost-delta +18.0%")),
            "{:?}",
            r.reasons
        );
        assert!(!r.review.justification.as_ref().unwrap().covers);
        assert!(r.review.sign_off.is_none());
    }

    #[test]
    fn justification_on_a_pass_is_recorded_but_not_consulted() {
        let mut r = report(1.0);
        apply(
            &mut r,
            &config(),
            &Facts {
                pr_body: Some(body("+5%")),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(!r.review.justification.as_ref().unwrap().consulted);
    }

    #[test]
    fn override_honoured_only_when_authorised_and_needed() {
        let found = |authorised| OverrideFinding {
            label: "emergency-override".into(),
            applied_by: Some("carol".into()),
            applied_at: None,
            authorised,
            why: "x".into(),
        };
        let mut r = report(1.5);
        apply(
            &mut r,
            &config(),
            &Facts {
                override_finding: Some(found(true)),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Overridden);
        let mut r = report(1.5);
        apply(
            &mut r,
            &config(),
            &Facts {
                override_finding: Some(found(false)),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Fail);
        let mut r = report(1.0);
        apply(
            &mut r,
            &config(),
            &Facts {
                override_finding: Some(found(true)),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Pass);
        let o = r.review.override_.as_ref().unwrap();
        assert!(!o.authorised && o.why.starts_with("not needed"), "{o:?}");
    }

    #[test]
    fn open_override_ticket_requires_a_fix_or_a_justification_naming_it() {
        let open = vec![OpenTicket {
            key: "COST-17".into(),
            pr: 3,
            paths: vec!["app/prompts/system.j2".into()],
        }];
        let mut r = report(1.05);
        assert_eq!(r.verdict, Verdict::Pass);
        apply(
            &mut r,
            &config(),
            &Facts {
                open_tickets: open.clone(),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.fail_kinds, [FailKind::OpenOverrideTicket]);
        assert!(
            r.reasons[0].contains("open override ticket COST-17 (PR #3)"),
            "{:?}",
            r.reasons
        );
        // Naming the ticket in a complete justification that covers the delta: review, not fail.
        let body = "cost-regression-justification:\n  reason: follow-up of COST-17\n  expected-cost-delta: +10%\n  quality-delta: q\n";
        let mut r = report(1.05);
        apply(
            &mut r,
            &config(),
            &Facts {
                open_tickets: open.clone(),
                pr_body: Some(body.into()),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Pass);
        // Bringing the cost back passes.
        let mut r = report(0.9);
        apply(
            &mut r,
            &config(),
            &Facts {
                open_tickets: open,
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Pass);
    }

    #[test]
    fn local_label_without_identity_is_not_honoured() {
        let mut r = report(1.5);
        apply(
            &mut r,
            &config(),
            &Facts {
                labels: vec!["emergency-override".into()],
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.review
                .override_
                .as_ref()
                .unwrap()
                .why
                .contains("cannot be checked")
        );
    }

    #[test]
    fn warn_streak_fails_the_third_warn_in_a_row() {
        let entries = |v: &[Verdict]| Streak {
            previous: v
                .iter()
                .enumerate()
                .map(|(i, v)| crate::gate::report::StreakEntry {
                    pr: 10 - i as u64,
                    verdict: *v,
                })
                .collect(),
        };
        let mut r = report(1.2);
        assert_eq!(r.verdict, Verdict::Warn);
        apply(
            &mut r,
            &config(),
            &Facts {
                streak: Some(entries(&[Verdict::Warn, Verdict::Warn])),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.fail_kinds, [FailKind::WarnStreak]);
        assert!(
            r.reasons[0].starts_with(
                "warn streak: this is the 3rd warn in a row (previous merged: #10, #9)"
            ),
            "{:?}",
            r.reasons
        );
        let mut r = report(1.2);
        apply(
            &mut r,
            &config(),
            &Facts {
                streak: Some(entries(&[Verdict::Warn, Verdict::Pass])),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Warn);
        let mut r = report(1.2);
        apply(
            &mut r,
            &config(),
            &Facts {
                streak: Some(entries(&[Verdict::Warn])),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Warn, "too few merged PRs is no streak");
        // A streak fail can itself be justified.
        let mut r = report(1.2);
        apply(
            &mut r,
            &config(),
            &Facts {
                streak: Some(entries(&[Verdict::Warn, Verdict::Warn])),
                pr_body: Some(body("+25%")),
                ..Default::default()
            },
        );
        assert_eq!(r.verdict, Verdict::ReviewRequired);
    }
}
