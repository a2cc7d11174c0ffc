//! `costgate baseline`: measures the base tree and writes `.cost-baseline.yaml` and the golden
//! cases' expected cost bands.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Months, NaiveDate};
use clap::Args;

use serde::Serialize;

use super::Outcome;
use super::env::Vars;
use super::output::{OutFormat, parse_date};
use super::output::{json_sorted, write_file};
use crate::gate::{Options, Side};
use crate::infra::error::{Error, Result};
use crate::infra::tree::DirTree;
use crate::ratchet::rebaseline::{self, Request};

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The tree to re-baseline; golden files and the baseline file are rewritten in it.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Path of costgate.yaml inside the tree.
    #[arg(long, default_value = crate::measure::config::DEFAULT_PATH)]
    pub config: String,
    /// How many times to price the dataset (default: 1 in render mode, which is deterministic; 5 in harness mode).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Show the diff of what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// `rebaseline_due` (default: three months after today).
    #[arg(long, value_parser = parse_date)]
    pub due: Option<NaiveDate>,
    /// The commit recorded as `baseline_commit` (default: `git rev-parse HEAD` in --dir).
    #[arg(long)]
    pub commit: Option<String>,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
}

fn head_commit(dir: &Path) -> String {
    crate::infra::tree::git(dir, &["rev-parse", "HEAD"])
        .map(|o| String::from_utf8_lossy(&o).trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

pub fn baseline(a: BaselineArgs, env: &Vars, printer: &super::printer::Printer) -> Result<Outcome> {
    if !a.dir.is_dir() {
        return Err(Error::Usage(format!(
            "--dir {}: not a directory",
            a.dir.display()
        )));
    }
    let tree = Arc::new(DirTree::new(&a.dir, a.dir.display().to_string()));
    let side = Side {
        name: "tree",
        tree: tree.clone(),
        commit: None,
    };
    let opts = Options {
        config_path: a.config.clone(),
    };
    let mode = crate::measure::config::Config::load(tree.as_ref(), &a.config)
        .map_err(|d| Error::config("tree", d))?
        .mode;
    let date = env.clock.today();
    let req = Request {
        runs: a
            .runs
            .unwrap_or(if mode == crate::measure::config::Mode::Harness {
                5
            } else {
                1
            }),
        date,
        due: a
            .due
            .unwrap_or_else(|| date.checked_add_months(Months::new(3)).unwrap_or(date)),
        commit: a.commit.clone().unwrap_or_else(|| head_commit(&a.dir)),
    };
    let progress = printer.progress();
    let outcome = rebaseline::rebaseline(&side, &opts, &req, progress.0.as_ref())?;
    let mut stdout = match a.format {
        OutFormat::Json => json_sorted(&BaselineOutput {
            dry_run: a.dry_run,
            baseline: BaselineJson::from(&outcome.baseline),
            cases: &outcome.cases,
            files_changed: outcome
                .files
                .iter()
                .filter(|f| f.changed())
                .map(|f| f.path.as_str())
                .collect(),
            diff: a
                .dry_run
                .then(|| outcome.files.iter().map(|f| f.diff()).collect()),
        }),
        OutFormat::Text => rebaseline::render_text(&outcome),
    };
    if a.dry_run {
        if a.format == OutFormat::Text {
            stdout.push_str("\n--dry-run: nothing written; the change would be:\n");
            for f in &outcome.files {
                stdout.push_str(&f.diff());
            }
        }
    } else {
        for f in outcome.files.iter().filter(|f| f.changed()) {
            write_file(&a.dir.join(&f.path), &f.new)?;
        }
        if a.format == OutFormat::Text {
            let changed: Vec<&str> = outcome
                .files
                .iter()
                .filter(|f| f.changed())
                .map(|f| f.path.as_str())
                .collect();
            stdout.push_str(&format!(
                "wrote {} file(s): {}\n",
                changed.len(),
                changed.join(", ")
            ));
        }
    }
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}

/// `baseline --format json`.
#[derive(Serialize)]
struct BaselineOutput<'a> {
    dry_run: bool,
    baseline: BaselineJson<'a>,
    cases: &'a [rebaseline::CaseBand],
    files_changed: Vec<&'a str>,
    diff: Option<String>,
}

/// The baseline as JSON (dates as strings, as in `.cost-baseline.yaml`).
#[derive(Serialize)]
struct BaselineJson<'a> {
    baseline_date: String,
    baseline_commit: &'a str,
    baseline_dataset_version: &'a str,
    baseline_metrics: &'a crate::gate::baseline::Metrics,
    rebaseline_due: Option<String>,
}

impl<'a> From<&'a crate::gate::baseline::Baseline> for BaselineJson<'a> {
    fn from(b: &'a crate::gate::baseline::Baseline) -> Self {
        BaselineJson {
            baseline_date: b.date.to_string(),
            baseline_commit: &b.commit,
            baseline_dataset_version: &b.dataset_version,
            baseline_metrics: &b.metrics,
            rebaseline_due: b.rebaseline_due.map(|d| d.to_string()),
        }
    }
}
