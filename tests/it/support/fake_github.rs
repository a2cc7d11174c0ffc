//! A stateful GitHub REST stand-in on loopback (wiremock), answering with the real payload shapes
//! of `tests/fixtures/github/rest` (objects taken from the fixtures, with ids, bodies and logins
//! set per test). It keeps comments per PR so that re-runs see what earlier runs posted, and can
//! be told to fail chosen calls first (403, 500, rate limits).

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

use crate::support::repo_root;

pub const OWNER: &str = "octo";
pub const REPO: &str = "shop";
pub const BOT: &str = "github-actions[bot]";

pub fn fixture(rel: &str) -> Value {
    let p = repo_root().join("tests/fixtures/github").join(rel);
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

fn first(rel: &str) -> Value {
    fixture(rel).as_array().unwrap()[0].clone()
}

fn user(login: &str, kind: &str) -> Value {
    let mut u = first("rest/issues.list-comments.get.200.default.json")["user"].clone();
    u["login"] = json!(login);
    u["type"] = json!(kind);
    u
}

/// A failure to answer instead of the normal response, matched by method and path substring.
#[derive(Clone)]
pub struct Failure {
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
    /// Answer only after this long (a slow or hung server).
    pub delay: Option<std::time::Duration>,
    /// Send this text as the body instead of `body` (a truncated or garbled response).
    pub raw: Option<String>,
}

#[derive(Default)]
pub struct State {
    pub comments: BTreeMap<u64, Vec<Value>>,
    pub next_id: u64,
    pub prs: BTreeMap<u64, Value>,
    pub reviews: BTreeMap<u64, Vec<Value>>,
    pub timeline: BTreeMap<u64, Vec<Value>>,
    /// login → role_name (admin, maintain, write, triage, read).
    pub roles: BTreeMap<String, String>,
    /// (org/team, login) → membership state; readable only with `approver_token`.
    pub teams: BTreeMap<(String, String), String>,
    pub approver_token: Option<String>,
    /// Closed PRs into any base (for the warn streak), newest first.
    pub closed: Vec<Value>,
    pub files: BTreeMap<u64, Vec<String>>,
    /// `GET /user` login; `None` answers 403 like an installation token.
    pub viewer: Option<String>,
    pub failures: VecDeque<Failure>,
}

#[derive(Clone)]
pub struct FakeGitHub {
    pub server: Arc<MockServer>,
    pub state: Arc<Mutex<State>>,
}

struct Responder(Arc<Mutex<State>>);

impl FakeGitHub {
    pub async fn start() -> FakeGitHub {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            next_id: 1000,
            ..Default::default()
        }));
        Mock::given(any())
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        FakeGitHub {
            server: Arc::new(server),
            state,
        }
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Adds a PR (shape of the `pull_request` webhook object) and returns it.
    pub fn add_pr(
        &self,
        number: u64,
        body: &str,
        head_sha: &str,
        base_sha: &str,
        labels: &[&str],
    ) -> Value {
        let mut pr = fixture("webhooks/pull_request.opened.1.json")["pull_request"].clone();
        pr["number"] = json!(number);
        pr["body"] = json!(body);
        pr["head"]["sha"] = json!(head_sha);
        pr["base"]["sha"] = json!(base_sha);
        pr["base"]["ref"] = json!("main");
        pr["html_url"] = json!(format!("https://github.com/{OWNER}/{REPO}/pull/{number}"));
        pr["labels"] = json!(
            labels
                .iter()
                .map(|l| json!({"id": 1, "name": l, "color": "d73a4a", "default": false}))
                .collect::<Vec<_>>()
        );
        self.state.lock().unwrap().prs.insert(number, pr.clone());
        pr
    }

    /// A comment by `login` on PR `pr`.
    pub fn add_comment(&self, pr: u64, login: &str, body: &str) -> u64 {
        let mut s = self.state.lock().unwrap();
        let id = s.next_id;
        s.next_id += 1;
        let c = comment(id, pr, login, body);
        s.comments.entry(pr).or_default().push(c);
        id
    }

    pub fn comments(&self, pr: u64) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .comments
            .get(&pr)
            .cloned()
            .unwrap_or_default()
    }

    pub fn add_review(&self, pr: u64, login: &str, state: &str, commit: &str) {
        let mut r = first("rest/pulls.list-reviews.get.200.default.json");
        r["user"] = user(login, "User");
        r["state"] = json!(state);
        r["commit_id"] = json!(commit);
        r["submitted_at"] = json!("2026-11-20T10:00:00Z");
        self.state
            .lock()
            .unwrap()
            .reviews
            .entry(pr)
            .or_default()
            .push(r);
    }

    /// A `labeled`/`unlabeled` timeline event, built from the fixture's labeled event.
    pub fn add_label_event(&self, pr: u64, event: &str, label: &str, actor: &str, at: &str) {
        let t = fixture("rest/issues.list-events-for-timeline.get.200.default.json");
        let mut e = t
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"] == "labeled")
            .unwrap()
            .clone();
        e["event"] = json!(event);
        e["actor"] = user(actor, "User");
        e["label"] = json!({"name": label, "color": "d73a4a"});
        e["created_at"] = json!(at);
        self.state
            .lock()
            .unwrap()
            .timeline
            .entry(pr)
            .or_default()
            .push(e);
    }

    pub fn set_role(&self, login: &str, role: &str) {
        self.state
            .lock()
            .unwrap()
            .roles
            .insert(login.into(), role.into());
    }

    pub fn fail_next(
        &self,
        method: &'static str,
        path: &str,
        status: u16,
        body: Value,
        headers: &[(&'static str, &str)],
    ) {
        self.state.lock().unwrap().failures.push_back(Failure {
            method,
            path: path.into(),
            status,
            body,
            headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            delay: None,
            raw: None,
        });
    }

    /// The next matching call answers 200 with a body cut off mid-JSON.
    pub fn truncate_next(&self, method: &'static str, path: &str) {
        self.state.lock().unwrap().failures.push_back(Failure {
            method,
            path: path.into(),
            status: 200,
            body: Value::Null,
            headers: Vec::new(),
            delay: None,
            raw: Some("{\"id\": 1, \"body\": \"trunc".into()),
        });
    }

    /// The next matching call answers normally, but only after `delay`.
    pub fn delay_next(&self, method: &'static str, path: &str, delay: std::time::Duration) {
        self.state.lock().unwrap().failures.push_back(Failure {
            method,
            path: path.into(),
            status: 0,
            body: Value::Null,
            headers: vec![],
            delay: Some(delay),
            raw: None,
        });
    }

    /// A merged PR into `main` whose costgate comment recorded `verdict`.
    pub fn add_merged(&self, number: u64, merged_at: &str, verdict: &str, extra: Value) {
        let mut pr = first("rest/pulls.list.get.200.default.json");
        pr["number"] = json!(number);
        pr["merged_at"] = json!(merged_at);
        pr["state"] = json!("closed");
        pr["base"]["ref"] = json!("main");
        let mut rec = json!({"v": 1, "verdict": verdict, "pr": number});
        if let (Some(r), Some(e)) = (rec.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        let body = format!("<!-- costgate:sticky {rec} -->\n## costgate");
        self.state.lock().unwrap().closed.push(pr);
        self.add_comment(number, BOT, &body);
    }

    /// Requests received, as "METHOD path".
    pub async fn requests(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }
}

fn comment(id: u64, pr: u64, login: &str, body: &str) -> Value {
    let mut c = fixture("rest/issues.create-comment.post.201.default.json");
    c["id"] = json!(id);
    c["body"] = json!(body);
    c["user"] = user(
        login,
        if login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        },
    );
    c["html_url"] = json!(format!(
        "https://github.com/{OWNER}/{REPO}/pull/{pr}#issuecomment-{id}"
    ));
    c
}

fn json_response(status: u16, v: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .set_body_string(v.to_string())
}

fn not_found() -> ResponseTemplate {
    json_response(
        404,
        &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
    )
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let method = req.method.as_str().to_string();
        let path = req.url.path().to_string();
        if let Some(i) = s.failures.iter().position(|f| {
            // A trailing `$` anchors the path's end (`/pulls$` is the list, not `/pulls/7`).
            let hit = match f.path.strip_suffix('$') {
                Some(p) => path.ends_with(p),
                None => path.contains(&f.path),
            };
            f.method == method && hit
        }) {
            let f = s.failures.remove(i).unwrap();
            // A 404 on a comment means it is gone: the state says so too, as GitHub's would.
            if f.status == 404 && method == "PATCH" {
                if let Some(id) = path.rsplit('/').next().and_then(|x| x.parse::<u64>().ok()) {
                    for cs in s.comments.values_mut() {
                        cs.retain(|c| c["id"] != json!(id));
                    }
                }
            }
            if let Some(d) = f.delay {
                drop(s);
                return self.respond(req).set_delay(d);
            }
            let mut t = match &f.raw {
                Some(raw) => ResponseTemplate::new(f.status)
                    .insert_header("content-type", "application/json")
                    .set_body_string(raw.clone()),
                None => json_response(f.status, &f.body),
            };
            for (k, v) in f.headers {
                t = t.insert_header(k, v.as_str());
            }
            return t;
        }
        let page: u32 = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        let list =
            |v: Vec<Value>| json_response(200, &Value::Array(if page > 1 { vec![] } else { v }));
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // GitHub Enterprise Server serves the API under /api/v3.
        let parts: Vec<&str> = path
            .trim_start_matches("/api/v3")
            .trim_start_matches('/')
            .split('/')
            .collect();
        match (method.as_str(), parts.as_slice()) {
            ("GET", ["user"]) => match &s.viewer {
                Some(l) => json_response(200, &user(l, "User")),
                None => json_response(
                    403,
                    &json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest", "status": "403"}),
                ),
            },
            ("GET", ["repos", _, _, "issues", n, "comments"]) => list(
                s.comments
                    .get(&n.parse().unwrap_or(0))
                    .cloned()
                    .unwrap_or_default(),
            ),
            ("POST", ["repos", _, _, "issues", n, "comments"]) => {
                let n: u64 = n.parse().unwrap_or(0);
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let text = body["body"].as_str().unwrap_or_default().to_string();
                if text.chars().count() > 65_536 {
                    return json_response(
                        422,
                        &json!({"message": "Validation Failed", "errors": [{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}]}),
                    );
                }
                let id = s.next_id;
                s.next_id += 1;
                let c = comment(id, n, BOT, &text);
                s.comments.entry(n).or_default().push(c.clone());
                json_response(201, &c)
            }
            ("PATCH", ["repos", _, _, "issues", "comments", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                for cs in s.comments.values_mut() {
                    if let Some(c) = cs.iter_mut().find(|c| c["id"] == json!(id)) {
                        c["body"] = body["body"].clone();
                        return json_response(200, c);
                    }
                }
                not_found()
            }
            ("DELETE", ["repos", _, _, "issues", "comments", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                for cs in s.comments.values_mut() {
                    if let Some(i) = cs.iter().position(|c| c["id"] == json!(id)) {
                        cs.remove(i);
                        return ResponseTemplate::new(204);
                    }
                }
                not_found()
            }
            ("GET", ["repos", _, _, "pulls"]) => list(s.closed.clone()),
            ("GET", ["repos", _, _, "pulls", n]) => s
                .prs
                .get(&n.parse().unwrap_or(0))
                .map_or_else(not_found, |p| json_response(200, p)),
            ("GET", ["repos", _, _, "pulls", n, "reviews"]) => list(
                s.reviews
                    .get(&n.parse().unwrap_or(0))
                    .cloned()
                    .unwrap_or_default(),
            ),
            ("GET", ["repos", _, _, "pulls", n, "files"]) => {
                let tpl = first("rest/pulls.list-files.get.200.default.json");
                let files = s
                    .files
                    .get(&n.parse().unwrap_or(0))
                    .cloned()
                    .unwrap_or_default();
                list(
                    files
                        .iter()
                        .map(|f| {
                            let mut t = tpl.clone();
                            t["filename"] = json!(f);
                            t
                        })
                        .collect(),
                )
            }
            ("GET", ["repos", _, _, "issues", n, "timeline"]) => list(
                s.timeline
                    .get(&n.parse().unwrap_or(0))
                    .cloned()
                    .unwrap_or_default(),
            ),
            ("GET", ["repos", _, _, "collaborators", login, "permission"]) => {
                let role = s
                    .roles
                    .get(*login)
                    .cloned()
                    .unwrap_or_else(|| "read".into());
                let permission = match role.as_str() {
                    "maintain" => "write",
                    "triage" => "read",
                    r => r,
                };
                let mut v = fixture(
                    "rest/repos.get-collaborator-permission-level.get.200.response-if-user-has-admin-permissions.json",
                );
                v["permission"] = json!(permission);
                v["role_name"] = json!(role);
                v["user"] = user(login, "User");
                json_response(200, &v)
            }
            ("GET", ["orgs", org, "teams", team, "memberships", login]) => {
                let allowed = s
                    .approver_token
                    .as_ref()
                    .is_some_and(|t| auth.ends_with(t.as_str()));
                match s.teams.get(&(format!("{org}/{team}"), login.to_string())) {
                    Some(state) if allowed => {
                        let mut v = fixture(
                            "rest/teams.get-membership-for-user-in-org.get.200.response-if-user-is-a-team-maintainer.json",
                        );
                        v["state"] = json!(state);
                        json_response(200, &v)
                    }
                    _ => not_found(),
                }
            }
            _ => not_found(),
        }
    }
}
