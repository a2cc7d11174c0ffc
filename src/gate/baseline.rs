//! `.cost-baseline.yaml` (docs/ratchet.md): the savings claim, versioned with the code. This module
//! owns the file's schema (read strictly, written in one fixed layout so re-baselines diff
//! cleanly), the golden dataset's content hash, and the aggregate metrics a baseline records.
//! `rebaseline` turns priced runs into per-case bands and a new file; `edit` writes the bands into
//! the golden files.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::gate::report::RunReport;
use crate::gate::verdict;
use crate::infra::diag::{self, Diagnostic, Diagnostics, Sink};
use crate::infra::tree::Tree;
use crate::measure::dataset::Dataset;

/// The metrics a baseline records. `dollars_per_session_mean` is the one drift and the cumulative
/// gate compare against; the rest explain a change when it happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub dollars_per_session_mean: f64,
    pub dollars_per_session_p50: f64,
    pub dollars_per_session_p95: f64,
    pub avg_input_tokens: f64,
    pub bypass_rate: f64,
    /// Share of the dataset's (weighted) cases served by each model; bypassed cases are in
    /// `bypass_rate`, not here.
    #[serde(default)]
    pub model_share: BTreeMap<String, f64>,
}

/// A parsed `.cost-baseline.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub date: NaiveDate,
    pub commit: String,
    /// `sha256:<hex>` of the dataset it was measured on (see [`dataset_hash`]).
    pub dataset_version: String,
    pub metrics: Metrics,
    pub rebaseline_due: Option<NaiveDate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    baseline_date: Spanned<String>,
    baseline_commit: String,
    baseline_dataset_version: String,
    baseline_metrics: Spanned<Metrics>,
    #[serde(default)]
    rebaseline_due: Option<Spanned<String>>,
}

fn parse_date(file: &str, key: &str, s: &Spanned<String>, sink: &mut Sink) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s.value.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            sink.push(
                Diagnostic::new(file, format!("`{key}: {}` is not a date", s.value))
                    .at(s.referenced.line() as usize, s.referenced.column() as usize)
                    .help("write dates as YYYY-MM-DD"),
            );
            None
        }
    }
}

impl Baseline {
    /// Parses baseline text; `file` names it in diagnostics.
    pub fn parse(text: &str, file: &str) -> Result<Baseline, Diagnostics> {
        let raw: RawBaseline = crate::infra::yaml::from_str(text).map_err(|e| {
            Diagnostics(vec![diag::from_yaml_error(file, &e).help(format!(
                "regenerate the file with `costgate baseline` (see {})",
                crate::infra::docs::page("ratchet.md")
            ))])
        })?;
        let mut sink = Sink::default();
        let date = parse_date(file, "baseline_date", &raw.baseline_date, &mut sink);
        let due = raw
            .rebaseline_due
            .as_ref()
            .and_then(|d| parse_date(file, "rebaseline_due", d, &mut sink));
        let m = &raw.baseline_metrics.value;
        let (l, c) = (
            raw.baseline_metrics.referenced.line() as usize,
            raw.baseline_metrics.referenced.column() as usize,
        );
        for (key, v) in [
            ("dollars_per_session_mean", m.dollars_per_session_mean),
            ("dollars_per_session_p50", m.dollars_per_session_p50),
            ("dollars_per_session_p95", m.dollars_per_session_p95),
            ("avg_input_tokens", m.avg_input_tokens),
            ("bypass_rate", m.bypass_rate),
        ] {
            sink.non_negative(file, &format!("baseline_metrics.{key}"), v, "", (l, c));
        }
        if !raw.baseline_dataset_version.starts_with("sha256:") {
            sink.push(
                Diagnostic::new(
                    file,
                    format!(
                        "`baseline_dataset_version: {}` is not a dataset hash",
                        raw.baseline_dataset_version
                    ),
                )
                .help("it is `sha256:<hex>` as written by `costgate baseline`"),
            );
        }
        let metrics = raw.baseline_metrics.value;
        match (date, sink.is_empty()) {
            (Some(date), true) => Ok(Baseline {
                date,
                commit: raw.baseline_commit,
                dataset_version: raw.baseline_dataset_version,
                metrics,
                rebaseline_due: due,
            }),
            _ => Err(Diagnostics(sink.into_vec())),
        }
    }

