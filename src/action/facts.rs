//! Facts the verdict layers need, read from GitHub: whether a user is an authorised approver
//! (`approvers.users`, repository permission, team membership), the sign-off (an approving
//! review of the current head), who applied the override label (PR timeline), and the markers of
//! recently merged PRs (warn streak, override count, open override tickets).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::comment::MarkerRecord;
use crate::clients::github::{
    CollaboratorPermission, Comment, GhError, GitHub, PullRequest, Review, TeamMembership,
    TimelineEvent,
};
use crate::gate::report::{OverrideFinding, SignOff, Streak, StreakEntry};
use crate::gate::verdict::Verdict;
use crate::measure::config::{Approvers, Permission};

/// The answer for one user.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorisation {
    pub authorised: bool,
    /// The rule satisfied, or why none was.
    pub detail: String,
}

/// Checks users against the approver rules, with `approver` (a token that can read org teams)
/// when given.
pub struct Authoriser<'a> {
    pub gh: &'a GitHub,
    pub approver: Option<&'a GitHub>,
    pub rules: &'a Approvers,
}

fn parse_permission(s: &str) -> Option<Permission> {
    serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase())).ok()
}

fn perm_name(p: Permission) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Authoriser<'_> {
    pub async fn check(&self, login: &str) -> Authorisation {
        if self
            .rules
            .users
            .iter()
            .any(|u| u.eq_ignore_ascii_case(login))
        {
            return Authorisation {
                authorised: true,
                detail: "listed in approvers.users".into(),
            };
        }
        let mut why = vec![format!("{login} is not in approvers.users")];
        let path = self
            .gh
            .repo_path(&format!("/collaborators/{login}/permission"));
        match self.gh.get::<CollaboratorPermission>(&path).await {
            Ok(p) => {
                // role_name distinguishes maintain and triage, which `permission` folds into write/read.
                let role = p
                    .role_name
                    .as_deref()
                    .and_then(parse_permission)
                    .or_else(|| parse_permission(&p.permission));
                let min = self.rules.min_permission;
                match role {
                    Some(r) if r >= min => {
                        return Authorisation {
                            authorised: true,
                            detail: format!("repository permission {}", perm_name(r)),
                        };
                    }
                    Some(r) => why.push(format!(
                        "has {} permission, below {}",
                        perm_name(r),
                        perm_name(min)
                    )),
                    None => why.push(format!("has no repository permission ({})", p.permission)),
                }
            }
            Err(e) if e.is_not_found() => why.push("is not a collaborator".into()),
            Err(e) => why.push(format!("permission could not be read ({e})")),
        }
        for team in &self.rules.teams {
            let Some((org, slug)) = team.split_once('/') else {
                why.push(format!("team `{team}` is not org/slug"));
                continue;
            };
            let Some(gh) = self.approver else {
                why.push(format!(
                    "team {team} not checked: set the `approver-token` input (the workflow token cannot read organisation team membership)"
                ));
                continue;
            };
            match gh
                .get::<TeamMembership>(&format!("/orgs/{org}/teams/{slug}/memberships/{login}"))
                .await
            {
                Ok(m) if m.state == "active" => {
                    return Authorisation {
                        authorised: true,
                        detail: format!("active member of {team}"),
                    };
                }
                Ok(m) => why.push(format!("membership of {team} is {}", m.state)),
                Err(e) if e.is_not_found() => why.push(format!("is not a member of {team}")),
                Err(e) => why.push(format!("membership of {team} could not be read ({e})")),
            }
        }
        Authorisation {
            authorised: false,
            detail: why.join("; "),
        }
    }
}

/// The first authorised approval of `head_sha`, counting each reviewer's latest deciding review.
pub async fn sign_off(
    gh: &GitHub,
    auth: &Authoriser<'_>,
    pr: u64,
    head_sha: &str,
) -> Result<(Option<SignOff>, Vec<String>), GhError> {
    let reviews: Vec<Review> = gh
        .get_all(&gh.repo_path(&format!("/pulls/{pr}/reviews")), 10)
        .await?;
    // Reviews come oldest first; a later CHANGES_REQUESTED or DISMISSED cancels an approval.
    let mut latest: BTreeMap<String, &Review> = BTreeMap::new();
    for r in &reviews {
        let deciding = matches!(
            r.state.as_str(),
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
        );
        if let (true, Some(u)) = (deciding, &r.user) {
            latest.insert(u.login.to_ascii_lowercase(), r);
        }
    }
    let mut notes = Vec::new();
    for r in latest.values() {
        let login = r.user.as_ref().map(|u| u.login.clone()).unwrap_or_default();
        if r.state != "APPROVED" {
            continue;
        }
        if r.commit_id.as_deref() != Some(head_sha) {
            notes.push(format!(
                "{login}'s approval is of an older commit; a new push needs a new approval"
            ));
            continue;
        }
        let a = auth.check(&login).await;
        if a.authorised {
            return Ok((
                Some(SignOff {
                    approver: login,
                    commit: head_sha.to_string(),
                    submitted_at: r.submitted_at.clone(),
                    via: a.detail,
                }),
                notes,
            ));
        }
        notes.push(format!(
            "{login} approved but is not an authorised approver: {}",
            a.detail
        ));
    }
    Ok((None, notes))
}

