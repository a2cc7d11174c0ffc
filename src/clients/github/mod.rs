//! The GitHub REST client `costgate action` uses: octocrab's transport (rustls, timeouts, the
//! configured base URL, so GitHub Enterprise Server and test servers work) with costgate's own retry
//! policy. octocrab is built without its `retry` feature because that layer also retries POST, which
//! could post a comment twice; here only idempotent calls (GET, PATCH of a known resource) are retried,
//! with backoff that honours `retry-after` and the rate-limit headers.

pub mod types;

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use types::*;

/// A failed GitHub call, with what GitHub said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("GitHub {method} {path}: {}{message}", status.map(|s| format!("{s} ")).unwrap_or_default())]
pub struct GhError {
    pub method: &'static str,
    pub path: String,
    /// `None` for transport errors and timeouts.
    pub status: Option<u16>,
    pub message: String,
}

impl GhError {
    pub fn is_forbidden(&self) -> bool {
        self.status == Some(403)
    }
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
    /// A 5xx or a transport failure: the request may or may not have taken effect.
    pub fn is_transient(&self) -> bool {
        self.status.is_none_or(|s| s >= 500)
    }
}

/// Retry settings for idempotent calls.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub attempts: u32,
    /// First backoff; doubled on each retry.
    pub base_delay: Duration,
    /// Longest wait honoured from `retry-after` / `x-ratelimit-reset`; longer ones give up.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// A GitHub REST client for one repository.
#[derive(Clone)]
pub struct GitHub {
    client: octocrab::Octocrab,
    pub owner: String,
    pub repo: String,
    pub retry: RetryPolicy,
    /// Prefix of the base URL's path (`/api/v3` on GHES), prepended to every route.
    prefix: String,
    /// The client's own token, masked in every error message it builds: an API (or a proxy in
    /// front of it) may echo the credential back, and the message may end up in a PR comment.
    redactor: crate::infra::redact::Redactor,
}

impl GitHub {
    /// `api_url` is `GITHUB_API_URL` (`https://api.github.com`, `https://ghe.example/api/v3`, or a
    /// loopback test server); `repository` is `owner/name`.
    pub fn new(api_url: &str, token: Option<&str>, repository: &str) -> Result<Self, String> {
        Self::with_timeout(api_url, token, repository, Duration::from_secs(30))
    }

