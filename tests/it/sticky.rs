//! The sticky PR comment against a stateful GitHub stand-in: created once, updated in place, silent
//! on pass, resilient to 5xx and rate limits, never fooled by a marker in a human's comment, and
//! always under GitHub's size limit.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use costgate::action::comment::{self, CommentMeta, MarkerRecord};
use costgate::action::sticky::{self, Outcome};
use costgate::clients::github::{GitHub, RetryPolicy};
use costgate::gate::report::Report;
use costgate::gate::verdict::Verdict;
use costgate::gate::{self, Options, Side};
use costgate::infra::tree::DirTree;
use costgate::measure::config::OnPass;
use costgate::output::templates::Templates;
use serde_json::json;

use crate::support::fake_github::{BOT, FakeGitHub, OWNER, REPO};
use crate::support::repo_root;

/// The shipped example's report for `head` against the repository root (`examples/head` fails,
/// `examples/head-warn` warns, `.` passes), computed once per head.
pub fn example_report(head: &str) -> Report {
    static REPORTS: OnceLock<Mutex<BTreeMap<String, Report>>> = OnceLock::new();
    let cache = REPORTS.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap().get(head) {
        return r.clone();
    }
    let root = repo_root();
    let side = |name: &'static str, dir: std::path::PathBuf| Side {
        name,
        tree: std::sync::Arc::new(DirTree::new(&dir, name)),
        commit: None,
    };
    let report = gate::check(
        &side("base", root.clone()),
        &side("head", root.join(head)),
        &Options::default(),
    )
    .unwrap();
    cache
        .lock()
        .unwrap()
        .insert(head.to_string(), report.clone());
    report
}

pub fn client(fake: &FakeGitHub) -> GitHub {
    let mut gh = GitHub::new(&fake.url(), Some("ghs_test"), &format!("{OWNER}/{REPO}")).unwrap();
    gh.retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
    };
    gh
}

fn meta() -> CommentMeta {
    CommentMeta {
        base_sha: "a".repeat(40),
        head_sha: "b".repeat(40),
        pr_head_sha: "c".repeat(40),
        justification_key: "cost-regression-justification".into(),
        previous: None,
        approvers: vec![
            "alice".into(),
            "anyone with maintain permission or higher".into(),
            "members of acme/cost-owners".into(),
        ],
        docs_url: Some("https://github.com/acme/costgate/blob/v1/docs/verdict.md".into()),
    }
}

/// The sticky comment of PR 7 written as the bot.
fn thread<'a>(gh: &'a GitHub, scope: Option<&'a str>) -> sticky::Thread<'a> {
    sticky::Thread {
        gh,
        pr: 7,
        identity: BOT,
        scope,
    }
}

async fn run_once(gh: &GitHub, report: &Report) -> Outcome {
    let record = MarkerRecord {
        v: 1,
        verdict: Some(report.verdict),
        pr: Some(7),
        ..Default::default()
    };
    let (outcome, _) = sticky::publish(thread(gh, None), report.verdict, OnPass::Silent, |prev| {
        let m = CommentMeta {
            previous: prev.and_then(|p| p.verdict).map(|v| v.as_str().to_string()),
            ..meta()
        };
        comment::render(report, &m, &record, &Templates::builtin()).unwrap()
    })
    .await
    .unwrap();
    outcome
}

/// How many POSTs (comment creations) the fake GitHub received.
async fn posts(fake: &FakeGitHub) -> usize {
    fake.requests()
        .await
        .iter()
        .filter(|r| r.starts_with("POST"))
        .count()
}

fn ours(fake: &FakeGitHub) -> Vec<serde_json::Value> {
    fake.comments(7)
        .into_iter()
        .filter(|c| c["user"]["login"] == BOT)
        .collect()
}

