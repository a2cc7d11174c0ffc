//! `costgate init` in fresh git repositories, on generated invocation logs: two intents of very
//! different traffic on two models (one through an inference-profile ARN), a long tail on a model
//! the price table does not know, duplicates, requests without text or intent, PII. Asserts the
//! proportions, redaction, routes, determinism, the no-overwrite rule, that `costgate run` prices
//! what `init` wrote (render, Python and Node harness) and that the workflow passes the linters
//! `.ci/run` runs on the shipped ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::*;

const SONNET_ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

fn record(i: usize, intent: Option<&str>, model: &str, query: &str, output: u64) -> String {
    // One request every 3 minutes from 2026-11-01: 1,000 requests span about two days.
    let at = chrono::DateTime::from_timestamp(1_793_491_200 + i as i64 * 180, 0).unwrap();
    let mut r = serde_json::json!({
        "schemaType": "ModelInvocationLog",
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "modelId": model,
        "input": {
            "inputBodyJson": {
                "system": [{"text": "You are the shop's assistant."}],
                "messages": [{"role": "user", "content": [{"text": query}]}]
            },
            "inputTokenCount": 20 + query.len() as u64 / 4
        },
        "output": {"outputTokenCount": output}
    });
    if let Some(intent) = intent {
        r["requestMetadata"] = serde_json::json!({"intent": intent, "session": format!("s{i}")});
    }
    r.to_string()
}

/// 700 faq requests (nine in ten on Nova Lite, one in ten on Nova Micro; every 50th a repeat),
/// 250 escalations on Claude Sonnet 4.5 through a profile ARN carrying an e-mail, a phone or a
/// card number, 50 long `legacy` requests on a model nobody prices; then 5 bodies in S3 and 3
/// requests without an intent.
fn logs(dir: &Path) -> PathBuf {
    let mut lines = Vec::new();
    for i in 0..1000 {
        lines.push(match i {
            0..700 => {
                let model = if i % 10 == 0 {
                    "amazon.nova-micro-v1:0"
                } else {
                    "amazon.nova-lite-v1:0"
                };
                let q = if i % 50 == 0 {
                    "How do I return an item?".to_string()
                } else {
                    format!("How do I return item {i}?")
                };
                record(i, Some("faq"), model, &q, 60 + (i % 3) as u64)
            }
            700..950 => {
                let q = match i % 3 {
                    0 => format!("Order {i} is late, write to taro{i}@example.co.jp"),
                    1 => format!("Order {i} is late, call me on 090-1234-{:04}", 5000 + i),
                    _ => format!(
                        "Order {i} was charged twice to 4111 1111 1111 {:04}",
                        1000 + i
                    ),
                };
                record(i, Some("escalation"), SONNET_ARN, &q, 300)
            }
            _ => record(
                i,
                Some("legacy"),
                "acme.mystery-v1",
                &format!(
                    "legacy question {i}: {}",
                    "a long pasted document ".repeat(100)
                ),
                80,
            ),
        });
    }
    for i in 0..5 {
        lines.push(
            serde_json::json!({"schemaType": "ModelInvocationLog", "modelId": "amazon.nova-lite-v1:0",
                "requestMetadata": {"intent": "faq"},
                "input": {"inputBodyS3Path": format!("s3://logs/{i}.json"), "inputTokenCount": 9}})
            .to_string(),
        );
    }
    for i in 0..3 {
        lines.push(record(
            1000 + i,
            None,
            "amazon.nova-lite-v1:0",
            "no intent here",
            10,
        ));
    }
    let p = dir.join("invocations.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn init(root: &Path, args: &[&str]) -> (i32, String, String) {
    run(costgate()
        .arg("init")
        .args(args)
        .arg("--dir")
        .arg(root)
        .env("COSTGATE_TODAY", "2026-12-06"))
}

fn fresh_repo(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    git_init(root);
}

/// Every file under `root` but `.git`, with its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().into(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// `costgate run` on `root`: each case's (intent, model, output tokens, cost, calls).
fn priced(root: &Path) -> Vec<(String, String, u64, f64, u64)> {
    run_json(root)["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["intent"].as_str().unwrap().to_string(),
                c["model"].as_str().unwrap_or_default().to_string(),
                c["output_tokens"].as_u64().unwrap(),
                c["cost_usd"].as_f64().unwrap(),
                c["calls"].as_u64().unwrap_or(1),
            )
        })
        .collect()
}

