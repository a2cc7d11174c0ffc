//! Unpriced is never $0: a call to a model the price table does not price is served and counted
//! at $0, and the report says its totals are a floor. What the head adds decides the verdict by
//! `thresholds.unpriced`; what the base already had is a note (the harness's).

use std::collections::BTreeSet;

use crate::gate::report::{CaseReport, Status};
use crate::gate::verdict::{Decision, FailKind};
use crate::measure::config::{Thresholds, UnpricedLevel};

/// Counts each side's unpriced calls into the summary, and names the cases whose head makes more
/// unpriced calls than their base as a warn or fail reason.
pub fn apply(cases: &[CaseReport], t: &Thresholds, decision: &mut Decision) {
    let calls =
        |s: &Option<crate::gate::report::SideCost>| s.as_ref().map_or(0, |s| s.unpriced_calls);
    let gated: Vec<&CaseReport> = cases.iter().filter(|c| c.status != Status::Added).collect();
    decision.summary.unpriced_calls_base = gated.iter().map(|c| calls(&c.base)).sum();
    decision.summary.unpriced_calls_head = gated.iter().map(|c| calls(&c.head)).sum();
    let added: Vec<&&CaseReport> = gated
        .iter()
        .filter(|c| calls(&c.head) > calls(&c.base))
        .collect();
    if added.is_empty() {
        return;
    }
    let models: BTreeSet<&str> = added
        .iter()
        .filter_map(|c| c.head.as_ref())
        .flat_map(|h| h.unpriced_models.iter().map(String::as_str))
        .collect();
    let ids: Vec<&str> = added.iter().map(|c| c.id.as_str()).collect();
    let reason = format!(
        "{} case(s) call models the price table does not price at the head ({}: {}): counted at $0, so their cost and the totals are a floor; add the prices to the base's pricing file",
        added.len(),
        crate::infra::fmt::id_list(&ids),
        models.into_iter().collect::<Vec<_>>().join(", ")
    );
    match t.unpriced {
        UnpricedLevel::Warn => decision.warn("unpriced", reason),
        UnpricedLevel::Fail => decision.fail(FailKind::Unpriced, reason),
    }
}
