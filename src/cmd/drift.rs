//! `costgate drift`: the weekly look at the main branch against its baseline, its release and a
//! week ago, with a ticket when it moved.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use serde::Serialize;

use super::Outcome;
use super::env::Vars;
use super::output::{OutFormat, parse_date};
use super::output::{json_sorted, write_file};
use crate::gate::Options;
use crate::infra::error::{Error, Result};

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
    /// Exit 1 when a flag fires, so the scheduled job shows red (history, chart, summary and
    /// ticket are written first).
    #[arg(long)]
    pub fail_on_flag: bool,
}

pub fn drift(a: DriftArgs, env: &Vars, printer: &super::printer::Printer) -> Result<Outcome> {
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
    let progress = printer.progress();
    let o = drift::drift(&req, history, progress.0.as_ref())?;
    write_file(&history_path, &drift::history_jsonl(&o.history))?;
    write_file(
        &chart_path,
        &drift::chart::render(&o.history, o.baseline_limit_pct),
    )?;
    let summary = a.summary.clone().or_else(|| env.step_summary());
    // A baseline flag files one high-priority ticket per ISO week when JIRA credentials are set.
    let filed = file_drift_ticket(&a, &o, env);
    if let Some(p) = summary {
        let mut md = drift::render_markdown(&o);
        md.push_str(&ticket_line(&o, &filed));
        crate::infra::files::append_file(&p, &md)?;
    }
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
        exit_code: if a.fail_on_flag && !o.entry.flags.is_empty() {
            1
        } else {
            0
        },
    })
}

/// The summary's last word on the ticket: filed (its key), or why not.
fn ticket_line(
    o: &crate::ratchet::drift::Outcome,
    filed: &std::result::Result<Option<crate::clients::jira::Ticket>, String>,
) -> String {
    let Some(req) = &o.ticket else {
        return String::new();
    };
    let line = match filed {
        Ok(Some(t)) if t.created => format!("filed as [{}]({})", t.key, t.url),
        Ok(Some(t)) => format!("already open this week: [{}]({})", t.key, t.url),
        Ok(None) => {
            "**not filed**: set `JIRA_TOKEN` (and `JIRA_USER` for Jira Cloud) to file it".into()
        }
        Err(e) => format!(
            "**not filed**: {}; the job fails so a re-run files it",
            crate::output::markdown::escape(e)
        ),
    };
    format!(
        "\n**Ticket** {}: {line}\n",
        crate::output::markdown::escape(&req.dedup_key)
    )
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

/// `drift --format json` (the documented summary fields first, then the whole entry; docs/ratchet.md).
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
