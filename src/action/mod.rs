//! `costgate action`: the GitHub Action entry point (docs/action.md), and the local form of the
//! review layers used by `costgate check --pr-body/--labels`.

pub mod comment;
mod companion;
pub mod env;
pub mod facts;
mod git;
pub mod log;
pub mod run;
mod sides;
pub mod sticky;
mod subtree;
mod ticket;

pub use companion::sanitise;

use std::path::Path;

use crate::gate::report::Report;
use crate::gate::review::{self, Facts};
use crate::infra::error::{Error, Result};
use crate::measure::config::Config;

/// What a run of the Action leaves for `main.rs`: the runner log (workflow commands and plain
/// text, printed on stdout) and the exit code.
#[derive(Debug)]
pub struct Finished {
    pub log: String,
    pub exit_code: i32,
}

/// Applies justification and labels given on the command line. There is no approver identity
/// locally, so a justified fail is `review_required` and an override label is not honoured.
pub fn local_review(
    report: &mut Report,
    config: &Config,
    pr_body: Option<&Path>,
    labels: &[String],
) -> Result<()> {
    let body = match pr_body {
        None => None,
        Some(p) => Some(read_body(p)?),
    };
    let facts = Facts {
        pr_body: body,
        labels: labels
            .iter()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        approvers: approver_rules(config),
        no_sign_off_reason: Some(
            "sign-off is read from GitHub reviews; a local run cannot see them".into(),
        ),
        ..Default::default()
    };
    review::apply(report, config, &facts);
    Ok(())
}

fn read_body(p: &Path) -> Result<String> {
    let bytes =
        std::fs::read(p).map_err(|e| Error::Usage(format!("--pr-body {}: {e}", p.display())))?;
    // A PR body is user text: invalid UTF-8 is replaced rather than refused.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Who may approve, as the comment lists it: named users, then the permission and team rules.
pub fn approver_rules(config: &Config) -> Vec<String> {
    let a = &config.approvers;
    let mut v: Vec<String> = a.users.clone();
    let perm = serde_json::to_value(a.min_permission)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    v.push(format!("anyone with {perm} permission or higher"));
    v.extend(a.teams.iter().map(|t| format!("members of {t}")));
    v
}
