//! `costgate baseline`: prices the dataset at one tree K times (through `gate::run`, so whatever
//! mode the tree's configuration asks for), sets each case's `expected_cost_band` to median ± IQR
//! of its K costs, computes the new `.cost-baseline.yaml`, and measures each case's drift from its
//! previous band. The library returns the new file contents; the CLI writes them or shows a diff.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::gate::baseline::{Baseline, dataset_hash, metrics_of};
use crate::gate::verdict;
use crate::gate::{self, Options, Side};
use crate::infra::error::{Error, Result};
use crate::infra::progress::Progress;
use crate::measure::config::Config;
use crate::measure::dataset::{Band, Dataset};
use crate::ratchet::edit::{self, BandText, Edit};

/// Drift up to this (percent, either direction) from the previous band's midpoint is normal.
pub const NORMAL_DRIFT_PCT: f64 = 10.0;
/// Drift above this is flagged for investigation.
pub const FLAG_DRIFT_PCT: f64 = 50.0;

/// What the caller decides: how many runs, the dates and the commit recorded.
#[derive(Debug, Clone)]
pub struct Request {
    pub runs: usize,
    pub date: NaiveDate,
    pub due: NaiveDate,
    pub commit: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// No previous band.
    New,
    Normal,
    /// More than 10% from the previous band.
    Changed,
    /// More than 50%: investigate before merging the re-baseline.
    Flagged,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseBand {
    pub id: String,
    pub file: String,
    pub line: usize,
    pub median_usd: f64,
    pub iqr_usd: f64,
    pub low: String,
    pub high: String,
    pub previous: Option<Band>,
    /// Median against the previous band's midpoint; `None` for new cases and free-to-paid.
    pub drift_pct: Option<f64>,
    pub class: DriftClass,
}

/// A file the re-baseline changes.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: String,
    #[serde(skip)]
    pub old: Option<String>,
    #[serde(skip)]
    pub new: String,
}

impl FileChange {
    pub fn changed(&self) -> bool {
        self.old.as_deref() != Some(self.new.as_str())
    }

