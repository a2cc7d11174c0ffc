//! `costgate backtest` over a scripted git history: feature branches merged with `--no-ff` into
//! `main`, some of them known to warn or fail, plus direct commits that are not merges.

use std::path::Path;

use crate::support::trees::example_tree;
use crate::support::*;

/// Replaces `app/` in the repository with the app of `from` (a directory).
fn use_app(repo: &Path, from: &Path) {
    std::fs::remove_dir_all(repo.join("app")).unwrap();
    copy_dir(&from.join("app"), &repo.join("app"));
}

/// Commits `edit` on a new branch and merges it into main with a merge commit; returns it.
pub fn merge(repo: &Path, branch: &str, edit: impl FnOnce(&Path)) -> String {
    git(repo, &["checkout", "-q", "-b", branch]);
    edit(repo);
    git_commit_all(repo, &format!("{branch}: change"));
    git(repo, &["checkout", "-q", "main"]);
    git(
        repo,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("Merge {branch}"),
            branch,
        ],
    );
    git(repo, &["rev-parse", "HEAD"])
}

/// History (oldest first): docs (pass), head-warn app (warn), original app again (pass:
/// improvement), head app (fail), docs (pass); a direct non-merge commit sits between.
fn scripted_history() -> (tempfile::TempDir, Vec<String>) {
    let dir = example_tree();
    let root = repo_root();
    let original = tempfile::tempdir().unwrap();
    copy_dir(&root.join("app"), &original.path().join("app"));
    git_init(dir.path());
    git_commit_all(dir.path(), "initial");
    let r = dir.path();
    let m1 = merge(r, "docs-1", |r| {
        std::fs::write(r.join("NOTES.md"), "one\n").unwrap()
    });
    let m2 = merge(r, "timeline-field", |r| {
        use_app(r, &root.join("examples/head-warn"))
    });
    std::fs::write(r.join("NOTES.md"), "direct\n").unwrap();
    git_commit_all(r, "direct commit on main");
    let m3 = merge(r, "revert-timeline", |r| use_app(r, original.path()));
    let m4 = merge(r, "brand-voice", |r| {
        use_app(r, &root.join("examples/head"))
    });
    let m5 = merge(r, "docs-2", |r| {
        std::fs::write(r.join("NOTES.md"), "two\n").unwrap()
    });
    (dir, vec![m5, m4, m3, m2, m1])
}

