//! `costgate action` run as the runner runs it: the built binary, the `INPUT_*`/`GITHUB_*`
//! environment, a webhook event file, output and summary files, a temporary git repository holding
//! the shipped example (base commit = the example app, head commit = `examples/head` or
//! `examples/head-warn`), a stateful mock GitHub and, where needed, a mock JIRA.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_github::{BOT, FakeGitHub, OWNER, REPO, fixture};
use crate::support::{copy_dir, costgate, git, git_commit_all, git_init, repo_root};

pub const PR: u64 = 7;
pub const TOKEN: &str = "ghs_e2eSecretToken123";

/// A workspace with two commits and the runner's files.
pub struct Workspace {
    pub tmp: tempfile::TempDir,
    pub repo: PathBuf,
    pub base: String,
    pub head: String,
}

impl Workspace {
    /// `head_dir` is `examples/head` (fail), `examples/head-warn` (warn) or `.` (no change: pass).
    pub fn new(head_dir: &str, config_extra: &str) -> Workspace {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("ws");
        std::fs::create_dir_all(&repo).unwrap();
        let root = repo_root();
        git_init(&repo);
        copy_dir(&root.join("golden"), &repo.join("golden"));
        copy_dir(&root.join("app"), &repo.join("app"));
        // The example's policy without its approvers and jira sections, which tests set themselves.
        std::fs::write(
            repo.join("costgate.yaml"),
            format!("version: 1\ngolden: golden/\nroutes: app/routes.yaml\n{config_extra}"),
        )
        .unwrap();
        let base = git_commit_all(&repo, "base");
        if head_dir != "." {
            std::fs::remove_dir_all(repo.join("app")).unwrap();
            copy_dir(&root.join(head_dir).join("app"), &repo.join("app"));
        } else {
            std::fs::write(repo.join("README.md"), "docs only\n").unwrap();
        }
        let head = git_commit_all(&repo, "head");
        Workspace {
            tmp,
            repo,
            base,
            head,
        }
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    /// The pull_request event file for PR 7, from the webhook fixture.
    pub fn event(&self, fake: &FakeGitHub, name: &str, body: &str, labels: &[&str]) -> PathBuf {
        let pr = fake.add_pr(PR, body, &self.head, &self.base, labels);
        let mut ev = fixture(&format!("webhooks/{name}"));
        ev["number"] = json!(PR);
        ev["pull_request"] = pr;
        ev["repository"]["full_name"] = json!(format!("{OWNER}/{REPO}"));
        let p = self.tmp.path().join("event.json");
        std::fs::write(&p, ev.to_string()).unwrap();
        p
    }

    pub fn outputs(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("output")).unwrap_or_default()
    }

    pub fn summary(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("summary")).unwrap_or_default()
    }

    pub fn report(&self) -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(self.repo.join(".costgate-out/report.json")).unwrap(),
        )
        .unwrap()
    }
}

