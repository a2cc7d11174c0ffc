//! Files the weekly drift job's high-priority ticket in JIRA, at most once per ISO week: the
//! week's de-duplication key is the ticket's label, and an existing ticket with that label is
//! reused (the same JQL search the override tickets use).
//!
//! Credentials come from the environment (`JIRA_TOKEN`, plus `JIRA_USER` for Cloud, optionally
//! `JIRA_URL` to override `jira.url`; read by the command layer), never from the command line, so
//! they stay out of process listings and logs.

use chrono::{Days, NaiveDate};

use super::TicketRequest;
use crate::clients::jira::{Credentials, Jira, Ticket, ticket};
use crate::measure::config::Config;

/// Days the drift ticket is due in.
pub const DUE_DAYS: u64 = 7;

/// Finds this week's drift ticket or creates it. Errors are messages for the user (JIRA's own
/// `errorMessages` included); the caller exits 3 so that a re-run files it.
pub fn file(
    config: &Config,
    creds: Credentials,
    req: &TicketRequest,
    date: NaiveDate,
) -> Result<Ticket, String> {
    let Some(jc) = &config.jira else {
        return Err(
            "no `jira` section in costgate.yaml, so the drift ticket cannot be filed".into(),
        );
    };
    let client = Jira::from_settings(jc, creds, "JIRA_USER")?;
    let due = date
        .checked_add_days(Days::new(DUE_DAYS))
        .unwrap_or(date)
        .to_string();
    let labels = vec![req.dedup_key.clone(), "costgate-drift".to_string()];
    let mut body = ticket::create_body(
        jc.api,
        &jc.project,
        &jc.issue_type,
        &req.summary,
        &req.description,
        &labels,
        &due,
    );
    body["fields"]["priority"] = serde_json::json!({ "name": req.priority });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        match client
            .ensure(None, &jc.project, &req.dedup_key, &body)
            .await
        {
            // Many projects leave `priority` off their create screen; JIRA then refuses the whole
            // create (400, nothing created), so it is safe to file the ticket without it.
            Err(e) if e.status == Some(400) && e.message.contains("priority") => {
                if let Some(fields) = body["fields"].as_object_mut() {
                    fields.remove("priority");
                }
                client.create(&body).await
            }
            other => other,
        }
    })
    .map_err(|e| e.to_string())
}