    /// Reads `path` from `tree`; `Ok(None)` when the repository has no baseline yet.
    pub fn load(tree: &dyn Tree, path: &str) -> Result<Option<Baseline>, Diagnostics> {
        match tree.read_string(path) {
            Ok(None) => Ok(None),
            Ok(Some(text)) => Baseline::parse(&text, path).map(Some),
            Err(e) => Err(Diagnostics(vec![Diagnostic::new(path, e.to_string())])),
        }
    }

    /// The file's text, in one fixed layout (keys in the documented order, models sorted) so that a
    /// re-baseline PR shows only the values that moved.
    pub fn to_yaml(&self) -> String {
        let m = &self.metrics;
        let mut s = String::new();
        let q = |v: &str| serde_json::to_string(v).unwrap_or_default();
        let _ = writeln!(
            s,
            "# The cost baseline: written by `costgate baseline`, reviewed in a PR ({}).",
            crate::infra::docs::page("ratchet.md")
        );
        let _ = writeln!(s, "baseline_date: {}", self.date);
        let _ = writeln!(s, "baseline_commit: {}", q(&self.commit));
        let _ = writeln!(s, "baseline_dataset_version: {}", q(&self.dataset_version));
        let _ = writeln!(s, "baseline_metrics:");
        let _ = writeln!(
            s,
            "  dollars_per_session_mean: {}",
            m.dollars_per_session_mean
        );
        let _ = writeln!(
            s,
            "  dollars_per_session_p50: {}",
            m.dollars_per_session_p50
        );
        let _ = writeln!(
            s,
            "  dollars_per_session_p95: {}",
            m.dollars_per_session_p95
        );
        let _ = writeln!(s, "  avg_input_tokens: {}", m.avg_input_tokens);
        let _ = writeln!(s, "  bypass_rate: {}", m.bypass_rate);
        if m.model_share.is_empty() {
            let _ = writeln!(s, "  model_share: {{}}");
        } else {
            let _ = writeln!(s, "  model_share:");
            for (model, share) in &m.model_share {
                let _ = writeln!(s, "    {}: {share}", q(model));
            }
        }
        if let Some(due) = self.rebaseline_due {
            let _ = writeln!(s, "rebaseline_due: {due}");
        }
        s
    }

    /// Whether the re-baseline date has passed on `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.rebaseline_due.is_some_and(|d| today > d)
    }
}

/// `sha256:<hex>` over the dataset's canonical form: each case as compact JSON (fixed field order,
/// context keys sorted) without its `expected_cost_band`, sorted by id, one per line. Bands are
/// excluded because re-baselining writes them; moving a case between files or reformatting a file
/// does not change the hash, editing a query does.
pub fn dataset_hash(dataset: &Dataset) -> String {
    /// Feeds serialised bytes straight into the hash: the dataset's JSON is never held whole.
    struct Hashing<'a>(&'a mut Sha256);
    impl std::io::Write for Hashing<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.update(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Ids are unique in a loaded dataset, so this is the order of the sorted lines.
    let mut cases: Vec<&crate::measure::dataset::Case> =
        dataset.cases.iter().map(|c| &c.case).collect();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    let mut h = Sha256::new();
    for c in cases {
        let mut case = c.clone();
        case.expected_cost_band = None;
        // Plain data always serialises.
        let _ = serde_json::to_writer(Hashing(&mut h), &case);
        h.update(b"\n");
    }
    let digest = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    format!("sha256:{hex}")
}