/// actionlint and zizmor (default configuration, every severity) on the workflow `init` wrote.
fn lint_workflow(root: &Path) {
    let env = repo_root().join("target/lint-env/bin");
    assert!(
        env.join("zizmor").is_file() && env.join("actionlint").is_file(),
        "actionlint and zizmor are not installed: run `scripts/lint-workflows --install` (scripts/test does)"
    );
    let (code, out, err) = run(std::process::Command::new(env.join("actionlint"))
        .arg("-no-color")
        .arg(".github/workflows/costgate.yml")
        .current_dir(root));
    assert_eq!(code, 0, "actionlint: {out}{err}");
    let (code, out, err) = run(std::process::Command::new(env.join("zizmor"))
        .args([
            "--offline",
            "--no-progress",
            "--min-severity",
            "informational",
        ])
        .arg(".github/workflows/costgate.yml")
        .current_dir(root));
    assert_eq!(code, 0, "zizmor: {out}{err}");
    assert!(
        format!("{out}{err}").contains("No findings"),
        "zizmor: {out}{err}"
    );
}

#[test]
fn init_draws_a_dataset_from_logs_that_costgate_run_prices() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = logs(tmp.path());
    let root = tmp.path().join("shop");
    fresh_repo(&root);
    let logs_arg = logs.to_str().unwrap();
    let args = [
        "--logs",
        logs_arg,
        "--cases",
        "40",
        "--seed",
        "5",
        "--action-repo",
        "acme/costgate",
    ];
    let (code, out, err) = init(&root, &args);
    assert_eq!(code, 0, "{err}");
    for f in [
        "golden/cases.yaml",
        "costgate.yaml",
        "costgate/routes.yaml",
        ".github/workflows/costgate.yml",
    ] {
        assert!(out.contains(&format!("  {f}\n")), "{f} not listed: {out}");
        assert!(root.join(f).is_file(), "{f}");
    }
    assert!(out.contains("costgate run"), "{out}");
    assert!(out.contains("costgate baseline"), "{out}");
    assert!(
        out.contains("skipped 5 logged request(s): request body stored in S3"),
        "{out}"
    );
    assert!(
        out.contains("skipped 3 logged request(s): no intent"),
        "{out}"
    );
    assert!(
        out.contains("warning: legacy is logged mostly on acme.mystery-v1"),
        "{out}"
    );

    // Traffic 700 : 250 : 50 over 40 cases: 28, 10 and 2.
    let golden = std::fs::read_to_string(root.join("golden/cases.yaml")).unwrap();
    let count = |intent: &str| golden.matches(&format!("  intent: \"{intent}\"\n")).count();
    assert_eq!(
        (count("faq"), count("escalation"), count("legacy")),
        (28, 10, 2)
    );
    assert_eq!(golden.matches("  added: 2026-12-06\n").count(), 40);
    // Redacted: no address, phone or card digits survive; placeholders stand in.
    assert!(!golden.contains('@') && !golden.contains("4111") && !golden.contains("090-1234"));
    assert!(
        golden.contains("<email>")
            || golden.contains("<phone>")
            || golden.contains("<card-number>"),
        "{golden}"
    );
    // De-duplicated: the repeated faq query is there at most once.
    assert!(golden.matches("How do I return an item?").count() <= 1);

    // Routes: each intent to its most logged model (ARN reduced to the profile id), with its
    // median answer; the unpriced one left to `default`, the most logged priced model.
    let routes = std::fs::read_to_string(root.join("costgate/routes.yaml")).unwrap();
    assert!(
        routes.contains("\"faq\":\n  model: \"amazon.nova-lite-v1:0\"\n  output_tokens: 61"),
        "{routes}"
    );
    assert!(
        routes.contains(
            "\"escalation\":\n  model: \"us.anthropic.claude-sonnet-4-5-20250929-v1:0\"\n  output_tokens: 300"
        ),
        "{routes}"
    );
    assert!(
        routes.contains("# \"legacy\":\n#   model: \"acme.mystery-v1\""),
        "{routes}"
    );
    assert!(
        routes.ends_with("default:\n  model: \"amazon.nova-lite-v1:0\"\n"),
        "{routes}"
    );

    // The config: traffic proposed from the logs' own timestamps (1,003 requests over 50.1 hours:
    // 1,002 / 2.0875 days × 30.4375) and intents (the 5 in S3 count: 705 faq of 1,005).
    let cfg = std::fs::read_to_string(root.join("costgate.yaml")).unwrap();
    assert!(cfg.contains("  requests_per_month: 14610\n"), "{cfg}");
    assert!(
        cfg.contains("intent_share: {escalation: 0.2488, faq: 0.7014, legacy: 0.0498}"),
        "{cfg}"
    );
    assert!(cfg.contains("  fail_query_regression_pct: 25 "), "{cfg}");

    // `costgate run` prices every case before any edit, on the routed models.
    let cases = priced(&root);
    assert_eq!(cases.len(), 40);
    for (intent, model, output, cost, _) in &cases {
        assert!(*cost > 0.0, "{intent} on {model} costs nothing");
        let want = match intent.as_str() {
            "faq" => ("amazon.nova-lite-v1:0", 61),
            "escalation" => ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 300),
            _ => ("amazon.nova-lite-v1:0", 150),
        };
        assert_eq!((model.as_str(), *output), want, "{intent}");
    }
    lint_workflow(&root);

    // Deterministic: the same logs and seed write the same files; another seed draws others.
    let again = tmp.path().join("again");
    fresh_repo(&again);
    assert_eq!(init(&again, &args).0, 0);
    assert_eq!(snapshot(&root), snapshot(&again));
    let other = tmp.path().join("other");
    fresh_repo(&other);
    let mut other_args = args;
    other_args[5] = "6";
    assert_eq!(init(&other, &other_args).0, 0);
    assert_ne!(
        std::fs::read_to_string(other.join("golden/cases.yaml")).unwrap(),
        golden
    );
}

