//! `check --shard I/N` and `costgate merge`: the merged verdict, summary and cases equal a single
//! unsharded run's, in render mode (the shipped 328-case example) and in harness mode; and parts
//! that do not belong together are refused.

use std::path::{Path, PathBuf};

use crate::support::*;

fn check_json(base: &Path, head: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(costgate()
        .args(["check", "--format", "json", "--base-dir"])
        .arg(base)
        .arg("--head-dir")
        .arg(head)
        .args(extra)
        .env("COSTGATE_TODAY", "2026-10-01"));
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}")),
        err,
    )
}

fn shards(base: &Path, head: &Path, n: usize, dir: &Path) -> Vec<PathBuf> {
    (1..=n)
        .map(|i| {
            let out = dir.join(format!("part{i}"));
            let spec = format!("{i}/{n}");
            let (code, v, err) = check_json(
                base,
                head,
                &["--shard", &spec, "--out", out.to_str().unwrap()],
            );
            assert_eq!(code, 0, "a partial report gates nothing: {err}");
            assert_eq!(
                (v["shard"]["index"].as_u64(), v["shard"]["count"].as_u64()),
                (Some(i as u64), Some(n as u64))
            );
            out.join("report.json")
        })
        .collect()
}

fn merge(parts: &[PathBuf]) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(costgate()
        .args(["merge", "--format", "json"])
        .args(parts)
        .env("COSTGATE_TODAY", "2026-10-01"));
    (
        code,
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null),
        err,
    )
}

fn assert_same(single: &serde_json::Value, merged: &serde_json::Value) {
    for key in [
        "verdict",
        "reasons",
        "fail_kinds",
        "summary",
        "cases",
        "routing_changes",
        "causes",
        "quality_metrics",
    ] {
        assert_eq!(single[key], merged[key], "{key}");
    }
}

#[test]
fn merged_shards_equal_a_single_run_in_render_mode() {
    let root = repo_root();
    let head = root.join("examples/head");
    let tmp = tempfile::tempdir().unwrap();
    let (code, single, _) = check_json(&root, &head, &[]);
    let parts = shards(&root, &head, 3, tmp.path());
    let (mcode, merged, err) = merge(&parts);
    assert_eq!(mcode, code, "{err}");
    assert_eq!(merged["summary"]["cases"], 328);
    assert_same(&single, &merged);
}

#[test]
fn merged_shards_decide_quality_and_dollars_per_month_as_a_single_run() {
    let root = repo_root();
    let head = root.join("examples/head-cheap-wrong");
    let tmp = tempfile::tempdir().unwrap();
    let (code, single, _) = check_json(&root, &head, &[]);
    assert_eq!(
        single["fail_kinds"],
        serde_json::json!(["quality-regression"])
    );
    let parts = shards(&root, &head, 4, tmp.path());
    let (mcode, merged, err) = merge(&parts);
    assert_eq!(mcode, code, "{err}");
    assert_same(&single, &merged);
    // The files behind the causes survive the merge (each shard named them).
    assert!(
        merged["causes"][0]["files"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{}",
        merged["causes"]
    );
}

#[test]
fn merged_shards_equal_a_single_run_in_harness_mode() {
    require_python(&["boto3"]);
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    copy_dir(&repo_root().join("examples/harness/base"), &base);
    copy_dir(&repo_root().join("examples/harness/head"), &head);
    let (code, single, _) = check_json(&base, &head, &[]);
    let parts = shards(&base, &head, 2, tmp.path());
    let part1: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&parts[0]).unwrap()).unwrap();
    assert_eq!(
        part1["cases"].as_array().unwrap().len(),
        10,
        "the harness ran only its slice"
    );
    let (mcode, merged, err) = merge(&parts);
    assert_eq!((mcode, code), (1, 1), "{err}");
    assert_same(&single, &merged);
}

#[test]
fn merge_refuses_incomplete_duplicate_or_foreign_parts() {
    let root = repo_root();
    let tmp = tempfile::tempdir().unwrap();
    let three = shards(&root, &root.join("examples/head"), 3, &tmp.path().join("a"));
    let (code, _, err) = merge(&three[..2]);
    assert_eq!(code, 2);
    assert!(err.contains("shard(s) 3/3 missing"), "{err}");
    let (code, _, err) = merge(&[three[0].clone(), three[0].clone(), three[2].clone()]);
    assert_eq!(code, 2);
    assert!(err.contains("are both shard 1/3"), "{err}");
    let two = shards(&root, &root.join("examples/head"), 2, &tmp.path().join("b"));
    let (code, _, err) = merge(&[three[0].clone(), two[1].clone()]);
    assert_eq!(code, 2);
    assert!(err.contains("shard counts differ"), "{err}");
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"verdict\": \"pass\"}").unwrap();
    let (code, _, err) = merge(&[bad]);
    assert_eq!(code, 2);
    assert!(err.contains("not a partial report"), "{err}");
}

#[test]
fn bad_shard_spec_is_a_usage_error() {
    let root = repo_root();
    let (code, _, err) = run(costgate()
        .args(["check", "--shard", "4/3", "--base-dir"])
        .arg(&root)
        .arg("--head-dir")
        .arg(&root));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected I/N"), "{err}");
}

#[test]
fn merge_applies_the_cumulative_rule_once_on_the_whole_run() {
    // The base's baseline claims a mean 1/1.3 of today's: a flat PR still drifts +30% overall.
    let dir = crate::support::trees::example_tree();
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "old", "--dir"])
        .arg(dir.path())
        .env("COSTGATE_TODAY", "2026-09-01"));
    assert_eq!(code, 0, "{err}");
    let p = dir.path().join(".cost-baseline.yaml");
    let text: String = std::fs::read_to_string(&p)
        .unwrap()
        .lines()
        .map(|l| match l.strip_prefix("  dollars_per_session_mean: ") {
            Some(v) => format!(
                "  dollars_per_session_mean: {}\n",
                v.parse::<f64>().unwrap() / 1.3
            ),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&p, text).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (code, single, _) = check_json(dir.path(), dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        single["fail_kinds"],
        serde_json::json!(["cumulative-drift"])
    );
    let parts = shards(dir.path(), dir.path(), 4, tmp.path());
    let (mcode, merged, err) = merge(&parts);
    assert_eq!(mcode, 1, "{err}");
    assert_same(&single, &merged);
    let notes = merged["notes"].as_array().unwrap();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.as_str().unwrap().starts_with("cumulative drift"))
            .count(),
        1,
        "{notes:?}"
    );
}
