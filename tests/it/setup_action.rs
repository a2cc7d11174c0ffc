//! The setup action's installer (`setup/install.sh`), run by bash as the runner runs it, against a
//! loopback release server laid out like GitHub's (`download/vX.Y.Z/<asset>`,
//! `latest/download/<asset>`) that serves the real built binary in a tar.gz with its SHA256SUMS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::repo_root;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn runner_arch() -> &'static str {
    if std::env::consts::ARCH == "aarch64" {
        "ARM64"
    } else {
        "X64"
    }
}

fn target() -> &'static str {
    if runner_arch() == "ARM64" {
        "aarch64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-musl"
    }
}

/// The release asset (the built binary as `costgate` at the top of a tar.gz) and SHA256SUMS; made
/// once per test run (the debug binary is large).
fn release() -> (Vec<u8>, String) {
    static RELEASE: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    RELEASE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            make_release(dir.path())
        })
        .clone()
}

fn make_release(dir: &Path) -> (Vec<u8>, String) {
    let stage = dir.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_costgate"), stage.join("costgate")).unwrap();
    let tgz = dir.join("asset.tar.gz");
    let st = Command::new("tar")
        .arg("-cf")
        .arg(&tgz)
        .arg("--use-compress-program=gzip -1")
        .arg("-C")
        .arg(&stage)
        .arg("costgate")
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new("sha256sum").arg(&tgz).output().unwrap();
    let sum = String::from_utf8(out.stdout).unwrap();
    let sum = sum.split_whitespace().next().unwrap().to_string();
    let sums = format!(
        "{}  costgate-{}.tar.gz\n{sum}  costgate-{}.tar.gz\n",
        "0".repeat(64),
        "x86_64-apple-darwin",
        target()
    );
    (std::fs::read(&tgz).unwrap(), sums)
}

async fn serve(server: &MockServer, prefix: &str, asset: Vec<u8>, sums: String) {
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/costgate-{}.tar.gz", target())))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(asset))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/SHA256SUMS")))
        .respond_with(ResponseTemplate::new(200).set_body_string(sums))
        .mount(server)
        .await;
}

struct Runner {
    tmp: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["cache", "temp"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        Runner { tmp }
    }

