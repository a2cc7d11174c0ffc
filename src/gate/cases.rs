//! One report line per case: both sides' costs and quality, the delta and what the head changed
//! (the segment that grew, the model), and what the head's own dataset adds, removes or edits.

use std::collections::{BTreeMap, BTreeSet};

use super::{App, harness, price, progress, verdict};
use crate::gate::inputs::Side;
use crate::gate::report::{CaseReport, SideCost, Status};
use crate::gate::shard::Shard;
use crate::infra::error::Result;
use crate::measure::dataset::{Dataset, LocatedCase};
use crate::measure::render::Priced;

pub(super) fn side_cost(p: &Priced) -> SideCost {
    SideCost {
        model: p.model.clone(),
        input_tokens: p.input_tokens,
        output_tokens: p.output_tokens,
        reasoning_tokens: p.reasoning_tokens,
        reasoning: p.reasoning.clone(),
        unpriced_calls: p.unpriced_calls,
        unpriced_models: p.unpriced_models.clone(),
        extras: p.extras.clone(),
        cost_usd: p.cost_usd,
        segments: p.segments,
        calls: p.calls,
        cache_read_tokens: p.cache_read_tokens,
        cache_write_tokens: p.cache_write_tokens,
        quality: None,
    }
}

/// A side of a case with its quality (docs/quality.md) checked against the case's `expect`.
pub(super) fn side_with_quality(
    p: &Priced,
    case: &crate::measure::dataset::Case,
    pricing: &crate::measure::pricing::PricingTable,
) -> SideCost {
    let resolve = |m: &str| {
        pricing
            .resolve(m)
            .map_or_else(|_| m.to_string(), |r| r.base_id.clone())
    };
    let seen = crate::gate::quality::Observed {
        context_found: &p.context_found,
        models: p.model.as_deref(),
        calls: p.calls,
        metrics: &p.metrics,
    };
    SideCost {
        quality: crate::gate::quality::evaluate(case.expect.as_deref(), &seen, &resolve),
        ..side_cost(p)
    }
}

/// One report line per base case: both sides' costs, the delta and what the head changed.
pub(super) fn compare_cases(
    dataset: &Dataset,
    (base_priced, head_priced): (&[Priced], &[Priced]),
    head_by_id: &BTreeMap<&str, Option<&LocatedCase>>,
    head_loaded: bool,
    min: f64,
    pricing: &crate::measure::pricing::PricingTable,
) -> Vec<CaseReport> {
    let mut cases = Vec::with_capacity(dataset.len());
    for (c, (b, h)) in dataset
        .cases
        .iter()
        .zip(base_priced.iter().zip(head_priced))
    {
        let d = verdict::delta_pct(b.cost_usd, h.cost_usd, min);
        let status = match d {
            None => Status::Regressed,
            Some(x) if x > 0.0 => Status::Regressed,
            Some(x) if x < 0.0 => Status::Improved,
            Some(_) => Status::Unchanged,
        };
        let in_head = head_by_id.get(c.case.id.as_str());
        let outside_band = c
            .case
            .expected_cost_band
            .is_some_and(|band| h.cost_usd < band.low || h.cost_usd > band.high);
        let (base, head) = (
            side_with_quality(b, &c.case, pricing),
            side_with_quality(h, &c.case, pricing),
        );
        let quality_broken =
            crate::gate::quality::broken(base.quality.as_ref(), head.quality.as_ref());
        cases.push(CaseReport {
            id: c.case.id.clone(),
            intent: c.case.intent.clone(),
            status,
            base: Some(base),
            head: Some(head),
            delta_pct: d,
            delta_usd: h.cost_usd - b.cost_usd,
            grew: grown_segment(b, h),
            model_changed: b.model != h.model,
            removed_in_head: head_loaded && in_head.is_none(),
            changed_in_head: in_head
                .and_then(|hc| *hc)
                .is_some_and(|hc| !crate::gate::baseline::same_but_band(&hc.case, &c.case)),
            outside_band,
            quality_broken,
            nondeterministic: false,
        });
    }
    cases
}

/// What the head's own dataset changes: cases it adds (priced with the head's application,
/// reported, not gated), removes or edits (still gated with the base's version), re-banded cases.
pub(super) struct HeadEdits<'a> {
    pub(super) head: &'a Side,
    pub(super) head_app: &'a App,
    pub(super) head_dataset: &'a crate::gate::inputs::HeadDataset,
    pub(super) head_by_id: &'a BTreeMap<&'a str, Option<&'a LocatedCase>>,
    /// The whole base dataset (a case in another shard is not "added").
    pub(super) full: &'a Dataset,
    /// The slice being priced.
    pub(super) dataset: &'a Dataset,
    pub(super) ctx: &'a harness::Context<'a>,
    pub(super) shard: Option<Shard>,
}

