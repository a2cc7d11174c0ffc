//! Snapshots of what a person reads from the ratchet commands: the re-baseline diff a reviewer
//! sees, the calibration report, the drift summary. Small fixture trees, so the snapshots do not
//! move when the shipped example does; temporary paths and commit ids are filtered.

use std::path::Path;

use crate::support::*;

fn settings() -> insta::Settings {
    crate::support::snapshots::settings(&[
        (r"\b[0-9a-f]{40}\b", "[COMMIT]"),
        (r"\b[0-9a-f]{10,12}\b", "[SHORT]"),
        (r"done in [0-9.]+s", "done in [T]s"),
    ])
}

/// A small repository: YAML with comments and odd quoting, a JSONL file, one bypass.
fn tiny(root: &Path) {
    write_tree(
        root,
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden\nroutes: routes.yaml\n",
            ),
            (
                "routes.yaml",
                "chat:\n  model: anthropic.claude-haiku-4-5-20251001-v1:0\n  system: system.j2\n  output_tokens: 40\nfaq:\n  model: amazon.nova-lite-v1:0\n  output_tokens: 80\norders:\n  bypass: true\n",
            ),
            (
                "system.j2",
                "You are MangaAssist, the assistant of a manga store.",
            ),
            (
                "golden/chat.yaml",
                "# Chat cases: hand-written, keep the comments.\n\n- id: C-1   # first\n  intent: chat\n  query: 'おすすめの冒険マンガは？'\n\n- id: C-2\n  intent: chat\n  query: >-\n    Is volume 107 of\n    ONE PIECE out?\n  weight: 2\n",
            ),
            (
                "golden/more.jsonl",
                "{\"id\": \"F-1\", \"intent\": \"faq\", \"query\": \"Do you ship to Hokkaido?\"}\n{\"id\":\"O-1\",\"intent\":\"orders\",\"query\":\"Where is my order 123?\"}\n",
            ),
        ],
    );
}

#[test]
fn snapshot_baseline_dry_run_diff() {
    let dir = tempfile::tempdir().unwrap();
    tiny(dir.path());
    let (code, out, err) = run(costgate()
        .args(["baseline", "--dry-run", "--commit", "abc123", "--dir"])
        .arg(dir.path())
        .env("COSTGATE_TODAY", "2026-12-01"));
    assert_eq!(code, 0, "{err}");
    settings().bind(|| insta::assert_snapshot!("ratchet_baseline_dry_run", out));
}

#[test]
fn snapshot_calibrate_report_on_the_aws_example() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(costgate()
        .args(["calibrate", "--dry-run", "--dir"])
        .arg(dir.path())
        .arg("--logs")
        .arg(repo_root().join("tests/fixtures/aws/invocation-log.example.jsonl")));
    assert_eq!(code, 0, "{err}");
    settings().bind(|| insta::assert_snapshot!("ratchet_calibrate_text", out));
}

#[test]
fn snapshot_drift_markdown_summary() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    tiny(r);
    git_init(r);
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "abc123", "--dir"])
        .arg(r)
        .env("COSTGATE_TODAY", "2026-10-01"));
    assert_eq!(code, 0, "{err}");
    git_commit_all(r, "baseline");
    git(r, &["tag", "v1.0.0"]);
    let summary = r.join("summary.md");
    let drift = |date: &str| {
        let (code, _, err) = run(costgate()
            .args(["drift", "--date", date, "--repo"])
            .arg(r)
            .arg("--summary")
            .arg(&summary));
        assert_eq!(code, 0, "{err}");
    };
    drift("2026-11-01");
    write_tree(
        r,
        &[(
            "system.j2",
            "You are MangaAssist, the assistant of a manga store. Always answer in full sentences, mention the volume count, the price in yen and whether the series is finished, and end with a question.",
        )],
    );
    git_commit_all(r, "longer system prompt");
    std::fs::remove_file(&summary).unwrap();
    drift("2026-11-08");
    let md = std::fs::read_to_string(&summary).unwrap();
    settings().bind(|| insta::assert_snapshot!("ratchet_drift_summary", md));
}
