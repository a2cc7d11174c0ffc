//! The two action manifests agree: `runner/action.yml` (composite, on the runner) takes every input
//! of `action.yml` (container) with the same default, hands each to `costgate action` as the
//! `INPUT_*` variable a container would get, and passes through every output under its own name;
//! and the outputs both declare are the ones `costgate action` writes.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::action_e2e::{Workspace, run_action};
use crate::fake_github::FakeGitHub;
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