/// Who applied `label` (latest `labeled` event with no later `unlabeled`) and whether it counts.
pub async fn override_finding(
    gh: &GitHub,
    auth: &Authoriser<'_>,
    pr: u64,
    label: &str,
) -> Result<OverrideFinding, GhError> {
    let events: Vec<TimelineEvent> = gh
        .get_all(&gh.repo_path(&format!("/issues/{pr}/timeline")), 10)
        .await?;
    let mut applied: Option<&TimelineEvent> = None;
    for e in &events {
        let is_label = e.label.as_ref().is_some_and(|l| l.name == label);
        match e.event.as_deref() {
            Some("labeled") if is_label => applied = Some(e),
            Some("unlabeled") if is_label => applied = None,
            _ => {}
        }
    }
    let mut f = OverrideFinding {
        label: label.to_string(),
        applied_by: None,
        applied_at: None,
        authorised: false,
        why: String::new(),
    };
    let Some(e) = applied else {
        f.why =
            "the PR timeline shows no current `labeled` event for it, so who applied it is unknown"
                .into();
        return Ok(f);
    };
    let login = e
        .actor
        .as_ref()
        .map(|a| a.login.clone())
        .unwrap_or_default();
    f.applied_by = Some(login.clone());
    f.applied_at = e.created_at.clone();
    let a = auth.check(&login).await;
    f.authorised = a.authorised;
    f.why = if a.authorised {
        format!("{login} is an authorised approver ({})", a.detail)
    } else {
        a.detail
    };
    Ok(f)
}

/// A merged PR's costgate record.
#[derive(Debug, Clone)]
pub struct MergedRecord {
    pub number: u64,
    pub merged_at: DateTime<Utc>,
    /// `None` when costgate never commented (a silent pass).
    pub record: Option<MarkerRecord>,
}

/// The newest PRs merged into `base_ref` (excluding the thread's own PR), newest first, with their
/// markers. Reads at most `limit` PRs' comments, and only those merged within `since` when given.
pub async fn merged_records(
    t: super::sticky::Thread<'_>,
    base_ref: &str,
    limit: usize,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<MergedRecord>, GhError> {
    let (gh, identity, scope, current) = (t.gh, t.identity, t.scope, t.pr);
    let path = gh.repo_path(&format!(
        "/pulls?state=closed&base={}&sort=updated&direction=desc&per_page=100",
        crate::infra::http::encode_component(base_ref)
    ));
    let prs: Vec<PullRequest> = gh.get(&path).await?;
    let mut merged: Vec<(DateTime<Utc>, u64)> = prs
        .iter()
        .filter(|p| p.number != current)
        .filter_map(|p| {
            Some((
                p.merged_at.as_deref()?.parse::<DateTime<Utc>>().ok()?,
                p.number,
            ))
        })
        .filter(|(at, _)| since.is_none_or(|s| *at >= s))
        .collect();
    merged.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    merged.truncate(limit);
    let mut out = Vec::new();
    for (merged_at, number) in merged {
        let comments: Vec<Comment> = gh
            .get_all(&gh.repo_path(&format!("/issues/{number}/comments")), 5)
            .await?;
        let record = comments
            .iter()
            .find(|c| super::sticky::is_ours(c, identity, scope))
            .and_then(|c| c.body.as_deref())
            .and_then(MarkerRecord::from_body);
        out.push(MergedRecord {
            number,
            merged_at,
            record,
        });
    }
    Ok(out)
}

/// The streak from merged records: a PR without a costgate comment passed silently.
pub fn streak(records: &[MergedRecord]) -> Streak {
    Streak {
        previous: records
            .iter()
            .map(|r| StreakEntry {
                pr: r.number,
                verdict: r
                    .record
                    .as_ref()
                    .and_then(|m| m.verdict)
                    .unwrap_or(Verdict::Pass),
            })
            .collect(),
    }
}

/// Honoured overrides among merged PRs in the 30 days before `now`.
pub fn overrides_in_30_days(records: &[MergedRecord], now: DateTime<Utc>) -> usize {
    let since = now - Duration::days(30);
    records
        .iter()
        .filter(|r| {
            r.merged_at >= since && r.record.as_ref().is_some_and(|m| m.override_by.is_some())
        })
        .count()
}
