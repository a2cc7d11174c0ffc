//! Snapshot tests of everything a user reads: the terminal, JSON and markdown reports and the
//! configuration diagnostics. Temporary paths are filtered so snapshots are stable.

use crate::support::snapshots::settings;
use crate::support::{check_dirs as check, repo_root, write_tree};

/// A small tree with a regression in every report section: a grown system prompt, a model change,
/// a bypass, a removed and an added case, and a head that edits a threshold.
fn fixture() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let head = dir.path().join("head");
    let config = "version: 1\ngolden: golden\nroutes: routes.yaml\n";
    let routes = "chat:\n  model: anthropic.claude-haiku-4-5-20251001-v1:0\n  system: system.j2\n  output_tokens: 10\nfaq:\n  model: amazon.nova-lite-v1:0\n  output_tokens: 40\norders:\n  bypass: true\n";
    let golden = "- id: A-1\n  intent: chat\n  query: \"おすすめの冒険マンガは？\"\n- id: A-2\n  intent: chat\n  query: \"Is volume 107 of ONE PIECE out?\"\n  history:\n    - {role: user, content: \"Hi\"}\n    - {role: assistant, content: \"Hello! How can I help?\"}\n- id: F-1\n  intent: faq\n  query: \"Do you ship to Hokkaido?\"\n- id: O-1\n  intent: orders\n  query: \"Where is my order 123?\"\n";
    let files = [
        ("costgate.yaml", config),
        ("routes.yaml", routes),
        ("system.j2", "You are MangaAssist."),
        ("golden/cases.yaml", golden),
    ];
    write_tree(&base, &files);
    write_tree(&head, &files);
    let head_golden = golden.replace(
        "- id: O-1\n  intent: orders\n  query: \"Where is my order 123?\"\n",
        "- id: N-1\n  intent: faq\n  query: \"New case: gift wrapping?\"\n",
    );
    write_tree(
        &head,
        &[
            (
                "system.j2",
                "You are MangaAssist, the friendly assistant of the best manga store in Tokyo. Mention our <b>loyalty</b> points @everyone.",
            ),
            (
                "routes.yaml",
                &routes.replace("amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"),
            ),
            (
                "costgate.yaml",
                &format!("{config}thresholds:\n  fail_query_regression_pct: 80\n"),
            ),
            ("golden/cases.yaml", &head_golden),
        ],
    );
    (dir, base, head)
}

#[test]
fn report_text() {
    let (_d, base, head) = fixture();
    let (code, out, err) = check(&base, &head, "text");
    assert_eq!(code, 1, "{err}");
    settings(&[]).bind(|| insta::assert_snapshot!("report_text", out));
}

#[test]
fn report_json() {
    let (_d, base, head) = fixture();
    let (code, out, err) = check(&base, &head, "json");
    assert_eq!(code, 1, "{err}");
    settings(&[]).bind(|| insta::assert_snapshot!("report_json", out));
}

#[test]
fn report_markdown() {
    let (_d, base, head) = fixture();
    let (code, out, err) = check(&base, &head, "markdown");
    assert_eq!(code, 1, "{err}");
    assert!(!out.contains("<b>") && !out.contains("@everyone"));
    settings(&[]).bind(|| insta::assert_snapshot!("report_markdown", out));
}

#[test]
fn shipped_example_text() {
    let root = repo_root();
    let (code, out, err) = check(&root, &root.join("examples/head"), "text");
    assert_eq!(code, 1, "the shipped example must fail: {err}");
    settings(&[]).bind(|| insta::assert_snapshot!("shipped_example_text", out));
}

#[test]
fn shipped_example_warn_text() {
    let root = repo_root();
    let (code, out, err) = check(&root, &root.join("examples/head-warn"), "text");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("costgate: WARN"));
    settings(&[]).bind(|| insta::assert_snapshot!("shipped_example_warn_text", out));
}

#[test]
fn diagnostics_for_a_broken_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path();
    write_tree(
        t,
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden\nroutes: routes.yaml\nthresholds:\n  pass_band_pct: -5\n",
            ),
            (
                "routes.yaml",
                "chat:\n  model: anthropic.claude-haiku-4-5-20251001-v1:0\n  system: nope.j2\nfaq:\n  model: amazon.nova-giga-v9\n",
            ),
            (
                "golden/a.yaml",
                "- id: X\n  intent: chat\n  query: hi\n- id: X\n  intent: chat\n  query: \"\"\n",
            ),
        ],
    );
    let (code, _, err) = check(t, t, "text");
    assert_eq!(code, 2);
    settings(&[]).bind(|| insta::assert_snapshot!("diagnostics_broken_config", err));
}
