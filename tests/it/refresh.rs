//! `costgate refresh` on generated invocation logs: duplicates (of each other and of golden
//! queries), requests without text or intent, PII-like strings, two intents of very different
//! traffic; asserting counts, proportions, determinism, redaction and that every other line of the
//! golden files is untouched.

use std::path::Path;

use crate::support::*;

/// A golden case block in YAML; `added` when given.
fn block(id: &str, intent: &str, added: Option<&str>) -> String {
    let mut b = format!("- id: {id}\n  intent: {intent}\n  query: \"question of {id}\"\n");
    if let Some(d) = added {
        b.push_str(&format!("  added: {d}\n"));
    }
    b
}

/// The text of a.yaml (20 cases, a comment between two of them) without the cases in `skip`.
fn a_yaml(skip: &[&str]) -> String {
    let mut a = String::from("# MangaAssist golden cases\n\n");
    for i in 1..=20 {
        let added = match i {
            3 | 9 | 15 | 17 => None,
            5 => Some("2024-01-01"),
            _ => Some("2026-01-01"),
        };
        if i == 10 {
            a.push_str("# --- the second half ---\n");
        }
        let id = format!("A-{i:02}");
        if !skip.contains(&id.as_str()) {
            a.push_str(&block(&id, "faq", added));
            a.push('\n');
        }
    }
    a
}

/// 30 cases: a.yaml holds 20, b.jsonl 10. The six oldest are the four without `added` and the two
/// of 2024.
fn repo(root: &Path) -> (String, String) {
    let a = a_yaml(&[]);
    let mut b = String::new();
    for i in 1..=10 {
        let added = if i == 4 { "2024-06-01" } else { "2026-02-01" };
        b.push_str(&format!(
            "{{\"id\":\"B-{i:02}\",\"intent\":\"rare\",\"query\":\"rare question {i}\",\"added\":\"{added}\"}}\n"
        ));
    }
    write_tree(
        root,
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden/\nroutes:\n  default: {model: amazon.nova-micro-v1:0}\nrefresh: {intent_key: topic}\n",
            ),
            ("golden/a.yaml", &a),
            ("golden/b.jsonl", &b),
        ],
    );
    (a, b)
}

fn record(intent: Option<&str>, body: serde_json::Value, tokens: u64) -> String {
    let mut r = serde_json::json!({
        "schemaType": "ModelInvocationLog", "timestamp": "2026-11-20T10:00:00Z",
        "modelId": "amazon.nova-micro-v1:0",
        "input": {"inputBodyJson": body, "inputTokenCount": tokens},
        "output": {"outputTokenCount": 20}
    });
    if let Some(i) = intent {
        r["requestMetadata"] = serde_json::json!({"topic": i, "session": "s"});
    }
    r.to_string()
}

fn converse(turns: &[(&str, &str)]) -> serde_json::Value {
    let messages: Vec<serde_json::Value> = turns
        .iter()
        .map(|(role, text)| serde_json::json!({"role": role, "content": [{"text": text}]}))
        .collect();
    serde_json::json!({"system": [{"text": "You are MangaAssist."}], "messages": messages})
}