    /// As [`GitHub::new`], with the time a response may take (a timed-out GET is retried).
    pub fn with_timeout(
        api_url: &str,
        token: Option<&str>,
        repository: &str,
        read_timeout: Duration,
    ) -> Result<Self, String> {
        let (owner, repo) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| format!("GITHUB_REPOSITORY `{repository}` is not `owner/name`"))?;
        let url: http::Uri = api_url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| format!("GITHUB_API_URL `{api_url}`: {e}"))?;
        let prefix = url.path().trim_end_matches('/').to_string();
        let root = format!(
            "{}://{}",
            url.scheme_str().unwrap_or("https"),
            url.authority().map(|a| a.as_str()).unwrap_or_default()
        );
        let mut b = octocrab::Octocrab::builder()
            .base_uri(root)
            .map_err(|e| format!("GITHUB_API_URL `{api_url}`: {e}"))?
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(read_timeout))
            .add_header(
                http::header::USER_AGENT,
                concat!("costgate/", env!("CARGO_PKG_VERSION")).to_string(),
            )
            .add_header(
                http::HeaderName::from_static("x-github-api-version"),
                "2022-11-28".to_string(),
            );
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            b = b.personal_token(t.to_string());
        }
        let redactor = crate::infra::redact::Redactor::new(token, &[]);
        let client = b
            .build()
            .map_err(|e| format!("cannot build the GitHub client: {e}"))?;
        Ok(GitHub {
            client,
            owner: owner.to_string(),
            repo: repo.to_string(),
            retry: RetryPolicy::default(),
            prefix,
            redactor,
        })
    }

    /// `/repos/{owner}/{repo}` + `rest`.
    pub fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.repo)
    }

    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, HeaderMap, String), GhError> {
        let uri = format!("{}{path}", self.prefix);
        let err = |status: Option<u16>, message: String| GhError {
            method,
            path: path.to_string(),
            status,
            message,
        };
        let res = match method {
            "GET" => self.client._get(uri.as_str()).await,
            "POST" => self.client._post(uri.as_str(), body).await,
            "PATCH" => self.client._patch(uri.as_str(), body).await,
            "PUT" => self.client._put(uri.as_str(), body).await,
            "DELETE" => self.client._delete(uri.as_str(), body).await,
            _ => return Err(err(None, "unsupported method".into())),
        };
        let res = res.map_err(|e| err(None, transport_message(&e)))?;
        let status = res.status();
        let headers = res.headers().clone();
        let text = self
            .client
            .body_to_string(res)
            .await
            .map_err(|e| err(Some(status.as_u16()), transport_message(&e)))?;
        Ok((status, headers, text))
    }

    /// One call; non-2xx becomes a [`GhError`] carrying GitHub's `message`. Idempotent calls retry.
    async fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<String, GhError> {
        let idempotent = method != "POST";
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.send(method, path, body).await;
            // A rate-limited request was refused before it did anything, so even a POST may be
            // sent again; a 5xx or a timeout may have taken effect, so only idempotent calls are.
            let (wait, safe, error) = match outcome {
                Ok((status, _, text)) if status.is_success() => return Ok(text),
                Ok((status, headers, text)) => {
                    let e = GhError {
                        method,
                        path: path.to_string(),
                        status: Some(status.as_u16()),
                        message: self.redactor.redact(&error_message(&text)),
                    };
                    (
                        retry_delay(status, &headers, &text, attempt, &self.retry),
                        idempotent || is_rate_limited(status, &headers, &text),
                        e,
                    )
                }
                Err(e) => (Some(backoff(attempt, &self.retry)), idempotent, e),
            };
            match wait {
                Some(w) if safe && attempt < self.retry.attempts && w <= self.retry.max_delay => {
                    tracing::debug!(%method, %path, ?w, "retrying after {error}");
                    tokio::time::sleep(w).await;
                }
                _ => return Err(error),
            }
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GhError> {
        let text = self.call("GET", path, None).await?;
        parse(&text, "GET", path)
    }

    /// All pages of a list endpoint (`per_page=100`), up to `max_pages`.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        max_pages: u32,
    ) -> Result<Vec<T>, GhError> {
        let mut out = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        for page in 1..=max_pages {
            let p = format!("{path}{sep}per_page=100&page={page}");
            let items: Vec<T> = self.get(&p).await?;
            let n = items.len();
            out.extend(items);
            if n < 100 {
                break;
            }
        }
        Ok(out)
    }

    /// POST, never retried: a lost response may still have created the resource, so callers look
    /// for it before trying again.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, GhError> {
        let v = serde_json::to_value(body).unwrap_or_default();
        let text = self.call("POST", path, Some(&v)).await?;
        parse(&text, "POST", path)
    }

    /// DELETE; a resource already gone is not an error.
    pub async fn delete(&self, path: &str) -> Result<(), GhError> {
        match self.call("DELETE", path, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, GhError> {
        let v = serde_json::to_value(body).unwrap_or_default();
        let text = self.call("PATCH", path, Some(&v)).await?;
        parse(&text, "PATCH", path)
    }
}

fn parse<T: DeserializeOwned>(text: &str, method: &'static str, path: &str) -> Result<T, GhError> {
    serde_json::from_str(text).map_err(|e| GhError {
        method,
        path: path.to_string(),
        status: None,
        message: format!("unexpected response: {e}"),
    })
}

fn transport_message(e: &octocrab::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(&format!(": {x}"));
        src = x.source();
    }
    s
}

/// GitHub's `message` (and validation `errors`) from an error body, else the body's start.
fn error_message(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => {
            let mut m = v
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("")
                .to_string();
            if let Some(errs) = v.get("errors").and_then(|e| e.as_array()) {
                let parts: Vec<String> = errs
                    .iter()
                    .map(|e| {
                        e.get("message")
                            .and_then(|m| m.as_str())
                            .map(str::to_string)
                            .unwrap_or_else(|| e.to_string())
                    })
                    .collect();
                if !parts.is_empty() {
                    m.push_str(&format!(" ({})", parts.join("; ")));
                }
            }
            if m.is_empty() {
                text.chars().take(200).collect()
            } else {
                m
            }
        }
        Err(_) => text.chars().take(200).collect(),
    }
}

