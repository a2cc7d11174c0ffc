//! `costgate check --pr-body FILE --labels a,b`: the justification and override layers run locally
//! on the shipped example (base = repo root, head = examples/head, which fails).

use crate::support::{costgate, repo_root, run};

fn check_with_body(body: &str, labels: Option<&str>) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let body_path = dir.path().join("body.md");
    std::fs::write(&body_path, body).unwrap();
    let root = repo_root();
    let mut cmd = costgate();
    cmd.current_dir(&root)
        .args([
            "check",
            "--base-dir",
            ".",
            "--head-dir",
            "examples/head",
            "--format",
            "json",
            "--pr-body",
        ])
        .arg(&body_path);
    if let Some(l) = labels {
        cmd.args(["--labels", l]);
    }
    let (code, out, err) = run(&mut cmd);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}")),
    )
}

#[test]
fn complete_justification_covering_the_total_is_review_required_locally() {
    let body = "Brand voice.\n\n```\ncost-regression-justification:\n  reason: brand voice is a legal requirement\n  expected-cost-delta: +10%\n  quality-delta: none measured\n```\n";
    let (code, r) = check_with_body(body, None);
    assert_eq!(code, 1);
    assert_eq!(r["verdict"], "review_required");
    assert_eq!(r["cost_verdict"], "fail");
    assert_eq!(r["justification"]["covers"], true);
    assert_eq!(r["justification"]["expected_cost_delta_pct"], 10.0);
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("a local run cannot see them")),
        "{}",
        r["notes"]
    );
}

#[test]
fn declared_delta_below_the_measured_total_still_fails() {
    let body = "cost-regression-justification:\n  reason: r\n  expected-cost-delta: +5%\n  quality-delta: q\n";
    let (code, r) = check_with_body(body, None);
    assert_eq!(code, 1);
    assert_eq!(r["verdict"], "fail");
    let measured = r["summary"]["total_delta_pct"].as_f64().unwrap();
    assert!(measured > 5.0);
    assert!(r["reasons"].as_array().unwrap().iter().any(|x| {
        x.as_str()
            .unwrap()
            .contains("exceeds the declared expected-cost-delta +5.0%")
    }));
}

#[test]
fn incomplete_justification_names_the_missing_fields() {
    let (code, r) = check_with_body(
        "cost-regression-justification:\n  reason: r\n",
        Some("emergency-override,other"),
    );
    assert_eq!(code, 1);
    assert_eq!(r["verdict"], "fail");
    assert_eq!(
        r["justification"]["missing"],
        serde_json::json!(["expected-cost-delta", "quality-delta"])
    );
    assert_eq!(
        r["override"]["authorised"], false,
        "a local label has no verifiable author"
    );
}
