//! The released image, started the way the GitHub runner starts a Docker container action: the
//! runner's `docker run` line (`--workdir /github/workspace`, the workspace, `/github/home`,
//! `/github/workflow`, `/github/file_commands` and `/github/runner_temp` mounts, `INPUT_*` and
//! `GITHUB_*` passed by name, a workspace owned by the runner's uid while the container runs as
//! root), with Podman, against the loopback fake GitHub, through a render-mode PR life cycle.
//!
//! Needs the image: `scripts/container-test` builds it (a debootstrap base, the test build's binary,
//! `Dockerfile --target prebuilt`) and runs these tests with `--ignored`; `.ci/run` calls it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::action::{PR, TOKEN, Workspace, ours};
use crate::support::fake_github::{FakeGitHub, OWNER, REPO};
use crate::support::{git, git_commit_all};

/// The runner's user on GitHub-hosted images; the container itself runs as root.
const RUNNER_UID: &str = "1001";

fn image() -> String {
    std::env::var("COSTGATE_TEST_IMAGE").unwrap_or_else(|_| {
        panic!("COSTGATE_TEST_IMAGE is not set: run these tests with `scripts/container-test`, which builds the image")
    })
}

/// The runner's `_temp` tree for one job: what it mounts into the container.
struct RunnerTemp {
    root: PathBuf,
}