fn backoff(attempt: u32, p: &RetryPolicy) -> Duration {
    p.base_delay.saturating_mul(1 << (attempt - 1).min(6))
}

/// A primary or secondary rate limit: GitHub refused the request without acting on it.
pub fn is_rate_limited(status: StatusCode, headers: &HeaderMap, body: &str) -> bool {
    let limited_status = status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::FORBIDDEN;
    limited_status
        && (status == StatusCode::TOO_MANY_REQUESTS
            || headers.contains_key("retry-after")
            || headers
                .get("x-ratelimit-remaining")
                .is_some_and(|v| v == "0")
            || body.to_ascii_lowercase().contains("rate limit"))
}

/// How long to wait before retrying a response, or `None` if it must not be retried.
pub fn retry_delay(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    attempt: u32,
    p: &RetryPolicy,
) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(secs) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let rate_limited = header("x-ratelimit-remaining") == Some("0");
    if rate_limited && (status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS)
    {
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok());
        let now = chrono::Utc::now().timestamp();
        return Some(reset.map_or(Duration::from_secs(60), |r| {
            Duration::from_secs((r - now).max(1) as u64)
        }));
    }
    let secondary = body.to_ascii_lowercase().contains("secondary rate limit");
    if status == StatusCode::TOO_MANY_REQUESTS || (status == StatusCode::FORBIDDEN && secondary) {
        // GitHub asks for at least a minute when a secondary limit gives no retry-after.
        return Some(
            backoff(attempt, p)
                .max(Duration::from_secs(60))
                .min(p.max_delay),
        );
    }
    status.is_server_error().then(|| backoff(attempt, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn retry_after_wins_and_plain_403_is_final() {
        let p = RetryPolicy::default();
        assert_eq!(
            retry_delay(
                StatusCode::FORBIDDEN,
                &h(&[("retry-after", "7")]),
                "",
                1,
                &p
            ),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_delay(
                StatusCode::FORBIDDEN,
                &h(&[]),
                r#"{"message":"Resource not accessible by integration"}"#,
                1,
                &p
            ),
            None
        );
        assert_eq!(retry_delay(StatusCode::NOT_FOUND, &h(&[]), "", 1, &p), None);
        assert_eq!(
            retry_delay(StatusCode::BAD_GATEWAY, &h(&[]), "", 2, &p),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn primary_limit_waits_for_reset_and_secondary_for_a_minute() {
        let p = RetryPolicy {
            max_delay: Duration::from_secs(600),
            ..Default::default()
        };
        let reset = (chrono::Utc::now().timestamp() + 30).to_string();
        let d = retry_delay(
            StatusCode::FORBIDDEN,
            &h(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ]),
            "",
            1,
            &p,
        )
        .unwrap();
        assert!(
            d >= Duration::from_secs(28) && d <= Duration::from_secs(31),
            "{d:?}"
        );
        let d = retry_delay(
            StatusCode::FORBIDDEN,
            &h(&[]),
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
            1,
            &p,
        )
        .unwrap();
        assert_eq!(d, Duration::from_secs(60));
    }

    #[test]
    fn error_message_includes_validation_errors() {
        let m = error_message(
            r#"{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}]}"#,
        );
        assert_eq!(
            m,
            "Validation Failed (body is too long (maximum is 65536 characters))"
        );
    }

    #[tokio::test]
    async fn repository_must_be_owner_slash_name() {
        assert!(GitHub::new("https://api.github.com", None, "octo").is_err());
        let g = GitHub::new("https://ghe.example.com/api/v3/", Some("t"), "octo/repo").unwrap();
        assert_eq!(g.prefix, "/api/v3");
        assert_eq!(g.repo_path("/pulls/1"), "/repos/octo/repo/pulls/1");
    }
}
