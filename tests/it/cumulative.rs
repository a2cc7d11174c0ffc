//! The cumulative rule in `costgate check`: head against the base branch's `.cost-baseline.yaml`,
//! in a real git repository (base and head read from commits).

use std::path::Path;

use crate::support::trees::example_tree;
use crate::support::*;

/// Scales `dollars_per_session_mean` in a baseline file (as if measured on a cheaper past).
fn scale_mean(dir: &Path, factor: f64) {
    let p = dir.join(".cost-baseline.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    let out: String = text
        .lines()
        .map(|l| match l.strip_prefix("  dollars_per_session_mean: ") {
            Some(v) => format!(
                "  dollars_per_session_mean: {}\n",
                v.parse::<f64>().unwrap() * factor
            ),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(p, out).unwrap();
}

fn check(repo: &Path, base: &str, head: &str, today: &str) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(costgate()
        .args([
            "check", "--format", "json", "--base", base, "--head", head, "--repo",
        ])
        .arg(repo)
        .env("COSTGATE_TODAY", today));
    let v = serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
    (code, v, err)
}

fn notes(v: &serde_json::Value) -> Vec<String> {
    v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// A repository whose baseline claims a mean 1/1.2 of today's: every PR now drifts +20%.
fn drifted_repo() -> (tempfile::TempDir, String) {
    let dir = example_tree();
    git_init(dir.path());
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "old", "--dir"])
        .arg(dir.path())
        .env("COSTGATE_TODAY", "2026-09-01"));
    assert_eq!(code, 0, "{err}");
    scale_mean(dir.path(), 1.0 / 1.2);
    let base = git_commit_all(dir.path(), "baseline from a cheaper past");
    (dir, base)
}

#[test]
fn cumulative_drift_fails_a_pr_that_is_flat_against_its_base() {
    let (dir, base) = drifted_repo();
    std::fs::write(dir.path().join("README.md"), "docs only\n").unwrap();
    let head = git_commit_all(dir.path(), "docs only");
    let (code, v, err) = check(dir.path(), &base, &head, "2026-10-01");
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["fail_kinds"], serde_json::json!(["cumulative-drift"]));
    assert_eq!(
        v["reasons"],
        serde_json::json!(["mean $/session +20.0% over baseline > 15%"])
    );
    assert_eq!(v["summary"]["total_delta_pct"], 0.0);
    assert!(
        notes(&v)
            .iter()
            .any(|n| n.contains("re-baseline in this PR with a justification")),
        "{:?}",
        notes(&v)
    );
    assert!(!notes(&v).iter().any(|n| n.contains("overdue")));
}

#[test]
fn cumulative_formal_exception_needs_a_justification_not_just_a_baseline_update() {
    // The head re-baselines (new bands and a fresh baseline) but the PR carries no justification:
    // the contract may not change silently, so the gate still fails and says what is missing.
    let (dir, base) = drifted_repo();
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "new", "--dir"])
        .arg(dir.path())
        .env("COSTGATE_TODAY", "2026-10-01"));
    assert_eq!(code, 0, "{err}");
    let head = git_commit_all(dir.path(), "re-baseline");
    let (code, v, _) = check(dir.path(), &base, &head, "2026-10-01");
    assert_eq!(code, 1);
    assert_eq!(v["fail_kinds"], serde_json::json!(["cumulative-drift"]));
    let n = notes(&v);
    assert!(
        n.iter().any(|n| n.contains(
            "this PR updates the baseline: a complete justification approved by a cost owner"
        )),
        "{n:?}"
    );
    let policy: Vec<&str> = v["policy_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    // Bands changed in no case (same costs), so no case counts as edited either.
    assert!(!policy.iter().any(|p| p.contains("edits")), "{policy:?}");
}

#[test]
fn cumulative_within_limit_passes_and_an_overdue_rebaseline_is_noted() {
    let (dir, _) = drifted_repo();
    scale_mean(dir.path(), 1.2 / 1.1); // now +10% over baseline: within 15%
    let base = git_commit_all(dir.path(), "baseline closer to today");
    let (code, v, err) = check(dir.path(), &base, &base, "2027-01-15");
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["verdict"], "pass");
    let n = notes(&v);
    assert!(
        n.iter()
            .any(|n| n.starts_with("mean $/session +10.0% over baseline (limit 15%")),
        "{n:?}"
    );
    assert!(
        n.iter()
            .any(|n| n.starts_with("re-baseline overdue: `rebaseline_due: 2026-12-01`")),
        "{n:?}"
    );
}