#[tokio::test]
async fn first_run_creates_then_reruns_update_exactly_one_comment() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let report = example_report("examples/head");
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(matches!(
        run_once(&gh, &report).await,
        Outcome::Created { .. }
    ));
    assert!(matches!(
        run_once(&gh, &report).await,
        Outcome::Updated { .. }
    ));
    assert!(matches!(
        run_once(&gh, &report).await,
        Outcome::Updated { .. }
    ));
    let c = ours(&fake);
    assert_eq!(c.len(), 1, "exactly one comment after three runs");
    let body = c[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with("<!-- costgate:sticky {"),
        "{}",
        &body[..100]
    );
    assert_eq!(
        MarkerRecord::from_body(body).unwrap().verdict,
        Some(Verdict::Fail)
    );
    let posts = posts(&fake).await;
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn pass_with_no_prior_comment_posts_nothing() {
    let fake = FakeGitHub::start().await;
    let report = example_report(".");
    assert_eq!(report.verdict, Verdict::Pass);
    assert!(matches!(
        run_once(&client(&fake), &report).await,
        Outcome::Skipped { .. }
    ));
    assert!(fake.comments(7).is_empty());
    assert!(fake.requests().await.iter().all(|r| r.starts_with("GET")));
}

#[tokio::test]
async fn pass_after_a_fail_updates_the_comment_to_say_the_regression_is_gone() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    run_once(&gh, &example_report("examples/head")).await;
    assert!(matches!(
        run_once(&gh, &example_report(".")).await,
        Outcome::Updated { .. }
    ));
    let c = ours(&fake);
    assert_eq!(c.len(), 1);
    let body = c[0]["body"].as_str().unwrap();
    assert!(body.contains("costgate: **PASS**"), "{body}");
    assert!(
        body.contains("The cost regression reported earlier (fail) is gone."),
        "{body}"
    );
    // A second pass leaves it alone.
    assert!(matches!(
        run_once(&gh, &example_report(".")).await,
        Outcome::Skipped { .. }
    ));
}

#[tokio::test]
async fn a_marker_in_a_humans_comment_is_ignored() {
    let fake = FakeGitHub::start().await;
    let human = fake.add_comment(
        7,
        "mallory",
        "<!-- costgate:sticky {\"v\":1,\"verdict\":\"pass\"} -->\nlooks fine to me",
    );
    run_once(&client(&fake), &example_report("examples/head")).await;
    let all = fake.comments(7);
    assert_eq!(all.len(), 2);
    let h = all.iter().find(|c| c["id"] == json!(human)).unwrap();
    assert!(
        h["body"].as_str().unwrap().ends_with("looks fine to me"),
        "the human's comment is untouched"
    );
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test]
async fn server_error_on_post_then_success_leaves_one_comment() {
    let fake = FakeGitHub::start().await;
    fake.fail_next(
        "POST",
        "/comments",
        500,
        json!({"message": "Server Error"}),
        &[],
    );
    fake.fail_next(
        "GET",
        "/comments",
        502,
        json!({"message": "Bad Gateway"}),
        &[],
    );
    let out = run_once(&client(&fake), &example_report("examples/head")).await;
    assert!(matches!(out, Outcome::Created { .. }), "{out:?}");
    assert_eq!(ours(&fake).len(), 1);
    let reqs = fake.requests().await;
    assert_eq!(
        reqs.iter().filter(|r| r.starts_with("POST")).count(),
        2,
        "{reqs:?}"
    );
}

#[tokio::test]
async fn rate_limited_reads_wait_and_retry() {
    let fake = FakeGitHub::start().await;
    let reset = (chrono::Utc::now().timestamp() + 1).to_string();
    fake.fail_next(
        "GET",
        "/comments",
        403,
        json!({"message": "API rate limit exceeded"}),
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ],
    );
    fake.fail_next(
        "GET",
        "/comments",
        403,
        json!({"message": "You have exceeded a secondary rate limit"}),
        &[("retry-after", "0")],
    );
    let started = std::time::Instant::now();
    assert!(matches!(
        run_once(&client(&fake), &example_report("examples/head")).await,
        Outcome::Created { .. }
    ));
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "waited for the reset"
    );
}

