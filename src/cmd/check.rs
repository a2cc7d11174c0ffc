//! `costgate check`, `run` and `merge`: the gate on two trees (or one), and the merge of sharded
//! partial reports. Arguments are resolved once into [`Side`]s and options, then handed to the gate.

use std::path::{Path, PathBuf};

use clap::Args;

use super::env::Vars;
use super::output::{emit_report, json, terminal_text, write_file};
use super::{Format, Outcome, Stdout};
use crate::gate::shard::{PartialReport, Shard};
use crate::gate::{self, Inputs, Options, RunOptions, Side};
use crate::infra::error::{Error, Result};
use crate::output::templates::Templates;
use crate::output::terminal;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Base git revision (the PR's target), read from the repository without a checkout.
    #[arg(long, requires = "head", conflicts_with_all = ["base_dir", "head_dir"])]
    pub base: Option<String>,
    /// Head git revision.
    #[arg(long, requires = "base")]
    pub head: Option<String>,
    /// Base tree as a directory.
    #[arg(long, requires = "head_dir")]
    pub base_dir: Option<PathBuf>,
    /// Head tree as a directory.
    #[arg(long, requires = "base_dir", conflicts_with_all = ["base", "head"])]
    pub head_dir: Option<PathBuf>,
    /// The git repository for --base/--head (default: the current directory).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// A file holding the PR body, to apply its cost-regression justification (docs/verdict.md).
    #[arg(long)]
    pub pr_body: Option<PathBuf>,
    /// The PR's labels, comma-separated (an override label cannot be verified locally).
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Price only the I-th of N slices of the dataset and write a partial report for `costgate merge`.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["pr_body", "labels"])]
    pub shard: Option<Shard>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The tree to price (default: the current directory).
    #[arg(long, conflicts_with = "rev")]
    pub dir: Option<PathBuf>,
    /// A git revision to price instead of a directory.
    #[arg(long)]
    pub rev: Option<String>,
    /// The git repository for --rev.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Path of costgate.yaml inside the tree(s).
    #[arg(long, default_value = crate::measure::config::DEFAULT_PATH)]
    pub config: String,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write report.json and report.md into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial report.json files, one per shard.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the merged report.json and report.md into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn dir_side(dir: &Path, name: &'static str, flag: &str) -> Result<Side> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {}: not a directory",
            dir.display()
        )));
    }
    Ok(Side::dir(dir, name))
}

/// The base tree's report templates (its overrides are policy); an unreadable one is an error.
fn templates(base: &Side) -> Result<Templates> {
    Templates::from_tree(base.tree.as_ref()).map_err(|e| Error::Usage(e.to_string()))
}

pub fn check(a: CheckArgs, env: &Vars, printer: &super::printer::Printer) -> Result<Outcome> {
    super::output::check_out_dir(a.common.out.as_deref())?;
    let (base, head) = match (&a.base, &a.head, &a.base_dir, &a.head_dir) {
        (Some(b), Some(h), None, None) => (
            Side::git(&a.repo, b, "base")?,
            Side::git(&a.repo, h, "head")?,
        ),
        (None, None, Some(b), Some(h)) => (
            dir_side(b, "base", "--base-dir")?,
            dir_side(h, "head", "--head-dir")?,
        ),
        _ => {
            return Err(Error::Usage(
                "give either --base REF --head REF, or --base-dir DIR --head-dir DIR".into(),
            ));
        }
    };
    let opts = Options {
        config_path: a.common.config.clone(),
    };
    let ro = RunOptions {
        progress: printer.progress(),
        shard: None,
        record_dir: a.common.out.clone(),
        clock: env.clock,
    };
    let inputs = Inputs::load(&base, &head, &opts)?;
    let templates = templates(&base)?;
    if let Some(shard) = a.shard {
        return check_shard(&inputs, ro, shard, &a.common, &templates);
    }
    let mut report = gate::check_inputs(&inputs, &ro)?;
    if a.pr_body.is_some() || !a.labels.is_empty() {
        crate::action::local_review(
            &mut report,
            &inputs.base.config,
            a.pr_body.as_deref(),
            &a.labels,
        )?;
    }
    let exit_code = report.verdict.exit_code();
    let stdout = match (a.common.format, &a.common.out) {
        (Format::Json, None) => Stdout::json(report),
        _ => emit_report(
            &report,
            || report.to_json(),
            terminal_text(&report),
            a.common.format,
            a.common.out.as_deref(),
            &templates,
        )?
        .into(),
    };
    Ok(Outcome { stdout, exit_code })
}

/// `check --shard`: the slice's partial report; it gates nothing (exit 0), `merge` does.
fn check_shard(
    inputs: &Inputs,
    ro: RunOptions,
    shard: Shard,
    common: &CommonArgs,
    templates: &Templates,
) -> Result<Outcome> {
    let partial = gate::check_partial(inputs, ro, shard)?;
    let text = || {
        format!(
            "partial report of shard {shard} ({} of {} cases); the verdict comes from `costgate merge`\n{}",
            partial.report.cases.len(),
            partial.shard.dataset_cases,
            terminal::check(&partial.report, true)
        )
    };
    let stdout = emit_report(
        &partial.report,
        || partial.to_json(),
        text,
        common.format,
        common.out.as_deref(),
        templates,
    )?;
    Ok(Outcome::text(stdout))
}

/// `costgate merge`: one verdict from every shard's partial report.
pub fn merge(a: MergeArgs, env: &Vars) -> Result<Outcome> {
    super::output::check_out_dir(a.out.as_deref())?;
    let mut parts = Vec::new();
    for path in &a.reports {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{name}: {e}")))?;
        let part: PartialReport = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{name}: not a partial report of `costgate check --shard` ({e})"
            ))
        })?;
        parts.push((name, part));
    }
    let report = crate::gate::shard::merge(parts, env.clock.today())?;
    let stdout = emit_report(
        &report,
        || report.to_json(),
        terminal_text(&report),
        a.format,
        a.out.as_deref(),
        &Templates::builtin(),
    )?;
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: report.verdict.exit_code(),
    })
}

/// `costgate run`: one tree priced with its own configuration.
pub fn run(a: RunArgs, env: &Vars, printer: &super::printer::Printer) -> Result<Outcome> {
    super::output::check_out_dir(a.common.out.as_deref())?;
    let side = match (&a.rev, &a.dir) {
        (Some(rev), _) => Side::git(&a.repo, rev, "tree")?,
        (None, dir) => dir_side(dir.as_deref().unwrap_or(Path::new(".")), "tree", "--dir")?,
    };
    let report = gate::run_with(
        &side,
        &Options {
            config_path: a.common.config.clone(),
        },
        RunOptions {
            progress: printer.progress(),
            shard: None,
            record_dir: a.common.out.clone(),
            clock: env.clock,
        },
    )?;
    if let Some(dir) = &a.common.out {
        write_file(&dir.join("report.json"), &json(&report))?;
    }
    let stdout = match a.common.format {
        Format::Json => json(&report),
        Format::Text | Format::Markdown => terminal::run(&report),
    };
    Ok(Outcome::text(stdout))
}
