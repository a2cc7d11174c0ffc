//! Command-line interface: argument definitions and dispatch. Commands return their output and exit
//! code; only `main.rs` writes to the terminal and exits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::gate::{self, Options, Side};
use crate::markdown;
use crate::pricing::PricingTable;
use crate::terminal;
use crate::tokenize::{self, Encoding};
use crate::tree::{DirTree, Tree};

#[derive(Debug, Parser)]
#[command(
    name = "costgate",
    version,
    about = "Stops pull requests from quietly making an LLM application more expensive"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The gate: price the golden dataset at base and head and give a verdict.
    Check(CheckArgs),
    /// Price the golden dataset at one tree and write its report.
    Run(RunArgs),
    /// Count tokens in files (or stdin) exactly as the gate does.
    Tokens(TokensArgs),
    /// Re-baseline: per-case expected_cost_band in the golden files and .cost-baseline.yaml.
    Baseline(crate::cli_ratchet::BaselineArgs),
    /// Compare offline token counts with Bedrock invocation logs; learn token scales and output lengths.
    Calibrate(crate::cli_ratchet::CalibrateArgs),
    /// Replay the gate over the last N merges of a branch: how often it would have fired.
    Backtest(crate::cli_ratchet::BacktestArgs),
    /// Cumulative drift of a branch against the baseline and the last release tag, with history and chart.
    Drift(crate::cli_ratchet::DriftArgs),
    /// The GitHub Action entry point: reads the runner's environment (INPUT_*, GITHUB_*).
    Action,
    /// The Bedrock Runtime stand-in: answers the AWS SDKs with exact token counts.
    Mock(MockArgs),
    /// Combine the partial reports of `check --shard I/N` runs into one verdict.
    Merge(MergeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

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
    /// A file holding the PR body, to apply its cost-regression justification (SPEC 6).
    #[arg(long)]
    pub pr_body: Option<PathBuf>,
    /// The PR's labels, comma-separated (an override label cannot be verified locally).
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Price only the I-th of N slices of the dataset and write a partial report for `costgate merge`.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["pr_body", "labels"])]
    pub shard: Option<crate::shard::Shard>,
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
    #[arg(long, default_value = crate::config::DEFAULT_PATH)]
    pub config: String,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write report.json and report.md into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokensArgs {
    /// Encoding: cl100k_base, o200k_base, o200k_harmony, claude-approx.
    #[arg(long, conflicts_with = "model")]
    pub encoding: Option<String>,
    /// A Bedrock model id: counts with its tokenizer and token_scale from the price table.
    #[arg(long)]
    pub model: Option<String>,
    /// costgate.yaml whose pricing file adds to the built-in table (for --model).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Files to count; stdin when none.
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to listen on; port 0 picks a free port (see --ready-file).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: String,
    /// Written with the bound address (`127.0.0.1:PORT`) once listening.
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
    /// Append one JSONL line per call (the per-request audit trail).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// costgate.yaml whose pricing and golden cases to use (default: ./costgate.yaml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
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

/// What a command produced: text for stdout and the process exit code.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub exit_code: i32,
}

/// Runs a parsed command. `stdin` supplies input for `tokens` without files.
pub fn run(cli: Cli, stdin: &mut dyn std::io::Read) -> Result<Outcome> {
    match cli.command {
        Command::Check(a) => check(a),
        Command::Run(a) => run_one(a),
        Command::Tokens(a) => tokens(a, stdin),
        Command::Baseline(a) => crate::cli_ratchet::baseline(a),
        Command::Calibrate(a) => crate::cli_ratchet::calibrate(a),
        Command::Backtest(a) => crate::cli_ratchet::backtest(a),
        Command::Drift(a) => crate::cli_ratchet::drift(a),
        Command::Action => crate::action::run::main(&crate::action::env::RunnerEnv::from_process()),
        Command::Mock(a) => crate::mock::cli::run(a),
        Command::Merge(a) => merge(a),
    }
}