fn backtest(repo: &Path, extra: &[&str]) -> serde_json::Value {
    let (code, out, err) = run(costgate()
        .args(["backtest", "--format", "json", "--repo"])
        .arg(repo)
        .args(extra));
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("costgate: backtest: 0/"), "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn backtest_finds_the_known_fire_points_newest_first() {
    let (dir, merges) = scripted_history();
    let v = backtest(dir.path(), &["--last", "10", "--branch", "main"]);
    assert_eq!(v["merges"], 5, "{v}");
    assert_eq!(
        (v["fail"].as_u64(), v["warn"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    assert_eq!(v["fire_rate"], 0.4);
    let by: Vec<(&str, &str)> = v["by_merge"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["commit"].as_str().unwrap(),
                m["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str)> = merges
        .iter()
        .map(String::as_str)
        .zip(["pass", "fail", "pass", "warn", "pass"])
        .collect();
    assert_eq!(by, expected);
    let fail = &v["by_merge"][1];
    assert!(
        fail["max_regression_pct"].as_f64().unwrap() > 25.0,
        "{fail}"
    );
    let fired: Vec<&str> = fail["fired_cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(!fired.is_empty() && fired.len() <= 20, "{fired:?}");
    assert!(
        fail["reasons"][0].as_str().unwrap().contains("> 25%"),
        "{fail}"
    );
    let warn = &v["by_merge"][3];
    assert!(
        !warn["fired_cases"].as_array().unwrap().is_empty(),
        "{warn}"
    );
    assert_eq!(v["by_merge"][2]["fired_cases"].as_array().unwrap().len(), 0);

    // Target 5% of 5 merges: none may fire, so the thresholds rise to the largest seen values.
    let s = &v["suggested_thresholds"];
    assert_eq!(s["fire_rate"], 0.0, "{s}");
    assert_eq!(s["pass_band_pct"], fail["max_regression_pct"], "{s}");
    let max_p95 = v["by_merge"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["p95_delta_pct"].as_f64())
        .fold(0.0, f64::max);
    assert_eq!(s["warn_p95_regression_pct"].as_f64(), Some(max_p95));

    // Allowing 40% keeps today's verdict count: two merges may fire.
    let v = backtest(dir.path(), &["--last", "5", "--target-fire-rate", "0.4"]);
    assert!(v["suggested_thresholds"]["fire_rate"].as_f64().unwrap() <= 0.4);
}

#[test]
fn backtest_last_n_and_all_commits() {
    let (dir, merges) = scripted_history();
    let v = backtest(dir.path(), &["--last", "2"]);
    assert_eq!(v["merges"], 2);
    assert_eq!(v["by_merge"][0]["commit"], merges[0].as_str());
    assert_eq!(v["by_merge"][1]["verdict"], "fail");
    // Every first-parent commit: the 5 merges, the direct commit and the root (which has no
    // parent, so it cannot be replayed and is reported as an error, not as a pass).
    let v = backtest(dir.path(), &["--last", "50", "--all-commits"]);
    assert_eq!(
        (v["merges"].as_u64(), v["errors"].as_u64()),
        (Some(6), Some(1)),
        "{v}"
    );
    assert_eq!(v["by_merge"][6]["verdict"], "error");
    let e = v["by_merge"][6]["error"].as_str().unwrap();
    assert!(
        e.contains("cannot read the base tree: git") && e.contains("^1"),
        "{e}"
    );
}

#[test]
fn backtest_without_merges_suggests_all_commits() {
    let dir = example_tree();
    git_init(dir.path());
    git_commit_all(dir.path(), "initial");
    let (code, _, err) = run(costgate().args(["backtest", "--repo"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--all-commits"), "{err}");
}

#[test]
fn a_merge_that_cheapens_by_breaking_quality_is_a_fail_no_cost_threshold_suppresses() {
    let dir = example_tree();
    let root = repo_root();
    git_init(dir.path());
    git_commit_all(dir.path(), "initial");
    let m = merge(dir.path(), "top-1-retrieval", |r| {
        use_app(r, &root.join("examples/head-cheap-wrong"))
    });
    let v = backtest(
        dir.path(),
        &["--last", "5", "--branch", "main", "--target-fire-rate", "0"],
    );
    assert_eq!(
        (v["fail"].as_u64(), v["quality_fail"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let merge = &v["by_merge"][0];
    assert_eq!(
        (merge["commit"].as_str(), &merge["quality"]),
        (Some(m.as_str()), &true.into())
    );
    assert!(
        merge["total_delta_pct"].as_f64().unwrap() < -30.0,
        "cheaper, and a fail"
    );
    assert_eq!(v["suggested_thresholds"]["target_reachable"], false);
}

/// A squash-merged PR's title is the author's text and backtest prints it on the runner: a `\r`
/// in it must not start a line the runner obeys as a workflow command.
#[test]
fn a_carriage_return_in_a_commit_subject_cannot_forge_a_workflow_command() {
    let dir = example_tree();
    let r = dir.path();
    git_init(r);
    git_commit_all(r, "initial");
    git(r, &["checkout", "-q", "-b", "evil"]);
    std::fs::write(r.join("NOTES.md"), "x\n").unwrap();
    git_commit_all(r, "evil: change");
    git(r, &["checkout", "-q", "main"]);
    git(
        r,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Fix typo\r::add-mask::ghp_x\r::warning title=forged::costgate passed",
            "evil",
        ],
    );
    let (code, out, err) = run(costgate()
        .args(["backtest", "--last", "1", "--branch", "main", "--repo"])
        .arg(r));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Fix typo"), "{out}");
    assert!(!out.contains('\r'), "{out:?}");
    for line in out.lines().chain(err.lines()) {
        assert!(!line.trim_start().starts_with("::"), "{line:?}");
    }
}