    fn cache(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.tmp.path().join(name)).unwrap_or_default()
    }

    async fn install(&self, version: &str, base: &str, os: &str) -> (i32, String) {
        self.install_with(version, base, os, &[]).await
    }

    async fn install_with(
        &self,
        version: &str,
        base: &str,
        os: &str,
        env: &[(&str, String)],
    ) -> (i32, String) {
        let mut cmd = Command::new("bash");
        cmd.env_remove("GITHUB_ACTION_PATH")
            .env_remove("COSTGATE_ACTION_REPO")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        cmd.arg(repo_root().join("setup/install.sh"))
            .args([version, base])
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", runner_arch())
            .env("RUNNER_TOOL_CACHE", self.cache())
            .env("RUNNER_TEMP", self.tmp.path().join("temp"))
            .env("GITHUB_PATH", self.tmp.path().join("path"))
            .env("GITHUB_OUTPUT", self.tmp.path().join("output"));
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installs_the_verified_binary_into_the_tool_cache_and_on_path_then_reuses_it() {
    let r = Runner::new();
    let (asset, sums) = release();
    let server = MockServer::start().await;
    serve(
        &server,
        &format!("/releases/download/v{VERSION}"),
        asset,
        sums,
    )
    .await;
    let base = format!("{}/releases", server.uri());
    let (code, out) = r.install(&format!("v{VERSION}"), &base, "Linux").await;
    assert_eq!(code, 0, "{out}");
    let dir = r.cache().join(format!(
        "costgate/{VERSION}/{}",
        runner_arch().to_lowercase()
    ));
    assert_eq!(r.file("path").trim(), dir.display().to_string());
    assert!(r.file("output").contains(&format!("version={VERSION}\n")));
    let v = Command::new(dir.join("costgate"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("costgate {VERSION}")
    );
    // Second job on the same runner: the cache answers once the release's SHA256SUMS confirms it;
    // the archive is not downloaded again.
    let before = server.received_requests().await.unwrap().len();
    let (code, out) = r.install(VERSION, &base, "Linux").await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(r.file("path").lines().count(), 2);
    let again: Vec<String> = server.received_requests().await.unwrap()[before..]
        .iter()
        .map(|q| q.url.path().to_string())
        .collect();
    assert_eq!(again, [format!("/releases/download/v{VERSION}/SHA256SUMS")]);
    // A job that replaced the cached binary (a PR's harness on a self-hosted runner) does not get
    // it run: the next install notices and downloads the release again.
    std::fs::write(dir.join("costgate"), "#!/bin/sh\necho costgate 6.6.6\n").unwrap();
    let (code, out) = r.install(VERSION, &base, "Linux").await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("does not match the release's SHA256SUMS"),
        "{out}"
    );
    let v = Command::new(dir.join("costgate"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("costgate {VERSION}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_is_cached_under_the_version_the_binary_reports() {
    let r = Runner::new();
    let (asset, sums) = release();
    let server = MockServer::start().await;
    serve(&server, "/mirror/latest/download", asset, sums).await;
    let (code, out) = r
        .install("latest", &format!("{}/mirror/", server.uri()), "Linux")
        .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        r.cache().join(format!("costgate/{VERSION}")).is_dir(),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checksum_mismatch_installs_nothing_and_says_so() {
    let r = Runner::new();
    let (mut asset, sums) = release();
    asset.push(0); // one byte more than what was checksummed
    let server = MockServer::start().await;
    serve(&server, &format!("/r/download/v{VERSION}"), asset, sums).await;
    let (code, out) = r
        .install(VERSION, &format!("{}/r", server.uri()), "Linux")
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("::error title=costgate setup::checksum mismatch"),
        "{out}"
    );
    assert!(!r.cache().join("costgate").exists());
    assert_eq!(r.file("path"), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_that_is_not_the_asked_version_is_refused() {
    let r = Runner::new();
    let (asset, sums) = release();
    let server = MockServer::start().await;
    serve(&server, "/r/download/v9.9.9", asset, sums).await;
    let (code, out) = r
        .install("9.9.9", &format!("{}/r", server.uri()), "Linux")
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("is costgate {VERSION}, not 9.9.9")),
        "{out}"
    );
    assert!(!r.cache().join("costgate").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_and_unsupported_runners_get_a_clear_error() {
    let r = Runner::new();
    let (code, out) = r.install("1.2.3", "http://127.0.0.1:9", "Windows").await;
    assert_eq!(code, 1);
    assert!(out.contains("no costgate release for Windows"), "{out}");
    let (code, out) = r
        .install("1.2; rm -rf /", "http://127.0.0.1:9", "Linux")
        .await;
    assert_eq!(code, 1);
    assert!(out.contains("is not X.Y.Z, vX.Y.Z or latest"), "{out}");
    // Nothing listens on port 9: the download error names the URL and the inputs to check.
    let (code, out) = r.install("1.2.3", "http://127.0.0.1:9/r", "Linux").await;
    assert_eq!(code, 1);
    assert!(
        out.contains("cannot download http://127.0.0.1:9/r/download/v1.2.3/SHA256SUMS"),
        "{out}"
    );
}

/// Inside a composite action `github.action_repository` may be empty (actions/runner#2525): the
/// default download URL then comes from where the runner checked the action out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_download_url_the_actions_own_releases_are_found_from_its_path() {
    let r = Runner::new();
    let (asset, sums) = release();
    let server = MockServer::start().await;
    serve(
        &server,
        &format!("/octo/costgate/releases/download/v{VERSION}"),
        asset,
        sums,
    )
    .await;
    let env = [
        (
            "GITHUB_ACTION_PATH",
            "/home/runner/work/_actions/octo/costgate/v1/setup".to_string(),
        ),
        ("COSTGATE_ACTION_REPO", String::new()),
        ("COSTGATE_SERVER", server.uri()),
    ];
    let (code, out) = r.install_with(VERSION, "", "Linux", &env).await;
    assert_eq!(code, 0, "{out}");
    // With neither, the error says what to set.
    let (code, out) = Runner::new().install_with(VERSION, "", "Linux", &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("set the `download-url` input"), "{out}");
}
