//! Guardrails: what each guardrail checks (the stand-in cannot read it from AWS, so the base's
//! `guardrails:` says it) and what a check costs: each started 1,000 characters is a text unit,
//! billed once per policy type the guardrail has.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::infra::diag::{Diagnostic, Sink};
use crate::measure::pricing::PricingTable;

/// Characters per text unit.
pub const CHARS_PER_TEXT_UNIT: u64 = 1_000;

/// The policy types a guardrail can have, in the names `guardrails:` and the price table use, with
/// the usage field ApplyGuardrail reports each in.
pub const POLICIES: [(&str, &str); 7] = [
    ("content", "contentPolicyUnits"),
    ("denied_topics", "topicPolicyUnits"),
    ("word", "wordPolicyUnits"),
    ("sensitive_information", "sensitiveInformationPolicyUnits"),
    (
        "sensitive_information_regex",
        "sensitiveInformationPolicyFreeUnits",
    ),
    ("contextual_grounding", "contextualGroundingPolicyUnits"),
    ("automated_reasoning", "automatedReasoningPolicyUnits"),
];

/// One entry of `guardrails:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    pub policies: Vec<String>,
}

/// The base's `guardrails:`, by guardrail id (or ARN).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Guardrails(pub BTreeMap<String, Guardrail>);

impl Guardrails {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The guardrail a request names by id or ARN (`arn:…:guardrail/ID`).
    pub fn get(&self, id: &str) -> Option<(&str, &Guardrail)> {
        let short = id.rsplit_once(":guardrail/").map_or(id, |(_, s)| s);
        self.0
            .get_key_value(id)
            .or_else(|| self.0.get_key_value(short))
            .map(|(k, g)| (k.as_str(), g))
    }

    /// Every policy must be a type Bedrock has.
    pub(crate) fn validate(&self, file: &str, line: usize, sink: &mut Sink) {
        for (id, g) in &self.0 {
            if g.policies.is_empty() {
                sink.push(
                    Diagnostic::new(file, format!("guardrail `{id}` lists no policies"))
                        .at(line, 0)
                        .help("list what it checks, e.g. `policies: [content, denied_topics]`"),
                );
            }
            for p in &g.policies {
                if !POLICIES.iter().any(|(name, _)| name == p) {
                    sink.push(
                        Diagnostic::new(
                            file,
                            format!("guardrail `{id}`: unknown policy type `{p}`"),
                        )
                        .at(line, 0)
                        .help(format!(
                            "use one of {}",
                            POLICIES.map(|(n, _)| n).join(", ")
                        )),
                    );
                }
            }
        }
    }
}

/// Text units of one check over `texts`: each started 1,000 characters of their total.
pub fn text_units<'a>(texts: impl IntoIterator<Item = &'a str>) -> u64 {
    let chars: u64 = texts.into_iter().map(|t| t.chars().count() as u64).sum();
    chars.div_ceil(CHARS_PER_TEXT_UNIT)
}

/// What one check of `units` text units by `g` costs, and whether every policy is priced.
pub fn cost(g: &Guardrail, units: u64, pricing: &PricingTable) -> (f64, bool) {
    let mut usd = 0.0;
    let mut priced = true;
    for p in &g.policies {
        match pricing.guardrail_policy(p) {
            Some(per_1k) => usd += units as f64 * per_1k / 1000.0,
            None => priced = false,
        }
    }
    (usd, priced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_unit_is_each_started_thousand_characters() {
        assert_eq!(text_units(["a"]), 1);
        assert_eq!(text_units(["x".repeat(1000).as_str()]), 1);
        assert_eq!(text_units(["x".repeat(5600).as_str()]), 6);
        assert_eq!(
            text_units(["x".repeat(600).as_str(), "y".repeat(600).as_str()]),
            2
        );
        assert_eq!(text_units([""]), 0);
    }

    #[test]
    fn each_policy_type_bills_the_units_once() {
        let t = PricingTable::builtin();
        let g = Guardrail {
            policies: vec!["content".into(), "denied_topics".into(), "word".into()],
        };
        let (usd, priced) = cost(&g, 6, &t);
        assert!(priced);
        assert_eq!(usd, 6.0 * 0.15 / 1000.0 + 6.0 * 0.15 / 1000.0);
        let mut gs = BTreeMap::new();
        gs.insert("gr-1".to_string(), g);
        let gs = Guardrails(gs);
        assert!(
            gs.get("arn:aws:bedrock:us-east-1:123:guardrail/gr-1")
                .is_some()
        );
        let mut sink = Sink::default();
        let bad = Guardrails(
            [(
                "x".to_string(),
                Guardrail {
                    policies: vec!["nope".into()],
                },
            )]
            .into(),
        );
        bad.validate("costgate.yaml", 3, &mut sink);
        assert_eq!(sink.into_vec().len(), 1);
    }
}