impl RunnerTemp {
    fn new(ws: &Workspace) -> RunnerTemp {
        let root = ws.tmp.path().join("_temp");
        for d in ["_github_home", "_github_workflow", "_runner_file_commands"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        RunnerTemp { root }
    }

    fn file_command(&self, name: &str) -> String {
        std::fs::read_to_string(self.root.join("_runner_file_commands").join(name))
            .unwrap_or_default()
    }
}

/// One step: `docker run` as the runner writes it, with `podman` for `docker` and the host's
/// network so that the container reaches the fake GitHub on loopback (on a runner it reaches
/// api.github.com through the job's network). Returns (exit code, stdout, stderr).
fn run_step(
    ws: &Workspace,
    temp: &RunnerTemp,
    fake: &FakeGitHub,
    step: u32,
) -> (i32, String, String) {
    let out_file = format!("set_output_{step}");
    let summary_file = format!("step_summary_{step}");
    for f in [&out_file, &summary_file] {
        std::fs::write(temp.root.join("_runner_file_commands").join(f), "").unwrap();
    }
    let vol = |host: &Path, guest: &str| format!("{}:{guest}", host.display());
    let env: Vec<(&str, String)> = vec![
        ("INPUT_GITHUB-TOKEN", TOKEN.into()),
        ("INPUT_CONFIG", "costgate.yaml".into()),
        ("INPUT_COMMENT", "true".into()),
        // The default: the runner passes the declared input empty.
        ("INPUT_OUT-DIR", String::new()),
        ("INPUT_HTTP-TIMEOUT-SECONDS", "30".into()),
        ("HOME", "/github/home".into()),
        ("GITHUB_JOB", "costgate".into()),
        ("GITHUB_REF", format!("refs/pull/{PR}/merge")),
        ("GITHUB_SHA", ws.head.clone()),
        ("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}")),
        ("GITHUB_REPOSITORY_OWNER", OWNER.into()),
        ("GITHUB_RUN_ID", "4242".into()),
        ("GITHUB_EVENT_NAME", "pull_request".into()),
        ("GITHUB_SERVER_URL", "https://github.example".into()),
        ("GITHUB_API_URL", fake.url()),
        ("GITHUB_WORKSPACE", "/github/workspace".into()),
        ("GITHUB_EVENT_PATH", "/github/workflow/event.json".into()),
        ("GITHUB_OUTPUT", format!("/github/file_commands/{out_file}")),
        (
            "GITHUB_STEP_SUMMARY",
            format!("/github/file_commands/{summary_file}"),
        ),
        ("GITHUB_ENV", "/github/file_commands/set_env_x".into()),
        ("GITHUB_PATH", "/github/file_commands/add_path_x".into()),
        ("RUNNER_OS", "Linux".into()),
        ("RUNNER_ARCH", "X64".into()),
        // Host paths, untranslated, as the runner passes them.
        ("RUNNER_TEMP", temp.root.display().to_string()),
        ("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache".into()),
        ("ACTIONS_RUNTIME_TOKEN", "actions-runtime-secret".into()),
        ("GITHUB_ACTIONS", "true".into()),
        ("CI", "true".into()),
    ];
    let mut cmd = Command::new("podman");
    cmd.args([
        "run",
        "--rm",
        "--network",
        "host",
        "--workdir",
        "/github/workspace",
    ]);
    for (k, v) in &env {
        // `-e NAME`, value from the environment, as the runner does.
        cmd.arg("-e").arg(k).env(k, v);
    }
    cmd.arg("-v").arg(vol(&temp.root, "/github/runner_temp"));
    for (host, guest) in [
        ("_github_home", "/github/home"),
        ("_github_workflow", "/github/workflow"),
        ("_runner_file_commands", "/github/file_commands"),
    ] {
        cmd.arg("-v").arg(vol(&temp.root.join(host), guest));
    }
    cmd.arg("-v").arg(vol(&ws.repo, "/github/workspace"));
    cmd.arg(image());
    let out = cmd
        .output()
        .expect("podman runs (scripts/container-test installs it)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `chown -R uid:uid` the workspace: the runner's checkout is owned by the runner's user, not by
/// the container's root; the host's own git (root) needs it back to commit the fix.
fn chown_workspace(ws: &Workspace, uid: &str) {
    let st = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(&ws.repo)
        .status()
        .unwrap();
    assert!(
        st.success(),
        "chown needs root: scripts/container-test runs as root, as CI does"
    );
}

fn write_event(ws: &Workspace, temp: &RunnerTemp, fake: &FakeGitHub) {
    let ev = ws.event(
        fake,
        "pull_request.opened.1.json",
        "Adds bullets to the prompt.",
        &[],
    );
    std::fs::copy(ev, temp.root.join("_github_workflow/event.json")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the container image: scripts/container-test"]
async fn container_render_mode_pr_life_cycle_fail_then_fix() {
    let image = image();
    let fake = FakeGitHub::start().await;
    let mut ws = Workspace::new("examples/head", "");
    let temp = RunnerTemp::new(&ws);
    write_event(&ws, &temp, &fake);
    chown_workspace(&ws, RUNNER_UID);

    let (code, out, err) = tokio::task::block_in_place(|| run_step(&ws, &temp, &fake, 1));
    assert_eq!(code, 1, "{image}\n{out}\n{err}");
    assert!(temp.file_command("set_output_1").contains("verdict=fail\n"));
    assert!(
        temp.file_command("step_summary_1")
            .contains("costgate: **FAIL**")
    );
    // The token is never printed but in the `::add-mask::` line; the runtime token never.
    assert_eq!(out.matches(TOKEN).count(), 1, "{out}");
    assert!(!format!("{out}{err}").contains("actions-runtime-secret"));
    let c = ours(&fake);
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(
        c[0]["body"]
            .as_str()
            .unwrap()
            .contains("costgate: **FAIL**")
    );
    // The report is in the runner's temporary directory (mounted at /github/runner_temp), where
    // the step output points by its host path; nothing is written into the checkout.
    let host_report = temp.root.join("costgate-out/report.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&host_report).unwrap()).unwrap();
    assert_eq!(report["verdict"], json!("fail"));
    assert!(
        temp.file_command("set_output_1")
            .contains(&format!("report-json={}\n", host_report.display())),
        "{}",
        temp.file_command("set_output_1")
    );
    assert!(!ws.repo.join(".costgate-out").exists());

    // The fix: the head puts the base's app back; a new push runs the step again.
    chown_workspace(&ws, "0");
    git(&ws.repo, &["checkout", &ws.base, "--", "app"]);
    ws.head = git_commit_all(&ws.repo, "fix: back to the base prompt");
    write_event(&ws, &temp, &fake);
    chown_workspace(&ws, RUNNER_UID);
    let (code, out, err) = tokio::task::block_in_place(|| run_step(&ws, &temp, &fake, 2));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(temp.file_command("set_output_2").contains("verdict=pass\n"));
    let c = ours(&fake);
    assert_eq!(
        c.len(),
        1,
        "the sticky comment is updated, not duplicated: {c:?}"
    );
    let body = c[0]["body"].as_str().unwrap();
    assert!(body.contains("costgate: **PASS**"), "{body}");
    assert!(
        body.contains("The cost regression reported earlier (fail) is gone."),
        "{body}"
    );
}