#[test]
fn init_overwrites_nothing_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("shop");
    fresh_repo(&root);
    write_tree(
        &root,
        &[
            ("costgate.yaml", "version: 1\n# ours, hand-written\n"),
            ("golden/mine.yaml", "[]\n"),
        ],
    );
    let before = snapshot(&root);
    let (code, _, err) = init(&root, &["--action-repo", "acme/costgate"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("costgate.yaml already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(snapshot(&root), before, "the tree is untouched");

    let (code, _, err) = init(&root, &["--action-repo", "acme/costgate", "--force"]);
    assert_eq!(code, 0, "{err}");
    let cfg = std::fs::read_to_string(root.join("costgate.yaml")).unwrap();
    assert!(cfg.contains("mode: render"), "{cfg}");
    assert_eq!(
        std::fs::read_to_string(root.join("golden/mine.yaml")).unwrap(),
        "[]\n",
        "files init does not write are never touched"
    );
}

#[test]
fn cases_already_in_golden_keep_their_ids_and_queries() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = logs(tmp.path());
    let root = tmp.path().join("shop");
    fresh_repo(&root);
    let mine =
        "- id: \"RF20261206-001\"\n  intent: \"faq\"\n  query: \"How do I return item 1?\"\n";
    write_tree(&root, &[("golden/mine.yaml", mine)]);
    let (code, out, err) = init(
        &root,
        &[
            "--logs",
            logs.to_str().unwrap(),
            "--cases",
            "40",
            "--action-repo",
            "a/b",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("golden/ already holds 1 case(s)"), "{out}");
    let drawn = std::fs::read_to_string(root.join("golden/cases.yaml")).unwrap();
    assert!(!drawn.contains("\"RF20261206-001\""), "{drawn}");
    assert!(!drawn.contains("\"How do I return item 1?\""), "{drawn}");
    assert_eq!(
        std::fs::read_to_string(root.join("golden/mine.yaml")).unwrap(),
        mine
    );
    assert_eq!(priced(&root).len(), 41);
}

#[test]
fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("shop");
    fresh_repo(&root);
    let before = snapshot(&root);
    let s3_only = tmp.path().join("s3.jsonl");
    std::fs::write(
        &s3_only,
        serde_json::json!({"schemaType": "ModelInvocationLog", "modelId": "amazon.nova-lite-v1:0",
            "requestMetadata": {"intent": "faq"},
            "input": {"inputBodyS3Path": "s3://logs/1.json", "inputTokenCount": 9}})
        .to_string()
            + "\n",
    )
    .unwrap();
    let no_intent = tmp.path().join("no-intent.jsonl");
    std::fs::write(
        &no_intent,
        record(0, None, "amazon.nova-lite-v1:0", "where is my order?", 10) + "\n",
    )
    .unwrap();
    let missing = tmp.path().join("missing.jsonl");
    let cases: [(Vec<&str>, &str); 6] = [
        (vec!["--cases", "0"], "--cases must be at least 1"),
        (vec!["--logs", missing.to_str().unwrap()], "missing.jsonl"),
        (
            vec!["--logs", s3_only.to_str().unwrap()],
            "request body stored in S3",
        ),
        (
            vec!["--logs", no_intent.to_str().unwrap()],
            "requestMetadata.intent (--intent-key",
        ),
        (
            vec!["--command", "python3 app.py"],
            "--command and --language are for harness mode",
        ),
        (
            vec!["--mode", "harness", "--command", "python3 'unclosed"],
            "not a command line",
        ),
    ];
    for (args, says) in cases {
        let (code, out, err) = init(&root, &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(snapshot(&root), before, "{args:?} wrote something");
    }
}

#[test]
fn harness_skeletons_run_before_any_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = logs(tmp.path());
    for (project, entry) in [
        ("pyproject.toml", "costgate/golden_harness.py"),
        ("package.json", "costgate/golden_harness.js"),
    ] {
        let root = tmp.path().join(project);
        fresh_repo(&root);
        write_tree(
            &root,
            &[(
                project,
                if project == "package.json" {
                    "{}\n"
                } else {
                    ""
                },
            )],
        );
        let (code, out, err) = init(
            &root,
            &[
                "--mode",
                "harness",
                "--logs",
                logs.to_str().unwrap(),
                "--cases",
                "12",
                "--action-repo",
                "acme/costgate",
            ],
        );
        assert_eq!(code, 0, "{project}: {err}");
        assert!(out.contains(entry), "{out}");
        let cfg = std::fs::read_to_string(root.join("costgate.yaml")).unwrap();
        assert!(cfg.contains(&format!("\"{entry}\"]")), "{cfg}");
        // The placeholder sends each query to its intent's logged model, one call per case.
        let cases = priced(&root);
        assert_eq!(cases.len(), 12, "{project}");
        for (intent, model, _, cost, calls) in &cases {
            assert_eq!(*calls, 1, "{project} {intent}");
            assert!(*cost > 0.0, "{project} {intent}");
            if intent == "escalation" {
                // The stand-in names the model a profile serves.
                assert!(
                    model.ends_with("anthropic.claude-sonnet-4-5-20250929-v1:0"),
                    "{model}"
                );
            }
        }
        lint_workflow(&root);
    }
}

#[test]
fn without_logs_the_examples_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("shop");
    fresh_repo(&root);
    let (code, out, err) = init(&root, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("example case(s)"), "{out}");
    assert!(out.contains("replace OWNER"), "{out}");
    let golden = std::fs::read_to_string(root.join("golden/cases.yaml")).unwrap();
    assert!(golden.contains("costgate init --logs"), "{golden}");
    assert_eq!(priced(&root).len(), 3);
}