    /// Unified diff of the change (empty when unchanged).
    pub fn diff(&self) -> String {
        if !self.changed() {
            return String::new();
        }
        let old = self.old.as_deref().unwrap_or("");
        similar::TextDiff::from_lines(old, &self.new)
            .unified_diff()
            .context_radius(2)
            .header(&format!("a/{}", self.path), &format!("b/{}", self.path))
            .to_string()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub runs: usize,
    #[serde(skip)]
    pub baseline: Baseline,
    #[serde(skip)]
    pub previous: Option<Baseline>,
    pub cases: Vec<CaseBand>,
    pub files: Vec<FileChange>,
}

impl Outcome {
    pub fn count(&self, class: DriftClass) -> usize {
        self.cases.iter().filter(|c| c.class == class).count()
    }
}

/// Rounds `x` to 4 significant digits, down or up, as the shortest decimal that stays on the
/// correct side of `x` once parsed back (so a zero-IQR band still contains its median).
pub fn round_outward(x: f64, up: bool) -> String {
    if x <= 0.0 || !x.is_finite() {
        return "0".into();
    }
    let decimals = (3 - x.log10().floor() as i32).max(0) as usize;
    let unit = 10f64.powi(decimals as i32);
    let mut n = if up {
        (x * unit).ceil()
    } else {
        (x * unit).floor()
    };
    loop {
        let s = trim_decimal(format!("{:.decimals$}", n / unit));
        let v: f64 = s.parse().unwrap_or(x);
        let ok = if up { v >= x } else { v <= x };
        if ok || n <= 0.0 {
            return s;
        }
        n += if up { 1.0 } else { -1.0 };
    }
}

fn trim_decimal(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Median ± IQR (nearest-rank quartiles, so K = 1 gives a zero IQR), rounded outward.
pub fn band_text(costs: &[f64]) -> (f64, f64, BandText) {
    let median = verdict::nearest_rank(costs, 50.0);
    let iqr = verdict::nearest_rank(costs, 75.0) - verdict::nearest_rank(costs, 25.0);
    let band = BandText {
        low: round_outward((median - iqr).max(0.0), false),
        high: round_outward(median + iqr, true),
    };
    (median, iqr, band)
}

fn classify(previous: Option<Band>, median: f64) -> (Option<f64>, DriftClass) {
    let Some(p) = previous else {
        return (None, DriftClass::New);
    };
    let mid = (p.low + p.high) / 2.0;
    if mid == 0.0 {
        return if median == 0.0 {
            (Some(0.0), DriftClass::Normal)
        } else {
            (None, DriftClass::Flagged)
        };
    }
    let d = (median - mid) / mid * 100.0;
    let class = match d.abs() {
        x if x > FLAG_DRIFT_PCT => DriftClass::Flagged,
        x if x > NORMAL_DRIFT_PCT => DriftClass::Changed,
        _ => DriftClass::Normal,
    };
    (Some(d), class)
}

/// Runs the re-baseline on `side` (a directory tree).
pub fn rebaseline(
    side: &Side,
    opts: &Options,
    req: &Request,
    progress: &dyn Progress,
) -> Result<Outcome> {
    if req.runs == 0 {
        return Err(Error::Usage("--runs must be at least 1".into()));
    }
    let cfg_err = |d| Error::config(side.name, d);
    let cfg = Config::load(side.tree.as_ref(), &opts.config_path).map_err(cfg_err)?;
    let dataset = Dataset::load(side.tree.as_ref(), &cfg.golden).map_err(cfg_err)?;
    let previous = Baseline::load(side.tree.as_ref(), &cfg.baseline).map_err(cfg_err)?;

    progress.start("baseline runs", req.runs as u64);
    let mut runs = Vec::with_capacity(req.runs);
    for i in 0..req.runs {
        let r = gate::run(side, opts)?;
        if r.cases.len() != dataset.len()
            || r.cases
                .iter()
                .zip(&dataset.cases)
                .any(|(a, b)| a.id != b.case.id)
        {
            return Err(Error::Run(format!(
                "run {} priced a different set of cases than the dataset holds",
                i + 1
            )));
        }
        runs.push(r);
        progress.step(&format!("run {}/{}", i + 1, req.runs));
    }
    progress.finish();

    let mut cases = Vec::with_capacity(dataset.len());
    let mut medians = Vec::with_capacity(dataset.len());
    let mut edits: BTreeMap<String, Vec<Edit>> = BTreeMap::new();
    for (i, lc) in dataset.cases.iter().enumerate() {
        let costs: Vec<f64> = runs.iter().map(|r| r.cases[i].cost.cost_usd).collect();
        let (median, iqr, band) = band_text(&costs);
        medians.push((median, lc.case.weight()));
        let previous = lc.case.expected_cost_band;
        let (drift_pct, class) = classify(previous, median);
        edits.entry(lc.at.file.clone()).or_default().push(Edit {
            line: lc.at.line,
            id: lc.case.id.clone(),
            band: band.clone(),
        });
        cases.push(CaseBand {
            id: lc.case.id.clone(),
            file: lc.at.file.clone(),
            line: lc.at.line,
            median_usd: median,
            iqr_usd: iqr,
            low: band.low,
            high: band.high,
            previous,
            drift_pct,
            class,
        });
    }

    let mut files = Vec::new();
    for (file, list) in &edits {
        let old = side.tree.read_string(file).map_err(|source| Error::Tree {
            side: side.name.into(),
            source,
        })?;
        let text = old.clone().unwrap_or_default();
        let new = edit::apply(file, &text, list)
            .map_err(|d| Error::config(side.name, crate::infra::diag::Diagnostics(vec![d])))?;
        files.push(FileChange {
            path: file.clone(),
            old,
            new,
        });
    }
    let baseline = Baseline {
        date: req.date,
        commit: req.commit.clone(),
        dataset_version: dataset_hash(&dataset),
        metrics: metrics_of(&medians, &runs),
        rebaseline_due: Some(req.due),
    };
    let old = side
        .tree
        .read_string(&cfg.baseline)
        .map_err(|source| Error::Tree {
            side: side.name.into(),
            source,
        })?;
    files.push(FileChange {
        path: cfg.baseline.clone(),
        old,
        new: baseline.to_yaml(),
    });
    Ok(Outcome {
        runs: req.runs,
        baseline,
        previous,
        cases,
        files,
    })
}

/// The human summary: metrics against the previous baseline and the cases that drifted.
pub fn render_text(o: &Outcome) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let m = &o.baseline.metrics;
    let _ = writeln!(
        s,
        "baseline over {} case(s), {} run(s), dataset {}",
        o.cases.len(),
        o.runs,
        o.baseline.dataset_version
    );
    let prev = o.previous.as_ref().map(|p| &p.metrics);
    let row = |s: &mut String, name: &str, now: f64, before: Option<f64>| {
        let change = before.map_or(String::new(), |b| {
            format!(
                "  (was {b:.6}, {})",
                crate::infra::fmt::pct(verdict::delta_pct(b, now, 0.0))
            )
        });
        let _ = writeln!(s, "  {name:<26} {now:.6}{change}");
    };
    row(
        &mut s,
        "dollars_per_session_mean",
        m.dollars_per_session_mean,
        prev.map(|p| p.dollars_per_session_mean),
    );
    row(
        &mut s,
        "dollars_per_session_p50",
        m.dollars_per_session_p50,
        prev.map(|p| p.dollars_per_session_p50),
    );
    row(
        &mut s,
        "dollars_per_session_p95",
        m.dollars_per_session_p95,
        prev.map(|p| p.dollars_per_session_p95),
    );
    row(
        &mut s,
        "avg_input_tokens",
        m.avg_input_tokens,
        prev.map(|p| p.avg_input_tokens),
    );
    row(
        &mut s,
        "bypass_rate",
        m.bypass_rate,
        prev.map(|p| p.bypass_rate),
    );
    let _ = writeln!(
        s,
        "per-case drift from previous bands: {} normal (<= {NORMAL_DRIFT_PCT}%), {} changed, {} flagged (> {FLAG_DRIFT_PCT}%), {} new",
        o.count(DriftClass::Normal),
        o.count(DriftClass::Changed),
        o.count(DriftClass::Flagged),
        o.count(DriftClass::New)
    );
    let mut moved: Vec<&CaseBand> = o
        .cases
        .iter()
        .filter(|c| matches!(c.class, DriftClass::Changed | DriftClass::Flagged))
        .collect();
    moved.sort_by(|a, b| {
        b.drift_pct
            .map(f64::abs)
            .unwrap_or(f64::INFINITY)
            .total_cmp(&a.drift_pct.map(f64::abs).unwrap_or(f64::INFINITY))
            .then(a.id.cmp(&b.id))
    });
    for c in moved {
        let tag = if c.class == DriftClass::Flagged {
            "FLAGGED, investigate"
        } else {
            "changed"
        };
        let _ = writeln!(
            s,
            "  {:<12} {:>8}  {}:{}  {tag}",
            c.id,
            crate::infra::fmt::pct(c.drift_pct),
            c.file,
            c.line
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outward_rounding_keeps_the_value_inside() {
        assert_eq!(round_outward(0.00121347, false), "0.001213");
        assert_eq!(round_outward(0.00121347, true), "0.001214");
        assert_eq!(round_outward(0.0, false), "0");
        assert_eq!(round_outward(12345.6, true), "12346");
        for x in [0.1 + 0.2, 0.000_123_4, 1.0 / 3.0, 0.00121, 7.0e-7] {
            assert!(round_outward(x, false).parse::<f64>().unwrap() <= x, "{x}");
            assert!(round_outward(x, true).parse::<f64>().unwrap() >= x, "{x}");
        }
    }

    #[test]
    fn band_is_median_plus_minus_iqr() {
        let (median, iqr, band) = band_text(&[0.010, 0.011, 0.012, 0.013, 0.020]);
        assert_eq!(median, 0.012);
        assert!((iqr - 0.002).abs() < 1e-12);
        assert_eq!(
            band,
            BandText {
                low: "0.01".into(),
                high: "0.014".into()
            }
        );
        let (_, iqr, band) = band_text(&[0.5]);
        assert_eq!(
            (iqr, band.low.as_str(), band.high.as_str()),
            (0.0, "0.5", "0.5")
        );
    }

    #[test]
    fn drift_classes_at_ten_and_fifty_percent() {
        let b = Some(Band {
            low: 0.9,
            high: 1.1,
        });
        assert_eq!(classify(b, 1.0999).1, DriftClass::Normal);
        assert_eq!(classify(b, 1.1001).1, DriftClass::Changed);
        assert_eq!(classify(b, 0.49).1, DriftClass::Flagged);
        assert_eq!(classify(None, 1.0), (None, DriftClass::New));
        assert_eq!(
            classify(
                Some(Band {
                    low: 0.0,
                    high: 0.0
                }),
                0.1
            ),
            (None, DriftClass::Flagged)
        );
    }
}
