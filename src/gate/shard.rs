//! Scaling a run across machines: `check --shard I/N` prices only the I-th of N slices of the base
//! dataset (round-robin by dataset order, so every slice gets a mix of intents) and writes a
//! partial report; `costgate merge` checks that the parts belong together, puts the cases back in
//! dataset order and decides the verdict once, on all cases, as a single run would.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::gate::baseline::{self, Baseline};
use crate::gate::cumulative;
use crate::gate::finish::{Finish, Parts, Scope};
use crate::gate::report::{Report, SCHEMA_VERSION, Status};
use crate::gate::verdict::Decision;
use crate::infra::diag::{Diagnostic, Diagnostics};
use crate::infra::error::{Error, Result};
use crate::infra::tree::Tree;
use crate::measure::config::Thresholds;
use crate::measure::dataset::Dataset;

/// One slice of N, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("--shard `{s}`: expected I/N with 1 ≤ I ≤ N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the case at dataset position `pos` (0-based) belongs to this shard.
    pub fn owns(&self, pos: usize) -> bool {
        pos % self.count == self.index - 1
    }

    /// This shard's cases, in dataset order.
    pub fn slice(&self, dataset: &Dataset) -> Dataset {
        Dataset {
            cases: dataset
                .cases
                .iter()
                .enumerate()
                .filter(|(i, _)| self.owns(*i))
                .map(|(_, c)| c.clone())
                .collect(),
        }
    }
}

/// What the cumulative-drift rule (docs/verdict.md) needs, read from the trees by each shard so `merge`
/// can apply it once to the whole run's mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CumulativeInputs {
    /// `baseline:` of the base's costgate.yaml.
    pub baseline_path: String,
    /// The base's baseline file, when it has one.
    pub baseline_text: Option<String>,
    pub head_updates_baseline: bool,
    /// Hash of the whole base dataset (not the slice).
    pub dataset_version: String,
}

impl CumulativeInputs {
    pub fn read(
        base: &dyn Tree,
        head: &dyn Tree,
        path: &str,
        full: &Dataset,
    ) -> std::result::Result<Self, Diagnostics> {
        let read = |t: &dyn Tree| {
            t.read(path)
                .map_err(|e| Diagnostics(vec![Diagnostic::new(path, e.to_string())]))
        };
        let (b, h) = (read(base)?, read(head)?);
        Ok(CumulativeInputs {
            baseline_path: path.to_string(),
            baseline_text: b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
            head_updates_baseline: h.is_some() && h != b,
            dataset_version: baseline::dataset_hash(full),
        })
    }

    /// Applies the rule to the merged decision; returns its notes.
    fn apply(
        &self,
        decision: &mut Decision,
        thresholds: &Thresholds,
        today: chrono::NaiveDate,
    ) -> Result<Vec<String>> {
        let parsed = match &self.baseline_text {
            Some(t) => Some(
                Baseline::parse(t, &self.baseline_path).map_err(|d| Error::config("base", d))?,
            ),
            None => None,
        };
        let input = cumulative::Input {
            baseline: parsed.as_ref(),
            path: &self.baseline_path,
            head_updates_baseline: self.head_updates_baseline,
            dataset_version: &self.dataset_version,
            cumulative_fail_pct: thresholds.cumulative_fail_pct,
            today,
        };
        Ok(cumulative::apply(decision, &input))
    }
}

/// What a partial report adds to a report: which slice it is, and what merging needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: usize,
    pub count: usize,
    /// Cases in the whole base dataset.
    pub dataset_cases: usize,
    /// Weights other than 1 of this slice's cases (the verdict weighs cases).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, f64>,
    pub cumulative: CumulativeInputs,
    /// The base's quality and traffic policy, applied by `merge` to all cases.
    #[serde(default)]
    pub rules: crate::gate::rules::Rules,
    /// The head's routes to models past end of life that this slice used: `merge` warns about
    /// their union, since it re-decides the verdict from the cases.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub end_of_life: crate::measure::pricing::audit::EndOfLifeRoutes,
}

/// What a shard carries to `merge` besides its cases: the policy `merge` applies to all of them.
pub struct PolicyInputs {
    pub cumulative: CumulativeInputs,
    pub rules: crate::gate::rules::Rules,
    pub end_of_life: crate::measure::pricing::audit::EndOfLifeRoutes,
}

