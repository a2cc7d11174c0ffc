//! Harness mode end to end with small harnesses: a stdlib-Python application calling the stand-in
//! over HTTP (several calls per case, summed), git commits materialised for the harness, and the
//! failures that must never pass: a crash, a hang, and cases left without a call.

use std::time::{Duration, Instant};

use crate::support::*;

/// A tiny application: for each case, one routing call with a short prompt, then one answer call
/// whose prompt stuffs `TOP_K` catalogue entries; `order_status` is answered without a model and
/// announced through the control endpoint. Attributed with the `x-costgate-case` header.
const APP: &str = r#"
import json, os, urllib.request
TOP_K = int(open("topk.txt").read())
URL = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]
assert os.environ["AWS_ACCESS_KEY_ID"] and os.environ["AWS_REGION"]
assert "SECRET_OF_THE_CI_JOB" not in os.environ, "secrets must not reach the harness"
CATALOGUE = ["Entry %d: a long manga description with plot, author and volume count." % i for i in range(20)]

def call(model, case, text, max_tokens):
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": text}]}],
                       "inferenceConfig": {"maxTokens": max_tokens}}).encode()
    req = urllib.request.Request(URL + "/model/" + model + "/converse", data=body,
                                 headers={"content-type": "application/json", "x-costgate-case": case})
    return json.load(urllib.request.urlopen(req))

for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    if case["intent"] == "order_status":
        urllib.request.urlopen(urllib.request.Request(URL + "/_costgate/case/" + case["id"], data=b"", method="POST"))
        continue
    call("amazon.nova-micro-v1:0", case["id"], "Classify: " + case["query"], 5)
    docs = "\n".join(CATALOGUE[:TOP_K])
    call("openai.gpt-oss-20b-1:0", case["id"], docs + "\nUser: " + case["query"], 100)
"#;

/// gpt-oss always reasons: priced at 0 tokens here, so these tests see the plain answer lengths.
const CONFIG: &str = "version: 1\ngolden: golden/\nmode: harness\nreasoning: {effort_tokens: {low: 0, medium: 0, high: 0, xhigh: 0, max: 0}}\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 60\n";

const GOLDEN: &str = "- {id: H-1, intent: recommendation, query: manga like Frieren}\n- {id: H-2, intent: recommendation, query: something like Berserk, output_tokens: 30}\n- {id: H-3, intent: order_status, query: where is my order}\n";

fn tree(root: &std::path::Path, topk: &str, config: &str) {
    write_tree(
        root,
        &[
            ("costgate.yaml", config),
            ("golden/cases.yaml", GOLDEN),
            ("app.py", APP),
            ("topk.txt", topk),
        ],
    );
}