/// Whether two versions of a case differ only in their `expected_cost_band` (or not at all): a
/// re-baseline edits bands and nothing else.
pub fn same_but_band(a: &crate::measure::dataset::Case, b: &crate::measure::dataset::Case) -> bool {
    let mut a = a.clone();
    a.expected_cost_band = b.expected_cost_band;
    &a == b
}

/// The baseline's metrics from K priced runs. `costs` holds each case's median cost over the runs
/// and its weight. Means and shares are weighted like the verdict's mean; percentiles are over cases.
/// Token and routing metrics are averaged over the runs (a nondeterministic harness may route a
/// case differently from run to run).
pub fn metrics_of(costs: &[(f64, f64)], runs: &[RunReport]) -> Metrics {
    let weights: f64 = costs.iter().map(|(_, w)| w).sum();
    let total: f64 = costs.iter().map(|(c, w)| c * w).sum();
    let plain: Vec<f64> = costs.iter().map(|(c, _)| *c).collect();
    let mut share: BTreeMap<String, f64> = BTreeMap::new();
    let (mut all_weight, mut bypass, mut input) = (0.0, 0.0, 0.0);
    for r in runs {
        for (c, (_, w)) in r.cases.iter().zip(costs) {
            all_weight += w;
            input += c.cost.input_tokens as f64 * w;
            match &c.cost.model {
                Some(m) => *share.entry(m.clone()).or_default() += w,
                None => bypass += w,
            }
        }
    }
    let per = |v: f64| {
        if all_weight > 0.0 {
            v / all_weight
        } else {
            0.0
        }
    };
    for v in share.values_mut() {
        *v = per(*v);
    }
    Metrics {
        dollars_per_session_mean: if weights > 0.0 { total / weights } else { 0.0 },
        dollars_per_session_p50: verdict::nearest_rank(&plain, 50.0),
        dollars_per_session_p95: verdict::nearest_rank(&plain, 95.0),
        avg_input_tokens: per(input),
        bypass_rate: per(bypass),
        model_share: share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::dataset::{Band, Case, LocatedCase, Location};

    const DOCUMENTED_EXAMPLE: &str = "baseline_date: 2026-12-01\nbaseline_commit: abc123\nbaseline_dataset_version: sha256:00\nbaseline_metrics:\n  dollars_per_session_mean: 0.0093\n  dollars_per_session_p50: 0.0080\n  dollars_per_session_p95: 0.0210\n  avg_input_tokens: 1180\n  bypass_rate: 0.30\n  model_share: {anthropic.claude-3-haiku-20240307-v1:0: 0.35}\nrebaseline_due: 2027-03-01\n";

    #[test]
    fn spec_example_parses_and_round_trips_through_to_yaml() {
        let b = Baseline::parse(DOCUMENTED_EXAMPLE, ".cost-baseline.yaml").unwrap();
        assert_eq!(b.metrics.dollars_per_session_mean, 0.0093);
        assert_eq!(
            b.metrics.model_share["anthropic.claude-3-haiku-20240307-v1:0"],
            0.35
        );
        assert_eq!(b.rebaseline_due, NaiveDate::from_ymd_opt(2027, 3, 1));
        let again = Baseline::parse(&b.to_yaml(), "x").unwrap();
        assert_eq!(again, b);
        assert!(b.overdue(NaiveDate::from_ymd_opt(2027, 3, 2).unwrap()));
        assert!(!b.overdue(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()));
    }

    #[test]
    fn numeric_looking_commit_is_read_as_text() {
        let b =
            Baseline::parse(&DOCUMENTED_EXAMPLE.replace("abc123", "1234567"), "b.yaml").unwrap();
        assert_eq!(b.commit, "1234567");
    }

    #[test]
    fn unknown_key_and_bad_date_are_named_with_lines() {
        let err = Baseline::parse(
            &DOCUMENTED_EXAMPLE.replace("bypass_rate", "bypass_rat"),
            "b.yaml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("bypass_rat"), "{err}");
        assert_eq!(err.0[0].line, 9, "{err}");
        let err = Baseline::parse(
            &DOCUMENTED_EXAMPLE.replace("2027-03-01", "next spring"),
            "b.yaml",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`rebaseline_due: next spring` is not a date"),
            "{err}"
        );
        assert_eq!(err.0[0].line, 11);
    }

    #[test]
    fn metrics_are_weighted_and_shares_plus_bypass_make_one() {
        use crate::gate::report::{RunCase, RunSummary, SideCost, SideInfo};
        let case = |id: &str, model: Option<&str>, input: u64, cost: f64| RunCase {
            id: id.into(),
            intent: "x".into(),
            cost: SideCost {
                model: model.map(str::to_string),
                input_tokens: input,
                output_tokens: 0,
                reasoning_tokens: 0,
                reasoning: Vec::new(),
                unpriced_calls: 0,
                unpriced_models: Vec::new(),
                extras: Default::default(),
                cost_usd: cost,
                segments: Default::default(),
                calls: u64::from(model.is_some()),
                cache_read_tokens: 0,
                cache_write_tokens: 0,
                quality: None,
            },
        };
        let run = RunReport {
            schema_version: 1,
            tree: SideInfo {
                label: "t".into(),
                commit: None,
            },
            notes: Vec::new(),
            summary: RunSummary {
                cases: 3,
                total_usd: 0.0,
                mean_usd: 0.0,
                p50_usd: 0.0,
                p95_usd: 0.0,
                avg_input_tokens: 0.0,
                bypass_rate: 0.0,
                quality: None,
            },
            cases: vec![
                case("a", Some("m1"), 100, 1.0),
                case("b", Some("m2"), 300, 3.0),
                case("c", None, 0, 0.0),
            ],
        };
        let costs = [(1.0, 2.0), (3.0, 1.0), (0.0, 1.0)];
        let m = metrics_of(&costs, &[run.clone(), run]);
        assert_eq!(m.dollars_per_session_mean, 5.0 / 4.0);
        assert_eq!(
            (m.dollars_per_session_p50, m.dollars_per_session_p95),
            (1.0, 3.0)
        );
        assert_eq!(m.avg_input_tokens, 500.0 / 4.0);
        assert_eq!(m.bypass_rate, 0.25);
        assert_eq!(m.model_share["m1"], 0.5);
        assert_eq!(m.model_share.values().sum::<f64>() + m.bypass_rate, 1.0);
    }

    fn ds(cases: &[(&str, &str)]) -> Dataset {
        Dataset {
            cases: cases
                .iter()
                .map(|(id, q)| LocatedCase {
                    case: Case {
                        id: id.to_string(),
                        intent: "x".into(),
                        query: q.to_string(),
                        history: vec![],
                        context: None,
                        tier: None,
                        weight: None,
                        output_tokens: None,
                        expected_cost_band: None,
                        added: None,
                        expect: None,
                        tool_calls: vec![],
                        answers: Default::default(),
                        guardrail: None,
                    },
                    at: Location {
                        file: "g.yaml".into(),
                        line: 1,
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn dataset_hash_ignores_order_and_bands_but_not_content() {
        let a = ds(&[("A", "one"), ("B", "two")]);
        let mut b = ds(&[("B", "two"), ("A", "one")]);
        b.cases[0].case.expected_cost_band = Some(Band {
            low: 0.1,
            high: 0.2,
        });
        b.cases[0].at.file = "other.jsonl".into();
        assert_eq!(dataset_hash(&a), dataset_hash(&b));
        let c = ds(&[("A", "one!"), ("B", "two")]);
        assert_ne!(dataset_hash(&a), dataset_hash(&c));
        assert!(dataset_hash(&a).starts_with("sha256:") && dataset_hash(&a).len() == 7 + 64);
    }
}
