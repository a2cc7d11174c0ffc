//! The end of every gate run, shared by `check` and `merge` so that the two cannot drift apart:
//! the per-query decision, then the cumulative rule, then routes to models past end of life, then
//! the whole-run rules (quality, dollars per month), and the report assembled from them. The
//! order is what a reader sees in "Why", so it is fixed here once.

use crate::gate::causes::{self, FileHints};
use crate::gate::report::{
    CacheLost, CaseReport, Report, RoutingChange, SCHEMA_VERSION, SideInfo, Status,
};
use crate::gate::rules::{self, Outcome, Rules};
use crate::gate::verdict::{self, Decision, Pair};
use crate::infra::error::{Error, Result};
use crate::measure::config::Thresholds;
use crate::measure::pricing::audit::{EndOfLifeRoutes, end_of_life_reasons};

/// Whether this run sees every case (the whole-run rules apply) or one shard's slice of them.
pub(crate) enum Scope<'a> {
    /// `error` turns a rule's configuration problem into the error that names its file.
    Whole {
        rules: &'a Rules,
        error: &'a dyn Fn(String) -> Error,
    },
    /// `merge` applies the whole-run rules once it has every case; the slice's causes carry the
    /// files behind them to it.
    Shard,
}

/// What decides a run besides its cases.
pub(crate) struct Finish<'a> {
    pub thresholds: &'a Thresholds,
    pub weight: &'a dyn Fn(&str) -> f64,
    pub end_of_life: &'a EndOfLifeRoutes,
    pub scope: Scope<'a>,
    pub files: FileHints<'a>,
}

/// A run's decision, the cumulative rule's notes (they come first in the report) and what the
/// rules add to the report.
pub(crate) struct Decided {
    pub decision: Decision,
    pub notes: Vec<String>,
    pub outcome: Outcome,
}

/// Everything else a report holds, gathered by the caller.
pub(crate) struct Parts {
    pub base: SideInfo,
    pub head: SideInfo,
    pub thresholds: Thresholds,
    pub routing_changes: Vec<RoutingChange>,
    pub policy_changes: Vec<String>,
    pub notes: Vec<String>,
    pub cache_lost: Vec<CacheLost>,
    pub cases: Vec<CaseReport>,
}

impl Finish<'_> {
    /// Decides the run from its compared cases (cases the head added are reported, not gated).
    /// `cumulative` applies the cumulative rule to the decision and returns its notes.
    pub fn decide(
        &self,
        cases: &[CaseReport],
        cumulative: impl FnOnce(&mut Decision) -> Result<Vec<String>>,
    ) -> Result<Decided> {
        let pairs: Vec<Pair<'_>> = cases
            .iter()
            .filter(|c| c.status != Status::Added)
            .map(|c| Pair {
                id: &c.id,
                base_usd: c.base.as_ref().map_or(0.0, |s| s.cost_usd),
                head_usd: c.head.as_ref().map_or(0.0, |s| s.cost_usd),
                weight: (self.weight)(&c.id),
            })
            .collect();
        let noisy: std::collections::BTreeSet<&str> = cases
            .iter()
            .filter(|c| c.nondeterministic)
            .map(|c| c.id.as_str())
            .collect();
        let mut decision = verdict::decide_excluding(&pairs, self.thresholds, &noisy);
        drop(pairs);
        let notes = cumulative(&mut decision)?;
        for reason in end_of_life_reasons(self.end_of_life) {
            decision.warn("end of life", reason);
        }
        let outcome = match self.scope {
            Scope::Whole { rules, error } => rules::apply(
                cases,
                self.weight,
                rules,
                self.thresholds,
                &mut decision,
                self.files,
            )
            .map_err(error)?,
            Scope::Shard => Outcome {
                causes: causes::group(cases, self.thresholds, true, self.files),
                metrics: Vec::new(),
            },
        };
        Ok(Decided {
            decision,
            notes,
            outcome,
        })
    }
}

impl Decided {
    /// The report: the cumulative rule's notes first, then the caller's.
    pub fn report(self, parts: Parts) -> Report {
        let Decided {
            decision,
            mut notes,
            outcome,
        } = self;
        notes.extend(parts.notes);
        Report {
            schema_version: SCHEMA_VERSION,
            verdict: decision.verdict,
            reasons: decision.reasons,
            reason_labels: decision.labels,
            fail_kinds: decision.fail_kinds,
            summary: decision.summary,
            base: parts.base,
            head: parts.head,
            thresholds: parts.thresholds,
            routing_changes: parts.routing_changes,
            policy_changes: parts.policy_changes,
            notes,
            cache_lost: parts.cache_lost,
            causes: outcome.causes,
            quality_metrics: outcome.metrics,
            cases: parts.cases,
            review: Default::default(),
        }
    }
}
