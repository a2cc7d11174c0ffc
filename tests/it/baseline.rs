//! `costgate baseline` end to end on the shipped MangaAssist example (YAML and JSONL golden files):
//! bands written, nothing else in the golden files touched, drift from the previous bands.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::trees::example_tree;
use crate::support::*;

fn baseline(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = costgate();
    cmd.args(["baseline", "--dir"])
        .arg(dir)
        .args(["--commit", "abc123"])
        .args(extra)
        .env("COSTGATE_TODAY", "2026-12-01");
    run(&mut cmd)
}

fn read_golden(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir.join("golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// The text with every band removed: whole `expected_cost_band:` lines in YAML, the
/// `, "expected_cost_band": {…}` member in JSONL.
fn strip_bands(name: &str, text: &str) -> String {
    if name.ends_with(".jsonl") {
        text.split_inclusive('\n')
            .map(|l| match l.find(", \"expected_cost_band\"") {
                Some(i) => {
                    let end = l[i..].find('}').unwrap() + i + 1;
                    format!("{}{}", &l[..i], &l[end..])
                }
                None => l.to_string(),
            })
            .collect()
    } else {
        text.split_inclusive('\n')
            .filter(|l| !l.trim_start().starts_with("expected_cost_band:"))
            .collect()
    }
}

fn run_costs(dir: &Path) -> BTreeMap<String, f64> {
    run_json(dir)["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["cost_usd"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn baseline_round_trip_writes_only_band_lines_in_yaml_and_jsonl() {
    let dir = example_tree();
    let before = read_golden(dir.path());
    let (code, out, err) = baseline(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("328 new"), "{out}");
    // Progress in a non-terminal (CI log): plain lines on stderr, never on stdout.
    assert!(
        err.starts_with("costgate: baseline runs: 0/1\ncostgate: baseline runs: 1/1 done in "),
        "{err}"
    );
    assert!(!out.contains("costgate: baseline runs"), "{out}");
    let after = read_golden(dir.path());
    let mut bands = 0;
    for (name, old) in &before {
        let new = &after[name];
        assert_ne!(new, old, "{name} got no bands");
        assert_eq!(
            &strip_bands(name, new),
            old,
            "{name} changed outside its band lines"
        );
        bands += new.matches("expected_cost_band").count();
    }
    assert_eq!(bands, 328);
    assert!(
        after.keys().any(|k| k.ends_with(".jsonl")) && after.keys().any(|k| k.ends_with(".yaml"))
    );

    // Every band holds the case's cost, as `costgate run` prices it (the dataset loads the bands).
    let costs = run_costs(dir.path());
    let (code, out, _) = run(costgate()
        .args(["run", "--format", "json", "--dir"])
        .arg(dir.path()));
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["summary"]["cases"],
        328
    );
    let band_line = after["escalation.jsonl"]
        .lines()
        .next()
        .unwrap()
        .to_string();
    let case: serde_json::Value = serde_json::from_str(&band_line).unwrap();
    let (low, high) = (
        case["expected_cost_band"]["low"].as_f64().unwrap(),
        case["expected_cost_band"]["high"].as_f64().unwrap(),
    );
    let cost = costs[case["id"].as_str().unwrap()];
    assert!(
        low <= cost && cost <= high && (high - low) / cost < 0.01,
        "{low} {cost} {high}"
    );

    // The baseline file: the documented keys, today's date, mean dollars per session of the run.
    let text = std::fs::read_to_string(dir.path().join(".cost-baseline.yaml")).unwrap();
    assert!(text.contains("baseline_date: 2026-12-01\nbaseline_commit: \"abc123\"\nbaseline_dataset_version: \"sha256:"), "{text}");
    assert!(text.contains("rebaseline_due: 2027-03-01\n"), "{text}");
    let (_, run_out, _) = run(costgate()
        .args(["run", "--format", "json", "--dir"])
        .arg(dir.path()));
    let mean = serde_json::from_str::<serde_json::Value>(&run_out).unwrap()["summary"]["mean_usd"]
        .as_f64()
        .unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("dollars_per_session_mean"))
        .unwrap();
    let recorded: f64 = line.split(':').nth(1).unwrap().trim().parse().unwrap();
    assert!((recorded - mean).abs() < 1e-12, "{recorded} vs {mean}");

    // Re-baselining an unchanged tree changes no golden file and reports no drift.
    let (code, out, err) = baseline(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("328 normal (<= 10%), 0 changed, 0 flagged (> 50%), 0 new"),
        "{out}"
    );
    assert_eq!(read_golden(dir.path()), after);
}

#[test]
fn baseline_flags_cases_that_drifted_more_than_fifty_percent_and_dry_run_writes_nothing() {
    let dir = example_tree();
    assert_eq!(baseline(dir.path(), &[]).0, 0);
    let golden = read_golden(dir.path());
    let base_file = std::fs::read_to_string(dir.path().join(".cost-baseline.yaml")).unwrap();
    // Escalations grow by a long policy paragraph: far beyond 50% for those cases only.
    let tpl = dir.path().join("app/prompts/escalation.j2");
    let mut t = std::fs::read_to_string(&tpl).unwrap();
    t.push_str(&"\nAlways restate the store's complete returns, refunds and escalation policy in full detail. ".repeat(150));
    std::fs::write(&tpl, t).unwrap();

    let (code, out, err) = baseline(dir.path(), &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("24 flagged (> 50%)"), "{out}");
    assert!(out.contains("FLAGGED, investigate"), "{out}");
    assert!(
        out.contains("--- a/golden/escalation.jsonl\n+++ b/golden/escalation.jsonl"),
        "{out}"
    );
    assert!(out.contains("--- a/.cost-baseline.yaml"), "{out}");
    assert_eq!(
        read_golden(dir.path()),
        golden,
        "--dry-run wrote golden files"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".cost-baseline.yaml")).unwrap(),
        base_file
    );

    let (code, out, err) = baseline(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let flagged: Vec<&str> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["class"] == "flagged")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(flagged.len(), 24);
    assert!(
        flagged
            .iter()
            .all(|id| golden["escalation.jsonl"].contains(&format!("\"{id}\"")))
    );
    assert_eq!(v["files_changed"].as_array().unwrap().len(), 2, "{out}");
}

#[test]
fn baseline_refuses_a_broken_config_with_exit_2() {
    let dir = example_tree();
    std::fs::write(
        dir.path().join("costgate.yaml"),
        "version: 1\nroutes: app/routes.yaml\nbaseline_file: x\n",
    )
    .unwrap();
    let (code, _, err) = baseline(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("baseline_file"), "{err}");
}