impl HeadEdits<'_> {
    pub(super) fn report(
        &self,
        cases: &mut Vec<CaseReport>,
        policy_changes: &mut Vec<String>,
    ) -> Result<()> {
        // Against the whole base dataset: a case in another shard is not "added".
        let base_ids: BTreeSet<&str> = self.full.ids().collect();
        let added = Dataset {
            cases: self
                .head_dataset
                .edited
                .cases
                .iter()
                .filter(|c| !base_ids.contains(c.case.id.as_str()))
                .cloned()
                .collect(),
        };
        let first_shard = self.shard.is_none_or(|s| s.index == 1);
        if !added.is_empty() && !first_shard {
            // Added cases are priced and reported by shard 1 only, so a merge counts them once.
        } else if !added.is_empty() && matches!(self.head_app, App::Harness(_)) {
            policy_changes.push(format!(
                "head adds {} golden case(s); harness mode runs the base's cases only, so they are not priced until merged",
                added.len()
            ));
        } else if !added.is_empty() {
            let ctx = harness::Context {
                progress: &progress::Silent,
                ..*self.ctx
            };
            let (priced, _) = price(self.head, self.head_app, &added, &ctx)?;
            for (c, p) in added.cases.iter().zip(&priced) {
                cases.push(CaseReport {
                    id: c.case.id.clone(),
                    intent: c.case.intent.clone(),
                    status: Status::Added,
                    base: None,
                    head: Some(side_cost(p)),
                    delta_pct: None,
                    delta_usd: p.cost_usd,
                    grew: None,
                    model_changed: false,
                    removed_in_head: false,
                    changed_in_head: false,
                    outside_band: false,
                    quality_broken: Vec::new(),
                    nondeterministic: false,
                });
            }
            policy_changes.push(format!(
                "head adds {} golden case(s); they are reported but gated only once merged",
                added.len()
            ));
        }
        let removed: Vec<&str> = self
            .dataset
            .ids()
            .filter(|id| !self.head_by_id.contains_key(id))
            .collect();
        if !removed.is_empty() {
            policy_changes.push(format!(
                "head removes {} golden case(s), still gated: {}",
                removed.len(),
                crate::infra::fmt::id_list(&removed)
            ));
        }
        let rebanded = self
            .dataset
            .cases
            .iter()
            .filter(|c| {
                self.head_by_id
                    .get(c.case.id.as_str())
                    .and_then(|h| *h)
                    .is_some_and(|h| h.case.expected_cost_band != c.case.expected_cost_band)
            })
            .count();
        if rebanded > 0 {
            policy_changes.push(format!(
                "head re-baselines the expected_cost_band of {rebanded} case(s); the new bands apply once merged"
            ));
        }
        let changed: Vec<&str> = cases
            .iter()
            .filter(|c| c.changed_in_head)
            .map(|c| c.id.as_str())
            .collect();
        if !changed.is_empty() {
            policy_changes.push(format!(
                "head edits {} golden case(s), gated with the base's version: {}",
                changed.len(),
                crate::infra::fmt::id_list(&changed)
            ));
        }
        Ok(())
    }
}

/// The prompt segment that grew most, by tokens.
fn grown_segment(b: &Priced, h: &Priced) -> Option<String> {
    if let Some(kind) = dominant_extra(&b.extras, b.cost_usd, &h.extras, h.cost_usd) {
        return Some(kind.to_string());
    }
    let (bs, hs) = (&b.segments, &h.segments);
    [
        ("system", hs.system as i64 - bs.system as i64),
        ("history", hs.history as i64 - bs.history as i64),
        ("prompt", hs.prompt as i64 - bs.prompt as i64),
        ("overhead", hs.overhead as i64 - bs.overhead as i64),
        (
            "reasoning",
            h.reasoning_tokens as i64 - b.reasoning_tokens as i64,
        ),
    ]
    .into_iter()
    .filter(|(_, d)| *d > 0)
    .max_by_key(|(_, d)| *d)
    .map(|(n, _)| n.to_string())
}

/// The service besides model tokens (embedding, rerank, guardrail) whose dollars grew most, when
/// it grew more than the model tokens' dollars did: what a cause then blames.
pub(super) fn dominant_extra(
    b: &crate::measure::render::Extras,
    b_usd: f64,
    h: &crate::measure::render::Extras,
    h_usd: f64,
) -> Option<&'static str> {
    let model = (h_usd - h.usd()) - (b_usd - b.usd());
    b.by_kind()
        .into_iter()
        .zip(h.by_kind())
        .map(|((kind, before), (_, after))| (kind, after - before))
        .filter(|(_, d)| *d > 0.0 && *d >= model)
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(kind, _)| kind)
}
