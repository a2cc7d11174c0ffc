//! The sticky PR comment's body (docs/action.md): rendered from `templates/comment.md.j2` (a
//! repository can override it from its base branch), with a hidden marker that carries a small JSON
//! record of the run for later runs (re-runs, the warn streak, override counts), the first screen
//! (rule, cause, money, what to do), where the money went per intent, and a case table truncated
//! so that the body stays under GitHub's 65,536-character limit. Every string that came from the PR goes through the `md` filter.

use std::collections::BTreeMap;

use minijinja::Value;
use serde::{Deserialize, Serialize};

use crate::gate::report::{CaseReport, Report, Status};
use crate::gate::verdict::Verdict;
use crate::infra::fmt::pct;
use crate::output::templates::{TemplateError, Templates};

/// GitHub rejects longer comment bodies with a 422; the summary has a similar limit (1 MiB).
pub const MAX_BODY_CHARS: usize = 65_536;
/// Safety margin under the limit.
const BUDGET: usize = MAX_BODY_CHARS - 1_000;
pub const MARKER_PREFIX: &str = "<!-- costgate:sticky ";

/// The JSON record in the hidden marker. Later runs read it; keep fields optional and additive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MarkerRecord {
    pub v: u32,
    /// Which costgate step wrote it, when a repository runs several (working directory and config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_verdict: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Set when an override was honoured on this PR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_at: Option<String>,
    /// Paths the PR touched, kept for an honoured override (open-ticket obligations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// An honoured override whose ticket could not be created yet: the next run retries.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ticket_pending: bool,
}

impl MarkerRecord {
    /// The marker line: an HTML comment whose JSON cannot close it early.
    pub fn to_marker(&self) -> String {
        let json = serde_json::to_string(self)
            .unwrap_or_default()
            .replace("--", "-\\u002d");
        format!("{MARKER_PREFIX}{json} -->")
    }

    /// Reads the record from a comment body written by costgate; `None` when there is no marker.
    pub fn from_body(body: &str) -> Option<MarkerRecord> {
        let line = body.lines().find(|l| l.starts_with(MARKER_PREFIX))?;
        let json = line
            .strip_prefix(MARKER_PREFIX)?
            .strip_suffix("-->")?
            .trim();
        serde_json::from_str(json)
            .ok()
            .or(Some(MarkerRecord::default()))
    }
}

/// What the comment shows besides the report.
#[derive(Debug, Clone, Default)]
pub struct CommentMeta {
    pub base_sha: String,
    pub head_sha: String,
    /// The PR's head commit (sign-off must be on it); differs from `head_sha` for a merge commit.
    pub pr_head_sha: String,
    pub justification_key: String,
    /// The previous run's verdict, for "the regression is gone".
    pub previous: Option<String>,
    /// Who may sign off, named (users, the permission rule, teams).
    pub approvers: Vec<String>,
    /// costgate's docs by URL, when the action knows where it came from.
    pub docs_url: Option<String>,
}

/// The docs of the action's own repository at the ref the workflow used
/// (`GITHUB_ACTION_REPOSITORY`, `GITHUB_ACTION_REF`: set for a container action, empty in a
/// composite one, actions/runner#2525), else of this release ([`crate::infra::docs::page`]);
/// `None` when neither is known (a local build), rather than a guess.
pub fn docs_url(
    server: Option<&str>,
    action_repo: Option<&str>,
    action_ref: Option<&str>,
) -> Option<String> {
    match action_repo.filter(|r| r.contains('/')) {
        Some(repo) => {
            let server = server.unwrap_or("https://github.com").trim_end_matches('/');
            let at = action_ref.unwrap_or("main");
            Some(format!("{server}/{repo}/blob/{at}/docs/verdict.md"))
        }
        None => Some(crate::infra::docs::page("verdict.md")).filter(|p| p.starts_with("https://")),
    }
}

/// Regressed cases first (worst first), then the rest in dataset order.
fn table_rows(report: &Report) -> Vec<&CaseReport> {
    let mut rows = report.regressions();
    rows.extend(
        report
            .cases
            .iter()
            .filter(|c| c.status != Status::Regressed),
    );
    rows
}