#[test]
fn harness_prices_each_case_as_the_sum_of_its_calls_and_gates_a_code_regression() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    tree(&base, "3", CONFIG);
    tree(&head, "8", CONFIG);
    let (code, out, err) = run(costgate()
        .args(["check", "--format", "json", "--base-dir"])
        .arg(&base)
        .arg("--head-dir")
        .arg(&head)
        .arg("--out")
        .arg(dir.path().join("out"))
        .env("SECRET_OF_THE_CI_JOB", "s3cr3t"));
    assert_eq!(code, 1, "{err}\n{out}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["verdict"], "fail");
    let case = |id: &str| report_case(&r, id).clone();
    let h1 = case("H-1");
    assert_eq!(
        (h1["base"]["calls"].as_u64(), h1["head"]["calls"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        h1["base"]["model"],
        "amazon.nova-micro-v1:0 + openai.gpt-oss-20b-1:0"
    );
    assert_eq!(h1["status"], "regressed");
    assert_eq!(h1["grew"], "prompt");
    // Exact: the head's input grows by the five extra catalogue lines' tokens (o200k), no more.
    let enc = costgate::measure::tokenize::Encoding::O200kHarmony;
    let entries: Vec<String> = (0..8)
        .map(|i| format!("Entry {i}: a long manga description with plot, author and volume count."))
        .collect();
    let grown = enc.count(&format!("{}\nUser: manga like Frieren", entries.join("\n")))
        - enc.count(&format!(
            "{}\nUser: manga like Frieren",
            entries[..3].join("\n")
        ));
    assert_eq!(
        h1["head"]["input_tokens"].as_u64().unwrap() - h1["base"]["input_tokens"].as_u64().unwrap(),
        grown
    );
    // Output: 5 (routing call capped) + 100 (answer call capped) for H-1; 5 + 30 for H-2.
    assert_eq!(h1["base"]["output_tokens"], 105);
    assert_eq!(case("H-2")["base"]["output_tokens"], 35);
    let h3 = case("H-3");
    assert_eq!(
        (
            h3["base"]["calls"].as_u64(),
            h3["base"]["cost_usd"].as_f64()
        ),
        (Some(0), Some(0.0))
    );
    // --out also holds each side's per-call audit trail.
    for side in ["base", "head"] {
        let text =
            std::fs::read_to_string(dir.path().join(format!("out/calls-{side}.jsonl"))).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4, "{side}");
        let total: f64 = lines.iter().map(|l| l["cost_usd"].as_f64().unwrap()).sum();
        let reported: f64 = ["H-1", "H-2"]
            .iter()
            .map(|id| case(id)[side]["cost_usd"].as_f64().unwrap())
            .sum();
        assert!(
            (total - reported).abs() < 1e-15,
            "{side}: {total} vs {reported}"
        );
        assert!(lines.iter().all(|l| l["attribution"] == "header"));
    }
    assert!(
        err.contains("costgate: harness: 6/6 done in"),
        "plain progress lines on a non-terminal: {err}"
    );
}

#[test]
fn harness_runs_git_commits_materialised_in_a_temporary_directory() {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    tree(dir.path(), "3", CONFIG);
    // Regression: `git archive` dropped export-ignore paths, and the harness lost its own code.
    write_tree(dir.path(), &[(".gitattributes", "app.py export-ignore\n")]);
    let base = git_commit_all(dir.path(), "base");
    std::fs::write(dir.path().join("topk.txt"), "3").unwrap();
    std::fs::write(dir.path().join("README"), "docs only").unwrap();
    let head = git_commit_all(dir.path(), "head: docs");
    let (code, out, err) = run(costgate()
        .args([
            "check", "--format", "json", "--base", &base, "--head", &head, "--repo",
        ])
        .arg(dir.path()));
    assert_eq!(code, 0, "{err}\n{out}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["verdict"], "pass");
    assert!(
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "unchanged")
    );
}

fn failing(command: &str, timeout_s: u64) -> (i32, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "version: 1\ngolden: golden/\nmode: harness\nharness:\n  command: [\"sh\", \"-c\", {command:?}]\n  timeout_s: {timeout_s}\n"
    );
    tree(dir.path(), "3", &config);
    let t = Instant::now();
    let (code, out, err) = run(costgate().args(["run", "--dir"]).arg(dir.path()));
    assert!(!out.contains("pass"), "{out}");
    (code, err, t.elapsed())
}

#[test]
fn crashing_harness_is_exit_3_with_its_stderr_tail() {
    let (code, err, _) = failing("echo 'Traceback: KeyError: catalogue' >&2; exit 7", 60);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("exit code 7"), "{err}");
    assert!(err.contains("| Traceback: KeyError: catalogue"), "{err}");
}

#[test]
fn hanging_harness_is_stopped_at_its_timeout_with_exit_3() {
    // A child of the shell keeps the pipes open: the whole process group must be killed.
    let (code, err, took) = failing("echo started >&2; sleep 600 & sleep 600", 2);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("did not finish within harness.timeout_s = 2 s"),
        "{err}"
    );
    assert!(err.contains("| started"), "{err}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn harness_that_leaves_cases_without_calls_is_exit_3() {
    let (code, err, _) = failing("echo did nothing", 60);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("made no Bedrock call for 3 of 3 cases (H-1, H-2, H-3)"),
        "{err}"
    );
    assert!(err.contains("| did nothing"), "{err}");
}

#[test]
fn missing_harness_program_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = "version: 1\ngolden: golden/\nmode: harness\nharness:\n  command: [\"costgate-no-such-program\"]\n";
    tree(dir.path(), "3", config);
    let (code, _, err) = run(costgate().args(["run", "--dir"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`harness.command` in costgate.yaml starts with `costgate-no-such-program`"),
        "{err}"
    );
}

#[test]
fn run_in_harness_mode_reports_calls_per_case() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), "3", CONFIG);
    let (code, out, err) = run(costgate()
        .args(["run", "--format", "json", "--dir"])
        .arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let calls: Vec<u64> = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["calls"].as_u64().unwrap())
        .collect();
    assert_eq!(calls, [2, 2, 0]);
    assert_eq!(r["summary"]["bypass_rate"].as_f64().unwrap(), 1.0 / 3.0);
}