/// A harness on the shipped helper, driving a real client: case A announced (its untagged call is
/// attributed by the control endpoint), then cleared; case B never announced, its call attributed
/// only by the header the helper's client hook adds. Queries the prompts do not contain, so the
/// text cannot attribute them. Both report a metric.
const PY_HARNESS: &str = r#"
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "costgate"))
import boto3
import costgate_harness as cg

client = cg.tag_boto3(boto3.client("bedrock-runtime"))
a, b, c = cg.cases()
msgs = lambda q: [{"role": "user", "content": [{"text": q}]}]
cg.announce(a["id"])
with cg.step("condense"):
    client.converse(modelId="amazon.nova-micro-v1:0", messages=msgs("unrelated one"))
cg.metric(a["id"], "recall@3", 0.5)
cg.clear()
cg.current_case.set(b["id"])
client.converse(modelId="amazon.nova-micro-v1:0", messages=msgs("unrelated two"))
cg.metric(b["id"], "recall@3", 1.0, higher_is_better=True)
cg.announce(c["id"])  # answered without a model
"#;

const JS_HARNESS: &str = r#"
const cg = require("./costgate/costgate_harness.js");
const { BedrockRuntimeClient, ConverseCommand } = require("@aws-sdk/client-bedrock-runtime");
const client = cg.tagClient(new BedrockRuntimeClient({}));
const converse = (q) =>
  client.send(new ConverseCommand({ modelId: "amazon.nova-micro-v1:0", messages: [{ role: "user", content: [{ text: q }] }] }));
