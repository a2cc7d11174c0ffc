//! Shared helpers for integration tests: running the built binary, building fixture trees and git
//! repositories in temporary directories, and filtering nondeterminism out of snapshots.

#![allow(dead_code)]

pub mod action;
pub mod fake_github;
pub mod snapshots;
pub mod standin;
pub mod trees;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `Command` for the built `costgate` binary with a clean, deterministic environment.
pub fn costgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_costgate"));
    c.env_remove("COSTGATE_LOG").env("NO_COLOR", "1");
    c
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run costgate");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Writes `files` (path, contents) under `root`, creating directories.
pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let full = root.join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, c).unwrap();
    }
}

/// Copies a directory recursively (following symlinks).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let p = entry.path();
        let dest = to.join(entry.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Runs git in `dir` with a fixed identity and dates, panicking on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Initialises a repository with `main` as the default branch.
pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

/// Stages everything and commits; returns the new commit id.
pub fn git_commit_all(dir: &Path, msg: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// `costgate check --format FORMAT --base-dir BASE --head-dir HEAD`.
pub fn check_dirs(base: &Path, head: &Path, format: &str) -> (i32, String, String) {
    run(costgate()
        .args(["check", "--format", format, "--base-dir"])
        .arg(base)
        .arg("--head-dir")
        .arg(head))
}

/// `check_dirs` with `--format json`, parsed: (exit code, report, stderr). Panics with the output
/// when stdout is not JSON.
pub fn check_json(base: &Path, head: &Path) -> (i32, serde_json::Value, String) {
    let (code, out, err) = check_dirs(base, head, "json");
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, v, err)
}

/// `costgate run --format json --dir DIR`, which must succeed: the run report.
pub fn run_json(dir: &Path) -> serde_json::Value {
    let (code, out, err) = run(costgate()
        .args(["run", "--format", "json", "--dir"])
        .arg(dir));
    assert_eq!(
        code,
        0,
        "costgate run --dir {}: {err}\n{out}",
        dir.display()
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"))
}

/// The case `id` of a report's `cases`.
pub fn report_case<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no case {id} in the report"))
}

/// Fails the calling test, naming the missing package, unless `python3` (first on PATH: the
/// virtual environment `scripts/test` makes) can import every module in `modules`. A test that
/// exists to drive a client must never pass without it.
pub fn require_python(modules: &[&str]) {
    let code = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let out = Command::new("python3").args(["-c", &code]).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "python3 cannot import {}: run the tests with `scripts/test`, which installs tests/requirements.txt into target/test-env ({})",
            modules.join(", "),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ),
        Err(e) => panic!("python3 not found ({e}): the harness and client tests need Python 3"),
    }
}

/// Fails the calling test, naming the missing package, unless `node` can `require` every package
/// in `packages` (through NODE_PATH, which `scripts/test` points at target/test-env/node).
pub fn require_node(packages: &[&str]) {
    let code = packages
        .iter()
        .map(|p| format!("require({p:?});"))
        .collect::<String>();
    match Command::new("node").args(["-e", &code]).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "node cannot require {}: run the tests with `scripts/test`, which installs tests/node/package-lock.json into target/test-env/node and sets NODE_PATH ({})",
            packages.join(", "),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .find(|l| l.contains("Cannot find"))
                .unwrap_or_default()
        ),
        Err(e) => panic!("node not found ({e}): the JavaScript client tests need Node.js"),
    }
}

/// `costgate run --dir DIR --out OUT` (harness mode): the (operation, attribution) of each call the
/// stand-in recorded in `calls-tree.jsonl`, in call order. Panics with stderr if the run fails.
pub fn recorded_calls(dir: &Path, out: &Path) -> Vec<(String, String)> {
    let (code, _, err) = run(costgate()
        .args(["run", "--dir"])
        .arg(dir)
        .arg("--out")
        .arg(out));
    assert_eq!(code, 0, "{err}");
    std::fs::read_to_string(out.join("calls-tree.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (s("operation"), s("attribution"))
        })
        .collect()
}