#[test]
fn cumulative_broken_baseline_file_is_a_config_error() {
    let dir = example_tree();
    git_init(dir.path());
    std::fs::write(
        dir.path().join(".cost-baseline.yaml"),
        "baseline_date: soon\n",
    )
    .unwrap();
    let c = git_commit_all(dir.path(), "bad baseline");
    let (code, _, err) = check(dir.path(), &c, &c, "2026-10-01");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".cost-baseline.yaml"), "{err}");
}

#[test]
fn cases_leaving_their_expected_cost_band_are_marked_in_every_report() {
    let dir = example_tree();
    let (code, _, err) = run(costgate().args(["baseline", "--dir"]).arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    let head = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), head.path());
    std::fs::remove_dir_all(head.path().join("app")).unwrap();
    copy_dir(
        &repo_root().join("examples/head-warn/app"),
        &head.path().join("app"),
    );
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run(costgate()
        .args(["check", "--base-dir"])
        .arg(dir.path())
        .arg("--head-dir")
        .arg(head.path())
        .arg("--out")
        .arg(out.path()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let cases = v["cases"].as_array().unwrap();
    let outside: Vec<&str> = cases
        .iter()
        .filter(|c| c["outside_band"] == true)
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let changed: Vec<&str> = cases
        .iter()
        .filter(|c| c["status"] != "unchanged")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!outside.is_empty());
    assert_eq!(
        outside, changed,
        "in render mode a band is the baseline cost: every changed case leaves it"
    );
    let n = notes(&v);
    assert!(
        n.iter().any(|n| n.starts_with(&format!(
            "{} case(s) cost outside their expected_cost_band at head: {}",
            outside.len(),
            outside[0]
        ))),
        "{n:?}"
    );
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert_eq!(md.matches("(outside band)").count(), outside.len());
}

const JUSTIFICATION: &str = "Re-baseline after the Q4 catalogue expansion.\n\n```\ncost-regression-justification:\n  reason: Catalogue context doubled for recommendations\n  expected-cost-delta: +5%\n  quality-delta: hallucinated volume counts -30% on the eval set\n```\n";

fn check_with_body(repo: &Path, base: &str, head: &str) -> (i32, serde_json::Value, String) {
    let body = repo.join("pr-body.md");
    std::fs::write(&body, JUSTIFICATION).unwrap();
    let (code, out, err) = run(costgate()
        .args([
            "check", "--format", "json", "--base", base, "--head", head, "--repo",
        ])
        .arg(repo)
        .arg("--pr-body")
        .arg(&body)
        .env("COSTGATE_TODAY", "2026-10-01"));
    (
        code,
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null),
        err,
    )
}

#[test]
fn cumulative_formal_exception_re_baseline_with_justification_goes_to_review() {
    let (dir, base) = drifted_repo();
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "new", "--dir"])
        .arg(dir.path())
        .env("COSTGATE_TODAY", "2026-10-01"));
    assert_eq!(code, 0, "{err}");
    let head = git_commit_all(dir.path(), "re-baseline");
    let (code, v, err) = check_with_body(dir.path(), &base, &head);
    // Justified and re-baselined: a contract change awaiting a cost owner's sign-off.
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["verdict"], "review_required", "{:#}", v["reasons"]);
    assert_eq!(v["summary"]["head_updates_baseline"], true);
}

#[test]
fn cumulative_drift_is_not_waived_by_a_justification_without_a_re_baseline() {
    let (dir, base) = drifted_repo();
    std::fs::write(dir.path().join("README.md"), "docs only\n").unwrap();
    let head = git_commit_all(dir.path(), "docs only");
    let (code, v, err) = check_with_body(dir.path(), &base, &head);
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["verdict"], "fail");
    assert!(
        v["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("cumulative drift over the baseline: a justification is accepted only with a re-baseline"),
        "{}",
        v["reasons"]
    );
}
