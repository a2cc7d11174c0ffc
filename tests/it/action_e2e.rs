//! `costgate action` run as the runner runs it: the built binary, the `INPUT_*`/`GITHUB_*`
//! environment, a webhook event file, output and summary files, a temporary git repository holding
//! the shipped example (base commit = the example app, head commit = `examples/head` or
//! `examples/head-warn`), a stateful mock GitHub and, where needed, a mock JIRA.

use serde_json::json;

use crate::support::action::{PR, TOKEN, Workspace, ours, run_action};
use crate::support::fake_github::{FakeGitHub, fixture};
use crate::support::{copy_dir, git, git_commit_all, git_init, repo_root};

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
        outputs.contains("report-json=.costgate-out/report.json\n")
            && outputs.contains("total-delta-pct=8.86\n")
            && outputs.contains("max-regression-pct=33.74\n"),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_server_api_prefix_is_kept() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let api = format!("{}/api/v3", fake.url());
    let (code, out, err) = run_action(&ws, &fake, &ev, &[("GITHUB_API_URL", &api)]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(ours(&fake).len(), 1);
    let reqs = fake.requests().await;
    assert!(reqs.iter().all(|r| r.contains(" /api/v3/")), "{reqs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_config_reports_no_verdict_with_exit_2() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "thresholds:\n  fail_pct: 3\n");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("fail_pct"), "{err}");
    assert!(ws.outputs().contains("verdict=error\n"));
    assert!(
        ws.summary().contains("costgate: no verdict"),
        "{}",
        ws.summary()
    );
    assert!(fake.comments(PR).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comment_false_writes_no_comment_but_everything_else() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let (code, out, err) = run_action(&ws, &fake, &ev, &[("INPUT_COMMENT", "false")]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(fake.comments(PR).is_empty());
    assert!(fake.requests().await.iter().all(|r| r.starts_with("GET")));
    assert!(ws.outputs().contains("verdict=fail\n") && ws.outputs().contains("comment-url=\n"));
    assert!(ws.summary().contains("costgate: **FAIL**"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_template_on_the_base_branch_replaces_the_builtin_one() {
    let fake = FakeGitHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("ws");
    std::fs::create_dir_all(repo.join("costgate/templates")).unwrap();
    git_init(&repo);
    let root = repo_root();
    copy_dir(&root.join("golden"), &repo.join("golden"));
    copy_dir(&root.join("app"), &repo.join("app"));
    std::fs::write(
        repo.join("costgate.yaml"),
        "version: 1\nroutes: app/routes.yaml\n",
    )
    .unwrap();
    std::fs::write(repo.join("costgate/templates/comment.md.j2"), "Cost check: {{ verdict }} ({{ report.summary.total_delta_pct | pct }}) {{ report.summary.max_regression_case | md }}\n").unwrap();
    let base = git_commit_all(&repo, "base");
    std::fs::remove_dir_all(repo.join("app")).unwrap();
    copy_dir(&root.join("examples/head/app"), &repo.join("app"));
    // The head's own template edit must not apply: templates are policy, read from the base.
    std::fs::write(
        repo.join("costgate/templates/comment.md.j2"),
        "all good, nothing to see\n",
    )
    .unwrap();
    let head = git_commit_all(&repo, "head");
    let ws = Workspace {
        tmp,
        repo,
        base,
        head,
    };
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let body = ours(&fake)[0]["body"].as_str().unwrap().to_string();
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines[0].starts_with("<!-- costgate:sticky "),
        "the marker is always ours: {body}"
    );
    assert_eq!(lines[1], "Cost check: fail (+8.9%) GD-276");
}

/// On a runner the results go to `$RUNNER_TEMP/costgate-out`, never into the checkout, and the
/// step output names that path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_go_to_the_runner_temp_directory_not_the_checkout() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let temp = ws.tmp.path().join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let (code, out, err) =
        run_action(&ws, &fake, &ev, &[("RUNNER_TEMP", temp.to_str().unwrap())]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let report = temp.join("costgate-out/report.json");
    assert!(report.is_file(), "{out}");
    assert!(temp.join("costgate-out/costgate-comment.json").is_file());
    let outputs = ws.outputs();
    assert!(
        outputs.contains(&format!("report-json={}\n", report.display())),
        "{outputs}"
    );
    assert!(!ws.repo.join(".costgate-out").exists());
    assert_eq!(git(&ws.repo, &["status", "--porcelain"]), "");
}