#[test]
fn unattributed_calls_are_reported_on_their_own_line_with_their_cost() {
    let warmup = r#"
import json, os, urllib.request
URL = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]
def call(text, headers):
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": text}]}]}).encode()
    h = {"content-type": "application/json"}
    h.update(headers)
    urllib.request.urlopen(urllib.request.Request(URL + "/model/amazon.nova-micro-v1:0/converse", data=body, headers=h)).read()
call("warm-up: is the model there?", {})
call("a stray retry", {"x-costgate-case": "NOT-A-CASE"})
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    call(case["query"], {})
"#;
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), "3", CONFIG);
    write_tree(dir.path(), &[("app.py", warmup)]);
    let (code, out, err) = run(costgate()
        .args(["check", "--format", "json", "--base-dir"])
        .arg(dir.path())
        .arg("--head-dir")
        .arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let nova = costgate::measure::pricing::PricingTable::builtin()
        .resolve("amazon.nova-micro-v1:0")
        .unwrap()
        .price;
    let input = nova.tokenizer.count("warm-up: is the model there?")
        + nova.tokenizer.count("a stray retry");
    let cost = nova.cost(input, 300);
    let line = format!(
        "base: 2 unattributed Bedrock call(s) cost {} ({input} input / 300 output tokens); not part of any case, not gated; tagged with ids not in the dataset: NOT-A-CASE",
        costgate::infra::fmt::usd(cost)
    );
    let note = notes
        .iter()
        .find(|n| n.starts_with(&line))
        .unwrap_or_else(|| panic!("{notes:#?}\nwanted: {line}"));
    // It says how to attribute them.
    assert!(
        note.contains("Attribute them in one of three ways"),
        "{note}"
    );
    assert!(
        note.contains("costgate_harness.tag_boto3(client)"),
        "{note}"
    );
    // Each case found by its query, one call each.
    assert!(
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["base"]["calls"] == 1)
    );
}

#[test]
fn harness_answers_are_the_calibrated_length_and_scales_apply() {
    // costgate/calibration.yaml (from `costgate calibrate`): recommendation answers run 90 tokens,
    // and gpt-oss counts are scaled 1.5× (a deliberately odd scale to see it applied).
    let calibration = "calibrated_on: \"2026-10-01\"\nrecords: 10\nmodels:\n  openai.gpt-oss-20b-1:0: {token_scale: 1.5, ratio_p90: 1.0, samples: 10}\nintents:\n  recommendation: {output_tokens: 90, ratio_median: 1.0, samples: 10}\n";
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), "3", CONFIG);
    write_tree(dir.path(), &[("costgate/calibration.yaml", calibration)]);
    let (code, out, err) = run(costgate()
        .args(["run", "--format", "json", "--out"])
        .arg(dir.path().join("out"))
        .arg("--dir")
        .arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    // H-1: routing call capped at 5, answer call 90 (calibrated, under its cap of 100).
    assert_eq!(r["cases"][0]["output_tokens"], 95);
    // H-2 has its own output_tokens (30), which beats calibration.
    assert_eq!(r["cases"][1]["output_tokens"], 35);
    let calls = std::fs::read_to_string(dir.path().join("out/calls-tree.jsonl")).unwrap();
    let answer: serde_json::Value = serde_json::from_str(calls.lines().nth(1).unwrap()).unwrap();
    assert_eq!(answer["model_id"], "openai.gpt-oss-20b-1:0");
    let raw = answer["segments"]["prompt"].as_u64().unwrap();
    assert_eq!(
        answer["input_tokens"].as_u64().unwrap(),
        costgate::measure::tokenize::scale(raw, 1.5)
    );
}

