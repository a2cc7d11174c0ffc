//! Every environment variable costgate reads, in one place, read once per run. Library code takes
//! what it needs as arguments (a [`Clock`], credentials, a path), so nothing below the command layer
//! looks at the process environment behind its caller's back, with one exception: the harness
//! child's environment is built where it is spawned (`harness/process.rs` passes the allow-listed
//! toolchain variables, `harness/isolation.rs` reads `COSTGATE_HARNESS_ISOLATION` and `PATH`).
//!
//! | variable | read by | meaning |
//! |---|---|---|
//! | `COSTGATE_LOG` | `main.rs` | tracing filter for diagnostics on stderr (`debug`, `costgate=trace`) |
//! | `COSTGATE_MEMORY_LIMIT_MB` | `main.rs` | live-heap ceiling (default 4096); crossing it ends the run naming what was rendering ([`crate::infra::memory`]) |
//! | `COSTGATE_TODAY` | every command | pins "today" (`YYYY-MM-DD`): re-baseline due dates, drift weeks, override windows |
//! | `NO_COLOR` | terminal output | plain text even on a terminal (anstream) |
//! | `GITHUB_STEP_SUMMARY` | `drift`, `action` | file the markdown summary is appended to |
//! | `JIRA_URL`, `JIRA_USER`, `JIRA_TOKEN` | `drift` | credentials for the weekly drift ticket |
//! | `INPUT_*`, `GITHUB_*`, `RUNNER_*` | `action` | the runner's inputs and context ([`crate::action::env`]) |
//! | `GITHUB_TOKEN`, `ACTIONS_RUNTIME_TOKEN`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | every command | never used; only masked in everything printed ([`crate::infra::redact`]) |
//! | `COSTGATE_HARNESS_ISOLATION` | harness mode | `off` runs the harness without PID/mount namespaces ([`crate::harness`]) |
//! | toolchain variables (`PATH`, `HOME`, `LANG`, `VIRTUAL_ENV`, …) | harness mode | passed to the harness by allow-list ([`crate::harness`]) |

use std::path::PathBuf;

use crate::action::env::RunnerEnv;
use crate::clients::jira::Credentials;
use crate::infra::clock::Clock;
use crate::infra::error::{Error, Result};

/// The memory ceiling in bytes: `COSTGATE_MEMORY_LIMIT_MB`, else the default. Read by `main.rs`
/// before anything else, so it cannot go through [`Vars`].
pub fn memory_limit_bytes() -> usize {
    std::env::var("COSTGATE_MEMORY_LIMIT_MB")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(crate::infra::memory::DEFAULT_LIMIT_MB)
        .saturating_mul(1 << 20)
}

/// The environment as the commands use it. No `Debug`: it holds tokens.
pub struct Vars {
    pub clock: Clock,
    /// The snapshot every other variable is read from (`costgate action` reads `INPUT_*` and
    /// `GITHUB_*` through it).
    pub runner: RunnerEnv,
}

impl Vars {
    /// Reads the process environment once.
    pub fn from_process() -> Result<Vars> {
        let runner = RunnerEnv::from_process();
        let clock = Clock::pinned_or_system(runner.var("COSTGATE_TODAY").as_deref())
            .map_err(Error::Usage)?;
        Ok(Vars { clock, runner })
    }

    /// `GITHUB_STEP_SUMMARY`, where `drift` appends its summary by default.
    pub fn step_summary(&self) -> Option<PathBuf> {
        self.runner.var("GITHUB_STEP_SUMMARY").map(PathBuf::from)
    }

    /// Everything secret this process could hold, masked in whatever it prints: the Action's
    /// token inputs, the runner's own tokens, JIRA and AWS credentials.
    pub fn redactor(&self) -> crate::infra::redact::Redactor {
        const SECRET_VARS: [&str; 9] = [
            "GITHUB_TOKEN",
            "ACTIONS_RUNTIME_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "JIRA_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "INPUT_GITHUB-TOKEN",
            "INPUT_APPROVER-TOKEN",
            "INPUT_JIRA-TOKEN",
        ];
        let values: Vec<String> = SECRET_VARS
            .iter()
            .filter_map(|k| {
                self.runner
                    .var(k)
                    .or_else(|| self.runner.var(&k.replace('-', "_")))
            })
            .collect();
        let users: Vec<String> = ["JIRA_USER", "INPUT_JIRA-USER", "INPUT_JIRA_USER"]
            .iter()
            .filter_map(|k| self.runner.var(k))
            .collect();
        let users: Vec<&str> = users.iter().map(String::as_str).collect();
        crate::infra::redact::Redactor::new(values.iter().map(String::as_str), &users)
    }

    /// JIRA credentials for `drift`; `None` when `JIRA_TOKEN` is unset or empty (the ticket is
    /// then reported, not filed).
    pub fn jira_credentials(&self) -> Option<Credentials> {
        Some(Credentials {
            url: self.runner.var("JIRA_URL"),
            user: self.runner.var("JIRA_USER"),
            token: self.runner.var("JIRA_TOKEN")?,
            timeout: std::time::Duration::from_secs(30),
        })
    }
}
