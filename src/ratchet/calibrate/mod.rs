//! `costgate calibrate` (docs/ratchet.md): compares costgate's offline token counts with what
//! Bedrock counted in production. Each logged request is recounted with costgate's own tokenizer
//! (the model's encoding and overheads, unscaled); per model and per intent it reports the ratio
//! production/offline (median, p90), the Pearson correlation of the two counts and the output-length
//! distribution. The result is `costgate/calibration.yaml`: per-model `token_scale` (the median
//! ratio) and per-intent output length (the median), which render mode then uses.

pub mod conversation;
pub mod logs;
pub mod output;
pub mod traffic;

use crate::measure::calibration::round4;
pub use crate::measure::calibration::{
    Calibration, IntentCalibration, ModelCalibration, PATH, apply_scales, output_lengths,
};

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::NaiveDate;
use serde::Serialize;

use crate::gate::verdict::nearest_rank;
use crate::measure::pricing::PricingTable;

/// A ratio that moved more than this since the last calibration is flagged ("alarm if ratio
/// shifts > 20%").
pub const MOVE_FLAG_PCT: f64 = 20.0;

/// Output-length distribution of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputLengths {
    pub p50: u64,
    pub p90: u64,
    pub mean: f64,
    pub min: u64,
    pub max: u64,
}

/// One model's or intent's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub samples: u64,
    pub offline_mean: f64,
    pub production_mean: f64,
    pub ratio_median: f64,
    pub ratio_p90: f64,
    /// `None` with fewer than two samples or no variance.
    pub pearson_r: Option<f64>,
    pub output: Option<OutputLengths>,
}

/// Shares of all input tokens read from and written to the prompt cache: production's from the
/// logs' cache fields, offline's from pricing the dataset (`None` where it was not priced).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheShare {
    pub production_read_share: Option<f64>,
    pub production_write_share: Option<f64>,
    pub offline_read_share: Option<f64>,
    pub offline_write_share: Option<f64>,
}

impl CacheShare {
    /// `(read, write)` shares of `total` input tokens, `None` for no input.
    pub fn shares(read: u64, write: u64, total: u64) -> (Option<f64>, Option<f64>) {
        if total == 0 {
            return (None, None);
        }
        let t = total as f64;
        (Some(read as f64 / t), Some(write as f64 / t))
    }
}

/// Pearson correlation coefficient of two equally long series.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let (mx, my) = (
        x.iter().sum::<f64>() / n as f64,
        y.iter().sum::<f64>() / n as f64,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx.sqrt() * syy.sqrt()))
}

#[derive(Default)]
struct Group {
    offline: Vec<f64>,
    production: Vec<f64>,
    outputs: Vec<f64>,
}

impl Group {
    fn stats(&self) -> Stats {
        let ratios: Vec<f64> = self
            .offline
            .iter()
            .zip(&self.production)
            .map(|(o, p)| p / o)
            .collect();
        let n = self.offline.len();
        let output = (!self.outputs.is_empty()).then(|| OutputLengths {
            p50: nearest_rank(&self.outputs, 50.0) as u64,
            p90: nearest_rank(&self.outputs, 90.0) as u64,
            mean: self.outputs.iter().sum::<f64>() / self.outputs.len() as f64,
            min: self.outputs.iter().copied().fold(f64::INFINITY, f64::min) as u64,
            max: self.outputs.iter().copied().fold(0.0, f64::max) as u64,
        });
        Stats {
            samples: n as u64,
            offline_mean: self.offline.iter().sum::<f64>() / n.max(1) as f64,
            production_mean: self.production.iter().sum::<f64>() / n.max(1) as f64,
            ratio_median: nearest_rank(&ratios, 50.0),
            ratio_p90: nearest_rank(&ratios, 90.0),
            pearson_r: pearson(&self.offline, &self.production),
            output,
        }
    }
}

/// A record that could not be used, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub at: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub records_used: u64,
    pub malformed: Vec<Problem>,
    pub skipped: Vec<Problem>,
    /// Records whose model the price table does not know, by model id.
    pub unknown_models: BTreeMap<String, u64>,
    pub models: BTreeMap<String, Stats>,
    pub intents: BTreeMap<String, Stats>,
    /// Ratios that moved more than 20% since the previous calibration.
    pub flags: Vec<String>,
    /// How much of production input the prompt cache served, beside the offline figure.
    pub cache: CacheShare,
    /// `traffic:` for costgate.yaml, from the logs' timestamps and intents (docs/configuration.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<traffic::Proposal>,
    /// `reasoning.budget_share` as production spent it, when the logs carry thinking budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<output::ReasoningProposal>,
    /// Each named step's median answer length, when the logs name steps.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub steps: BTreeMap<String, output::StepLength>,
    #[serde(skip)]
    pub calibration: Calibration,
}