fn dir_side(dir: &Path, name: &'static str) -> Result<Side> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--{name}-dir {}: not a directory",
            dir.display()
        )));
    }
    Ok(Side {
        name,
        tree: Arc::new(DirTree::new(dir, format!("{name} ({})", dir.display()))),
        commit: None,
    })
}

fn check(a: CheckArgs) -> Result<Outcome> {
    let (base, head) = match (&a.base, &a.head, &a.base_dir, &a.head_dir) {
        (Some(b), Some(h), None, None) => (
            Side::git(&a.repo, b, "base")?,
            Side::git(&a.repo, h, "head")?,
        ),
        (None, None, Some(b), Some(h)) => (dir_side(b, "base")?, dir_side(h, "head")?),
        _ => {
            return Err(Error::Usage(
                "give either --base REF --head REF, or --base-dir DIR --head-dir DIR".into(),
            ));
        }
    };
    let opts = Options {
        config_path: a.common.config.clone(),
    };
    let ro = gate::RunOptions {
        progress: true,
        shard: None,
        record_dir: a.common.out.clone(),
    };
    if let Some(shard) = a.shard {
        return check_shard(&base, &head, &opts, ro, shard, &a.common);
    }
    let mut report = gate::check_with(&base, &head, &opts, ro)?;
    if a.pr_body.is_some() || !a.labels.is_empty() {
        crate::action::local_review(
            &mut report,
            &base,
            &opts.config_path,
            a.pr_body.as_deref(),
            &a.labels,
        )?;
    }
    let override_tpl = template_override(base.tree.as_ref(), "report.md.j2")?;
    let md = || {
        markdown::render("report.md.j2", &report, override_tpl.as_deref())
            .map_err(|e| Error::Usage(format!("cannot render markdown report: {e:#}")))
    };
    if let Some(dir) = &a.common.out {
        write_out(dir, "report.json", &report.to_json())?;
        write_out(dir, "report.md", &md()?)?;
    }
    let stdout = match a.common.format {
        Format::Json => report.to_json(),
        Format::Markdown => md()?,
        Format::Text => terminal::check(&report, true),
    };
    Ok(Outcome {
        stdout,
        exit_code: report.verdict.exit_code(),
    })
}

/// `check --shard`: the slice's partial report; it gates nothing (exit 0), `merge` does.
fn check_shard(
    base: &Side,
    head: &Side,
    opts: &Options,
    ro: gate::RunOptions,
    shard: crate::shard::Shard,
    common: &CommonArgs,
) -> Result<Outcome> {
    let partial = gate::check_partial(base, head, opts, ro, shard)?;
    let override_tpl = template_override(base.tree.as_ref(), "report.md.j2")?;
    let md = || {
        markdown::render("report.md.j2", &partial.report, override_tpl.as_deref())
            .map_err(|e| Error::Usage(format!("cannot render markdown report: {e:#}")))
    };
    if let Some(dir) = &common.out {
        write_out(dir, "report.json", &partial.to_json())?;
        write_out(dir, "report.md", &md()?)?;
    }
    let stdout = match common.format {
        Format::Json => partial.to_json(),
        Format::Markdown => md()?,
        Format::Text => format!(
            "partial report of shard {shard} ({} of {} cases); the verdict comes from `costgate merge`\n{}",
            partial.report.cases.len(),
            partial.shard.dataset_cases,
            terminal::check(&partial.report, true)
        ),
    };
    Ok(Outcome {
        stdout,
        exit_code: 0,
    })
}

/// `costgate merge`: one verdict from every shard's partial report.
fn merge(a: MergeArgs) -> Result<Outcome> {
    let mut parts = Vec::new();
    for path in &a.reports {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{name}: {e}")))?;
        let part: crate::shard::PartialReport = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{name}: not a partial report of `costgate check --shard` ({e})"
            ))
        })?;
        parts.push((name, part));
    }
    let report = crate::shard::merge(parts)?;
    let md = || {
        markdown::render("report.md.j2", &report, None)
            .map_err(|e| Error::Usage(format!("cannot render markdown report: {e:#}")))
    };
    if let Some(dir) = &a.out {
        write_out(dir, "report.json", &report.to_json())?;
        write_out(dir, "report.md", &md()?)?;
    }
    let stdout = match a.format {
        Format::Json => report.to_json(),
        Format::Markdown => md()?,
        Format::Text => terminal::check(&report, true),
    };
    Ok(Outcome {
        stdout,
        exit_code: report.verdict.exit_code(),
    })
}

