//! The JIRA client for override follow-up tickets: Cloud (REST v3, description in
//! Atlassian Document Format, Basic `email:api-token`) and Data Center (REST v2, wiki text, Bearer
//! personal access token). One ticket per PR: found again through the key kept in the comment
//! marker, or through a JQL search on a per-PR label. Errors carry JIRA's `errorMessages`/`errors`.

pub mod ticket;

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::measure::config::JiraApi;

/// How to authenticate.
#[derive(Clone)]
pub enum Auth {
    /// Cloud: account e-mail and API token.
    Basic { user: String, token: String },
    /// Data Center: personal access token.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    // Never print a token, even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("JIRA {method} {path}: {}{message}", status.map(|s| format!("{s} ")).unwrap_or_default())]
pub struct JiraError {
    pub method: &'static str,
    pub path: String,
    pub status: Option<u16>,
    pub message: String,
}

#[derive(Debug, Clone)]
/// Credentials for a JIRA client; never in `Debug` output (it holds the token).
pub struct Credentials {
    /// Overrides `jira.url` of the configuration.
    pub url: Option<String>,
    pub user: Option<String>,
    pub token: String,
    /// How long a response may take.
    pub timeout: Duration,
}

pub struct Jira {
    http: reqwest::Client,
    base: String,
    pub api: JiraApi,
    auth: Auth,
    /// The client's own credentials, masked in every error message it builds.
    redactor: crate::infra::redact::Redactor,
}

/// A ticket found or created.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub key: String,
    /// The browse URL (`{base}/browse/{key}`).
    pub url: String,
    pub created: bool,
}

#[derive(Deserialize)]
struct Created {
    key: String,
}

#[derive(Deserialize)]
struct SearchResult {
    #[serde(default)]
    issues: Vec<Issue>,
}

#[derive(Deserialize)]
struct Issue {
    key: String,
    #[serde(default)]
    fields: Option<IssueFields>,
}

#[derive(Deserialize)]
struct IssueFields {
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "statusCategory", default)]
    category: Option<StatusCategory>,
}

#[derive(Deserialize)]
struct StatusCategory {
    #[serde(default)]
    key: Option<String>,
}

impl Jira {
    /// The one way a client is built from the base's `jira:` section and credentials (the Action's
    /// `jira-*` inputs, or drift's `JIRA_*` variables): `url` overrides `jira.url`; a user means
    /// Basic auth (Cloud), none means a Bearer token (Data Center, `api: v2`). `names` says how the
    /// caller calls its user setting, for the message when Cloud lacks one.
    pub fn from_settings(
        settings: &crate::measure::config::Jira,
        creds: Credentials,
        user_setting: &str,
    ) -> Result<Jira, String> {
        let url = creds.url.unwrap_or_else(|| settings.url.clone());
        let auth = match (creds.user, settings.api) {
            (Some(user), _) => Auth::Basic {
                user,
                token: creds.token,
            },
            (None, JiraApi::V2) => Auth::Bearer(creds.token),
            (None, JiraApi::V3) => {
                return Err(format!(
                    "Jira Cloud (api: v3) needs {user_setting} (the account e-mail) with the API token"
                ));
            }
        };
        Jira::with_timeout(&url, settings.api, auth, creds.timeout)
    }

    pub fn new(base_url: &str, api: JiraApi, auth: Auth) -> Result<Jira, String> {
        Self::with_timeout(base_url, api, auth, Duration::from_secs(30))
    }