/// `report.json` of one shard: the slice's report plus `shard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialReport {
    pub shard: ShardInfo,
    #[serde(flatten)]
    pub report: Report,
}

impl PartialReport {
    pub fn new(
        shard: Shard,
        full: &Dataset,
        slice: &Dataset,
        policy: PolicyInputs,
        report: Report,
    ) -> Self {
        let weights = slice
            .cases
            .iter()
            .filter_map(|c| {
                c.case
                    .weight
                    .filter(|w| *w != 1.0)
                    .map(|w| (c.case.id.clone(), w))
            })
            .collect();
        PartialReport {
            shard: ShardInfo {
                index: shard.index,
                count: shard.count,
                dataset_cases: full.len(),
                weights,
                cumulative: policy.cumulative,
                rules: policy.rules,
                end_of_life: policy.end_of_life,
            },
            report,
        }
    }

    pub fn to_json(&self) -> String {
        crate::gate::report::pretty_json(self)
    }
}

fn push_unique(out: &mut Vec<String>, items: &[String]) {
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
}

/// Combines the partial reports of all N shards (each named by its file) into one report.
pub fn merge(parts: Vec<(String, PartialReport)>, today: chrono::NaiveDate) -> Result<Report> {
    let Some((first_file, first)) = parts.first() else {
        return Err(Error::Usage(
            "costgate merge needs at least one partial report".into(),
        ));
    };
    let n = first.shard.count;
    let by_index = index_parts(&parts, first_file, first)?;
    // Gated cases back to dataset order: shard i's j-th case was at position (i-1) + j·n.
    let total = first.shard.dataset_cases;
    let mut slots = vec![None; total];
    let mut added = Vec::new();
    let mut seen_added = BTreeSet::new();
    let mut weights = BTreeMap::new();
    let (mut routing, mut policy, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (file, p)) in by_index.iter().map(|(i, part)| (*i, *part)) {
        let gated: Vec<_> = p
            .report
            .cases
            .iter()
            .filter(|c| c.status != Status::Added)
            .collect();
        let expected = (total + n - i) / n;
        if gated.len() != expected {
            return Err(Error::Usage(format!(
                "{file}: shard {i}/{n} of {total} cases should hold {expected} cases, it holds {}",
                gated.len()
            )));
        }
        for (j, c) in gated.into_iter().enumerate() {
            slots[(i - 1) + j * n] = Some(c.clone());
        }
        for c in p.report.cases.iter().filter(|c| c.status == Status::Added) {
            if seen_added.insert(c.id.clone()) {
                added.push(c.clone());
            }
        }
        weights.extend(p.shard.weights.clone());
        for r in &p.report.routing_changes {
            if !routing.contains(r) {
                routing.push(r.clone());
            }
        }
        push_unique(&mut policy, &p.report.policy_changes);
        push_unique(&mut notes, &p.report.notes);
    }
    let mut cases: Vec<_> = slots.into_iter().flatten().collect();
    // No pass without evidence, as `check` requires of an unsharded run.
    if let Some(side) = crate::gate::report::side_without_calls(&cases) {
        return Err(Error::Run(format!(
            "no case made a model call on the {side} side in any of the {n} shards, so there is no cost to gate"
        )));
    }
    // The routes to models past end of life that each shard saw.
    let mut end_of_life = crate::measure::pricing::audit::EndOfLifeRoutes::new();
    for (_, p) in by_index.values() {
        for (intent, models) in &p.shard.end_of_life {
            end_of_life
                .entry(intent.clone())
                .or_default()
                .extend(models.iter().map(|(m, d)| (m.clone(), *d)));
        }
    }
    // The files behind each cause, as the shards that saw them named them.
    let mut files: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (_, p) in by_index.values() {
        for c in &p.report.causes {
            let key = (c.intent.clone(), cause_what(c));
            files
                .entry(key)
                .or_default()
                .extend(c.files.iter().cloned());
        }
    }
    let rule_error = |m: String| Error::Usage(format!("{first_file}: {m}"));
    let finish = Finish {
        thresholds: &first.report.thresholds,
        weight: &|id| weights.get(id).copied().unwrap_or(1.0),
        end_of_life: &end_of_life,
        scope: Scope::Whole {
            rules: &first.shard.rules,
            error: &rule_error,
        },
        files: &|intent, what| {
            files
                .get(&(intent.to_string(), what.to_string()))
                .map(|f| f.iter().cloned().collect())
                .unwrap_or_default()
        },
    };
    let decided = finish.decide(&cases, |decision| {
        first
            .shard
            .cumulative
            .apply(decision, &first.report.thresholds, today)
    })?;
    cases.extend(added);
    notes.push(format!("merged from {n} shard reports"));
    let mut cache_lost: Vec<crate::gate::report::CacheLost> = Vec::new();
    for (_, p) in by_index.values() {
        for lost in &p.report.cache_lost {
            match cache_lost.iter_mut().find(|l| l.segment == lost.segment) {
                Some(l) => l.cases.extend(lost.cases.iter().cloned()),
                None => cache_lost.push(lost.clone()),
            }
        }
    }
    Ok(decided.report(Parts {
        base: first.report.base.clone(),
        head: first.report.head.clone(),
        thresholds: first.report.thresholds.clone(),
        routing_changes: routing,
        policy_changes: policy,
        notes,
        cache_lost,
        cases,
    }))
}