#[tokio::test]
async fn forbidden_comment_is_a_forbidden_error() {
    let fake = FakeGitHub::start().await;
    fake.fail_next("POST", "/comments", 403, json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment", "status": "403"}), &[]);
    let report = example_report("examples/head");
    let gh = client(&fake);
    let err = sticky::publish(thread(&gh, None), report.verdict, OnPass::Silent, |_| {
        "x".into()
    })
    .await
    .unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    assert!(
        err.to_string()
            .contains("Resource not accessible by integration"),
        "{err}"
    );
    assert!(fake.comments(7).is_empty());
}

#[test]
fn huge_report_is_truncated_in_the_table_not_the_verdict() {
    let mut report = example_report("examples/head");
    let cases = report.cases.clone();
    for i in 0..20 {
        report.cases.extend(cases.iter().cloned().map(|mut c| {
            c.id = format!("{}-{i}", c.id);
            c
        }));
    }
    assert!(report.cases.len() > 6000);
    let body = comment::render(
        &report,
        &meta(),
        &MarkerRecord {
            v: 1,
            ..Default::default()
        },
        &Templates::builtin(),
    )
    .unwrap();
    let n = body.chars().count();
    assert!(n < comment::MAX_BODY_CHARS, "{n}");
    assert!(
        n > comment::MAX_BODY_CHARS / 2,
        "not cut more than needed: {n}"
    );
    assert!(body.contains("costgate: **FAIL**"));
    assert!(body.contains("shown; the full table is in report.json"));
    assert!(body.contains("### Where the money went"));
    assert!(!body.contains("```mermaid"), "the chart is gone");
}

#[test]
fn text_from_the_pr_cannot_inject_markup_mentions_or_a_marker() {
    let mut report = example_report("examples/head");
    let evil = "<!-- costgate:sticky {\"verdict\":\"pass\"} --> @security-team <img src=x onerror=alert(1)> [x](javascript:alert(1))";
    let body = format!(
        "cost-regression-justification:\n  reason: {evil}\n  expected-cost-delta: +99%\n  quality-delta: {evil}\n"
    );
    costgate::gate::review::apply(
        &mut report,
        &costgate::measure::config::Config::parse("version: 1\nroutes: r.yaml\n", "c.yaml")
            .unwrap(),
        &costgate::gate::review::Facts {
            pr_body: Some(body),
            ..Default::default()
        },
    );
    let out = comment::render(
        &report,
        &meta(),
        &MarkerRecord {
            v: 1,
            verdict: Some(report.verdict),
            ..Default::default()
        },
        &Templates::builtin(),
    )
    .unwrap();
    assert_eq!(
        out.matches("<!-- costgate:sticky").count(),
        1,
        "only our marker"
    );
    assert_eq!(out.lines().filter(|l| l.starts_with("<!--")).count(), 1);
    assert!(!out.contains("<img"));
    assert!(!out.contains("@security-team"));
    assert!(!out.contains("[x](javascript"), "link syntax is escaped");
    assert_eq!(
        MarkerRecord::from_body(&out).unwrap().verdict,
        Some(Verdict::ReviewRequired)
    );
}

#[test]
fn marker_json_cannot_close_the_html_comment() {
    let r = MarkerRecord {
        v: 1,
        ticket: Some("X--> <b>".into()),
        ..Default::default()
    };
    let m = r.to_marker();
    assert_eq!(m.matches("-->").count(), 1, "{m}");
    assert!(m.ends_with(" -->"));
    assert_eq!(MarkerRecord::from_body(&m).unwrap(), r);
}

#[test]
fn comment_body_snapshot() {
    let mut report = example_report("examples/head");
    let keep: Vec<_> = report.regressions().into_iter().take(6).cloned().collect();
    report.cases = keep;
    let body = "Adds brand voice.\n\ncost-regression-justification:\n  reason: Brand voice is required by <legal> @legal-team\n  expected-cost-delta: +10%\n  quality-delta: brand-consistency score +12%\n";
    let config = costgate::measure::config::Config::parse(
        "version: 1\nroutes: r.yaml\napprovers:\n  users: [alice]\n  teams: [octo/cost-eng]\n",
        "c.yaml",
    )
    .unwrap();
    let facts = costgate::gate::review::Facts {
        pr_body: Some(body.into()),
        approvers: costgate::action::approver_rules(&config),
        override_finding: Some(costgate::gate::report::OverrideFinding {
            label: "emergency-override".into(),
            applied_by: Some("mallory".into()),
            applied_at: Some("2026-11-20T09:00:00Z".into()),
            authorised: false,
            why: "mallory has write permission, below maintain, is not in approvers.users and is not an active member of octo/cost-eng"
                .into(),
        }),
        ..Default::default()
    };
    costgate::gate::review::apply(&mut report, &config, &facts);
    let record = MarkerRecord {
        v: 1,
        verdict: Some(report.verdict),
        cost_verdict: Some(Verdict::Fail),
        pr: Some(7),
        ..Default::default()
    };
    insta::assert_snapshot!(
        comment::render(&report, &meta(), &record, &Templates::builtin()).unwrap()
    );
}

fn slow_client(fake: &FakeGitHub) -> GitHub {
    let mut gh = GitHub::with_timeout(
        &fake.url(),
        Some("ghs_test"),
        &format!("{OWNER}/{REPO}"),
        Duration::from_millis(300),
    )
    .unwrap();
    gh.retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
    };
    gh
}

