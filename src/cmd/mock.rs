//! `costgate mock`: runs the stand-in in the foreground until SIGTERM or SIGINT, then shuts down
//! gracefully (in-flight requests finish, the record file is flushed).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::Outcome;
use crate::infra::error::{Error, Result};
use crate::standin::{Server, setup};

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

pub fn mock(a: MockArgs) -> Result<Outcome> {
    let mut settings = setup::from_config(a.config.as_deref())?;
    settings.record = a.record.clone();
    let cases = settings.cases.len();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Run(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let server = Server::start(&a.addr, settings).await.map_err(|e| match &a.record {
            Some(r) if e.kind() != std::io::ErrorKind::AddrInUse && e.kind() != std::io::ErrorKind::AddrNotAvailable => {
                Error::Usage(format!("cannot start the stand-in on {} with --record {}: {e}", a.addr, r.display()))
            }
            _ => Error::Usage(format!("cannot listen on {}: {e}", a.addr)),
        })?;
        if let Some(f) = &a.ready_file {
            write_ready(f, &server.addr().to_string())?;
        }
        // The one line a person starting the stand-in by hand needs; stdout is the command's result.
        let url = server.url();
        let _ = writeln!(
            std::io::stderr(),
            "costgate mock: Bedrock Runtime stand-in on {url} ({cases} golden cases for attribution); set AWS_ENDPOINT_URL_BEDROCK_RUNTIME={url}"
        );
        shutdown_signal().await;
        let served = server.state().progress().1;
        let skipped = server.state().skipped_tools();
        server.shutdown().await.map_err(|e| Error::Run(format!("stand-in stopped with an error: {e}")))?;
        let mut out = format!("costgate mock: served {served} calls\n");
        for (tool, n) in skipped {
            out.push_str(&format!(
                "costgate mock: skipped the scripted tool `{tool}` in {n} call(s): the request did not declare it\n"
            ));
        }
        Ok(Outcome::text(out))
    })
}

/// Writes the ready file atomically, so a poller never reads half an address.
fn write_ready(path: &Path, addr: &str) -> Result<()> {
    let tmp = path.with_extension("tmp-costgate");
    std::fs::write(&tmp, format!("{addr}\n"))
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
