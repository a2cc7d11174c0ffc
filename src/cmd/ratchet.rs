//! The ratchet commands (`baseline`, `drift`, `backtest`, `calibrate`): arguments and handlers.
//! Handlers serialise typed results and write files through [`super::output`]; the library
//! modules they call never write or print.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Months, NaiveDate};
use clap::{Args, ValueEnum};

use serde::Serialize;

use super::Outcome;
use super::env::Vars;
use super::output::{json, json_sorted, write_file};
use crate::gate::{Options, Side};
use crate::infra::error::{Error, Result};
use crate::infra::progress;
use crate::infra::tree::DirTree;
use crate::ratchet::rebaseline::{self, Request};

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

pub fn baseline(a: BaselineArgs, env: &Vars) -> Result<Outcome> {
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
    let progress = progress::for_stderr();
    let outcome = rebaseline::rebaseline(&side, &opts, &req, progress.as_ref())?;
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

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Bedrock model-invocation log files: JSON lines, plain or gzip'd (S3 delivery).
    #[arg(long, required = true, num_args = 1..)]
    pub logs: Vec<PathBuf>,
    /// The repository whose pricing (tokenizers, overheads) recounts the requests.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Path of costgate.yaml inside --dir (the built-in price table when it does not exist).
    #[arg(long, default_value = crate::measure::config::DEFAULT_PATH)]
    pub config: String,
    /// The `requestMetadata` key that names the intent.
    #[arg(long, default_value = "intent")]
    pub intent_key: String,
    /// Where to write the calibration (default: costgate/calibration.yaml in --dir).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Report only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
}

/// Reads invocation logs (plain or gzip) as `calibrate` does; `pricing` and `refresh` read them
/// the same way.
pub(super) fn read_logs(
    files: &[std::path::PathBuf],
    intent_key: &str,
    pricing: &crate::measure::pricing::PricingTable,
    conversations: bool,
) -> Result<crate::ratchet::calibrate::logs::Parsed> {
    use crate::ratchet::calibrate::{self, logs};
    let mut parsed = logs::Parsed {
        conversations: conversations.then(Vec::new),
        ..Default::default()
    };
    let count = calibrate::counter(pricing);
    for f in files {
        let name = f.display().to_string();
        let reader = logs::open(f).map_err(|e| Error::Usage(format!("--logs {name}: {e}")))?;
        logs::read(
            &name,
            reader,
            intent_key,
            &count,
            logs::Limits::default(),
            &mut parsed,
        )
        .map_err(|e| Error::Usage(format!("--logs {name}: {e}")))?;
    }
    Ok(parsed)
}

pub fn calibrate(a: CalibrateArgs, env: &Vars) -> Result<Outcome> {
    use crate::ratchet::calibrate::{self, Calibration};
    let tree = DirTree::new(&a.dir, a.dir.display().to_string());
    let pricing = if a.dir.join(&a.config).is_file() {
        let cfg = crate::measure::config::Config::load(&tree, &a.config)
            .map_err(|d| Error::config("config", d))?;
        crate::measure::load::load_pricing(&tree, &cfg).map_err(|d| Error::config("config", d))?
    } else {
        crate::measure::pricing::PricingTable::builtin()
    };
    let parsed = read_logs(&a.logs, &a.intent_key, &pricing, false)?;
    let out_path = a.out.clone().unwrap_or_else(|| a.dir.join(calibrate::PATH));
    let previous = match std::fs::read_to_string(&out_path) {
        Ok(text) => Some(
            Calibration::parse(&text, &out_path.display().to_string())
                .map_err(|d| Error::config("calibration", d))?,
        ),
        Err(_) => None,
    };
    let mut outcome = calibrate::calibrate(parsed, &pricing, previous.as_ref(), env.clock.today());
    outcome.cache = offline_cache_share(&a.dir, &a.config, outcome.cache.clone())?;
    if outcome.records_used == 0 {
        return Err(Error::Usage(format!(
            "no usable invocation-log records in {} file(s): {} malformed, {} skipped{}",
            a.logs.len(),
            outcome.malformed.len(),
            outcome.skipped.len(),
            outcome.malformed.first().map_or(String::new(), |p| format!(
                " (first: {}: {})",
                p.at, p.reason
            ))
        )));
    }
    if !a.dry_run {
        write_file(&out_path, &outcome.calibration.to_yaml())?;
    }
    let stdout = match a.format {
        OutFormat::Json => json_sorted(&CalibrateOutput {
            outcome: &outcome,
            calibration_file: (!a.dry_run).then(|| out_path.display().to_string()),
        }),
        OutFormat::Text => {
            let mut s = calibrate::render_text(&outcome);
            if !a.dry_run {
                s.push_str(&format!("\nwrote {}\n", out_path.display()));
            }
            s
        }
    };
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}