/// The counter [`logs::read`] uses: each request's texts with its model's tokenizer.
pub fn counter(pricing: &PricingTable) -> impl Fn(&str, &[Vec<String>]) -> Option<u64> + '_ {
    move |model, messages| {
        let r = pricing.resolve(model).ok()?;
        Some(
            messages
                .iter()
                .flatten()
                .map(|t| r.price.tokenizer.count(t))
                .sum(),
        )
    }
}

/// Computes the calibration from parsed logs. `previous` is the calibration being replaced.
pub fn calibrate(
    parsed: logs::Parsed,
    pricing: &PricingTable,
    previous: Option<&Calibration>,
    date: NaiveDate,
) -> Outcome {
    let mut models: BTreeMap<String, Group> = BTreeMap::new();
    let mut intents: BTreeMap<String, Group> = BTreeMap::new();
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    let mut skipped: Vec<Problem> = parsed
        .skipped
        .iter()
        .map(|b| Problem {
            at: format!("{}:{}", b.file, b.line),
            reason: b.reason.clone(),
        })
        .collect();
    let mut used = 0u64;
    for r in &parsed.records {
        let Ok(resolved) = pricing.resolve(&r.model_id) else {
            *unknown.entry(r.model_id.clone()).or_default() += 1;
            continue;
        };
        let price = &resolved.price;
        let tokens = r.text_tokens.unwrap_or(0);
        let offline = tokens
            + price.message_overhead_tokens * r.message_count as u64
            + price.request_overhead_tokens;
        if offline == 0 {
            skipped.push(Problem {
                at: format!("{}:{}", r.file, r.line),
                reason: "offline count is 0".into(),
            });
            continue;
        }
        used += 1;
        let (o, p) = (offline as f64, r.input_tokens as f64);
        let add = |g: &mut Group| {
            g.offline.push(o);
            g.production.push(p);
            if let Some(out) = r.output_tokens {
                g.outputs.push(out as f64);
            }
        };
        add(models.entry(resolved.base_id.clone()).or_default());
        if let Some(i) = &r.intent {
            add(intents.entry(i.clone()).or_default());
        }
    }
    let models: BTreeMap<String, Stats> = models.into_iter().map(|(k, g)| (k, g.stats())).collect();
    let intents: BTreeMap<String, Stats> =
        intents.into_iter().map(|(k, g)| (k, g.stats())).collect();
    let calibration = Calibration {
        calibrated_on: date.to_string(),
        records: used,
        models: models
            .iter()
            .map(|(k, s)| {
                (
                    k.clone(),
                    ModelCalibration {
                        token_scale: round4(s.ratio_median),
                        ratio_p90: round4(s.ratio_p90),
                        pearson_r: s.pearson_r.map(round4),
                        samples: s.samples,
                    },
                )
            })
            .collect(),
        intents: intents
            .iter()
            .filter_map(|(k, s)| {
                s.output.as_ref().map(|o| {
                    (
                        k.clone(),
                        IntentCalibration {
                            output_tokens: o.p50,
                            ratio_median: round4(s.ratio_median),
                            samples: s.samples,
                        },
                    )
                })
            })
            .collect(),
    };
    let flags = previous.map(|p| moves(p, &calibration)).unwrap_or_default();
    let (read, write, total) = parsed.records.iter().fold((0, 0, 0), |(r, w, t), x| {
        (
            r + x.cache_read_tokens,
            w + x.cache_write_tokens,
            t + x.input_tokens,
        )
    });
    let (production_read_share, production_write_share) = CacheShare::shares(read, write, total);
    // Answers are counted at this calibration's scale, the one render mode will use.
    let reasoning = output::reasoning(&parsed.records, pricing, &|id| {
        calibration.models.get(id).map(|m| m.token_scale)
    });
    let steps = output::steps(&parsed.records);
    Outcome {
        records_used: used,
        malformed: parsed
            .malformed
            .iter()
            .map(|b| Problem {
                at: format!("{}:{}", b.file, b.line),
                reason: b.reason.clone(),
            })
            .collect(),
        skipped,
        unknown_models: unknown,
        models,
        intents,
        flags,
        cache: CacheShare {
            production_read_share,
            production_write_share,
            ..CacheShare::default()
        },
        traffic: traffic::propose(&parsed.invocations),
        reasoning,
        steps,
        calibration,
    }
}

