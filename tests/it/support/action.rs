//! The GitHub Action as the runner runs it: a temporary git repository holding the shipped example
//! (base commit = the example app, head commit = one of its heads), the runner's files, and the
//! built binary run with the `INPUT_*`/`GITHUB_*` environment against the fake GitHub.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::fake_github::{BOT, FakeGitHub, OWNER, REPO, fixture};
use super::{copy_dir, costgate, git_commit_all, git_init, repo_root};

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

pub fn ours(fake: &FakeGitHub) -> Vec<Value> {
    fake.comments(PR)
        .into_iter()
        .filter(|c| c["user"]["login"] == BOT)
        .collect()
}

/// A `labeled` event for the override label, applied (per the PR timeline) by `lead`, a repository
/// admin: the authorised override most JIRA and review tests start from.
pub fn labeled_by_an_admin(ws: &Workspace, fake: &FakeGitHub) -> PathBuf {
    labeled_by(ws, fake, "lead", "admin")
}

/// A `labeled` event for the override label, applied (per the PR timeline) by `login`, who holds
/// `role` on the repository.
pub fn labeled_by(ws: &Workspace, fake: &FakeGitHub, login: &str, role: &str) -> PathBuf {
    let ev = ws.event(
        fake,
        "pull_request.labeled.1.json",
        "",
        &["emergency-override"],
    );
    fake.add_label_event(
        PR,
        "labeled",
        "emergency-override",
        login,
        "2026-11-20T09:00:00Z",
    );
    fake.set_role(login, role);
    ev
}