/// The dataset's cache shares priced in render mode at `dir` (a harness is not run for this:
/// calibration never executes application code).
fn offline_cache_share(
    dir: &std::path::Path,
    config: &str,
    mut share: crate::ratchet::calibrate::CacheShare,
) -> Result<crate::ratchet::calibrate::CacheShare> {
    if !dir.join(config).is_file() {
        return Ok(share);
    }
    let tree = DirTree::new(dir, dir.display().to_string());
    let cfg = crate::measure::config::Config::load(&tree, config)
        .map_err(|d| Error::config("config", d))?;
    if cfg.mode != crate::measure::config::Mode::Render {
        return Ok(share);
    }
    let side = crate::gate::inputs::Side::dir(dir, "tree");
    let opts = crate::gate::inputs::Options {
        config_path: config.to_string(),
    };
    let run = crate::gate::run(&side, &opts)?;
    let (read, write, total) = run.cases.iter().fold((0, 0, 0), |(r, w, t), c| {
        (
            r + c.cost.cache_read_tokens,
            w + c.cost.cache_write_tokens,
            t + c.cost.input_tokens,
        )
    });
    (share.offline_read_share, share.offline_write_share) =
        crate::ratchet::calibrate::CacheShare::shares(read, write, total);
    Ok(share)
}

/// `calibrate --format json`: the outcome and where it was written.
#[derive(Serialize)]
struct CalibrateOutput<'a> {
    #[serde(flatten)]
    outcome: &'a crate::ratchet::calibrate::Outcome,
    calibration_file: Option<String>,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The git repository.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The branch (any revision) whose first-parent history is replayed.
    #[arg(long, default_value = "HEAD")]
    pub branch: String,
    /// How many of the newest first-parent merges to replay.
    #[arg(long, default_value_t = 20)]
    pub last: usize,
    /// Replay every first-parent commit, not only merges (squash-merge workflows).
    #[arg(long)]
    pub all_commits: bool,
    /// Fire rate (fail + warn) the suggested thresholds should stay at or under, 0..1.
    #[arg(long, default_value_t = 0.05)]
    pub target_fire_rate: f64,
    /// Path of costgate.yaml inside each commit.
    #[arg(long, default_value = crate::measure::config::DEFAULT_PATH)]
    pub config: String,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
}

pub fn backtest(a: BacktestArgs, env: &Vars) -> Result<Outcome> {
    let req = crate::ratchet::backtest::Request {
        repo: a.repo.clone(),
        branch: a.branch.clone(),
        last: a.last,
        all_commits: a.all_commits,
        target_fire_rate: a.target_fire_rate,
        options: Options {
            config_path: a.config.clone(),
        },
        clock: env.clock,
    };
    let progress = progress::for_stderr();
    let o = crate::ratchet::backtest::backtest(&req, progress.as_ref())?;
    let stdout = match a.format {
        OutFormat::Json => json(&o),
        OutFormat::Text => crate::ratchet::backtest::render_text(&o),
    };
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The git repository.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The branch to measure (priced from git objects, no checkout).
    #[arg(long, default_value = "HEAD")]
    pub branch: String,
    /// The release tag to compare with (default: the newest `v*` tag reachable from --branch).
    #[arg(long)]
    pub tag: Option<String>,
    /// The JSONL history file to append to (default: costgate/drift-history.jsonl in --repo).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Where to write the SVG chart (default: costgate/drift.svg in --repo).
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// Append the markdown summary to this file (default: $GITHUB_STEP_SUMMARY when set).
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// The date of this measurement (default: today, UTC).
    #[arg(long, value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// Week-over-week growth (percent) that warns.
    #[arg(long, default_value_t = 5.0)]
    pub wow_pct: f64,
    /// Path of costgate.yaml inside the commits.
    #[arg(long, default_value = crate::measure::config::DEFAULT_PATH)]
    pub config: String,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
}