/// A repository's replacement for a built-in template, read from the base tree (policy).
fn template_override(tree: &dyn Tree, name: &str) -> Result<Option<String>> {
    tree.read_string(&format!("{}/{name}", markdown::OVERRIDE_DIR))
        .map_err(|source| Error::Tree {
            side: "base".into(),
            source,
        })
}

fn write_out(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&path, text))
        .map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        })
}

fn run_one(a: RunArgs) -> Result<Outcome> {
    let side = match (&a.rev, &a.dir) {
        (Some(rev), _) => Side::git(&a.repo, rev, "tree")?,
        (None, dir) => {
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from("."));
            if !dir.is_dir() {
                return Err(Error::Usage(format!(
                    "--dir {}: not a directory",
                    dir.display()
                )));
            }
            Side {
                name: "tree",
                tree: Arc::new(DirTree::new(&dir, dir.display().to_string())),
                commit: None,
            }
        }
    };
    let report = gate::run_with(
        &side,
        &Options {
            config_path: a.common.config.clone(),
        },
        gate::RunOptions {
            progress: true,
            shard: None,
            record_dir: a.common.out.clone(),
        },
    )?;
    if let Some(dir) = &a.common.out {
        write_out(dir, "report.json", &report.to_json())?;
    }
    let stdout = match a.common.format {
        Format::Json => report.to_json(),
        Format::Text | Format::Markdown => terminal::run(&report),
    };
    Ok(Outcome {
        stdout,
        exit_code: 0,
    })
}

fn tokens(a: TokensArgs, stdin: &mut dyn std::io::Read) -> Result<Outcome> {
    let (encoding, token_scale) = match (&a.encoding, &a.model) {
        (Some(name), None) => (
            name.parse::<Encoding>()
                .map_err(|e| Error::Usage(e.to_string()))?,
            1.0,
        ),
        (None, Some(model)) => {
            let table = match &a.config {
                None => PricingTable::builtin(),
                Some(path) => {
                    let (tree, cfg) = gate::load_config_file(path)?;
                    gate::load_pricing(&tree, &cfg).map_err(|d| Error::config("config", d))?
                }
            };
            let r = table
                .resolve(model)
                .map_err(|e| Error::Usage(format!("{e}; see `docs/pricing.md`")))?;
            (r.price.tokenizer, r.price.token_scale)
        }
        (None, None) => (Encoding::O200kBase, 1.0),
        (Some(_), Some(_)) => {
            return Err(Error::Usage("give --encoding or --model, not both".into()));
        }
    };
    let count = |text: &str| tokenize::scale(encoding.count(text), token_scale);
    let read_text = |name: String, bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|e| {
            Error::Usage(format!(
                "{name}: not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })
    };
    let mut stdout = String::new();
    if a.files.is_empty() {
        let mut buf = Vec::new();
        stdin
            .read_to_end(&mut buf)
            .map_err(|e| Error::Usage(format!("cannot read stdin: {e}")))?;
        stdout = format!("{}\n", count(&read_text("<stdin>".into(), buf)?));
    } else {
        let several = a.files.len() > 1;
        for f in &a.files {
            let bytes =
                std::fs::read(f).map_err(|e| Error::Usage(format!("{}: {e}", f.display())))?;
            let n = count(&read_text(f.display().to_string(), bytes)?);
            if several {
                stdout.push_str(&format!("{n}\t{}\n", f.display()));
            } else {
                stdout.push_str(&format!("{n}\n"));
            }
        }
    }
    Ok(Outcome {
        stdout,
        exit_code: 0,
    })
}