/// Runs the built binary with the runner's environment; returns (exit code, stdout, stderr).
pub async fn run_action(
    ws: &Workspace,
    fake: &FakeGitHub,
    event: &Path,
    extra: &[(&str, &str)],
) -> (i32, String, String) {
    std::fs::create_dir_all(ws.home()).unwrap();
    let mut cmd = costgate();
    cmd.arg("action")
        .current_dir(&ws.repo)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", ws.home())
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event)
        .env("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}"))
        .env("GITHUB_API_URL", fake.url())
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_WORKSPACE", &ws.repo)
        .env("GITHUB_SHA", &ws.head)
        .env("GITHUB_OUTPUT", ws.tmp.path().join("output"))
        .env("GITHUB_STEP_SUMMARY", ws.tmp.path().join("summary"))
        .env("INPUT_GITHUB-TOKEN", TOKEN)
        .env("INPUT_COMMENT", "true");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ours(fake: &FakeGitHub) -> Vec<Value> {
    fake.comments(PR)
        .into_iter()
        .filter(|c| c["user"]["login"] == BOT)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_pr_comments_annotates_and_writes_outputs_summary_and_report() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(
        &fake,
        "pull_request.opened.1.json",
        "Adds brand voice to the system prompt.",
        &[],
    );
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.starts_with(&format!("::add-mask::{TOKEN}\n")),
        "the token is masked first: {out}"
    );
    assert!(
        out.contains("::warning file=app/prompts/system.j2,title=costgate::system grew: "),
        "{out}"
    );
    assert!(!err.contains(TOKEN));
    let outputs = ws.outputs();
    assert!(outputs.contains("verdict=fail\n"), "{outputs}");
    assert!(
        outputs.contains("comment-url=https://github.com/octo/shop/pull/7#issuecomment-"),
        "{outputs}"
    );
    assert!(
        outputs.contains("report-json=") && outputs.contains("total-delta-pct=8."),
        "{outputs}"
    );
    assert!(ws.summary().contains("costgate: **FAIL**"));
    let report = ws.report();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["base"]["commit"], json!(ws.base));
    let c = ours(&fake);
    assert_eq!(c.len(), 1);
    let body = c[0]["body"].as_str().unwrap();
    assert!(body.contains("How to justify this regression"));
    let rec = costgate::action::comment::MarkerRecord::from_body(body).unwrap();
    assert_eq!(rec.head_sha.as_deref(), Some(ws.head.as_str()));
    assert_eq!(rec.pr, Some(PR));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_runs_leave_exactly_one_comment() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(&fake, "pull_request.synchronize.1.json", "", &[]);
    for _ in 0..3 {
        let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
        assert_eq!(code, 1, "{out}\n{err}");
    }
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_pr_posts_nothing_and_exits_zero() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new(".", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(fake.comments(PR).is_empty());
    assert!(ws.outputs().contains("verdict=pass\n"));
    assert!(ws.outputs().contains("comment-url=\n"));
    assert!(ws.summary().contains("costgate: **PASS**"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_token_still_writes_verdict_summary_and_outputs() {
    let fake = FakeGitHub::start().await;
    fake.fail_next("POST", "/issues/7/comments", 403, json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment", "status": "403"}), &[]);
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1, "exit code follows the verdict: {out}\n{err}");
    assert!(
        out.contains("::notice title=costgate::cannot comment on the PR"),
        "{out}"
    );
    assert!(out.contains("workflow_run companion"), "{out}");
    assert!(ws.outputs().contains("verdict=fail\n"));
    assert!(ws.summary().contains("costgate: **FAIL**"));
    assert!(
        ws.repo
            .join(".costgate-out/costgate-comment.json")
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn justification_approved_on_head_is_accepted_and_recorded() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "approvers:\n  users: [alice]\n");
    let body = "Brand voice.\n\n```\ncost-regression-justification:\n  reason: legal requires the brand voice\n  expected-cost-delta: +10%\n  quality-delta: brand score +12%\n```\n";
    let ev = ws.event(&fake, "pull_request.opened.1.json", body, &[]);
    // Without an approval: review_required.
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(ws.report()["verdict"], "review_required");
    // An approval of an older commit does not count; one of the head does.
    fake.add_review(PR, "alice", "APPROVED", &ws.base);
    let (code, _, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1);
    fake.add_review(PR, "alice", "APPROVED", &ws.head);
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let r = ws.report();
    assert_eq!(r["verdict"], "accepted");
    assert_eq!(r["sign_off"]["approver"], "alice");
    assert_eq!(r["sign_off"]["commit"], json!(ws.head));
    let c = ours(&fake);
    assert_eq!(c.len(), 1);
    assert!(
        c[0]["body"]
            .as_str()
            .unwrap()
            .contains("Signed off by `alice`"),
        "{}",
        c[0]["body"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_by_someone_below_min_permission_does_not_sign_off() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let body = "cost-regression-justification:\n  reason: r\n  expected-cost-delta: +10%\n  quality-delta: q\n";
    let ev = ws.event(&fake, "pull_request_review.submitted.1.json", body, &[]);
    fake.set_role("dev", "write");
    fake.add_review(PR, "dev", "APPROVED", &ws.head);
    let (code, _, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1);
    let r = ws.report();
    assert_eq!(r["verdict"], "review_required");
    assert!(
        r["notes"]
            .to_string()
            .contains("dev approved but is not an authorised approver"),
        "{}",
        r["notes"]
    );
    // Promoted to maintain: the same approval now signs off.
    fake.set_role("dev", "maintain");
    let (code, _, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 0);
    assert_eq!(
        ws.report()["sign_off"]["via"],
        "repository permission maintain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn override_label_by_unauthorised_user_is_ignored() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "approvers:\n  teams: [octo/cost-eng]\n");
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
        "mallory",
        "2026-11-20T09:00:00Z",
    );
    fake.set_role("mallory", "write");
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let r = ws.report();
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["override"]["applied_by"], "mallory");
    let why = r["override"]["why"].as_str().unwrap();
    assert!(
        why.contains("has write permission, below maintain"),
        "{why}"
    );
    assert!(
        why.contains("team octo/cost-eng not checked: set the `approver-token` input"),
        "{why}"
    );
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    assert!(
        body.contains("applied by `mallory` is **ignored**"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_removed_then_reapplied_counts_the_latest_application() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "approvers:\n  teams: [octo/cost-eng]\n");
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
    fake.add_label_event(
        PR,
        "unlabeled",
        "emergency-override",
        "lead",
        "2026-11-20T09:05:00Z",
    );
    fake.add_label_event(
        PR,
        "labeled",
        "emergency-override",
        "intern",
        "2026-11-20T09:10:00Z",
    );
    fake.state.lock().unwrap().approver_token = Some("ghp_approver".into());
    fake.state
        .lock()
        .unwrap()
        .teams
        .insert(("octo/cost-eng".into(), "lead".into()), "active".into());
    let (code, _, _) =
        run_action(&ws, &fake, &ev, &[("INPUT_APPROVER-TOKEN", "ghp_approver")]).await;
    assert_eq!(code, 1);
    assert_eq!(ws.report()["override"]["applied_by"], "intern");
    assert!(
        ws.report()["override"]["why"]
            .as_str()
            .unwrap()
            .contains("is not a member of octo/cost-eng")
    );
}

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

const JIRA_CFG: &str = "approvers:\n  teams: [octo/cost-eng]\njira:\n  url: https://example.atlassian.net\n  project: COST\n";

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
    fake.set_role("lead", "admin");
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
    fake.set_role("lead", "admin");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_outage_exits_3_and_a_rerun_creates_the_ticket() {
    let fake = FakeGitHub::start().await;
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
    fake.set_role("lead", "admin");
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
async fn override_on_a_passing_pr_changes_nothing_and_opens_no_ticket() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new(".", JIRA_CFG);
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
    fake.set_role("lead", "admin");
    let (code, _, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 0);
    let r = ws.report();
    assert_eq!(r["verdict"], "pass");
    assert!(
        r["override"]["why"]
            .as_str()
            .unwrap()
            .starts_with("not needed")
    );
    assert!(r.get("ticket").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifth_warn_in_a_row_fails_with_warn_streak() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head-warn", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    for (n, at) in [
        (6, "2026-11-19T10:00:00Z"),
        (5, "2026-11-18T10:00:00Z"),
        (4, "2026-11-17T10:00:00Z"),
        (3, "2026-11-16T10:00:00Z"),
    ] {
        fake.add_merged(n, at, "warn", json!({}));
    }
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let r = ws.report();
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["fail_kinds"], json!(["warn-streak"]));
    assert!(
        r["reasons"][0].as_str().unwrap().starts_with(
            "warn streak: this is the 5th warn in a row (previous merged: #6, #5, #4, #3)"
        ),
        "{}",
        r["reasons"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_in_the_last_merges_breaks_the_streak() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head-warn", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    fake.add_merged(6, "2026-11-19T10:00:00Z", "warn", json!({}));
    fake.add_merged(5, "2026-11-18T10:00:00Z", "pass", json!({}));
    fake.add_merged(4, "2026-11-17T10:00:00Z", "warn", json!({}));
    fake.add_merged(3, "2026-11-16T10:00:00Z", "warn", json!({}));
    let (code, _, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 0);
    assert_eq!(ws.report()["verdict"], "warn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shallow_checkout_fetches_the_base_commit() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    // The runner's checkout: a depth-1 clone of the head, with the full repository as origin.
    let shallow = ws.tmp.path().join("shallow");
    git(
        ws.tmp.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            &format!("file://{}", ws.repo.display()),
            shallow.to_str().unwrap(),
        ],
    );
    let missing = std::process::Command::new("git")
        .current_dir(&shallow)
        .args(["cat-file", "-e", &format!("{}^{{commit}}", ws.base)])
        .status()
        .unwrap();
    assert!(!missing.success(), "the clone must lack the base commit");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let sh = shallow.to_str().unwrap().to_string();
    let (code, out, err) = run_action(&ws, &fake, &ev, &[("GITHUB_WORKSPACE", &sh)]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains(&format!("fetched the base commit {} (depth 1)", ws.base)),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_base_without_a_remote_names_the_checkout_option() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let (code, _, err) = run_action(
        &ws,
        &fake,
        &ev,
        &[("INPUT_BASE-REF", "0123456789abcdef0123456789abcdef01234567")],
    )
    .await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn working_directory_in_a_monorepo_reads_the_subdirectory_of_each_commit() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    // Move the whole example under services/chat/ in a new repository with the same two changes.
    let mono = ws.tmp.path().join("mono");
    let sub = mono.join("services/chat");
    std::fs::create_dir_all(&sub).unwrap();
    git_init(&mono);
    let root = repo_root();
    copy_dir(&root.join("golden"), &sub.join("golden"));
    copy_dir(&root.join("app"), &sub.join("app"));
    std::fs::copy(ws.repo.join("costgate.yaml"), sub.join("costgate.yaml")).unwrap();
    std::fs::write(mono.join("README.md"), "monorepo\n").unwrap();
    let base = git_commit_all(&mono, "base");
    std::fs::remove_dir_all(sub.join("app")).unwrap();
    copy_dir(&root.join("examples/head/app"), &sub.join("app"));
    let head = git_commit_all(&mono, "head");
    let pr = fake.add_pr(PR, "", &head, &base, &[]);
    let mut ev = fixture("webhooks/pull_request.opened.1.json");
    ev["pull_request"] = pr;
    let evp = ws.tmp.path().join("mono-event.json");
    std::fs::write(&evp, ev.to_string()).unwrap();
    let m = mono.to_str().unwrap().to_string();
    let (code, out, err) = run_action(
        &ws,
        &fake,
        &evp,
        &[
            ("GITHUB_WORKSPACE", &m),
            ("GITHUB_SHA", &head),
            ("INPUT_WORKING-DIRECTORY", "services/chat"),
        ],
    )
    .await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("::warning file=services/chat/app/prompts/system.j2,"),
        "{out}"
    );
    assert!(sub.join(".costgate-out/report.json").is_file());
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
    fake.set_role("lead", "admin");
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
async fn fork_companion_posts_the_artifact_only_for_the_prs_current_head() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    fake.add_pr(PR, "", &ws.head, &ws.base, &[]);
    let artifact = ws.tmp.path().join("artifact");
    std::fs::create_dir_all(&artifact).unwrap();
    let body = "<!-- costgate:sticky {\"v\":1,\"verdict\":\"fail\",\"pr\":7} -->\n## ❌ costgate: **FAIL**\n<details><summary>x</summary>\n@everyone <img src=x>\n</details>";
    std::fs::write(
        artifact.join("costgate-comment.json"),
        json!({"pr": PR, "head_sha": ws.head, "body": body}).to_string(),
    )
    .unwrap();
    // The workflow_run event's shape (only the fields costgate reads are set).
    let event = |sha: &str| {
        let p = ws.tmp.path().join(format!("run-{sha}.json"));
        std::fs::write(&p, json!({"action": "completed", "workflow_run": {"id": 42, "head_sha": sha, "event": "pull_request", "conclusion": "failure"}}).to_string()).unwrap();
        p
    };
    let dir = artifact.to_str().unwrap().to_string();
    let stale = event(&ws.base);
    let (code, _, err) = run_action(
        &ws,
        &fake,
        &stale,
        &[
            ("GITHUB_EVENT_NAME", "workflow_run"),
            ("INPUT_COMMENT-FROM", &dir),
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refusing to post it"), "{err}");
    assert!(fake.comments(PR).is_empty());
    let ok = event(&ws.head);
    let (code, out, err) = run_action(
        &ws,
        &fake,
        &ok,
        &[
            ("GITHUB_EVENT_NAME", "workflow_run"),
            ("INPUT_COMMENT-FROM", &dir),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let c = ours(&fake);
    assert_eq!(c.len(), 1);
    let posted = c[0]["body"].as_str().unwrap();
    assert!(
        posted.contains("<details><summary>x</summary>")
            && posted.contains("&lt;img")
            && !posted.contains("@everyone"),
        "{posted}"
    );
    // A second delivery updates the same comment.
    run_action(
        &ws,
        &fake,
        &ok,
        &[
            ("GITHUB_EVENT_NAME", "workflow_run"),
            ("INPUT_COMMENT-FROM", &dir),
        ],
    )
    .await;
    assert_eq!(ours(&fake).len(), 1);
}
