//! What a drift flag names besides the numbers (issue "the ratchet's missing half"): the
//! merges since the compared point that moved the cost, replayed the way `backtest` replays them,
//! and the dataset's health (how old its cases are, which production intents it lacks, when it
//! was last refreshed).

use std::collections::BTreeSet;
use std::fmt::Write;

use chrono::NaiveDate;
use serde::Serialize;

use crate::measure::dataset::Dataset;
use crate::output::markdown::escape;
use crate::ratchet::backtest::Contributor;

/// Merges replayed at most for one flag (the newest ones).
pub const MAX_REPLAYED: usize = 50;
/// A contributor at least this much dearer gets a marker on the chart.
pub const LARGE_PCT: f64 = 1.0;

/// The point a fired flag compares with, in order of preference (the oldest first): the
/// baseline's commit, the release tag, the week-ago entry's commit.
pub fn compared_point<'a>(
    flags: &[String],
    baseline_commit: Option<&'a str>,
    tag: Option<&'a str>,
    week_ago_commit: Option<&'a str>,
) -> Vec<&'a str> {
    let fired = |f: &str| flags.iter().any(|x| x == f);
    let mut out = Vec::new();
    if fired("baseline") {
        out.extend(baseline_commit);
    }
    if fired("quality") {
        out.extend(tag);
    }
    if fired("wow") {
        out.extend(week_ago_commit);
    }
    out
}

/// The markdown section of the summary.
pub fn markdown(since: &str, list: &[Contributor]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n### Merges since `{}` that moved the cost\n\n| merge | change of the total | verdict | subject |\n|---|---:|---|---|",
        escape(crate::infra::fmt::prefix(since, 12))
    );
    for c in list {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} |",
            escape(crate::infra::fmt::prefix(&c.commit, 10)),
            crate::infra::fmt::pct(c.delta_pct),
            escape(&c.verdict),
            escape(&c.subject)
        );
    }
    s
}

/// One line per contributor for the ticket and the terminal: "abc1234567 +12.3% Merge brand-voice".
pub fn lines(list: &[Contributor], n: usize) -> Vec<String> {
    list.iter()
        .take(n)
        .map(|c| {
            format!(
                "{} {} {}",
                crate::infra::fmt::prefix(&c.commit, 10),
                crate::infra::fmt::pct(c.delta_pct),
                c.subject
            )
        })
        .collect()
}

/// How alive the dataset is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub cases: usize,
    /// Cases whose `added` date is more than a year before the run.
    pub older_than_a_year: usize,
    /// Cases without an `added` date (age unknown: before refreshes were recorded).
    pub without_added: usize,
    /// Days since the newest `added` date, `None` when no case has one.
    pub days_since_refresh: Option<i64>,
    /// Intents of the last calibration (production traffic) the dataset has no case of.
    pub missing_intents: Vec<String>,
}

pub fn health(dataset: &Dataset, calibrated_intents: &[String], today: NaiveDate) -> Health {
    let year_ago = today - chrono::Duration::days(365);
    let added: Vec<NaiveDate> = dataset.cases.iter().filter_map(|c| c.case.added).collect();
    let have: BTreeSet<&str> = dataset
        .cases
        .iter()
        .map(|c| c.case.intent.as_str())
        .collect();
    Health {
        cases: dataset.len(),
        older_than_a_year: added.iter().filter(|d| **d < year_ago).count(),
        without_added: dataset.len() - added.len(),
        days_since_refresh: added.iter().max().map(|d| (today - *d).num_days()),
        missing_intents: calibrated_intents
            .iter()
            .filter(|i| !have.contains(i.as_str()))
            .cloned()
            .collect(),
    }
}

/// The health lines of the text and markdown summaries.
pub fn health_lines(h: &Health) -> Vec<String> {
    let mut out = vec![format!(
        "{} case(s); {} older than a year ({:.0}%), {} without an added date",
        h.cases,
        h.older_than_a_year,
        if h.cases > 0 {
            h.older_than_a_year as f64 * 100.0 / h.cases as f64
        } else {
            0.0
        },
        h.without_added
    )];
    out.push(match h.days_since_refresh {
        Some(d) => format!("last refresh {d} day(s) ago (the newest added date)"),
        None => {
            format!(
                "never refreshed: no case has an added date (see costgate refresh in {})",
                crate::infra::docs::page("ratchet.md")
            )
        }
    });
    if !h.missing_intents.is_empty() {
        out.push(format!(
            "intents in production (the last calibration) with no golden case: {}",
            h.missing_intents.join(", ")
        ));
    }
    out
}
