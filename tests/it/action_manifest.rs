//! The two action manifests agree: `runner/action.yml` (composite, on the runner) takes every input
//! of `action.yml` (container) with the same default, hands each to `costgate action` as the
//! `INPUT_*` variable a container would get, and passes through every output under its own name;
//! and the outputs both declare are the ones `costgate action` writes.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::action::{Workspace, run_action};
use crate::support::fake_github::FakeGitHub;
use crate::support::repo_root;

fn manifest(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn section<'a>(m: &'a Value, key: &str) -> &'a serde_json::Map<String, Value> {
    m[key].as_object().unwrap_or_else(|| panic!("no {key}"))
}

#[test]
fn the_runner_action_takes_every_input_of_the_container_action_with_its_default() {
    let (container, runner) = (manifest("action.yml"), manifest("runner/action.yml"));
    let (ci, ri) = (section(&container, "inputs"), section(&runner, "inputs"));
    for (name, spec) in ci {
        let r = ri
            .get(name)
            .unwrap_or_else(|| panic!("runner/action.yml lacks input {name}"));
        assert_eq!(r.get("default"), spec.get("default"), "default of {name}");
    }
    let extra: Vec<&String> = ri.keys().filter(|k| !ci.contains_key(*k)).collect();
    assert_eq!(extra, ["download-url", "version"], "runner-only inputs");
}

#[test]
fn the_runner_action_passes_each_input_as_the_containers_input_variable() {
    let (container, runner) = (manifest("action.yml"), manifest("runner/action.yml"));
    let steps = runner["runs"]["steps"].as_array().unwrap();
    let gate = steps
        .iter()
        .find(|s| s["id"] == "gate")
        .expect("a step with id gate");
    let env: BTreeMap<String, String> = gate["env"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("INPUT_"))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let want: BTreeMap<String, String> = section(&container, "inputs")
        .keys()
        .map(|n| {
            (
                format!("INPUT_{}", n.to_uppercase().replace('-', "_")),
                format!("${{{{ inputs.{n} }}}}"),
            )
        })
        .collect();
    assert_eq!(env, want);
}

#[test]
fn the_runner_action_passes_every_output_through_under_its_own_name() {
    let (container, runner) = (manifest("action.yml"), manifest("runner/action.yml"));
    let (co, ro) = (section(&container, "outputs"), section(&runner, "outputs"));
    assert_eq!(co.keys().collect::<Vec<_>>(), ro.keys().collect::<Vec<_>>());
    for (name, spec) in ro {
        assert_eq!(
            spec["value"].as_str(),
            Some(format!("${{{{ steps.gate.outputs.{name} }}}}").as_str()),
            "value of output {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_declared_outputs_are_the_ones_costgate_action_writes() {
    let fake = FakeGitHub::start().await;
    let ws = Workspace::new("examples/head", "");
    let ev = ws.event(&fake, "pull_request.opened.1.json", "", &[]);
    let (code, out, err) = run_action(&ws, &fake, &ev, &[]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let written: Vec<String> = ws
        .outputs()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    let declared: Vec<String> = section(&manifest("action.yml"), "outputs")
        .keys()
        .cloned()
        .collect();
    let mut w = written.clone();
    w.sort();
    let mut d = declared;
    d.sort();
    assert_eq!(w, d, "outputs written: {written:?}");
}

/// The release commit's manifests, made by `scripts/pin-release` (what release.yml runs) in a copy.
fn pinned(version: &str, image: &str) -> (tempfile::TempDir, i32, String) {
    let dir = tempfile::tempdir().unwrap();
    for f in ["action.yml", "setup/action.yml", "runner/action.yml"] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(f), to).unwrap();
    }
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/pin-release"))
        .args([version, image])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    (dir, code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_release_pins_the_image_and_the_installed_version_and_changes_nothing_else() {
    let image = "ghcr.io/acme/costgate:v1.4.0";
    let (dir, code, err) = pinned("1.4.0", image);
    assert_eq!(code, 0, "{err}");
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let action: Value = serde_saphyr::from_str(&read("action.yml")).unwrap();
    assert_eq!(action["runs"]["image"], format!("docker://{image}"));
    for f in ["setup/action.yml", "runner/action.yml"] {
        let m: Value = serde_saphyr::from_str(&read(f)).unwrap();
        assert_eq!(m["inputs"]["version"]["default"], "1.4.0", "{f}");
    }
    for f in ["action.yml", "setup/action.yml", "runner/action.yml"] {
        let before = std::fs::read_to_string(repo_root().join(f)).unwrap();
        let after = read(f);
        let changed = before
            .lines()
            .zip(after.lines())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            (changed, before.lines().count()),
            (1, after.lines().count()),
            "{f}"
        );
    }
}

#[test]
fn a_release_refuses_a_version_or_image_that_would_break_the_yaml() {
    for (version, image) in [
        ("1.4.0\"\n  evil: x", "ghcr.io/acme/costgate:v1"),
        ("1.4.0", "ghcr.io/acme/costgate:v1 # x"),
    ] {
        let (_dir, code, err) = pinned(version, image);
        assert_eq!(code, 2, "{version:?} {image:?}: {err}");
        assert!(err.contains("pin-release: not a"), "{err}");
    }
}

/// Two runs of one PR at once post two comments and open two tickets: every shipped workflow
/// that comments, files tickets or pushes holds a concurrency group.
#[test]
fn every_shipped_example_workflow_has_a_concurrency_group() {
    let dir = repo_root().join(".github/workflows/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let w: Value = costgate::infra::yaml::from_str(&text).unwrap();
        let group = &w["concurrency"]["group"];
        assert!(
            group.as_str().is_some_and(|g| g.contains("costgate")),
            "{} has no concurrency group",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 6, "{seen}");
}
