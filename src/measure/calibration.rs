//! `costgate/calibration.yaml`: what `costgate calibrate` learned (per-model `token_scale`, per-intent
//! output length), read strictly and written in one fixed layout, and its application to the
//! price table and the renderer.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::infra::diag::{self, Diagnostic, Diagnostics};
use crate::infra::tree::Tree;
use crate::measure::pricing::PricingTable;

/// Where the calibration lives in the repository (next to `costgate/pricing.yaml`).
pub const PATH: &str = "costgate/calibration.yaml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCalibration {
    pub token_scale: f64,
    pub ratio_p90: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pearson_r: Option<f64>,
    pub samples: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentCalibration {
    pub output_tokens: u64,
    pub ratio_median: f64,
    pub samples: u64,
}

/// `costgate/calibration.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub calibrated_on: String,
    pub records: u64,
    #[serde(default)]
    pub models: BTreeMap<String, ModelCalibration>,
    #[serde(default)]
    pub intents: BTreeMap<String, IntentCalibration>,
}

impl Calibration {
    pub fn parse(text: &str, file: &str) -> Result<Calibration, Diagnostics> {
        let c: Calibration = crate::infra::yaml::from_str(text).map_err(|e| {
            Diagnostics(vec![
                diag::from_yaml_error(file, &e)
                    .help("regenerate it with `costgate calibrate --logs …`"),
            ])
        })?;
        let bad: Vec<Diagnostic> = c
            .models
            .iter()
            .filter(|(_, m)| !(m.token_scale.is_finite() && m.token_scale > 0.0))
            .map(|(id, m)| {
                Diagnostic::new(
                    file,
                    format!(
                        "model `{id}`: token_scale must be a positive number, got {}",
                        m.token_scale
                    ),
                )
            })
            .collect();
        if bad.is_empty() {
            Ok(c)
        } else {
            Err(Diagnostics(bad))
        }
    }

    /// Reads the calibration of `tree`, if it has one.
    pub fn load(tree: &dyn Tree) -> Result<Option<Calibration>, Diagnostics> {
        match tree.read_string(PATH) {
            Ok(None) => Ok(None),
            Ok(Some(t)) => Calibration::parse(&t, PATH).map(Some),
            Err(e) => Err(Diagnostics(vec![Diagnostic::new(PATH, e.to_string())])),
        }
    }

    /// The file's text in a fixed layout (sorted keys, four decimals) for clean diffs.
    pub fn to_yaml(&self) -> String {
        let q = |v: &str| serde_json::to_string(v).unwrap_or_default();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Offline/production calibration: written by `costgate calibrate` ({}).",
            crate::infra::docs::page("ratchet.md")
        );
        let _ = writeln!(
            s,
            "# token_scale = median production/offline input-token ratio; output_tokens = median output length."
        );
        let _ = writeln!(s, "calibrated_on: {}", q(&self.calibrated_on));
        let _ = writeln!(s, "records: {}", self.records);
        let _ = writeln!(
            s,
            "models:{}",
            if self.models.is_empty() { " {}" } else { "" }
        );
        for (id, m) in &self.models {
            let r = m
                .pearson_r
                .map_or(String::new(), |r| format!(", pearson_r: {}", round4(r)));
            let _ = writeln!(
                s,
                "  {}: {{token_scale: {}, ratio_p90: {}{r}, samples: {}}}",
                q(id),
                round4(m.token_scale),
                round4(m.ratio_p90),
                m.samples
            );
        }
        let _ = writeln!(
            s,
            "intents:{}",
            if self.intents.is_empty() { " {}" } else { "" }
        );
        for (name, i) in &self.intents {
            let _ = writeln!(
                s,
                "  {}: {{output_tokens: {}, ratio_median: {}, samples: {}}}",
                q(name),
                i.output_tokens,
                round4(i.ratio_median),
                i.samples
            );
        }
        s
    }
}

pub(crate) fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Sets the learned `token_scale` of every calibrated model in `table` (render mode, stand-in).
/// Models the table no longer has are left out: the calibration is stale for them, not wrong.
pub fn apply_scales(tree: &dyn Tree, table: &mut PricingTable) -> Result<(), Diagnostics> {
    if let Some(c) = Calibration::load(tree)? {
        for (id, m) in &c.models {
            table.set_token_scale(id, m.token_scale);
        }
    }
    Ok(())
}

/// Calibrated output length per intent (used when neither case nor route sets one).
pub fn output_lengths(tree: &dyn Tree) -> Result<BTreeMap<String, u64>, Diagnostics> {
    Ok(Calibration::load(tree)?
        .map(|c| {
            c.intents
                .into_iter()
                .map(|(k, v)| (k, v.output_tokens))
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_file_round_trips_and_rejects_unknown_keys() {
        let c = Calibration {
            calibrated_on: "2026-11-01".into(),
            records: 10,
            models: [(
                "amazon.nova-lite-v1:0".to_string(),
                ModelCalibration {
                    token_scale: 1.2345,
                    ratio_p90: 1.4,
                    pearson_r: Some(0.97),
                    samples: 10,
                },
            )]
            .into(),
            intents: [(
                "faq".to_string(),
                IntentCalibration {
                    output_tokens: 61,
                    ratio_median: 1.1,
                    samples: 4,
                },
            )]
            .into(),
        };
        assert_eq!(Calibration::parse(&c.to_yaml(), PATH).unwrap(), c);
        let err =
            Calibration::parse(&c.to_yaml().replace("samples: 4", "sample: 4"), PATH).unwrap_err();
        assert!(err.to_string().contains("sample"), "{err}");
    }
}
