//! `costgate action` in harness mode, as a workflow on the runner runs it: base and head are
//! commits of a git repository (checked out by the gate into temporary directories), the
//! application is the shipped boto3 example, in a monorepo's `working-directory` or at the root.

use std::path::Path;

use serde_json::Value;

use crate::support::action::{PR, TOKEN, Workspace, ours, run_action};
use crate::support::fake_github::{FakeGitHub, fixture};
use crate::support::{copy_dir, git_commit_all, git_init, repo_root, require_node, require_python};

/// A repository whose `sub` holds `examples/{example}/base`, then (head commit) `head_side`.
fn harness_repo(
    ws: &Workspace,
    example: &str,
    sub: &str,
    head_side: &str,
) -> (std::path::PathBuf, String, String) {
    let mono = ws.tmp.path().join("mono");
    let app = if sub.is_empty() {
        mono.clone()
    } else {
        mono.join(sub)
    };
    std::fs::create_dir_all(&app).unwrap();
    git_init(&mono);
    let root = repo_root();
    copy_dir(&root.join(format!("examples/{example}/base")), &app);
    std::fs::write(mono.join("README.md"), "monorepo\n").unwrap();
    std::fs::write(mono.join(".gitignore"), "__pycache__/\n.costgate-out/\n").unwrap();
    let base = git_commit_all(&mono, "base");
    if head_side == "base" {
        std::fs::write(mono.join("README.md"), "docs only\n").unwrap();
    } else {
        std::fs::remove_dir_all(app.join("mangaassist")).unwrap();
        copy_dir(
            &root.join(format!("examples/{example}/{head_side}/mangaassist")),
            &app.join("mangaassist"),
        );
    }
    let head = git_commit_all(&mono, "head");
    (mono, base, head)
}

/// Runs `costgate action` on a pull request of `examples/{example}` (head commit: `head_side`) in
/// `sub`: (exit code, stdout, stderr, workspace, fake GitHub, report).
pub async fn gate(
    example: &str,
    sub: &str,
    head_side: &str,
) -> (i32, String, String, Workspace, FakeGitHub, Value) {
    if example == "harness" {
        require_python(&["boto3"]);
    } else {
        require_node(&["@aws-sdk/client-bedrock-runtime"]);
    }
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new(".", "");
    let (mono, base, head) = harness_repo(&ws, example, sub, head_side);
    let pr = fake.add_pr(PR, "Raises retrieval top-k.", &head, &base, &[]);
    let mut ev = fixture("webhooks/pull_request.opened.1.json");
    ev["pull_request"] = pr;
    let evp = ws.tmp.path().join("harness-event.json");
    std::fs::write(&evp, ev.to_string()).unwrap();
    let m = mono.to_str().unwrap().to_string();
    let mut extra = vec![
        ("GITHUB_WORKSPACE", m.as_str()),
        ("GITHUB_SHA", head.as_str()),
    ];
    if !sub.is_empty() {
        extra.push(("INPUT_WORKING-DIRECTORY", sub));
    }
    // As the documented Node workflow sets it; run_action clears the rest of the environment.
    let node_path = std::env::var("NODE_PATH").unwrap_or_default();
    extra.push(("NODE_PATH", node_path.as_str()));
    let (code, out, err) = run_action(&ws, &fake, &evp, &extra).await;
    let report_path = Path::new(&m).join(sub).join(".costgate-out/report.json");
    let report = std::fs::read_to_string(&report_path)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (code, out, err, ws, fake, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_mode_in_a_working_directory_fails_the_pr_with_the_sticky_comment() {
    let (code, out, err, ws, fake, report) = gate("harness", "services/chat", "head").await;
    assert_eq!(code, 1, "{out}\n{err}");
    // Once, in the `::add-mask::` line that tells the runner to hide it.
    assert_eq!(out.matches(TOKEN).count(), 1, "{out}");
    assert!(!err.contains(TOKEN));
    assert_eq!(report["verdict"], "fail", "{err}");
    let escalation = crate::support::report_case(&report, "HX-18");
    assert_eq!(
        escalation["head"]["calls"], 2,
        "two Bedrock calls, made by the app"
    );
    // The harness ran the application's code at each commit: only recommendations grew.
    for c in report["cases"].as_array().unwrap() {
        let regressed = c["status"] == "regressed";
        assert_eq!(regressed, c["intent"] == "recommendation", "{}", c["id"]);
    }
    let outputs = ws.outputs();
    assert!(outputs.contains("verdict=fail\n"), "{outputs}");
    assert!(
        ws.summary().contains("costgate: **FAIL**"),
        "{}",
        ws.summary()
    );
    let c = ours(&fake);
    assert_eq!(c.len(), 1, "{c:?}");
    let body = c[0]["body"].as_str().unwrap();
    assert!(body.contains("How to justify this regression"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_mode_at_the_root_passes_an_unchanged_application() {
    let (code, out, err, ws, fake, report) = gate("harness", "", "base").await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(report["verdict"], "pass", "{err}");
    assert!(ws.outputs().contains("verdict=pass\n"));
    assert!(ours(&fake).is_empty());
}