    /// As [`Jira::new`], with the time a response may take.
    pub fn with_timeout(
        base_url: &str,
        api: JiraApi,
        auth: Auth,
        timeout: Duration,
    ) -> Result<Jira, String> {
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(format!("JIRA url `{base_url}` must be an http(s) URL"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .user_agent(concat!("costgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the JIRA client: {e}"))?;
        // Masked in every error the client builds: JIRA (or a proxy) may echo the credential.
        let redactor = match &auth {
            Auth::Basic { user, token } => {
                crate::infra::redact::Redactor::new([token.as_str()], &[user.as_str()])
            }
            Auth::Bearer(t) => crate::infra::redact::Redactor::new([t.as_str()], &[]),
        };
        Ok(Jira {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            api,
            auth,
            redactor,
        })
    }

    fn version(&self) -> &'static str {
        match self.api {
            JiraApi::V3 => "3",
            JiraApi::V2 => "2",
        }
    }

    pub fn browse_url(&self, key: &str) -> String {
        format!("{}/browse/{key}", self.base)
    }

    /// [`Jira::send_once`] with retries: a 429 (refused, nothing happened) for any request, after
    /// its `Retry-After` (at most 30 s); 5xx and transport errors only for reads (`retry_reads`),
    /// since a create that timed out may have created the issue. Up to 3 attempts.
    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
        retry_reads: bool,
    ) -> Result<Value, JiraError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (result, retry_after) = self.send_once(method, path, body).await;
            let e = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let wait = match e.status {
                Some(429) => Some(retry_after.unwrap_or(Duration::from_secs(5))),
                Some(s) if s >= 500 && retry_reads => Some(Duration::from_secs(u64::from(attempt))),
                None if retry_reads => Some(Duration::from_secs(u64::from(attempt))),
                _ => None,
            };
            match wait {
                Some(w) if attempt < 3 && w <= Duration::from_secs(30) => {
                    tokio::time::sleep(w).await
                }
                _ => return Err(e),
            }
        }
    }

    async fn send_once(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> (Result<Value, JiraError>, Option<Duration>) {
        let mut retry_after = None;
        let r = self.send_inner(method, path, body, &mut retry_after).await;
        (r, retry_after)
    }

    async fn send_inner(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
        retry_after: &mut Option<Duration>,
    ) -> Result<Value, JiraError> {
        let err = |status: Option<u16>, message: String| JiraError {
            method,
            path: path.to_string(),
            status,
            message,
        };
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "POST" => self.http.post(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.get(&url),
        };
        req = match &self.auth {
            Auth::Basic { user, token } => req.basic_auth(user, Some(token)),
            Auth::Bearer(t) => req.bearer_auth(t),
        };
        req = req.header("accept", "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.map_err(|e| {
            err(
                None,
                if e.is_timeout() {
                    "timed out".into()
                } else {
                    error_chain(&e)
                },
            )
        })?;
        let status = res.status();
        *retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = res
            .text()
            .await
            .map_err(|e| err(Some(status.as_u16()), error_chain(&e)))?;
        if !status.is_success() {
            return Err(err(
                Some(status.as_u16()),
                self.redactor.redact(&jira_message(&text)),
            ));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| err(Some(status.as_u16()), format!("unexpected response: {e}")))
    }

    /// The newest ticket in `project` carrying `label`, if any.
    pub async fn find_by_label(
        &self,
        project: &str,
        label: &str,
    ) -> Result<Option<Ticket>, JiraError> {
        Ok(self
            .keys_by_label(project, label)
            .await?
            .into_iter()
            .next()
            .map(|key| Ticket {
                url: self.browse_url(&key),
                key,
                created: false,
            }))
    }

    /// The keys of every ticket in `project` carrying `label`, newest first.
    async fn keys_by_label(&self, project: &str, label: &str) -> Result<Vec<String>, JiraError> {
        let jql = format!(
            "project = \"{}\" AND labels = \"{}\" ORDER BY created DESC",
            jql_escape(project),
            jql_escape(label)
        );
        let fields = json!(["summary", "status", "labels", "duedate"]);
        let (path, body) = match self.api {
            // Cloud removed /rest/api/3/search; the enhanced search has no startAt/total.
            JiraApi::V3 => (
                "/rest/api/3/search/jql".to_string(),
                json!({"jql": jql, "maxResults": 10, "fields": fields}),
            ),
            JiraApi::V2 => (
                "/rest/api/2/search".to_string(),
                json!({"jql": jql, "startAt": 0, "maxResults": 10, "fields": fields}),
            ),
        };
        let v = self.send("POST", &path, Some(&body), true).await?;
        let r: SearchResult = serde_json::from_value(v).map_err(|e| JiraError {
            method: "POST",
            path,
            status: None,
            message: format!("unexpected search response: {e}"),
        })?;
        Ok(r.issues.into_iter().map(|i| i.key).collect())
    }

    /// Creates an issue from a prepared request body (see [`ticket::create_body`]).
    pub async fn create(&self, body: &Value) -> Result<Ticket, JiraError> {
        let path = format!("/rest/api/{}/issue", self.version());
        let v = self.send("POST", &path, Some(body), false).await?;
        let c: Created = serde_json::from_value(v).map_err(|e| JiraError {
            method: "POST",
            path,
            status: None,
            message: format!("unexpected create response: {e}"),
        })?;
        Ok(Ticket {
            url: self.browse_url(&c.key),
            key: c.key,
            created: true,
        })
    }

    /// Whether the issue is in a done status (status category `done`).
    pub async fn is_done(&self, key: &str) -> Result<bool, JiraError> {
        let path = format!(
            "/rest/api/{}/issue/{}?fields=status",
            self.version(),
            crate::infra::http::encode_component(key)
        );
        let v = self.send("GET", &path, None, true).await?;
        let i: Issue = serde_json::from_value(v).map_err(|e| JiraError {
            method: "GET",
            path,
            status: None,
            message: e.to_string(),
        })?;
        Ok(i.fields
            .and_then(|f| f.status)
            .and_then(|s| s.category)
            .and_then(|c| c.key)
            .as_deref()
            == Some("done"))
    }

    /// Finds this PR's ticket (by `known` key from the marker, else by label), or creates it.
    pub async fn ensure(
        &self,
        known: Option<&str>,
        project: &str,
        label: &str,
        body: &Value,
    ) -> Result<Ticket, JiraError> {
        if let Some(k) = known.filter(|k| !k.is_empty()) {
            return Ok(Ticket {
                key: k.to_string(),
                url: self.browse_url(k),
                created: false,
            });
        }
        if let Some(t) = self.find_by_label(project, label).await? {
            return Ok(t);
        }
        let created = self.create(body).await?;
        // Two runs for one PR at once both found nothing and both created: the oldest ticket
        // with the label is the PR's, and the younger one goes (best effort: deleting may need a
        // permission the account lacks, and the oldest is used either way).
        let Ok(keys) = self.keys_by_label(project, label).await else {
            return Ok(created);
        };
        match keys.last() {
            Some(oldest) if keys.len() > 1 && *oldest != created.key => {
                let path = format!("/rest/api/{}/issue/{}", self.version(), created.key);
                if let Err(e) = self.send("DELETE", &path, None, false).await {
                    tracing::warn!("{e}; the duplicate ticket {} stays", created.key);
                }
                Ok(Ticket {
                    url: self.browse_url(oldest),
                    key: oldest.clone(),
                    created: false,
                })
            }
            _ => Ok(created),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(&format!(": {x}"));
        src = x.source();
    }
    s
}

