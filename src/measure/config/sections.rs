//! The sections of `costgate.yaml` added for quality, dollars per month and the dataset refresh
//! (docs/configuration.md): `quality:`, `traffic:` and `refresh:`, each with its value checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::infra::diag::{Diagnostic, Sink};

/// The `quality:` section of `costgate.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityPolicy {
    /// Expectations met at the base and broken at the head before the gate fails.
    pub max_broken_expectations: u32,
    /// A harness metric whose mean moves in its bad direction by more than this (relative, %) fails.
    pub metric_drop_pct: f64,
}

impl Default for QualityPolicy {
    fn default() -> Self {
        QualityPolicy {
            max_broken_expectations: 0,
            metric_drop_pct: 5.0,
        }
    }
}

impl QualityPolicy {
    pub(crate) fn validate(&self, file: &str, sink: &mut Sink) {
        sink.non_negative(
            file,
            "quality.metric_drop_pct",
            self.metric_drop_pct,
            "",
            (0, 0),
        );
    }
}

/// Shares may be written to a few decimals; this is how far from 1 their sum may be.
const SHARE_SUM_TOLERANCE: f64 = 1e-6;

/// The `traffic:` section of `costgate.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// Production requests per month served by the pipeline the dataset samples.
    pub requests_per_month: f64,
    /// Share of those requests per intent; default: the dataset's weighted mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_share: Option<BTreeMap<String, f64>>,
}

impl Traffic {
    pub(crate) fn validate(&self, file: &str, line: usize, col: usize, sink: &mut Sink) {
        let rpm = self.requests_per_month;
        if !rpm.is_finite() || rpm <= 0.0 {
            sink.push(
                Diagnostic::new(
                    file,
                    format!("`traffic.requests_per_month` must be a positive number, got {rpm}"),
                )
                .at(line, col),
            );
        }
        let Some(shares) = &self.intent_share else {
            return;
        };
        for (intent, s) in shares {
            if !s.is_finite() || !(0.0..=1.0).contains(s) {
                sink.push(
                    Diagnostic::new(
                        file,
                        format!("`traffic.intent_share.{intent}` must be between 0 and 1, got {s}"),
                    )
                    .at(line, col),
                );
            }
        }
        let sum: f64 = shares.values().sum();
        if (sum - 1.0).abs() > SHARE_SUM_TOLERANCE {
            sink.push(
                Diagnostic::new(
                    file,
                    format!("`traffic.intent_share` must sum to 1, its shares sum to {sum}"),
                )
                .at(line, col)
                .help(
                    "an intent not named gets 0; leave `intent_share` out to use the dataset's mix",
                ),
            );
        }
    }

    /// The shares against the dataset's intents: every named intent must occur in it.
    pub fn unknown_intents<'a>(&'a self, intents: &[&str]) -> Vec<&'a str> {
        self.intent_share
            .iter()
            .flat_map(|m| m.keys())
            .filter(|i| !intents.contains(&i.as_str()))
            .map(String::as_str)
            .collect()
    }
}

/// `refresh:` (docs/ratchet.md): how `costgate refresh` reads invocation logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Refresh {
    /// The request-metadata key that carries the intent.
    pub intent_key: String,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh {
            intent_key: "intent".into(),
        }
    }
}
