//! The rules that need every case of the run at once: quality, dollars per month and the causes
//! the reasons are grouped into. `check` applies them to its cases,
//! `merge` to the cases of all shards, so a sharded run decides exactly as a single one.

use serde::{Deserialize, Serialize};

use crate::gate::causes::{self, Cause, FileHints};
use crate::gate::monthly::{self, CaseCost};
use crate::gate::quality::{self, MetricSummary};
use crate::gate::report::{CaseReport, Status};
use crate::gate::verdict::Decision;
use crate::measure::config::{Config, QualityPolicy, Thresholds, Traffic};

/// The base's policy for these rules (carried by partial reports for `merge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Rules {
    #[serde(default)]
    pub quality: QualityPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Traffic>,
}

impl Rules {
    pub fn of(config: &Config) -> Rules {
        Rules {
            quality: config.quality.clone(),
            traffic: config.traffic.clone(),
        }
    }
}

/// What the rules add to the report besides the decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub causes: Vec<Cause>,
    pub metrics: Vec<MetricSummary>,
}

/// Applies the rules to `decision`. `weight` gives a case's weight by id. An error names an
/// `intent_share` intent the dataset does not have (a configuration error).
pub fn apply(
    cases: &[CaseReport],
    weight: &dyn Fn(&str) -> f64,
    rules: &Rules,
    t: &Thresholds,
    decision: &mut Decision,
    files: FileHints<'_>,
) -> Result<Outcome, String> {
    let qa = quality::assess(cases, &rules.quality);
    let s = &mut decision.summary;
    s.quality_base = qa.base_share;
    s.quality_head = qa.head_share;
    s.broken_expectations = qa.base_share.map(|_| qa.broken);
    quality::apply(&qa, decision);
    if let Some(traffic) = &rules.traffic {
        let gated: Vec<&CaseReport> = cases.iter().filter(|c| c.status != Status::Added).collect();
        let intents: Vec<&str> = gated.iter().map(|c| c.intent.as_str()).collect();
        let unknown = traffic.unknown_intents(&intents);
        if !unknown.is_empty() {
            return Err(format!(
                "`traffic.intent_share` names intent(s) the golden dataset does not have: {}; use the dataset's intents ({})",
                unknown.join(", "),
                {
                    let mut i = intents.clone();
                    i.sort_unstable();
                    i.dedup();
                    i.join(", ")
                }
            ));
        }
        let costs: Vec<CaseCost<'_>> = gated
            .iter()
            .map(|c| CaseCost {
                intent: &c.intent,
                weight: weight(&c.id),
                base_usd: c.base.as_ref().map_or(0.0, |s| s.cost_usd),
                head_usd: c.head.as_ref().map_or(0.0, |s| s.cost_usd),
            })
            .collect();
        let m = monthly::project(traffic, &costs);
        let s = &mut decision.summary;
        s.monthly_base_usd = Some(m.base_usd);
        s.monthly_head_usd = Some(m.head_usd);
        s.monthly_delta_usd = Some(m.delta_usd);
        s.requests_per_month = Some(traffic.requests_per_month);
        s.monthly_by_intent = m.by_intent.clone();
        monthly::apply(&m, t, decision);
    }
    crate::gate::unpriced::apply(cases, t, decision);
    let quality_failed = qa.broken > rules.quality.max_broken_expectations as usize;
    Ok(Outcome {
        causes: causes::group(cases, t, quality_failed, files),
        metrics: qa.metrics,
    })
}