/// A harness whose retrieval depends on something besides the case (here: how many times it has
/// run) makes every comparison suspect. With `harness.repeat: 2` the base runs twice; the cases
/// that cost differently are reported as nondeterministic, named, and left out of the per-query
/// rule, so the noise cannot fail the PR on its own.
#[test]
fn harness_repeat_names_nondeterministic_cases_and_keeps_them_out_of_the_per_query_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    // TOP_K grows with each run of the tree: run 1 retrieves 3 entries, run 2 retrieves 9.
    let noisy_app = APP.replace(
        "TOP_K = int(open(\"topk.txt\").read())",
        "n = int(open(\"runs.txt\").read()) if os.path.exists(\"runs.txt\") else 0\nopen(\"runs.txt\", \"w\").write(str(n + 1))\nTOP_K = int(open(\"topk.txt\").read()) + 6 * n",
    );
    let check = |config: &str| {
        for t in [&base, &head] {
            tree(t, "3", config);
            write_tree(t, &[("app.py", noisy_app.as_str())]);
            let _ = std::fs::remove_file(t.join("runs.txt"));
        }
        // The head's one run retrieves as much as the base's second.
        std::fs::write(head.join("runs.txt"), "1").unwrap();
        let (code, out, err) = run(costgate()
            .args(["check", "--format", "json", "--base-dir"])
            .arg(&base)
            .arg("--head-dir")
            .arg(&head));
        let r: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        (code, r)
    };
    // Without repeat, the noise looks like a regression of the PR.
    let (code, r) = check(CONFIG);
    assert_eq!((code, r["verdict"].as_str()), (1, Some("fail")), "{r:#}");
    // With it, the base's two runs disagree on H-1 and H-2: named, not gated per query.
    let (code, r) = check(&format!("{CONFIG}  repeat: 2\n"));
    assert_ne!(r["verdict"], "fail", "{r:#}");
    assert_eq!(code, 0);
    assert_eq!(report_case(&r, "H-1")["nondeterministic"], true);
    assert_eq!(report_case(&r, "H-2")["nondeterministic"], true);
    assert!(report_case(&r, "H-3").get("nondeterministic").is_none());
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("2 case(s) cost differently on repeated runs of the base's harness"),
        "{notes}"
    );
    assert!(notes.contains("H-1 ($"), "{notes}");
}

/// A harness that embeds with the OpenAI SDK's endpoint and invokes an agent on
/// bedrock-agent-runtime (operations the stand-in does not serve): both reach the stand-in
/// through the environment, are answered `UnknownOperationException`, and are named in the report
/// or in the error.
const UNSERVED: &str = r#"
import json, os, sys, urllib.error, urllib.request

def post(url):
    req = urllib.request.Request(url, data=b"{}", method="POST", headers={"content-type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 404, e.code
        assert e.headers["x-amzn-errortype"] == "UnknownOperationException", dict(e.headers)
        return
    raise SystemExit("served?")

assert os.environ["OPENAI_API_KEY"]
post(os.environ["OPENAI_BASE_URL"] + "/embeddings")
post(os.environ["AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"] + "/agents/A1/agentAliases/B1/sessions/S1/text")
post(os.environ["AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"] + "/agents/A1/agentAliases/B1/sessions/S1/text")
if sys.argv[1:] == ["fail"]:
    sys.exit("the embedding call failed")
base = os.environ["COSTGATE_MOCK_URL"]
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    body = {"messages": [{"role": "user", "content": [{"text": case["query"]}]}],
            "requestMetadata": {"costgate_case": case["id"]}}
    urllib.request.urlopen(urllib.request.Request(
        base + "/model/amazon.nova-micro-v1:0/converse", data=json.dumps(body).encode(),
        method="POST", headers={"content-type": "application/json"}), timeout=10).read()
"#;

#[test]
fn operations_the_stand_in_does_not_serve_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (arg, ok) in [("ok", true), ("fail", false)] {
        let root = dir.path().join(arg);
        let config = format!(
            "version: 1\ngolden: golden/\nmode: harness\nharness:\n  command: [\"python3\", \"unserved.py\", \"{arg}\"]\n"
        );
        write_tree(
            &root,
            &[
                ("costgate.yaml", &config),
                ("golden/cases.yaml", GOLDEN),
                ("unserved.py", UNSERVED),
            ],
        );
        let (code, out, err) = check_dirs(&root, &root, "json");
        let named =
            "POST /agents/A1/agentAliases/B1/sessions/S1/text ×2; POST /openai/v1/embeddings ×1";
        if ok {
            assert_eq!(code, 0, "{err}");
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            let notes = v["notes"].to_string();
            assert!(notes.contains(named), "{notes}");
            assert!(notes.contains("UnknownOperationException"), "{notes}");
            // `run` says so too.
            let run_notes = run_json(&root)["notes"].to_string();
            assert!(run_notes.contains(named), "{run_notes}");
        } else {
            assert_eq!(code, 3, "{err}");
            assert!(err.contains(named), "{err}");
        }
    }
}
