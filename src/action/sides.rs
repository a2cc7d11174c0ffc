//! The Action's first two phases: read the event, resolve base and head from the inputs, the event
//! and git (trusting the checkout, fetching what a shallow clone lacks), then load both sides once
//! and price them. Without a verdict the summary and `verdict=error` say so before the error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::env::{self, Inputs, RunnerEnv};
use super::git;
use super::log::Log;
use super::subtree::SubTree;
use crate::clients::github::{Event, PullRequest};
use crate::gate::report::Report;
use crate::gate::{self, Inputs as Loaded, Options, RunOptions, Side};
use crate::infra::error::{Error, Result};
use crate::infra::tree::GitTree;
use crate::output::markdown;
use crate::output::templates::Templates;

pub(super) fn read_event(env: &RunnerEnv) -> Result<(String, Option<Event>)> {
    let Some(event_name) = env.var("GITHUB_EVENT_NAME") else {
        return Err(Error::Usage(
            "`costgate action` is the GitHub Action's entry point and reads the runner's environment (GITHUB_EVENT_NAME is not set); outside a workflow run `costgate check --base REF --head REF`, with `--pr-body FILE --labels a,b` for the justification and override rules".into(),
        ));
    };
    let event = match env.var("GITHUB_EVENT_PATH") {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| Error::Usage(format!("GITHUB_EVENT_PATH {p}: {e}")))?;
            Some(serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!("GITHUB_EVENT_PATH {p}: not a webhook event: {e}"))
            })?)
        }
        None => None,
    };
    Ok((event_name, event))
}

/// The two sides and where results go, resolved from the inputs, the event and git.
pub(super) struct Prepared {
    pub base: Side,
    pub head: Side,
    pub scope: Option<String>,
    pub out_dir: OutDir,
}

/// Where report.json and costgate-comment.json go.
#[derive(Debug, Clone)]
pub(super) struct OutDir {
    /// The directory as this process writes it.
    pub write: PathBuf,
    /// The same directory as later steps of the job see it, when that differs from `write`
    /// (a container action writes `/github/runner_temp/…`, the runner reads `$RUNNER_TEMP/…`).
    pub shown: Option<PathBuf>,
}

/// The container path the runner mounts its temporary directory at, for container actions.
const CONTAINER_RUNNER_TEMP: &str = "/github/runner_temp";

/// `costgate-out` (or `costgate-out-<scope>` for a scoped step) in the runner's temporary
/// directory, so that nothing is written into the checkout; `.costgate-out` in the working
/// directory outside a runner.
fn default_out_dir(env: &RunnerEnv, scope: Option<&str>, dir: &Path) -> OutDir {
    let name = match scope {
        None => "costgate-out".to_string(),
        Some(s) => {
            let slug: String = s
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!("costgate-out-{}", slug.trim_matches('-'))
        }
    };
    let Some(temp) = env.var("RUNNER_TEMP") else {
        return OutDir {
            write: dir.join(".costgate-out"),
            shown: None,
        };
    };
    let host = Path::new(&temp).join(&name);
    // In a container action RUNNER_TEMP is the runner's host path; the directory itself is
    // mounted at /github/runner_temp.
    let mounted = Path::new(CONTAINER_RUNNER_TEMP);
    if !Path::new(&temp).is_dir() && mounted.is_dir() {
        return OutDir {
            write: mounted.join(&name),
            shown: Some(host),
        };
    }
    OutDir {
        write: host,
        shown: None,
    }
}

/// Phase 1: trust the checkout, find base and head, fetch them if the clone is shallow.
pub(super) fn prepare(
    env: &RunnerEnv,
    inputs: &Inputs,
    pr: Option<&PullRequest>,
    event_name: &str,
    log: &mut Log,
) -> Result<Prepared> {
    let dir = env::working_dir(env, inputs)?;
    // git checks the owner of the repository root, which is the workspace unless a nested
    // repository is the working directory.
    if let Some(ws) = env.var("GITHUB_WORKSPACE") {
        git::trust(Path::new(&ws))?;
    }
    git::trust(&dir)?;
    let prefix = git::prefix(&dir)?;
    let base_rev = inputs.base_ref.clone().or_else(|| pr.map(|p| p.base.sha.clone())).ok_or_else(|| {
        Error::Usage(format!("event `{event_name}` has no pull request: set the `base-ref` input (for example the target branch's sha)"))
    })?;
    let head_rev = inputs
        .head_ref
        .clone()
        .or_else(|| env.var("GITHUB_SHA"))
        .or_else(|| pr.map(|p| p.head.sha.clone()))
        .ok_or_else(|| Error::Usage("no head: set the `head-ref` input".into()))?;
    for (rev, what) in [(&base_rev, "base"), (&head_rev, "head")] {
        if let Some(note) = git::ensure_commit(&dir, rev, what)? {
            log.line(note);
        }
    }
    let side = |rev: &str, name: &'static str| -> Result<Side> {
        let label = format!("{name} ({})", crate::infra::fmt::short_sha(rev));
        let t = GitTree::open(&dir, rev, label).map_err(|source| Error::Tree {
            side: name.into(),
            source,
        })?;
        let commit = Some(t.commit().to_string());
        Ok(Side {
            name,
            tree: Arc::new(SubTree::new(Arc::new(t), &prefix)),
            commit,
        })
    };
    let scope = match (&inputs.working_directory, inputs.config.as_str()) {
        (None, crate::measure::config::DEFAULT_PATH) => None,
        (wd, cfg) => Some(format!("{}:{cfg}", wd.as_deref().unwrap_or("."))),
    };
    let out_dir = match &inputs.out_dir {
        Some(o) => OutDir {
            write: dir.join(o),
            shown: None,
        },
        None => default_out_dir(env, scope.as_deref(), &dir),
    };
    Ok(Prepared {
        base: side(&base_rev, "base")?,
        head: side(&head_rev, "head")?,
        scope,
        out_dir,
    })
}

/// Phase 2: load both sides once and price them. Without a verdict, say so where the reader
/// looks (summary, `verdict=error`), then fail with the error's exit code.
pub(super) fn price(
    env: &RunnerEnv,
    inputs: &Inputs,
    p: &Prepared,
) -> Result<(Loaded, Templates, Report)> {
    let opts = Options {
        config_path: inputs.config.clone(),
    };
    let priced = Loaded::load(&p.base, &p.head, &opts).and_then(|loaded| {
        let templates =
            Templates::from_tree(p.base.tree.as_ref()).map_err(|e| Error::Usage(e.to_string()))?;
        let report = gate::check_inputs(&loaded, &RunOptions::default())?;
        Ok((loaded, templates, report))
    });
    priced.inspect_err(|e| {
        let text = format!(
            "## ❗ costgate: no verdict\n\n{}\n",
            markdown::escape(&inputs.redactor().redact(&e.to_string()))
        );
        if let Some(p) = env.var("GITHUB_STEP_SUMMARY") {
            let _ = crate::infra::files::append_file(Path::new(&p), &text);
        }
        if let Some(p) = env.var("GITHUB_OUTPUT") {
            let _ = env::write_outputs(Path::new(&p), &[("verdict", "error".into())]);
        }
    })
}