pub fn drift(a: DriftArgs, env: &Vars) -> Result<Outcome> {
    use crate::ratchet::drift;
    let history_path = a
        .history
        .clone()
        .unwrap_or_else(|| a.repo.join("costgate/drift-history.jsonl"));
    let chart_path = a
        .chart
        .clone()
        .unwrap_or_else(|| a.repo.join("costgate/drift.svg"));
    let history = match std::fs::read_to_string(&history_path) {
        Ok(t) => drift::parse_history(&t, &history_path.display().to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::Usage(format!("{}: {e}", history_path.display()))),
    };
    let req = drift::Request {
        repo: a.repo.clone(),
        branch: a.branch.clone(),
        tag: a.tag.clone(),
        date: a.date.unwrap_or_else(|| env.clock.today()),
        wow_pct: a.wow_pct,
        options: Options {
            config_path: a.config.clone(),
        },
    };
    let progress = progress::for_stderr();
    let o = drift::drift(&req, history, progress.as_ref())?;
    write_file(&history_path, &drift::history_jsonl(&o.history))?;
    write_file(&chart_path, &drift::chart::render(&o.history))?;
    let summary = a.summary.clone().or_else(|| env.step_summary());
    if let Some(p) = summary {
        crate::infra::files::append_file(&p, &drift::render_markdown(&o))?;
    }
    // A baseline flag files one high-priority ticket per ISO week when JIRA credentials are set.
    let filed = file_drift_ticket(&a, &o, env);
    let stdout = match a.format {
        OutFormat::Json => json_sorted(&DriftOutput {
            baseline_delta_pct: o.entry.baseline_delta_pct,
            release_tag: o.entry.release_tag.as_deref(),
            release_delta_pct: o.entry.release_delta_pct,
            week_over_week_pct: o.entry.week_over_week_pct,
            flags: &o.entry.flags,
            contributors: &o.entry.contributors,
            health: &o.health,
            entry: &o.entry,
            ticket: o.ticket.as_ref(),
            ticket_filed: filed.as_ref().ok().and_then(|t| t.as_ref()).map(|t| Filed {
                key: &t.key,
                url: &t.url,
                created: t.created,
            }),
            notes: &o.notes,
            history_file: history_path.display().to_string(),
            chart_file: chart_path.display().to_string(),
        }),
        OutFormat::Text => {
            let mut s = drift::render_text(&o);
            s.push_str(&format!(
                "history: {} ({} entries), chart: {}\n",
                history_path.display(),
                o.history.len(),
                chart_path.display()
            ));
            match &filed {
                Ok(Some(t)) => s.push_str(&format!(
                    "ticket: {} {} ({})\n",
                    t.key,
                    t.url,
                    if t.created { "created" } else { "already open this week" }
                )),
                Ok(None) if o.ticket.is_some() => {
                    s.push_str("ticket: not filed (set JIRA_TOKEN, and JIRA_USER for Jira Cloud, to file it)\n")
                }
                _ => {}
            }
            s
        }
    };
    // History, chart and summary are written; a ticket that could not be filed fails the job
    // (exit 3) so a re-run files it, de-duplicated by the week's label.
    if let Err(e) = filed {
        return Err(Error::Run(format!(
            "drift measured and recorded, but the JIRA ticket could not be filed: {e}"
        )));
    }
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}

/// Files the drift ticket when there is one and credentials are set; `Ok(None)` otherwise.
fn file_drift_ticket(
    a: &DriftArgs,
    o: &crate::ratchet::drift::Outcome,
    env: &Vars,
) -> std::result::Result<Option<crate::clients::jira::Ticket>, String> {
    let Some(req) = &o.ticket else {
        return Ok(None);
    };
    let Some(creds) = env.jira_credentials() else {
        return Ok(None);
    };
    let tree = crate::infra::tree::GitTree::open(&a.repo, &a.branch, a.branch.clone())
        .map_err(|e| e.to_string())?;
    let config =
        crate::measure::config::Config::load(&tree, &a.config).map_err(|d| d.to_string())?;
    let date = a.date.unwrap_or_else(|| env.clock.today());
    crate::ratchet::drift::ticket::file(&config, creds, req, date).map(Some)
}

/// `drift --format json` (SPEC 9's names first, then the whole entry).
#[derive(Serialize)]
struct DriftOutput<'a> {
    baseline_delta_pct: Option<f64>,
    release_tag: Option<&'a str>,
    release_delta_pct: Option<f64>,
    week_over_week_pct: Option<f64>,
    flags: &'a [String],
    contributors: &'a [crate::ratchet::backtest::Contributor],
    health: &'a crate::ratchet::drift::contributors::Health,
    entry: &'a crate::ratchet::drift::Entry,
    ticket: Option<&'a crate::ratchet::drift::TicketRequest>,
    ticket_filed: Option<Filed<'a>>,
    notes: &'a [String],
    history_file: String,
    chart_file: String,
}

#[derive(Serialize)]
struct Filed<'a> {
    key: &'a str,
    url: &'a str,
    created: bool,
}