(async () => {
  const [a, b, c] = cg.cases();
  await cg.announce(a.id);
  await cg.withStep("condense", () => converse("unrelated one"));
  await cg.metric(a.id, "recall@3", 0.5);
  await cg.clear();
  // The header alone: the helper's current case is b, the stand-in's is cleared behind its back.
  await cg.announce(b.id);
  await fetch(`${process.env.COSTGATE_MOCK_URL}/_costgate/case`, { method: "DELETE" });
  await converse("unrelated two");
  await cg.metric(b.id, "recall@3", 1.0, true);
  await cg.announce(c.id); // answered without a model
})().catch((e) => { console.error(e); process.exitCode = 1; });
"#;

#[test]
fn the_helper_modules_attribute_tag_and_report_metrics() {
    require_python(&["boto3"]);
    require_node(&["@aws-sdk/client-bedrock-runtime"]);
    let tmp = tempfile::tempdir().unwrap();
    for (lang, file, harness, command) in [
        ("python", "harness.py", PY_HARNESS, "python3 harness.py"),
        ("node", "harness.js", JS_HARNESS, "node harness.js"),
    ] {
        let root = tmp.path().join(lang);
        fresh_repo(&root);
        let (code, _, err) = init(
            &root,
            &[
                "--mode",
                "harness",
                "--language",
                lang,
                "--command",
                command,
                "--action-repo",
                "acme/costgate",
            ],
        );
        assert_eq!(code, 0, "{err}");
        write_tree(&root, &[(file, harness)]);
        // Case A's call is the condense step: answered with the step's length.
        let cfg = std::fs::read_to_string(root.join("costgate.yaml")).unwrap();
        std::fs::write(
            root.join("costgate.yaml"),
            format!("{cfg}steps:\n  condense: {{output_tokens: 7}}\n"),
        )
        .unwrap();
        let (code, out, err) = run(costgate()
            .args(["run", "--format", "json", "--dir"])
            .arg(&root));
        assert_eq!(code, 0, "{lang}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let cases = v["cases"].as_array().unwrap();
        let by_id = |id: &str| cases.iter().find(|c| c["id"] == id).unwrap();
        assert_eq!(by_id("EXAMPLE-3")["calls"], 0, "{lang}");
        for (id, calls, recall) in [("EXAMPLE-1", 1, 0.5), ("EXAMPLE-2", 1, 1.0)] {
            let c = by_id(id);
            assert_eq!(c["calls"], calls, "{lang} {id}: {c}");
            let answer = if id == "EXAMPLE-1" { 7 } else { 150 };
            assert_eq!(
                c["output_tokens"], answer,
                "{lang} {id}: the step names the call"
            );
            assert_eq!(
                c["quality"]["metrics"]["recall@3"]["value"], recall,
                "{lang} {id}: {c}"
            );
        }
    }
}