/// Renders the comment body with its marker, shrinking the full table until it fits.
pub fn render(
    report: &Report,
    meta: &CommentMeta,
    record: &MarkerRecord,
    templates: &Templates,
) -> Result<String, TemplateError> {
    let tpl = templates.renderer(crate::output::templates::COMMENT)?;
    let rows = table_rows(report);
    let regressions = report.regressions_by_dollars();
    // A justification that would cover the measured total, rounded up, as a hint; a PR that
    // fails on quality while the cost drops declares the drop.
    let suggest = report
        .summary
        .total_delta_pct
        .map_or(0.0, |p| if p >= 0.0 { p.ceil() + 1.0 } else { p.ceil() });
    let marker = record.to_marker();
    let story = Value::from_serialize(crate::gate::causes::story(report));
    let render_with = |n: usize| {
        tpl.render(minijinja::context! {
            report => Value::from_serialize(report),
            verdict => report.verdict.as_str(),
            top => Value::from_serialize(regressions.iter().take(10).collect::<Vec<_>>()),
            rows => Value::from_serialize(&rows[..n.min(rows.len())]),
            rows_total => rows.len(),
            base_sha => crate::infra::fmt::short_sha(&meta.base_sha),
            head_sha => crate::infra::fmt::short_sha(&meta.head_sha),
            pr_head_sha => meta.pr_head_sha.clone(),
            previous => meta.previous.clone(),
            justification_key => meta.justification_key.clone(),
            suggest_pct => format!("{suggest:+.0}"),
            story => story.clone(),
            approvers => meta.approvers.clone(),
            docs_url => meta.docs_url.clone(),
        })
        .map(|body| format!("{marker}\n{body}"))
    };
    let mut n = rows.len();
    let mut body = render_with(n)?;
    while body.chars().count() > BUDGET && n > 0 {
        let len = body.chars().count();
        // Shrink in proportion to the excess, at least one row per step.
        let cut = ((len - BUDGET) * n / len).max(1) + n / 20;
        n = n.saturating_sub(cut);
        body = render_with(n)?;
    }
    if body.chars().count() > BUDGET {
        // Even without the table it is too long (a template override?): keep the verdict.
        body = format!(
            "{marker}\n## costgate: **{}**\n\nThe full comment is longer than GitHub allows; see the job summary and report.json.\n",
            report.verdict.as_str()
        );
    }
    Ok(body)
}

/// A warning annotation on a head template, written to the log by [`super::log::Log`].
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub file: String,
    pub message: String,
}

/// Annotations for the prompt templates whose segment grew, one per file.
/// `template_of(intent, segment)` names the head's template for that segment, if any.
pub fn annotations(
    report: &Report,
    template_of: &dyn Fn(&str, &str) -> Option<String>,
) -> Vec<Annotation> {
    let mut by_file: BTreeMap<String, (usize, &CaseReport)> = BTreeMap::new();
    for c in report.regressions() {
        let Some(seg) = c.grew.as_deref() else {
            continue;
        };
        let Some(file) = template_of(&c.intent, seg) else {
            continue;
        };
        let e = by_file.entry(file).or_insert((0, c));
        e.0 += 1;
    }
    by_file
        .into_iter()
        .map(|(file, (n, worst))| {
            let tokens = |s: &Option<crate::gate::report::SideCost>| s.as_ref().map_or(0, |x| x.input_tokens);
            let msg = format!(
                "{} grew: {n} regressed case(s) use this template; worst {} {} ({} → {} input tokens)",
                worst.grew.as_deref().unwrap_or("prompt"),
                worst.id,
                pct(worst.delta_pct),
                tokens(&worst.base),
                tokens(&worst.head)
            );
            Annotation { file, message: msg }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_docs_link_follows_the_action_else_the_release() {
        assert_eq!(
            super::docs_url(
                Some("https://ghe.example/"),
                Some("acme/costgate"),
                Some("v1.2.0")
            )
            .as_deref(),
            Some("https://ghe.example/acme/costgate/blob/v1.2.0/docs/verdict.md")
        );
        // A composite action sees no repository: the release's own docs, or none from source.
        let fallback = super::docs_url(None, None, None);
        match crate::infra::docs::REPOSITORY {
            Some(_) => assert!(fallback.unwrap().starts_with("https://github.com/")),
            None => assert_eq!(fallback, None),
        }
    }
}
