//! The `costgate` binary: parses arguments, runs the command, prints its output, and turns errors
//! into exit codes (0: pass or warn, 1: fail, 2: usage or configuration, 3: no verdict possible;
//! docs/verdict.md).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// The system allocator under a ceiling, so hostile input ends the run with a message naming
/// what was running instead of exhausting the machine (`costgate::infra::memory`).
#[global_allocator]
static ALLOC: costgate::infra::memory::Capped<std::alloc::System> =
    costgate::infra::memory::Capped::new(std::alloc::System);

fn main() -> ExitCode {
    ALLOC.set_limit(costgate::cmd::env::memory_limit_bytes());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("COSTGATE_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = costgate::cmd::Cli::parse();
    match costgate::cmd::run(cli, &mut std::io::stdin().lock()) {
        Ok(outcome) => {
            let mut out = std::io::BufWriter::new(anstream::stdout());
            match outcome.stdout.write_to(&mut out).and_then(|_| out.flush()) {
                // A reader that stops early (`| head`) is a clean end: the verdict stands.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    let _ = writeln!(anstream::stderr(), "error: cannot write the output: {e}");
                    ExitCode::from(3)
                }
                _ => ExitCode::from(outcome.exit_code as u8),
            }
        }
        Err(err) => {
            let mut msg = format!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                msg.push_str(&format!("\n  caused by: {s}"));
                source = s.source();
            }
            let _ = writeln!(anstream::stderr(), "{msg}");
            ExitCode::from(err.exit_code() as u8)
        }
    }
}