/// The parts by shard index, after checking that they are the parts of one run: same schema,
/// shard count, dataset, commits and policy, each index once and none missing.
fn index_parts<'a>(
    parts: &'a [(String, PartialReport)],
    first_file: &str,
    first: &PartialReport,
) -> Result<BTreeMap<usize, &'a (String, PartialReport)>> {
    let n = first.shard.count;
    let mut by_index: BTreeMap<usize, &(String, PartialReport)> = BTreeMap::new();
    for part in parts {
        let (file, p) = part;
        let mismatch = |what: &str| {
            Error::Usage(format!(
                "{file} and {first_file} are not parts of the same run: {what} differ; merge the reports of one `check --shard` matrix"
            ))
        };
        if p.report.schema_version != SCHEMA_VERSION {
            return Err(Error::Usage(format!(
                "{file}: report schema_version {} is not {SCHEMA_VERSION}",
                p.report.schema_version
            )));
        }
        if p.shard.count != n {
            return Err(mismatch("shard counts"));
        }
        if p.shard.dataset_cases != first.shard.dataset_cases {
            return Err(mismatch("dataset sizes"));
        }
        if p.report.base.commit != first.report.base.commit
            || p.report.head.commit != first.report.head.commit
        {
            return Err(mismatch("base or head commits"));
        }
        if p.report.thresholds != first.report.thresholds {
            return Err(mismatch("thresholds"));
        }
        if p.shard.cumulative != first.shard.cumulative {
            return Err(mismatch("datasets or cost baselines"));
        }
        if p.shard.rules != first.shard.rules {
            return Err(mismatch("quality or traffic policies"));
        }
        if let Some((other, _)) = by_index.insert(p.shard.index, part) {
            return Err(Error::Usage(format!(
                "{file} and {other} are both shard {}/{n}",
                p.shard.index
            )));
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "shard(s) {} missing: merge needs every part of the run",
            missing.join(", ")
        )));
    }

    Ok(by_index)
}

/// The key a cause's files are looked up by: cost causes by what grew, quality causes as one.
fn cause_what(c: &crate::gate::causes::Cause) -> String {
    if c.rule == "quality-regression" {
        format!("quality:{}", c.what)
    } else {
        c.what.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_parse_and_reject_nonsense() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn regression_merge_reads_costs_back_bit_exact() {
        // Without serde_json's `float_roundtrip`, merged summaries differed from a single run's in
        // the last bit (33.740831295843535 came back as …556).
        for v in [
            33.740831295843535_f64,
            0.015514440000000004,
            0.000954842320441989,
            1e-7 / 3.0,
        ] {
            let back: f64 = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        }
    }

    #[test]
    fn slices_partition_the_dataset_round_robin() {
        let n = 3;
        let owners: Vec<Vec<usize>> = (1..=n)
            .map(|i| {
                (0..10)
                    .filter(|p| Shard { index: i, count: n }.owns(*p))
                    .collect()
            })
            .collect();
        assert_eq!(owners, vec![vec![0, 3, 6, 9], vec![1, 4, 7], vec![2, 5, 8]]);
    }
}
