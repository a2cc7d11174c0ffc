//! One comment per PR, found by its hidden marker among the comments written by costgate's own
//! identity (a marker pasted into someone else's comment is ignored), created once and then updated
//! in place. Silent on pass unless a comment exists (docs/action.md).

use serde::Serialize;

use super::comment::MarkerRecord;
use crate::clients::github::{Comment, GhError, GitHub, User};
use crate::gate::verdict::Verdict;
use crate::measure::config::OnPass;

/// The identity comments are written as. `GET /user` works for personal and app user tokens; the
/// workflow token (an installation token) gets 403, and its comments are by `github-actions[bot]`.
pub async fn identity(gh: &GitHub, configured: Option<&str>) -> String {
    if let Some(c) = configured.filter(|c| !c.trim().is_empty()) {
        return c.trim().to_string();
    }
    match gh.get::<User>("/user").await {
        Ok(u) => u.login,
        Err(e) => {
            tracing::debug!("GET /user: {e}; assuming the workflow token's identity");
            "github-actions[bot]".to_string()
        }
    }
}

/// Where costgate's sticky comment lives: PR `pr`, written as `identity`, for `scope` (set when
/// several costgate steps gate one repository, e.g. one per `working-directory` of a monorepo).
#[derive(Clone, Copy)]
pub struct Thread<'a> {
    pub gh: &'a GitHub,
    pub pr: u64,
    pub identity: &'a str,
    pub scope: Option<&'a str>,
}

/// The sticky comment of `t`, if costgate wrote one.
pub async fn find(t: Thread<'_>) -> Result<Option<Comment>, GhError> {
    let comments: Vec<Comment> =
        t.gh.get_all(&t.gh.repo_path(&format!("/issues/{}/comments", t.pr)), 30)
            .await?;
    Ok(comments
        .into_iter()
        .find(|c| is_ours(c, t.identity, t.scope)))
}

/// Written by `identity`, with a marker for `scope`.
pub fn is_ours(c: &Comment, identity: &str, scope: Option<&str>) -> bool {
    c.user
        .as_ref()
        .is_some_and(|u| u.login.eq_ignore_ascii_case(identity))
        && c.body
            .as_deref()
            .and_then(MarkerRecord::from_body)
            .is_some_and(|r| r.scope.as_deref() == scope)
}

/// What happened to the comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Outcome {
    Created {
        id: u64,
        url: Option<String>,
    },
    Updated {
        id: u64,
        url: Option<String>,
    },
    /// Nothing posted (pass with no earlier comment, or commenting disabled).
    Skipped {
        why: String,
    },
}

