//! Git chores of a container step: trusting a workspace owned by another user (`safe.directory`),
//! and making sure the base commit is present in a shallow checkout (fetched at depth 1 with the
//! credentials actions/checkout persisted, or reported with the checkout option that fixes it).

use std::path::Path;
use std::process::Command;

use crate::infra::error::{Error, Result};

fn git(dir: &Path, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
}

/// Marks `dir` as safe for git. The runner mounts the workspace owned by its own user, and git
/// refuses to read a repository owned by someone else ("dubious ownership").
pub fn trust(dir: &Path) -> Result<()> {
    let path = dir.display().to_string();
    let listed = git(dir, &["config", "--global", "--get-all", "safe.directory"])
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == path || l == "*")
        })
        .unwrap_or(false);
    if listed {
        return Ok(());
    }
    let out = git(
        dir,
        &["config", "--global", "--add", "safe.directory", &path],
    )
    .map_err(|e| Error::Run(format!("cannot run git: {e}; the image needs git")))?;
    if !out.status.success() {
        return Err(Error::Run(format!(
            "git config safe.directory failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

fn has_commit(dir: &Path, rev: &str) -> bool {
    git(dir, &["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_ok_and(|o| o.status.success())
}

/// Makes sure `rev` is available, fetching it (depth 1) when the checkout is shallow. Returns a note
/// for the log when it fetched.
pub fn ensure_commit(dir: &Path, rev: &str, what: &str) -> Result<Option<String>> {
    if has_commit(dir, rev) {
        return Ok(None);
    }
    let is_sha = rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit());
    let refspec = if is_sha {
        rev.to_string()
    } else {
        format!("+{rev}:{rev}")
    };
    let fetched = git(
        dir,
        &["fetch", "--no-tags", "--depth=1", "origin", &refspec],
    );
    if has_commit(dir, rev) {
        return Ok(Some(format!(
            "fetched the {what} commit {rev} (depth 1): the checkout was shallow"
        )));
    }
    let why = match fetched {
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .to_string(),
        Err(e) => e.to_string(),
    };
    Err(Error::Run(format!(
        "the {what} commit {rev} is not in the checkout and fetching it failed ({why}); \
         add `fetch-depth: 0` to the actions/checkout step (with: fetch-depth: 0), or keep its default `persist-credentials: true` so costgate can fetch it"
    )))
}

/// The working directory's path inside its repository (`services/chat/`, or empty at the root).
pub fn prefix(dir: &Path) -> Result<String> {
    let out = git(dir, &["rev-parse", "--show-prefix"])
        .map_err(|e| Error::Run(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::Run(format!(
            "{} is not inside a git checkout ({}); run actions/checkout before costgate",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
