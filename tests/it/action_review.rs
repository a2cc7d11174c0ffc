//! The verdict layers through `costgate action`: justification and sign-off from reviews, the
//! override label's provenance from the PR timeline, and the warn streak from merged PRs' markers.

use serde_json::json;

use crate::action_jira::JIRA_CFG;
use crate::support::action::{PR, Workspace, labeled_by, labeled_by_an_admin, ours, run_action};
use crate::support::fake_github::FakeGitHub;

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
    let ev = labeled_by(&ws, &fake, "mallory", "write");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn override_on_a_passing_pr_changes_nothing_and_opens_no_ticket() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new(".", JIRA_CFG);
    let ev = labeled_by_an_admin(&ws, &fake);
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
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    assert!(
        body.contains("costgate: **PASS**")
            && body.contains("not needed: the verdict is pass without it"),
        "{body}"
    );
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
async fn incomplete_or_exceeded_justifications_keep_the_fail_even_when_approved() {
    for (body, needle) in [
        (
            "cost-regression-justification:\n  reason: brand voice\n",
            "missing **expected-cost-delta, quality-delta**",
        ),
        (
            "cost-regression-justification:\n  reason: brand voice\n  expected-cost-delta: +3%\n  quality-delta: q\n",
            "(**exceeds the declaration**)",
        ),
    ] {
        let fake = FakeGitHub::start().await;
        let ws = Workspace::new("examples/head", "approvers:\n  users: [alice]\n");
        let ev = ws.event(&fake, "pull_request.synchronize.1.json", body, &[]);
        fake.add_review(PR, "alice", "APPROVED", &ws.head);
        let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
        assert_eq!(code, 1, "{out}\n{err}");
        let r = ws.report();
        assert_eq!(r["verdict"], "fail", "{body}");
        assert!(r.get("sign_off").is_none());
        let c = ours(&fake);
        assert!(
            c[0]["body"].as_str().unwrap().contains(needle),
            "{needle}: {}",
            c[0]["body"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dismissed_approval_no_longer_signs_off() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "approvers:\n  users: [alice]\n");
    let body = "cost-regression-justification:\n  reason: r\n  expected-cost-delta: +10%\n  quality-delta: q\n";
    let ev = ws.event(&fake, "pull_request_review.submitted.1.json", body, &[]);
    fake.add_review(PR, "alice", "APPROVED", &ws.head);
    let (code, _, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 0);
    fake.add_review(PR, "alice", "DISMISSED", &ws.head);
    let (code, _, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1);
    assert_eq!(ws.report()["verdict"], "review_required");
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_timeline_does_not_honour_the_label() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = labeled_by_an_admin(&ws, &fake);
    for _ in 0..4 {
        fake.fail_next(
            "GET",
            "/timeline",
            503,
            serde_json::json!({"message": "Service Unavailable"}),
            &[],
        );
    }
    let (code, out, _) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1);
    let why = ws.report()["override"]["why"].as_str().unwrap().to_string();
    assert!(
        why.contains("could not be read from the PR timeline") && why.contains("503"),
        "{why}"
    );
    assert!(
        out.contains("::warning title=costgate::who applied it could not be read"),
        "{out}"
    );
}

/// A GitHub error that echoes the approver token (a proxy, a verbose 403) reaches the override's
/// reason, which the comment shows escaped for markdown: masked where the client caught it, it
/// never appears in the comment, the summary or the report, in any form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_error_echoing_the_token_is_masked_before_the_comment_escapes_it() {
    let token = "ghp_appr0ver_t0ken_4567";
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "approvers:\n  teams: [octo/cost-eng]\n");
    let ev = labeled_by(&ws, &fake, "mallory", "write");
    fake.fail_next(
        "GET",
        "/memberships/mallory",
        403,
        json!({"message": format!("token {token} lacks read:org")}),
        &[],
    );
    let (code, out, err) = run_action(&ws, &fake, &ev, &[("INPUT_APPROVER-TOKEN", token)]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let why = ws.report()["override"]["why"].as_str().unwrap().to_string();
    assert!(why.contains("could not be read"), "{why}");
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    for (what, text) in [
        ("comment", body.as_str()),
        ("summary", &ws.summary()),
        ("report", &ws.report().to_string()),
    ] {
        assert!(
            !text.contains("t0ken_4567") && !text.contains("t0ken\\_4567"),
            "{what}: {text}"
        );
    }
}
