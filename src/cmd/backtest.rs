//! `costgate backtest`: replays the gate over the merges of a branch's history.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use super::env::Vars;
use super::output::OutFormat;
use super::output::json;
use crate::gate::Options;
use crate::infra::error::Result;

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

pub fn backtest(a: BacktestArgs, env: &Vars, printer: &super::printer::Printer) -> Result<Outcome> {
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
    let progress = printer.progress();
    let o = crate::ratchet::backtest::backtest(&req, progress.0.as_ref())?;
    let stdout = match a.format {
        OutFormat::Json => json(&o),
        OutFormat::Text => crate::ratchet::backtest::render_text(&o),
    };
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}