/// 900 faq requests (50 of them repeats, 3 equal to golden queries), 100 rare ones carrying an
/// e-mail, a phone number or a card number, and 12 that give no candidate.
fn logs(dir: &Path) -> std::path::PathBuf {
    let mut lines = Vec::new();
    for i in 0..900 {
        let q = match i {
            0..=2 => format!("Question of A-{:02}", i + 11), // a golden query, other case
            850.. => format!("FAQ  question {}", i - 800),   // repeats 50..99 in other spacing/case
            _ => format!("faq question {i}"),
        };
        let tokens = if i % 10 == 0 { 4000 } else { 120 };
        lines.push(record(
            Some("faq"),
            converse(&[("user", "hi"), ("assistant", "hello!"), ("user", &q)]),
            tokens,
        ));
    }
    for i in 0..100 {
        let q = match i % 3 {
            0 => format!("rare {i}: mail me at taro{i}@example.co.jp"),
            1 => format!("rare {i}: call 090-1234-{:04}", 5000 + i),
            _ => format!("rare {i}: my card is 4111 1111 1111 {:04}", 1000 + i),
        };
        lines.push(record(Some("rare"), converse(&[("user", &q)]), 200));
    }
    for _ in 0..5 {
        lines.push(
            serde_json::json!({"modelId": "amazon.nova-micro-v1:0", "requestMetadata": {"topic": "faq"}, "input": {"inputBodyS3Path": "s3://logs/x.json", "inputTokenCount": 9}})
                .to_string(),
        );
    }
    for _ in 0..4 {
        lines.push(record(
            Some("faq"),
            serde_json::json!({"prompt": "<s>[INST] q [/INST]"}),
            9,
        ));
    }
    for i in 0..3 {
        lines.push(record(
            None,
            converse(&[("user", &format!("no intent {i}"))]),
            9,
        ));
    }
    let p = dir.join("logs.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn refresh(root: &Path, logs: &Path, seed: &str, extra: &[&str]) -> (i32, String, String) {
    run(costgate()
        .args(["refresh", "--fraction", "0.2", "--seed", seed, "--dir"])
        .arg(root)
        .arg("--logs")
        .arg(logs)
        .args(extra)
        .env("COSTGATE_TODAY", "2026-12-03"))
}

#[test]
fn refresh_retires_the_oldest_and_adds_fresh_redacted_queries_in_proportion() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    let (a, b) = repo(&root);
    let logs = logs(tmp.path());
    let (code, out, err) = refresh(&root, &logs, "7", &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();

    // 0.2 × 30 = 6: the four without `added`, then the two oldest dates.
    assert_eq!(
        v["retired"],
        serde_json::json!(["A-03", "A-09", "A-15", "A-17", "A-05", "B-04"])
    );
    // Traffic 900 : 100 → 5.4 and 0.6 → 5 faq and 1 rare by largest remainder.
    assert_eq!(
        v["added_by_intent"],
        serde_json::json!({"faq": 5, "rare": 1})
    );
    assert_eq!(v["duplicates"], 53, "50 repeats and 3 golden queries");
    assert_eq!(
        v["skipped"],
        serde_json::json!({
            "request body stored in S3": 5,
            "prompt-style body: the user's words are inside a chat template": 4,
            "no intent in the request metadata": 3
        })
    );

    // Every line of the golden files but the retired cases' is untouched, in order.
    let a_after = std::fs::read_to_string(root.join("golden/a.yaml")).unwrap();
    assert_eq!(a_after, a_yaml(&["A-03", "A-05", "A-09", "A-15", "A-17"]));
    assert_ne!(a_after, a);
    assert!(
        a_after.contains("# --- the second half ---\n"),
        "comments stay"
    );
    let b_after = std::fs::read_to_string(root.join("golden/b.jsonl")).unwrap();
    let expected_b: String = b
        .lines()
        .filter(|l| !l.contains("\"B-04\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(b_after, expected_b);

    // The added cases: fresh ids, today's date, history kept, PII replaced.
    let new = std::fs::read_to_string(root.join("golden/refresh-2026-12-03.yaml")).unwrap();
    assert_eq!(new.matches("- id: \"RF20261203-").count(), 6, "{new}");
    assert_eq!(new.matches("  added: 2026-12-03\n").count(), 6);
    assert!(
        new.contains("{role: assistant, content: \"hello!\"}"),
        "{new}"
    );
    assert!(!new.contains('@') && !new.contains("4111"), "{new}");
    assert!(
        ["<email>", "<phone>", "<card-number>"]
            .iter()
            .any(|p| new.contains(p)),
        "{new}"
    );
    // The refreshed dataset loads and gates: 30 cases again.
    let (code, out, err) = run(costgate()
        .args(["run", "--format", "json", "--dir"])
        .arg(&root));
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["summary"]["cases"], 30);
}

#[test]
fn refresh_is_deterministic_per_seed_and_dry_run_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = logs(tmp.path());
    let mut added = Vec::new();
    for (name, seed) in [("one", "7"), ("two", "7"), ("three", "8")] {
        let root = tmp.path().join(name);
        repo(&root);
        let (code, _, err) = refresh(&root, &logs, seed, &[]);
        assert_eq!(code, 0, "{err}");
        added.push(std::fs::read_to_string(root.join("golden/refresh-2026-12-03.yaml")).unwrap());
    }
    assert_eq!(added[0], added[1], "same logs and seed, same cases");
    assert_ne!(added[0], added[2], "another seed, another draw");

    let root = tmp.path().join("dry");
    let (a, _) = repo(&root);
    let (code, out, err) = refresh(&root, &logs, "7", &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("--- a/golden/a.yaml") && out.contains("+++ b/golden/refresh-2026-12-03.yaml"),
        "{out}"
    );
    assert!(
        out.contains("retired (oldest first): A-03, A-09, A-15, A-17, A-05, B-04"),
        "{out}"
    );
    assert!(
        out.contains("skipped 5 logged request(s): request body stored in S3"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("golden/a.yaml")).unwrap(),
        a
    );
    assert!(!root.join("golden/refresh-2026-12-03.yaml").exists());
}

#[test]
fn refresh_refuses_bad_arguments_and_logs_without_text() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    repo(&root);
    let logs = logs(tmp.path());
    let (code, _, err) = run(costgate()
        .args(["refresh", "--fraction", "0", "--dir"])
        .arg(&root)
        .arg("--logs")
        .arg(&logs));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--fraction must be in (0, 1]"), "{err}");
    let empty = tmp.path().join("s3-only.jsonl");
    std::fs::write(
        &empty,
        "{\"modelId\":\"m\",\"input\":{\"inputBodyS3Path\":\"s3://b/k\",\"inputTokenCount\":9}}\n",
    )
    .unwrap();
    let (code, _, err) = refresh(&root, &empty, "1", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("text data delivery"), "{err}");
}

/// One logged query with a character YAML cannot hold, or too long for a golden case, is skipped
/// and counted; the refresh goes on and every later `check` still runs on what it wrote.
#[test]
fn unwritable_queries_are_skipped_and_counted_never_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    repo(&root);
    let mut lines: Vec<String> = (0..40)
        .map(|i| {
            record(
                Some("faq"),
                converse(&[("user", &format!("faq question {i}"))]),
                120,
            )
        })
        .collect();
    for bad in [
        "del \u{7f} here",
        "csi \u{9b} here",
        "nonchar \u{fffe} here",
    ] {
        lines.push(record(Some("faq"), converse(&[("user", bad)]), 120));
    }
    let huge = "a".repeat(6 << 20);
    lines.push(record(Some("faq"), converse(&[("user", &huge)]), 120));
    let logs = tmp.path().join("logs.jsonl");
    std::fs::write(&logs, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = refresh(&root, &logs, "1", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("skipped 3 logged request(s): characters a golden file cannot hold"),
        "{out}"
    );
    assert!(
        out.contains("skipped 1 logged request(s): query and history over 256 KiB"),
        "{out}"
    );
    let (code, _, err) = run(costgate()
        .args(["check", "--base-dir"])
        .arg(&root)
        .arg("--head-dir")
        .arg(&root));
    assert_eq!(code, 0, "{err}");
}