fn moves(old: &Calibration, new: &Calibration) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: String, before: f64, after: f64| {
        if before > 0.0 {
            let d = (after - before) / before * 100.0;
            if d.abs() > MOVE_FLAG_PCT {
                out.push(format!("{what}: ratio {before} → {after} ({d:+.1}%) moved more than {MOVE_FLAG_PCT}% since the calibration of {}", old.calibrated_on));
            }
        }
    };
    for (id, m) in &new.models {
        if let Some(o) = old.models.get(id) {
            check(format!("model {id}"), o.token_scale, m.token_scale);
        }
    }
    for (name, i) in &new.intents {
        if let Some(o) = old.intents.get(name) {
            check(format!("intent {name}"), o.ratio_median, i.ratio_median);
        }
    }
    out
}

/// The human report.
pub fn render_text(o: &Outcome) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} record(s) used, {} malformed, {} skipped",
        o.records_used,
        o.malformed.len(),
        o.skipped.len()
    );
    let table = |s: &mut String, title: &str, rows: &BTreeMap<String, Stats>| {
        let _ = writeln!(
            s,
            "\n{title:<44} {:>7} {:>8} {:>8} {:>7} {:>7} {:>7}",
            "samples", "ratio50", "ratio90", "r", "out50", "out90"
        );
        for (k, st) in rows {
            let r = st.pearson_r.map_or("-".to_string(), |r| format!("{r:.3}"));
            let (o50, o90) = st.output.as_ref().map_or(("-".into(), "-".into()), |o| {
                (o.p50.to_string(), o.p90.to_string())
            });
            let _ = writeln!(
                s,
                "{k:<44} {:>7} {:>8.4} {:>8.4} {r:>7} {o50:>7} {o90:>7}",
                st.samples, st.ratio_median, st.ratio_p90
            );
        }
    };
    table(&mut s, "model", &o.models);
    table(&mut s, "intent", &o.intents);
    let share = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
    let c = &o.cache;
    let _ = writeln!(
        s,
        "\nprompt cache: production reads {} / writes {} of input tokens; offline (the dataset priced by the steady-state rule) reads {} / writes {}",
        share(c.production_read_share),
        share(c.production_write_share),
        share(c.offline_read_share),
        share(c.offline_write_share)
    );
    match &o.traffic {
        Some(t) => {
            let _ = writeln!(
                s,
                "\ntraffic (a proposal for costgate.yaml, from {} invocation(s) over {:.1} day(s){}; scale it if the logs are a sample):",
                t.invocations,
                t.days,
                if t.intent_share.is_empty() {
                    ", no intent in request metadata".to_string()
                } else {
                    format!(", {:.1}% naming their intent", t.with_intent * 100.0)
                }
            );
            for line in traffic::yaml(t).lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
        None => {
            let _ = writeln!(
                s,
                "\ntraffic: no proposal (the logs need timestamps spanning at least an hour)"
            );
        }
    }
    output::render(&mut s, o.reasoning.as_ref(), &o.steps);
    for (m, n) in &o.unknown_models {
        let _ = writeln!(
            s,
            "\nskipped {n} record(s) of unknown model `{m}`: add it to the pricing file"
        );
    }
    let weak: Vec<&String> = o
        .models
        .iter()
        .filter(|(_, st)| st.pearson_r.is_some_and(|r| r < 0.85))
        .map(|(k, _)| k)
        .collect();
    for k in weak {
        let _ = writeln!(
            s,
            "\nWARNING: model {k}: offline and production counts correlate below 0.85; offline is not predictive for it"
        );
    }
    for f in &o.flags {
        let _ = writeln!(s, "\nFLAG: {f}");
    }
    const SHOWN: usize = 20;
    for p in o.malformed.iter().take(SHOWN) {
        let _ = writeln!(s, "malformed {}: {}", p.at, p.reason);
    }
    if o.malformed.len() > SHOWN {
        let _ = writeln!(
            s,
            "… and {} more malformed record(s)",
            o.malformed.len() - SHOWN
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_exact_lines_and_noise() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[1.0, 1.0], &[2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0], &[2.0]), None);
    }

    #[test]
    fn ratio_moves_over_twenty_percent_are_flagged() {
        let mk = |scale: f64| Calibration {
            calibrated_on: "2026-10-01".into(),
            records: 1,
            models: [(
                "m".to_string(),
                ModelCalibration {
                    token_scale: scale,
                    ratio_p90: scale,
                    pearson_r: None,
                    samples: 1,
                },
            )]
            .into(),
            intents: BTreeMap::new(),
        };
        assert!(moves(&mk(1.0), &mk(1.2)).is_empty());
        let f = moves(&mk(1.0), &mk(1.25));
        assert_eq!(
            f,
            [
                "model m: ratio 1 → 1.25 (+25.0%) moved more than 20% since the calibration of 2026-10-01"
            ]
        );
    }
}