/// JIRA's `errorMessages` and `errors` (field → message), else the start of the body.
pub fn jira_message(text: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return text.chars().take(200).collect();
    };
    let mut parts: Vec<String> = v
        .get("errorMessages")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    if let Some(errs) = v.get("errors").and_then(|e| e.as_object()) {
        // serde_json's map is ordered by key, so the message is deterministic.
        parts.extend(errs.iter().map(|(k, m)| {
            format!(
                "{k}: {}",
                m.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| m.to_string())
            )
        }));
    }
    if parts.is_empty() {
        text.chars().take(200).collect()
    } else {
        parts.join("; ")
    }
}

fn jql_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_and_field_errors_are_surfaced() {
        let m = jira_message(
            r#"{"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue.", "issuetype": "Specify an issue type"}}"#,
        );
        assert_eq!(
            m,
            "issuetype: Specify an issue type; summary: You must specify a summary of the issue."
        );
        let m = jira_message(r#"{"errorMessages": ["You are not authenticated."], "errors": {}}"#);
        assert_eq!(m, "You are not authenticated.");
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let a = Auth::Basic {
            user: "me@example.com".into(),
            token: "secret-token".into(),
        };
        assert!(!format!("{a:?}").contains("secret-token"));
        assert!(!format!("{:?}", Auth::Bearer("pat-123".into())).contains("pat-123"));
    }
}