impl Outcome {
    pub fn url(&self) -> Option<&str> {
        match self {
            Outcome::Created { url, .. } | Outcome::Updated { url, .. } => url.as_deref(),
            Outcome::Skipped { .. } => None,
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    body: &'a str,
}

/// Whether a run with `verdict` posts a new comment / updates an existing one, under `on_pass`.
pub fn wants(verdict: Verdict, on_pass: OnPass, existing: Option<&MarkerRecord>) -> (bool, bool) {
    if verdict != Verdict::Pass {
        return (true, true);
    }
    match on_pass {
        OnPass::Always => (true, true),
        OnPass::UpdateExisting => (false, true),
        // Update only to say the earlier regression is gone.
        OnPass::Silent => (
            false,
            existing.is_some_and(|r| r.verdict != Some(Verdict::Pass)),
        ),
    }
}

/// Creates or updates the sticky comment with `body`. `existing` is the result of [`find`];
/// `create` and `update` come from [`wants`].
pub async fn upsert(
    t: Thread<'_>,
    existing: Option<Comment>,
    body: &str,
    (create, update): (bool, bool),
) -> Result<Outcome, GhError> {
    let gh = t.gh;
    if let Some(c) = existing {
        if !update {
            return Ok(Outcome::Skipped {
                why: "pass: the existing comment is left as it is".into(),
            });
        }
        let path = gh.repo_path(&format!("/issues/comments/{}", c.id));
        match gh.patch::<_, Comment>(&path, &Body { body }).await {
            Ok(updated) => {
                return Ok(Outcome::Updated {
                    id: updated.id,
                    url: updated.html_url.or(c.html_url),
                });
            }
            // Deleted since it was found (or by hand between runs): the PR must not be left
            // without its comment, so it is posted again.
            Err(e) if e.is_not_found() => {
                tracing::warn!("{e}; the comment was deleted, posting it again");
            }
            Err(e) => return Err(e),
        }
    } else if !create {
        return Ok(Outcome::Skipped {
            why: "pass: no earlier costgate comment, so nothing is posted".into(),
        });
    }
    let path = gh.repo_path(&format!("/issues/{}/comments", t.pr));
    match gh.post::<_, Comment>(&path, &Body { body }).await {
        Ok(c) => one_comment(t, c, body).await,
        Err(e) if e.is_transient() => {
            // The POST may have gone through before the error: look before posting again, so a
            // retry never leaves two comments.
            tracing::warn!("{e}; checking whether the comment was created");
            if let Some(c) = find(t).await? {
                let updated: Comment = gh
                    .patch(
                        &gh.repo_path(&format!("/issues/comments/{}", c.id)),
                        &Body { body },
                    )
                    .await?;
                return Ok(Outcome::Updated {
                    id: updated.id,
                    url: updated.html_url,
                });
            }
            let c: Comment = gh.post(&path, &Body { body }).await?;
            Ok(Outcome::Created {
                id: c.id,
                url: c.html_url,
            })
        }
        Err(e) => Err(e),
    }
}

/// After creating: a run for the same PR at the same time may have created one too (both found
/// none). The oldest of costgate's comments is the PR's; the younger ones are deleted, and when
/// ours was younger the oldest gets our body. Both runs doing this leave one comment.
async fn one_comment(t: Thread<'_>, created: Comment, body: &str) -> Result<Outcome, GhError> {
    let gh = t.gh;
    let Ok(all) = gh
        .get_all::<Comment>(&gh.repo_path(&format!("/issues/{}/comments", t.pr)), 30)
        .await
    else {
        return Ok(Outcome::Created {
            id: created.id,
            url: created.html_url,
        });
    };
    let mut ours: Vec<&Comment> = all
        .iter()
        .filter(|c| is_ours(c, t.identity, t.scope))
        .collect();
    ours.sort_by_key(|c| c.id);
    let Some(oldest) = ours.first().copied() else {
        return Ok(Outcome::Created {
            id: created.id,
            url: created.html_url,
        });
    };
    for younger in &ours[1..] {
        gh.delete(&gh.repo_path(&format!("/issues/comments/{}", younger.id)))
            .await?;
    }
    if oldest.id == created.id {
        return Ok(Outcome::Created {
            id: created.id,
            url: created.html_url,
        });
    }
    let updated: Comment = gh
        .patch(
            &gh.repo_path(&format!("/issues/comments/{}", oldest.id)),
            &Body { body },
        )
        .await?;
    Ok(Outcome::Updated {
        id: updated.id,
        url: updated.html_url.or(oldest.html_url.clone()),
    })
}

/// The whole sticky flow: find the comment, render the body (given the earlier run's record),
/// and create, update or skip under `on_pass`.
pub async fn publish(
    t: Thread<'_>,
    verdict: Verdict,
    on_pass: OnPass,
    render: impl FnOnce(Option<&MarkerRecord>) -> String,
) -> Result<(Outcome, Option<MarkerRecord>), GhError> {
    let existing = find(t).await?;
    publish_found(t, existing, verdict, on_pass, render).await
}

/// [`publish`] with the comment [`find`] already returned.
pub async fn publish_found(
    t: Thread<'_>,
    existing: Option<Comment>,
    verdict: Verdict,
    on_pass: OnPass,
    render: impl FnOnce(Option<&MarkerRecord>) -> String,
) -> Result<(Outcome, Option<MarkerRecord>), GhError> {
    let previous = existing
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .and_then(MarkerRecord::from_body);
    let wants = wants(verdict, on_pass, previous.as_ref());
    let body = render(previous.as_ref());
    let outcome = upsert(t, existing, &body, wants).await?;
    Ok((outcome, previous))
}
