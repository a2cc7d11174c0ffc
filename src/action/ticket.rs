//! The override follow-up ticket as the action handles it: the JIRA client the base's configuration
//! and the inputs describe, finding or creating the PR's ticket, and finding open override tickets
//! whose paths a PR touches.

use super::env::{Inputs, RunnerEnv};
use super::facts;
use super::log::Log;
use crate::clients::github::PullRequest;
use crate::clients::jira::{self, Jira, ticket};
use crate::gate::report::{Report, TicketRecord};
use crate::measure::config::Config;
use crate::output::templates::Templates;

/// The JIRA client the base's configuration and the inputs describe, or why there is none.
pub(super) fn jira_client<'c>(
    inputs: &Inputs,
    config: &'c Config,
) -> std::result::Result<(Jira, &'c crate::measure::config::Jira), String> {
    let Some(jc) = &config.jira else {
        return Err("no `jira` section in costgate.yaml on the base branch, so no follow-up ticket can be opened".into());
    };
    let Some(token) = inputs.jira_token.clone() else {
        return Err("the `jira-token` input is not set".into());
    };
    let creds = jira::Credentials {
        url: inputs.jira_url.clone(),
        user: inputs.jira_user.clone(),
        token,
        timeout: inputs.http_timeout,
    };
    Ok((Jira::from_settings(jc, creds, "the `jira-user` input")?, jc))
}

/// Open override tickets (from merged PRs' markers) whose paths this PR touches.
pub(super) async fn open_tickets(
    client: &Jira,
    merged: &[facts::MergedRecord],
    files: &[String],
    log: &mut Log,
) -> Vec<crate::gate::report::OpenTicket> {
    let mut out: Vec<crate::gate::report::OpenTicket> = Vec::new();
    for m in merged {
        let Some(rec) = &m.record else { continue };
        let Some(key) = &rec.ticket else { continue };
        if out.iter().any(|t| &t.key == key) {
            continue;
        }
        let paths: Vec<String> = rec
            .paths
            .iter()
            .filter(|p| files.contains(p))
            .cloned()
            .collect();
        if paths.is_empty() {
            continue;
        }
        match client.is_done(key).await {
            Ok(true) => {}
            Ok(false) => out.push(crate::gate::report::OpenTicket {
                key: key.clone(),
                pr: m.number,
                paths,
            }),
            Err(e) => log.warning(&format!("status of override ticket {key} not read: {e}")),
        }
    }
    out
}

/// What the override ticket is opened from.
pub(super) struct TicketContext<'a> {
    pub env: &'a RunnerEnv,
    pub inputs: &'a Inputs,
    pub config: &'a Config,
    pub templates: &'a Templates,
    pub clock: crate::infra::clock::Clock,
}

/// Finds or creates the override ticket. Never fails: an error is recorded in the ticket record.
/// `known`: the ticket key an earlier run of this PR recorded.
pub(super) async fn open_ticket(
    cx: &TicketContext<'_>,
    report: &Report,
    pr: &PullRequest,
    files: &[String],
    known: Option<&str>,
) -> TicketRecord {
    let (env, inputs, config) = (cx.env, cx.inputs, cx.config);
    // No redaction here: the JIRA client masks its own credentials in its errors, and the run
    // redacts the report's free text before any template escapes it (`action::run`).
    let fail = |e: String| TicketRecord {
        key: None,
        url: None,
        error: Some(e),
    };
    let (client, jc) = match jira_client(inputs, config) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let repository = env.var("GITHUB_REPOSITORY").unwrap_or_default();
    let server = env
        .var("GITHUB_SERVER_URL")
        .unwrap_or_else(|| "https://github.com".into());
    let o = report.review.override_.as_ref();
    let input = ticket::TicketInput {
        repository: repository.clone(),
        pr_number: pr.number,
        pr_title: pr.title.clone().unwrap_or_default(),
        pr_url: pr
            .html_url
            .clone()
            .unwrap_or_else(|| format!("{server}/{repository}/pull/{}", pr.number)),
        applied_by: o.and_then(|o| o.applied_by.clone()).unwrap_or_default(),
        applied_at: o.and_then(|o| o.applied_at.clone()),
        paths: files.to_vec(),
        due: (cx.clock.today()
            + chrono::Duration::days(i64::from(config.override_.review_due_days)))
        .format("%Y-%m-%d")
        .to_string(),
    };
    let (summary, description) = match ticket::render(report, &input, cx.templates) {
        // A ticket is read by more people than the PR: no secret goes into it either.
        Ok((s, d)) => {
            let r = inputs.redactor();
            (r.redact(&s), r.redact(&d))
        }
        Err(e) => return fail(e.to_string()),
    };
    let label = ticket::pr_label(&repository, pr.number);
    let labels = vec![
        "costgate".to_string(),
        "costgate-override".to_string(),
        label.clone(),
    ];
    let body = ticket::create_body(
        jc.api,
        &jc.project,
        &jc.issue_type,
        &summary,
        &description,
        &labels,
        &input.due,
    );
    match client.ensure(known, &jc.project, &label, &body).await {
        Ok(t) => TicketRecord {
            key: Some(t.key),
            url: Some(t.url),
            error: None,
        },
        Err(e) => fail(e.to_string()),
    }
}