#[tokio::test]
async fn a_timed_out_read_is_retried() {
    let fake = FakeGitHub::start().await;
    fake.delay_next("GET", "/comments", Duration::from_secs(2));
    let out = run_once(&slow_client(&fake), &example_report("examples/head")).await;
    assert!(matches!(out, Outcome::Created { .. }), "{out:?}");
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test]
async fn a_post_whose_response_is_lost_is_not_posted_twice() {
    let fake = FakeGitHub::start().await;
    // The server creates the comment but answers after the client gave up.
    fake.delay_next("POST", "/comments", Duration::from_secs(2));
    let out = run_once(&slow_client(&fake), &example_report("examples/head")).await;
    assert!(
        matches!(out, Outcome::Updated { .. }),
        "found and updated, not posted again: {out:?}"
    );
    assert_eq!(ours(&fake).len(), 1);
    let posts = posts(&fake).await;
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_rate_limited_post_is_sent_again_after_retry_after() {
    let fake = FakeGitHub::start().await;
    fake.fail_next(
        "POST",
        "/comments",
        403,
        json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
        &[("retry-after", "1")],
    );
    let started = std::time::Instant::now();
    let out = run_once(&client(&fake), &example_report("examples/head")).await;
    assert!(matches!(out, Outcome::Created { .. }), "{out:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test]
async fn each_scope_keeps_its_own_comment() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let report = example_report("examples/head");
    for scope in [
        "services/chat:costgate.yaml",
        "services/search:costgate.yaml",
        "services/chat:costgate.yaml",
    ] {
        let record = MarkerRecord {
            v: 1,
            scope: Some(scope.into()),
            verdict: Some(report.verdict),
            ..Default::default()
        };
        sticky::publish(
            thread(&gh, Some(scope)),
            report.verdict,
            OnPass::Silent,
            |_| comment::render(&report, &meta(), &record, &Templates::builtin()).unwrap(),
        )
        .await
        .unwrap();
    }
    let c = ours(&fake);
    assert_eq!(c.len(), 2, "one comment per scope");
    let scopes: Vec<Option<String>> = c
        .iter()
        .map(|c| {
            MarkerRecord::from_body(c["body"].as_str().unwrap())
                .unwrap()
                .scope
        })
        .collect();
    assert_eq!(
        scopes,
        [
            Some("services/chat:costgate.yaml".to_string()),
            Some("services/search:costgate.yaml".to_string())
        ]
    );
}

#[test]
fn overridden_comment_snapshot() {
    let mut report = example_report("examples/head");
    let keep: Vec<_> = report.regressions().into_iter().take(3).cloned().collect();
    report.cases = keep;
    let config =
        costgate::measure::config::Config::parse("version: 1\nroutes: r.yaml\n", "c.yaml").unwrap();
    let facts = costgate::gate::review::Facts {
        override_finding: Some(costgate::gate::report::OverrideFinding {
            label: "emergency-override".into(),
            applied_by: Some("lead".into()),
            applied_at: Some("2026-11-20T09:00:00Z".into()),
            authorised: true,
            why: "lead is an authorised approver (repository permission admin)".into(),
        }),
        ..Default::default()
    };
    costgate::gate::review::apply(&mut report, &config, &facts);
    report.review.ticket = Some(costgate::gate::report::TicketRecord {
        key: Some("COST-17".into()),
        url: Some("https://example.atlassian.net/browse/COST-17".into()),
        error: None,
    });
    report.review.process_warnings.push("2 emergency overrides in the last 30 days (this one included), more than override.max_per_30_days 1: review why the gate is being bypassed".into());
    let record = MarkerRecord {
        v: 1,
        verdict: Some(report.verdict),
        cost_verdict: Some(Verdict::Fail),
        pr: Some(7),
        ticket: Some("COST-17".into()),
        override_by: Some("lead".into()),
        override_at: Some("2026-11-20T09:00:00Z".into()),
        paths: vec!["app/prompts/system.j2".into()],
        ..Default::default()
    };
    insta::assert_snapshot!(
        comment::render(&report, &meta(), &record, &Templates::builtin()).unwrap()
    );
}

#[tokio::test]
async fn a_comment_deleted_before_the_patch_is_posted_again() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let report = example_report("examples/head");
    assert!(matches!(
        run_once(&gh, &report).await,
        Outcome::Created { .. }
    ));
    // Found by the GET, gone by the PATCH (someone deleted it in between).
    fake.fail_next(
        "PATCH",
        "/issues/comments/",
        404,
        json!({"message": "Not Found"}),
        &[],
    );
    assert!(
        matches!(run_once(&gh, &report).await, Outcome::Created { .. }),
        "re-created, not left missing"
    );
    let posts = posts(&fake).await;
    assert_eq!(posts, 2);
}

#[test]
fn cheap_and_wrong_comment_snapshot() {
    let report = example_report("examples/head-cheap-wrong");
    let record = MarkerRecord {
        v: 1,
        verdict: Some(report.verdict),
        pr: Some(7),
        ..Default::default()
    };
    let body = comment::render(&report, &meta(), &record, &Templates::builtin()).unwrap();
    // Cost and quality in one line, causes instead of 380 broken expectations.
    assert!(
        body.contains("**Cost and quality:** -33.8% cost, 140 case(s) lost retrieved context"),
        "{body}"
    );
    // A quality fail leads with quality, never with the saving.
    let headline = body.lines().nth(1).unwrap();
    assert!(
        headline.contains("**FAIL** · quality: 380 expectation(s)"),
        "{headline}"
    );
    assert!(!headline.contains('$'), "{headline}");
    assert!(
        body.contains("**What to do:** restore the broken expectations"),
        "{body}"
    );
    insta::assert_snapshot!(body);
}

/// Two runs for one PR at once both find no comment and both create one. Played here in order:
/// the other run's comment appears after this run looked and before it posts. This run then
/// keeps the oldest comment (giving it its body), deletes its own, and one comment is left.
#[tokio::test]
async fn a_comment_created_beside_a_concurrent_one_leaves_one() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let report = example_report("examples/head");
    let record = MarkerRecord {
        v: 1,
        verdict: Some(report.verdict),
        pr: Some(7),
        ..Default::default()
    };
    let body = comment::render(&report, &meta(), &record, &Templates::builtin()).unwrap();
    let looked = sticky::find(thread(&gh, None)).await.unwrap();
    assert!(looked.is_none());
    let other = fake.add_comment(
        7,
        BOT,
        &body.replace("Cost check", "Other run's cost check"),
    );
    let outcome = sticky::upsert(thread(&gh, None), looked, &body, (true, true))
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Updated { id, .. } if id == other),
        "{outcome:?}"
    );
    let left = ours(&fake);
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0]["id"], json!(other));
    assert_eq!(left[0]["body"].as_str(), Some(body.as_str()));
    // The other run does the same and finds itself the oldest: still one comment.
    assert_eq!(ours(&fake).len(), 1);
}
