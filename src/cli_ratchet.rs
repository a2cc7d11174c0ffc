//! Command-line arguments and handlers of the ratchet commands (`baseline`, `drift`, `backtest`,
//! `calibrate`), kept apart from `cli.rs` so the gate's own commands stay readable. Handlers
//! return an [`Outcome`]; file writes happen here, never in the library modules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Months, NaiveDate};
use clap::{Args, ValueEnum};

use crate::baseline::rebaseline::{self, Request};
use crate::baseline::today;
use crate::cli::Outcome;
use crate::error::{Error, Result};
use crate::gate::{Options, Side};
use crate::progress;
use crate::tree::DirTree;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    Text,
    Json,
}

fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The tree to re-baseline; golden files and the baseline file are rewritten in it.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Path of costgate.yaml inside the tree.
    #[arg(long, default_value = crate::config::DEFAULT_PATH)]
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
    crate::tree::git(dir, &["rev-parse", "HEAD"])
        .map(|o| String::from_utf8_lossy(&o).trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

pub fn baseline(a: BaselineArgs) -> Result<Outcome> {
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
    let mode = crate::config::Config::load(tree.as_ref(), &a.config)
        .map_err(|d| Error::config("tree", d))?
        .mode;
    let date = today();
    let req = Request {
        runs: a.runs.unwrap_or(if mode == crate::config::Mode::Harness {
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
    let progress = progress::for_stderr();
    let outcome = rebaseline::rebaseline(&side, &opts, &req, progress.as_ref())?;
    let mut stdout = match a.format {
        OutFormat::Json => {
            let mut s = serde_json::to_string_pretty(&serde_json::json!({
                "dry_run": a.dry_run,
                "baseline": serde_saphyr_free(&outcome.baseline),
                "cases": outcome.cases,
                "files_changed": outcome.files.iter().filter(|f| f.changed()).map(|f| f.path.clone()).collect::<Vec<_>>(),
            }))
            .unwrap_or_default();
            s.push('\n');
            s
        }
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
            let path = a.dir.join(&f.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            std::fs::write(&path, &f.new).map_err(|source| Error::Write {
                path: path.display().to_string(),
                source,
            })?;
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
        stdout,
        exit_code: 0,
    })
}

/// The baseline as JSON (dates as strings).
fn serde_saphyr_free(b: &crate::baseline::Baseline) -> serde_json::Value {
    serde_json::json!({
        "baseline_date": b.date.to_string(),
        "baseline_commit": b.commit,
        "baseline_dataset_version": b.dataset_version,
        "baseline_metrics": b.metrics,
        "rebaseline_due": b.rebaseline_due.map(|d| d.to_string()),
    })
}
