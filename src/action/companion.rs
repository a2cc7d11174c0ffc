//! The fork-safe `workflow_run` companion: a PR from a fork runs with a read-only token, so the
//! gate job uploads `costgate-comment.json` as an artifact and this second workflow (running in the
//! base repository with a write token, never checking out fork code) posts it as the sticky comment.
//! The artifact was produced by a workflow the fork could have edited, so it is checked against the
//! triggering run (the PR's head must be the run's head commit) and its markup is re-sanitised.

use std::path::Path;

use serde::Deserialize;

use super::comment::{MARKER_PREFIX, MAX_BODY_CHARS, MarkerRecord};
use super::env::{Inputs, RunnerEnv};
use super::log::Log;
use super::{Finished, sticky};
use crate::clients::github::{Event, PullRequest};
use crate::infra::error::{Error, Result};

#[derive(Deserialize)]
struct Artifact {
    pr: u64,
    head_sha: String,
    body: String,
}

/// Tags our template emits; every other `<` is escaped.
const ALLOWED_TAGS: [&str; 4] = ["<details>", "</details>", "<summary>", "</summary>"];

/// Makes an untrusted comment body inert except for the markup costgate itself writes.
pub fn sanitise(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find(['<', '@']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix('@') {
            out.push_str("@\u{200b}");
            rest = after;
        } else if let Some(tag) = ALLOWED_TAGS.iter().find(|t| tail.starts_with(**t)) {
            out.push_str(tag);
            rest = &tail[tag.len()..];
        } else {
            out.push_str("&lt;");
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

pub(super) async fn run(
    env: &RunnerEnv,
    inputs: &Inputs,
    event: Option<&Event>,
    mut log: Log,
) -> Result<Finished> {
    let run = event
        .and_then(|e| e.workflow_run.as_ref())
        .ok_or_else(|| Error::Usage("workflow_run event without `workflow_run`".into()))?;
    let dir = inputs.comment_from.as_deref().ok_or_else(|| {
        Error::Usage(
            "the workflow_run companion needs the `comment-from` input: the directory where the gate's artifact was downloaded".into(),
        )
    })?;
    let path = Path::new(dir).join("costgate-comment.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Usage(format!(
            "{}: {e}; did the gate job upload its costgate-out directory (runner.temp) as the artifact?",
            path.display()
        ))
    })?;
    let a: Artifact = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    if a.head_sha != run.head_sha {
        return Err(Error::Usage(format!(
            "the artifact is for commit {} but the workflow run is for {}: refusing to post it",
            a.head_sha, run.head_sha
        )));
    }
    let repo = env.require("GITHUB_REPOSITORY", "the runner sets it")?;
    let gh = inputs.github(env, &repo, inputs.github_token.as_deref())?;
    let pr: PullRequest = gh
        .get(&gh.repo_path(&format!("/pulls/{}", a.pr)))
        .await
        .map_err(|e| Error::Run(e.to_string()))?;
    if pr.head.sha != run.head_sha {
        return Err(Error::Usage(format!(
            "PR #{} is at {} now, not the run's {}: a newer run will post its own comment",
            a.pr, pr.head.sha, run.head_sha
        )));
    }
    let record = MarkerRecord::from_body(&a.body).unwrap_or_default();
    let rest: String = a
        .body
        .lines()
        .filter(|l| !l.starts_with(MARKER_PREFIX))
        .collect::<Vec<_>>()
        .join("\n");
    let mut body = format!(
        "{}\n{}",
        MarkerRecord {
            v: 1,
            ..record.clone()
        }
        .to_marker(),
        sanitise(&rest)
    );
    if body.chars().count() > MAX_BODY_CHARS {
        body = body.chars().take(MAX_BODY_CHARS - 100).collect::<String>() + "\n\n… (truncated)";
    }
    let identity = sticky::identity(&gh, inputs.comment_author.as_deref()).await;
    let verdict = record
        .verdict
        .unwrap_or(crate::gate::verdict::Verdict::Fail);
    let thread = sticky::Thread {
        gh: &gh,
        pr: a.pr,
        identity: &identity,
        scope: record.scope.as_deref(),
    };
    let (o, _) = sticky::publish(
        thread,
        verdict,
        crate::measure::config::OnPass::Silent,
        |_| body,
    )
    .await
    .map_err(|e| Error::Run(e.to_string()))?;
    log.line(format!(
        "comment: {}",
        serde_json::to_string(&o).unwrap_or_default()
    ));
    Ok(Finished {
        log: log.into_string(),
        exit_code: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitise_keeps_our_tags_and_defuses_the_rest() {
        let s = sanitise(
            "<details><summary>x</summary> <img src=x> @team <!-- costgate:sticky {} --></details>",
        );
        assert_eq!(
            s,
            "<details><summary>x</summary> &lt;img src=x> @\u{200b}team &lt;!-- costgate:sticky {} --></details>"
        );
    }
}
