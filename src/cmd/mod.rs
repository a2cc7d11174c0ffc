//! The command layer: argument definitions, one module per command (or family), the one
//! [`Outcome`] every command returns, and the one output helper. Library modules never import from
//! here; commands resolve their arguments once, call the library, and hand back text and an exit
//! code for `main.rs` to print. The environment variables costgate reads are listed in [`env`](mod@env).

mod action;
mod backtest;
mod baseline;
mod calibrate;
mod check;
mod drift;
pub mod env;
mod init;
mod mock;
mod output;
mod pricing;
pub mod printer;
mod refresh;
mod tokens;

use clap::{Parser, Subcommand, ValueEnum};

use crate::infra::error::Result;

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
    Check(check::CheckArgs),
    /// Price the golden dataset at one tree and write its report.
    Run(check::RunArgs),
    /// Count tokens in files (or stdin) exactly as the gate does.
    Tokens(tokens::TokensArgs),
    /// Re-baseline: per-case expected_cost_band in the golden files and .cost-baseline.yaml.
    Baseline(baseline::BaselineArgs),
    /// Compare offline token counts with Bedrock invocation logs; learn token scales and output lengths.
    Calibrate(calibrate::CalibrateArgs),
    /// Replay the gate over the last N merges of a branch: how often it would have fired.
    Backtest(backtest::BacktestArgs),
    /// Cumulative drift of a branch against the baseline and the last release tag, with history and chart.
    Drift(drift::DriftArgs),
    /// Set a repository up: golden cases from invocation logs, costgate.yaml, routes or a harness
    /// skeleton, and the workflow.
    Init(init::InitArgs),
    /// Keep the golden dataset alive: retire the oldest cases, add fresh production queries from invocation logs.
    Refresh(refresh::RefreshArgs),
    /// The GitHub Action entry point: reads the runner's environment (INPUT_*, GITHUB_*).
    Action,
    /// The Bedrock Runtime stand-in: answers the AWS SDKs with exact token counts.
    Mock(mock::MockArgs),
    /// Combine the partial reports of `check --shard I/N` runs into one verdict.
    Merge(check::MergeArgs),
    /// The effective price table with sources, dates and lifecycle; --check flags stale entries
    /// and models used past their end of life.
    Pricing(pricing::PricingArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// What a command produced: text for stdout and the process exit code.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: Stdout,
    pub exit_code: i32,
}

/// Writes a document to stdout as it is serialised.
pub type Stream = Box<dyn FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>>;

/// What goes to stdout: text, or a document written as it is serialised, which spares a
/// 100,000-case report.json its 100 MB copy in memory.
pub enum Stdout {
    Text(String),
    Stream(Stream),
}

impl Stdout {
    /// Pretty JSON with a final newline, the form of [`crate::gate::report::pretty_json`].
    pub fn json<T: serde::Serialize + 'static>(value: T) -> Stdout {
        Stdout::Stream(Box::new(move |w| {
            serde_json::to_writer_pretty(&mut *w, &value)?;
            w.write_all(b"\n")
        }))
    }

    /// The text, serialising a stream into memory.
    pub fn into_string(self) -> String {
        match self {
            Stdout::Text(s) => s,
            Stdout::Stream(f) => {
                let mut buf = Vec::new();
                // Writing into memory fails only on serialisation errors, which plain data has not.
                let _ = f(&mut buf);
                String::from_utf8(buf).unwrap_or_default()
            }
        }
    }

    pub fn write_to(self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Stdout::Text(s) => w.write_all(s.as_bytes()),
            Stdout::Stream(f) => f(w),
        }
    }
}

impl std::fmt::Debug for Stdout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stdout::Text(s) => f.debug_tuple("Text").field(s).finish(),
            Stdout::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl From<String> for Stdout {
    fn from(s: String) -> Stdout {
        Stdout::Text(s)
    }
}

impl Outcome {
    /// Text that gates nothing (exit 0).
    pub fn text(stdout: String) -> Outcome {
        Outcome {
            stdout: stdout.into(),
            exit_code: 0,
        }
    }
}

/// Runs a parsed command. `stdin` supplies input for `tokens` without files.
pub fn run(cli: Cli, stdin: &mut dyn std::io::Read) -> Result<Outcome> {
    let env = env::Vars::from_process()?;
    let redactor = env.redactor();
    let printer = printer::Printer::detect();
    let outcome = match cli.command {
        Command::Check(a) => check::check(a, &env, &printer),
        Command::Run(a) => check::run(a, &env, &printer),
        Command::Merge(a) => check::merge(a, &env),
        Command::Tokens(a) => tokens::tokens(a, stdin),
        Command::Baseline(a) => baseline::baseline(a, &env, &printer),
        Command::Calibrate(a) => calibrate::calibrate(a, &env),
        Command::Backtest(a) => backtest::backtest(a, &env, &printer),
        Command::Drift(a) => drift::drift(a, &env, &printer),
        Command::Init(a) => init::init(a, &env),
        Command::Refresh(a) => refresh::refresh(a, &env),
        Command::Action => action::action(&env),
        Command::Pricing(a) => pricing::pricing(a, &env),
        Command::Mock(a) => mock::mock(a),
    };
    // Nothing a command prints may carry a secret, whichever API echoed it.
    match outcome {
        Ok(o) => {
            let stdout = match o.stdout {
                // A stream is written as it is produced; with secrets to mask it is materialised.
                Stdout::Stream(f) if redactor.is_empty() => Stdout::Stream(f),
                other => Stdout::Text(redactor.redact_log(other.into_string())),
            };
            Ok(Outcome {
                stdout,
                exit_code: o.exit_code,
            })
        }
        Err(e) => Err(e.redacted(&redactor)),
    }
}
