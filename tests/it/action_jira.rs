//! Override tickets through `costgate action` against a mock JIRA: Cloud v3 (ADF, Basic) and Data
//! Center v2 (wiki, Bearer), de-duplication by marker and JQL label search, JIRA errors and outages,
//! the 30-day override count, and open-ticket obligations.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::action::{PR, Workspace, labeled_by_an_admin, ours, run_action};
use crate::support::fake_github::FakeGitHub;
use crate::support::repo_root;

/// A mock JIRA Cloud answering search and create with the fixtures' shapes.
async fn jira(create_status: u16, create_body: Value, search: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(search))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .respond_with(ResponseTemplate::new(create_status).set_body_json(create_body))
        .mount(&server)
        .await;
    server
}

fn jira_fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/jira").join(name)).unwrap(),
    )
    .unwrap()
}

pub const JIRA_CFG: &str = "approvers:\n  teams: [octo/cost-eng]\njira:\n  url: https://example.atlassian.net\n  project: COST\n";

async fn jira_requests(server: &MockServer, p: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorised_override_is_honoured_with_exactly_one_ticket_over_reruns() {
    let fake = FakeGitHub::start().await;
    let jira = jira(
        201,
        jira_fixture("create-issue.201.json"),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = ws.event(
        &fake,
        "pull_request.labeled.1.json",
        "",
        &["emergency-override"],
    );
    fake.add_label_event(
        PR,
        "labeled",
        "emergency-override",
        "lead",
        "2026-11-20T09:00:00Z",
    );
    fake.state.lock().unwrap().approver_token = Some("ghp_approver".into());
    fake.state
        .lock()
        .unwrap()
        .teams
        .insert(("octo/cost-eng".into(), "lead".into()), "active".into());
    fake.state
        .lock()
        .unwrap()
        .files
        .insert(PR, vec!["app/prompts/system.j2".into()]);
    let extra = [
        ("INPUT_APPROVER-TOKEN", "ghp_approver"),
        ("INPUT_JIRA-URL", &jira.uri()),
        ("INPUT_JIRA-USER", "bot@example.com"),
        ("INPUT_JIRA-TOKEN", "jira-secret"),
    ];
    for _ in 0..3 {
        let (code, out, err) = run_action(&ws, &fake, &ev, &extra).await;
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(
            out.contains("::add-mask::jira-secret") && out.contains("::add-mask::ghp_approver")
        );
    }
    let creates = jira_requests(&jira, "/rest/api/3/issue").await;
    assert_eq!(creates.len(), 1, "one ticket over three runs");
    let auth: Vec<String> = jira
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // base64("bot@example.com:jira-secret")
    assert!(
        auth.iter()
            .all(|a| a == "Basic Ym90QGV4YW1wbGUuY29tOmppcmEtc2VjcmV0"),
        "{auth:?}"
    );
    let r = ws.report();
    assert_eq!(r["verdict"], "overridden");
    assert_eq!(r["ticket"]["key"], "COST-17");
    assert!(ws.outputs().contains("jira-key=COST-17\n"));
    let f = &creates[0]["fields"];
    assert_eq!(f["project"]["key"], "COST");
    assert_eq!(
        f["labels"],
        json!(["costgate", "costgate-override", "costgate-pr-octo-shop-7"])
    );
    assert_eq!(f["description"]["type"], "doc");
    let text = f["description"].to_string();
    assert!(
        text.contains("applied by lead") && text.contains("app/prompts/system.j2"),
        "{text}"
    );
    // Snapshot of the ticket, with the due date (today + 7) filtered.
    let mut snap = creates[0].clone();
    snap["fields"]["duedate"] = json!("[due]");
    insta::with_settings!({filters => vec![(r"by \d{4}-\d{2}-\d{2}", "by [due]")]}, {
        insta::assert_json_snapshot!("override_ticket_v3", snap);
    });
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    assert!(
        body.contains("costgate: **OVERRIDDEN**") && body.contains("Follow-up ticket: [COST-17]"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_marker_falls_back_to_jql_search_and_creates_nothing() {
    let fake = FakeGitHub::start().await;
    let jira = jira(
        201,
        jira_fixture("create-issue.201.json"),
        jira_fixture("search-jql.v3.200.json"),
    )
    .await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
    let extra = [
        ("INPUT_JIRA-URL", jira.uri()),
        ("INPUT_JIRA-USER", "bot@example.com".into()),
        ("INPUT_JIRA-TOKEN", "jira-secret".into()),
    ];
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, out, err) = run_action(&ws, &fake, &ev, &extra).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(jira_requests(&jira, "/rest/api/3/issue").await.is_empty());
    let search = jira_requests(&jira, "/rest/api/3/search/jql").await;
    assert_eq!(
        search[0]["jql"],
        "project = \"COST\" AND labels = \"costgate-pr-octo-shop-7\" ORDER BY created DESC"
    );
    assert_eq!(ws.report()["ticket"]["key"], "COST-17");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_400_is_surfaced_and_exits_3_without_losing_the_verdict() {
    let fake = FakeGitHub::start().await;
    let jira = jira(
        400,
        jira_fixture("error.400.json"),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
    let uri = jira.uri();
    let (code, out, err) = run_action(
        &ws,
        &fake,
        &ev,
        &[
            ("INPUT_JIRA-URL", &uri),
            ("INPUT_JIRA-USER", "bot@example.com"),
            ("INPUT_JIRA-TOKEN", "t"),
        ],
    )
    .await;
    assert_eq!(code, 3, "{out}\n{err}");
    let r = ws.report();
    assert_eq!(r["verdict"], "overridden");
    let e = r["ticket"]["error"].as_str().unwrap();
    assert!(
        e.contains("400") && e.contains("summary: You must specify a summary of the issue."),
        "{e}"
    );
    assert!(out.contains("::error title=costgate::the override ticket could not be created"));
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    assert!(
        body.contains("The follow-up ticket could not be created"),
        "{body}"
    );
    assert!(ws.outputs().contains("verdict=overridden\n"));
}

/// A JIRA error that echoes the token back (a misconfigured proxy, a verbose 401) must not put it
/// in the PR comment, the job summary or the report: the error is redacted where it is caught,
/// before markdown escaping turns `secret_tok` into `secret\_tok` where no redaction finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jira_error_echoing_the_token_is_redacted_before_it_is_escaped() {
    let token = "JIRAsecret_tok_987_abc";
    let fake = FakeGitHub::start().await;
    let jira = jira(
        401,
        json!({"errorMessages": [format!("Bearer {token} is not a valid token")]}),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
    let uri = jira.uri();
    let (code, out, err) = run_action(
        &ws,
        &fake,
        &ev,
        &[
            ("INPUT_JIRA-URL", &uri),
            ("INPUT_JIRA-USER", "bot@example.com"),
            ("INPUT_JIRA-TOKEN", token),
        ],
    )
    .await;
    assert_eq!(code, 3, "{out}\n{err}");
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    let report = ws.report().to_string();
    // `::add-mask::` is how the runner learns the secret: the one place it may appear.
    let out: String = out
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for (what, text) in [
        ("comment", body.as_str()),
        ("summary", &ws.summary()),
        ("report", &report),
        ("stdout", &out),
        ("stderr", &err),
    ] {
        assert!(!text.contains("secret"), "{what} leaks the token: {text}");
    }
    assert!(
        body.contains("The follow-up ticket could not be created"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_outage_exits_3_and_a_rerun_creates_the_ticket() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
        )
        .mount(&down)
        .await;
    let uri = down.uri();
    let (code, _, _) = run_action(
        &ws,
        &fake,
        &ev,
        &[
            ("INPUT_JIRA-URL", &uri),
            ("INPUT_JIRA-USER", "u"),
            ("INPUT_JIRA-TOKEN", "t"),
        ],
    )
    .await;
    assert_eq!(code, 3);
    assert!(
        ws.report()["ticket"]["error"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    let up = jira(
        201,
        jira_fixture("create-issue.201.json"),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let uri = up.uri();
    let (code, _, _) = run_action(
        &ws,
        &fake,
        &ev,
        &[
            ("INPUT_JIRA-URL", &uri),
            ("INPUT_JIRA-USER", "u"),
            ("INPUT_JIRA-TOKEN", "t"),
        ],
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(jira_requests(&up, "/rest/api/3/issue").await.len(), 1);
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_v2_uses_bearer_wiki_text_and_the_v2_search() {
    let fake = FakeGitHub::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"startAt": 0, "maxResults": 10, "total": 0, "issues": []})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(jira_fixture("create-issue.201.json")),
        )
        .mount(&server)
        .await;
    let cfg = "jira:\n  url: https://jira.example.internal\n  project: COST\n  api: v2\n";
    let ws = Workspace::new("examples/head", cfg);
    let ev = ws.event(
        &fake,
        "pull_request.labeled.1.json",
        "",
        &["emergency-override"],
    );
    fake.add_label_event(
        PR,
        "labeled",
        "emergency-override",
        "lead_[x]",
        "2026-11-20T09:00:00Z",
    );
    fake.set_role("lead_[x]", "admin");
    let uri = server.uri();
    let (code, out, err) = run_action(
        &ws,
        &fake,
        &ev,
        &[("INPUT_JIRA-URL", &uri), ("INPUT_JIRA-TOKEN", "pat-123")],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let reqs = server.received_requests().await.unwrap();
    assert!(
        reqs.iter()
            .all(|r| r.headers.get("authorization").unwrap() == "Bearer pat-123")
    );
    let search: Value = serde_json::from_slice(
        &reqs
            .iter()
            .find(|r| r.url.path() == "/rest/api/2/search")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(search["startAt"], 0);
    let create: Value = serde_json::from_slice(
        &reqs
            .iter()
            .find(|r| r.url.path() == "/rest/api/2/issue")
            .unwrap()
            .body,
    )
    .unwrap();
    let wiki = create["fields"]["description"].as_str().unwrap();
    assert!(
        wiki.contains("applied by lead\\_\\[x\\]"),
        "wiki markup in a login is escaped: {wiki}"
    );
    insta::with_settings!({filters => vec![(r"by \d{4}\\-\d{2}\\-\d{2}", "by [due]")]}, {
        insta::assert_snapshot!("override_ticket_v2_wiki", wiki);
    });
    assert_eq!(
        ws.report()["ticket"]["url"],
        format!("{uri}/browse/COST-17")
    );
}

async fn jira_with_status(category: &str) -> MockServer {
    let server = jira(
        201,
        jira_fixture("create-issue.201.json"),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let mut issue = jira_fixture("search-jql.v3.200.json")["issues"][0].clone();
    issue["fields"]["status"]["statusCategory"]["key"] = json!(category);
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/COST-17"))
        .respond_with(ResponseTemplate::new(200).set_body_json(issue))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touching_paths_of_an_open_override_ticket_needs_a_fix_or_a_justification_naming_it() {
    for (category, body, expect, code) in [
        ("new", "", "fail", 1),
        (
            "new",
            "cost-regression-justification:\n  reason: follow-up of COST-17\n  expected-cost-delta: +6%\n  quality-delta: q\n",
            "warn",
            0,
        ),
        ("done", "", "warn", 0),
    ] {
        let fake = FakeGitHub::start().await;
        let jira = jira_with_status(category).await;
        let ws = Workspace::new("examples/head-warn", JIRA_CFG);
        let ev = ws.event(&fake, "pull_request.opened.1.json", body, &[]);
        fake.add_merged(3, "2026-11-10T10:00:00Z", "overridden", json!({"ticket": "COST-17", "override_by": "lead", "paths": ["app/prompts/escalation.j2", "README.md"]}));
        fake.state.lock().unwrap().files.insert(
            PR,
            vec!["app/prompts/escalation.j2".into(), "app/routes.yaml".into()],
        );
        let uri = jira.uri();
        let (c, out, err) = run_action(
            &ws,
            &fake,
            &ev,
            &[
                ("INPUT_JIRA-URL", &uri),
                ("INPUT_JIRA-USER", "u"),
                ("INPUT_JIRA-TOKEN", "t"),
            ],
        )
        .await;
        assert_eq!(c, code, "{category} {body}: {out}\n{err}");
        let r = ws.report();
        assert_eq!(r["verdict"], expect, "{category} {body}");
        if expect == "fail" {
            assert_eq!(r["fail_kinds"], json!(["open-override-ticket"]));
            assert_eq!(
                r["open_tickets"][0]["paths"],
                json!(["app/prompts/escalation.j2"])
            );
            assert!(
                r["reasons"]
                    .to_string()
                    .contains("open override ticket COST-17 (PR #3)")
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_overrides_than_allowed_in_30_days_add_a_process_warning() {
    let fake = FakeGitHub::start().await;
    let jira = jira(
        201,
        jira_fixture("create-issue.201.json"),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
    let recent = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let old = (chrono::Utc::now() - chrono::Duration::days(45)).to_rfc3339();
    fake.add_merged(5, &recent, "overridden", json!({"override_by": "lead"}));
    fake.add_merged(4, &old, "overridden", json!({"override_by": "lead"}));
    let uri = jira.uri();
    let (code, out, err) = run_action(
        &ws,
        &fake,
        &ev,
        &[
            ("INPUT_JIRA-URL", &uri),
            ("INPUT_JIRA-USER", "u"),
            ("INPUT_JIRA-TOKEN", "t"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let r = ws.report();
    assert_eq!(
        r["process_warnings"],
        json!([
            "2 emergency overrides in the last 30 days (this one included), more than override.max_per_30_days 1: review why the gate is being bypassed"
        ])
    );
    assert!(
        ours(&fake)[0]["body"]
            .as_str()
            .unwrap()
            .contains("### Process warnings")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_echoed_by_jira_never_reaches_the_comment_report_or_log() {
    const SECRET: &str = "jira-api-token-0123456789";
    let fake = FakeGitHub::start().await;
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("bot@example.com:{SECRET}"))
    };
    // Some JIRA front ends answer 401 with a page that repeats the credentials they were sent.
    let jira = jira(
        401,
        json!({"errorMessages": [format!("Invalid token {SECRET} (Authorization: Basic {basic})")]}),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
    let c = jira_inputs(&jira.uri(), "bot@example.com", SECRET);
    let (code, out, err) = run_action(&ws, &fake, &ev, &refs(&c)).await;
    assert_eq!(code, 3, "{out}\n{err}");
    let report = std::fs::read_to_string(ws.repo.join(".costgate-out/report.json")).unwrap();
    assert!(
        report.contains("Invalid token ***"),
        "the error is kept, masked: {report}"
    );
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    let artifact =
        std::fs::read_to_string(ws.repo.join(".costgate-out/costgate-comment.json")).unwrap();
    let summary = ws.summary();
    assert!(!summary.is_empty());
    for (what, text) in [
        ("report.json", &report),
        ("comment", &body),
        ("comment artifact", &artifact),
        ("summary", &summary),
        ("stderr", &err),
    ] {
        assert!(!text.contains(SECRET), "{what} leaks the token: {text}");
        assert!(!text.contains(&basic), "{what} leaks the Basic header");
    }
    // The log holds the token only in the runner's own mask command.
    let leaks: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(SECRET) && !l.starts_with("::add-mask::"))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_lost_to_a_jira_outage_is_retried_once_after_the_label_is_removed() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount(&down)
        .await;
    let creds = |uri: &str| jira_inputs(uri, "u", "t");
    let c = creds(&down.uri());
    let (code, _, _) = run_action(&ws, &fake, &ev, &refs(&c)).await;
    assert_eq!(code, 3);
    let marker = |fake: &FakeGitHub| {
        let body = ours(fake)[0]["body"].as_str().unwrap().to_string();
        costgate::action::comment::MarkerRecord::from_body(&body).unwrap()
    };
    let m = marker(&fake);
    assert!(m.ticket_pending && m.ticket.is_none(), "{m:?}");
    assert_eq!(m.override_by.as_deref(), Some("lead"));

    // The label is taken off; JIRA is back. The cost verdict fails again, and the ticket the
    // honoured override owes is created, once.
    let ev = ws.event(&fake, "pull_request.synchronize.1.json", "", &[]);
    let up = jira(
        201,
        jira_fixture("create-issue.201.json"),
        json!({"issues": [], "isLast": true}),
    )
    .await;
    let c = creds(&up.uri());
    for _ in 0..2 {
        let (code, out, err) = run_action(&ws, &fake, &ev, &refs(&c)).await;
        assert_eq!(
            code, 1,
            "the verdict is the cost verdict again: {out}\n{err}"
        );
    }
    assert_eq!(jira_requests(&up, "/rest/api/3/issue").await.len(), 1);
    let m = marker(&fake);
    assert!(!m.ticket_pending, "{m:?}");
    assert!(m.ticket.is_some(), "{m:?}");
    assert_eq!(ours(&fake).len(), 1);
}

/// The Action's JIRA inputs.
fn jira_inputs(url: &str, user: &str, token: &str) -> Vec<(String, String)> {
    vec![
        ("INPUT_JIRA-URL".into(), url.into()),
        ("INPUT_JIRA-USER".into(), user.into()),
        ("INPUT_JIRA-TOKEN".into(), token.into()),
    ]
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

/// A JIRA answering one endpoint with a fault and the rest normally.
async fn jira_faulty(fault_path: &str, fault: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(fault_path.to_string()))
        .respond_with(fault)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"issues": [], "isLast": true})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(jira_fixture("create-issue.201.json")),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_faults_on_search_and_create_never_lose_the_verdict_or_the_owed_ticket() {
    // 5xx, 429 with Retry-After, 404, a response slower than http-timeout-seconds, a truncated body.
    let faults = || {
        [
            (
                "500",
                ResponseTemplate::new(500).set_body_string("Internal Server Error"),
            ),
            (
                "429",
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(json!({"errorMessages": ["Rate limit exceeded"]})),
            ),
            (
                "404",
                ResponseTemplate::new(404).set_body_json(json!({"errorMessages": ["Not found"]})),
            ),
            (
                "timeout",
                ResponseTemplate::new(201)
                    .set_body_json(jira_fixture("create-issue.201.json"))
                    .set_delay(std::time::Duration::from_millis(2500)),
            ),
            (
                "truncated",
                ResponseTemplate::new(201)
                    .insert_header("content-type", "application/json")
                    .set_body_string("{\"id\":\"10001\",\"key\":\"COS"),
            ),
        ]
    };
    for endpoint in ["/rest/api/3/search/jql", "/rest/api/3/issue"] {
        for (name, fault) in faults() {
            let fake = FakeGitHub::start().await;
            let jira = jira_faulty(endpoint, fault).await;
            let ws = Workspace::new("examples/head", JIRA_CFG);
            let ev = labeled_by_an_admin(&ws, &fake);
            let mut c = jira_inputs(&jira.uri(), "u", "t");
            c.push(("INPUT_HTTP-TIMEOUT-SECONDS".into(), "1".into()));
            let (code, out, err) = run_action(&ws, &fake, &ev, &refs(&c)).await;
            let what = format!("{name} on {endpoint}");
            assert!(!err.contains("panicked"), "{what}: {err}");
            assert_eq!(ws.report()["verdict"], "overridden", "{what}");
            assert!(ws.outputs().contains("verdict=overridden\n"), "{what}");
            let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
            let m = costgate::action::comment::MarkerRecord::from_body(&body).unwrap();
            match code {
                0 => assert!(m.ticket.is_some() && !m.ticket_pending, "{what}: {m:?}"),
                3 => assert!(
                    m.ticket_pending,
                    "{what}: the owed ticket is recorded: {m:?}\n{out}"
                ),
                other => panic!("{what}: exit {other}\n{out}\n{err}"),
            }
            if endpoint.ends_with("/search/jql") {
                // Creates succeed here: one ticket at most, whatever the search did.
                assert!(
                    jira_requests(&jira, "/rest/api/3/issue").await.len() <= 1,
                    "{what}: a duplicate ticket"
                );
            }
        }
    }
}
