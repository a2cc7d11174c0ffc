//! Quality beside cost and dollars per month: expectations checked on both sides in
//! render and harness mode, harness metrics, the quality-regression fail and its allowance, the
//! justification covering it, the monthly projection to the bit and its thresholds, configuration
//! errors, and the shipped cheap-and-wrong example.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::standin;
use crate::support::*;

const GOLDEN: &str = r#"
- id: R-1
  intent: rec
  query: "something quiet like Frieren"
  context: {docs: ["Frieren", "Mushishi", "Made in Abyss"]}
  expect: {context_includes: ["Mushishi", "Made in Abyss"], model: amazon.nova-micro-v1:0}
- id: R-2
  intent: rec
  query: "a dark fantasy"
  weight: 3
  context: {docs: ["Berserk", "Claymore"]}
  expect: {context_includes: ["Claymore"]}
- id: O-1
  intent: order
  query: "where is my order MH-1?"
  expect: {bypass: true}
- id: C-1
  intent: chat
  query: "hello!"
"#;

const ROUTES: &str = "routes:\n  rec: {model: amazon.nova-micro-v1:0, prompt: rec.j2, output_tokens: 50}\n  order: {bypass: true}\n  chat: {model: amazon.nova-micro-v1:0, output_tokens: 20}\n";

const ALL_DOCS: &str = "{% for d in context.docs %}{{ d }}\n{% endfor %}{{ query }}";

/// A render-mode repository: the golden above, `rec.j2` as given, `extra` appended to the config.
fn repo(root: &Path, rec_template: &str, extra: &str) {
    write_tree(
        root,
        &[
            (
                "costgate.yaml",
                &format!("version: 1\ngolden: golden.yaml\n{ROUTES}{extra}"),
            ),
            ("golden.yaml", GOLDEN),
            ("rec.j2", rec_template),
        ],
    );
}

fn sides(head_template: &str, extra: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    repo(&base, ALL_DOCS, extra);
    repo(&head, head_template, extra);
    (dir, base, head)
}

const ONE_DOC: &str = "{% for d in context.docs[:1] %}{{ d }}\n{% endfor %}{{ query }}";

#[test]
fn cutting_retrieval_fails_on_quality_while_the_cost_drops() {
    let (_d, base, head) = sides(ONE_DOC, "");
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 1, "{err}");
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["fail_kinds"], serde_json::json!(["quality-regression"]));
    assert!(r["summary"]["total_delta_pct"].as_f64().unwrap() <= 0.0);
    // Five expectations in all; R-1 loses two strings, R-2 one.
    assert_eq!(r["summary"]["quality_base"], 1.0);
    assert_eq!(r["summary"]["quality_head"], 2.0 / 5.0);
    assert_eq!(r["summary"]["broken_expectations"], 3);
    let r1 = report_case(&r, "R-1");
    assert_eq!(
        r1["quality_broken"],
        serde_json::json!([
            "context_includes \"Mushishi\"",
            "context_includes \"Made in Abyss\""
        ])
    );
    assert_eq!(
        (&r1["head"]["quality"]["met"], &r1["head"]["quality"]["of"]),
        (&1.into(), &3.into())
    );
    // A case without expectations has no quality at all.
    assert!(report_case(&r, "C-1")["base"].get("quality").is_none());
    let causes = r["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0]["rule"], "quality-regression");
    assert_eq!(causes[0]["files"], serde_json::json!(["rec.j2"]));
    assert_eq!(causes[0]["cases"], 2);
}

#[test]
fn the_allowance_of_broken_expectations_is_policy() {
    let (_d, base, head) = sides(ONE_DOC, "quality: {max_broken_expectations: 3}\n");
    let (code, r, err) = check_json(&base, &head);
    assert_eq!((code, &r["verdict"]), (0, &"pass".into()), "{err}");
    assert_eq!(r["summary"]["broken_expectations"], 3);
    assert!(
        r["causes"].is_null(),
        "no quality cause within the allowance"
    );
}

#[test]
fn a_new_bypass_and_a_model_change_break_their_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    repo(&base, ALL_DOCS, "");
    repo(&head, ALL_DOCS, "");
    // The head routes recommendations to a bigger model and answers order status with one.
    let routes = "routes:\n  rec: {model: amazon.nova-lite-v1:0, prompt: rec.j2, output_tokens: 50}\n  order: {model: amazon.nova-micro-v1:0}\n  chat: {model: amazon.nova-micro-v1:0, output_tokens: 20}\n";
    std::fs::write(
        head.join("costgate.yaml"),
        format!("version: 1\ngolden: golden.yaml\n{routes}"),
    )
    .unwrap();
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 1, "{err}");
    assert!(
        r["fail_kinds"]
            .as_array()
            .unwrap()
            .contains(&"quality-regression".into())
    );
    assert_eq!(
        report_case(&r, "R-1")["quality_broken"],
        serde_json::json!(["model amazon.nova-micro-v1:0"])
    );
    assert_eq!(
        report_case(&r, "O-1")["quality_broken"],
        serde_json::json!(["bypass true"])
    );
}

#[test]
fn a_justification_covers_a_quality_fail_like_any_fail() {
    let (dir, base, head) = sides(ONE_DOC, "");
    let body = dir.path().join("body.md");
    std::fs::write(
        &body,
        "cost-regression-justification:\n  reason: top-1 retrieval is enough for these intents\n  expected-cost-delta: +0%\n  quality-delta: recall@3 -40%, answer rating unchanged in the A/B test\n",
    )
    .unwrap();
    let (code, out, err) = run(costgate()
        .args(["check", "--format", "json", "--base-dir"])
        .arg(&base)
        .arg("--head-dir")
        .arg(&head)
        .arg("--pr-body")
        .arg(&body));
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(
        (code, &r["verdict"]),
        (1, &"review_required".into()),
        "{err}"
    );
    assert_eq!(r["cost_verdict"], "fail");
}

/// The monthly formula computed here from the report's own case costs, in the order it states.
fn monthly(r: &Value, side: &str, rpm: f64, shares: &[(&str, f64)]) -> f64 {
    let mut total = 0.0;
    for (intent, share) in shares {
        let (mut w, mut s) = (0.0, 0.0);
        for c in r["cases"].as_array().unwrap() {
            if c["intent"] == *intent {
                let weight = if c["id"] == "R-2" { 3.0 } else { 1.0 };
                w += weight;
                s += weight * c[side]["cost_usd"].as_f64().unwrap();
            }
        }
        total += share * (s / w);
    }
    rpm * total
}

#[test]
fn dollars_per_month_follow_the_formula_to_the_bit() {
    let traffic = "traffic:\n  requests_per_month: 1200000\n  intent_share: {chat: 0.2, order: 0.3, rec: 0.5}\n";
    let more = "{% for d in context.docs %}{{ d }}\n{% endfor %}Please answer kindly. {{ query }}";
    let (_d, base, head) = sides(more, traffic);
    let (_, r, err) = check_json(&base, &head);
    let shares = [("chat", 0.2), ("order", 0.3), ("rec", 0.5)];
    let s = &r["summary"];
    let (b, h) = (
        monthly(&r, "base", 1_200_000.0, &shares),
        monthly(&r, "head", 1_200_000.0, &shares),
    );
    assert_eq!(s["monthly_base_usd"].as_f64(), Some(b), "{err}");
    assert_eq!(s["monthly_head_usd"].as_f64(), Some(h));
    assert_eq!(s["monthly_delta_usd"].as_f64(), Some(h - b));
    assert_eq!(s["requests_per_month"], 1_200_000.0);
    // Without shares, each intent's share of the dataset's weight: rec 4/6, order 1/6, chat 1/6.
    let traffic = "traffic: {requests_per_month: 1000}\n";
    let (_d, base, head) = sides(more, traffic);
    let (_, r, _) = check_json(&base, &head);
    let shares = [
        ("chat", 1.0 / 6.0),
        ("order", 1.0 / 6.0),
        ("rec", 4.0 / 6.0),
    ];
    assert_eq!(
        r["summary"]["monthly_head_usd"].as_f64(),
        Some(monthly(&r, "head", 1000.0, &shares))
    );
}

#[test]
fn the_monthly_thresholds_warn_and_fail() {
    let more = "{% for d in context.docs %}{{ d }}\n{% endfor %}Please answer kindly. {{ query }}";
    let traffic = "traffic: {requests_per_month: 10000000}\n";
    let (_d, base, head) = sides(
        more,
        &format!("{traffic}thresholds: {{warn_monthly_delta_usd: 0.01}}\n"),
    );
    let (code, r, err) = check_json(&base, &head);
    assert_eq!((code, &r["verdict"]), (0, &"warn".into()), "{err}");
    assert!(
        r["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("projected +$"),
        "{}",
        r["reasons"]
    );
    let (_d, base, head) = sides(
        more,
        &format!(
            "{traffic}thresholds: {{warn_monthly_delta_usd: 0.01, fail_monthly_delta_usd: 0.02}}\n"
        ),
    );
    let (code, r, err) = check_json(&base, &head);
    assert_eq!((code, &r["verdict"]), (1, &"fail".into()), "{err}");
    assert_eq!(r["fail_kinds"], serde_json::json!(["monthly-delta"]));
}

#[test]
fn traffic_that_does_not_fit_the_dataset_is_a_configuration_error() {
    for (extra, says) in [
        (
            "traffic: {requests_per_month: 1000, intent_share: {rec: 0.5, chat: 0.4}}\n",
            "must sum to 1, its shares sum to 0.9",
        ),
        (
            "traffic: {requests_per_month: 1000, intent_share: {rec: 0.5, support: 0.5}}\n",
            "intent(s) the golden dataset does not have: support",
        ),
        (
            "traffic: {requests_per_month: 0}\n",
            "`traffic.requests_per_month` must be a positive number",
        ),
        (
            "thresholds: {fail_monthly_delta_usd: 100}\n",
            "`thresholds.fail_monthly_delta_usd` needs `traffic`",
        ),
        ("quality: {max_broken: 1}\n", "max_broken"),
    ] {
        let (_d, base, head) = sides(ALL_DOCS, extra);
        let (code, _, err) = check_dirs(&base, &head, "json");
        assert_eq!(code, 2, "{extra}: {err}");
        assert!(err.contains("costgate.yaml"), "{err}");
        assert!(err.contains(says), "{extra}: {err}");
    }
}

#[test]
fn expectations_that_can_never_be_checked_are_dataset_errors() {
    let dir = tempfile::tempdir().unwrap();
    let golden = "- {id: X-1, intent: rec, query: q, context: {docs: []}, expect: {}}\n- {id: X-2, intent: rec, query: q, context: {docs: []}, expect: {context_includes: [\"\"]}}\n";
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                &format!("version: 1\ngolden: golden/\n{ROUTES}"),
            ),
            ("golden/a.yaml", golden),
            (
                "golden/b.yaml",
                "- {id: X-3, intent: rec, query: q, expect: {contxt: [a]}}\n",
            ),
            ("rec.j2", ALL_DOCS),
        ],
    );
    let (code, _, err) = check_dirs(dir.path(), dir.path(), "text");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("golden/a.yaml:1") && err.contains("holds no expectation"),
        "{err}"
    );
    assert!(
        err.contains("golden/a.yaml:2") && err.contains("empty string"),
        "{err}"
    );
    assert!(
        err.contains("golden/b.yaml:1") && err.contains("contxt"),
        "{err}"
    );
}

#[test]
fn the_shipped_cheap_and_wrong_head_fails_on_quality() {
    let root = repo_root();
    let (code, r, err) = check_json(&root, &root.join("examples/head-cheap-wrong"));
    assert_eq!(code, 1, "{err}");
    assert_eq!(r["fail_kinds"], serde_json::json!(["quality-regression"]));
    assert!(r["summary"]["monthly_delta_usd"].as_f64().unwrap() < 0.0);
    let causes: Vec<(&str, &str, u64)> = r["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["intent"].as_str().unwrap(),
                c["what"].as_str().unwrap(),
                c["cases"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        causes,
        [
            ("product_question", "context_includes", 70),
            ("recommendation", "context_includes", 70),
            ("escalation", "model", 24),
        ]
    );
    let (_, text, _) = check_dirs(&root, &root.join("examples/head-cheap-wrong"), "text");
    crate::support::snapshots::settings(&[])
        .bind(|| insta::assert_snapshot!("shipped_example_cheap_wrong_text", text));
}

/// A harness that sends each case through boto3's Converse with its first `KEEP` docs, and
/// reports recall@3 for it on the control endpoint.
const HARNESS: &str = r#"
import json, os, urllib.request, boto3
KEEP = int(open(os.path.join(os.path.dirname(__file__), "keep.txt")).read())
url = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"].rstrip("/")
client = boto3.client("bedrock-runtime")
def post(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="POST", headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    post("/_costgate/case/" + case["id"])
    if case["intent"] == "order":
        continue
    docs = (case.get("context") or {}).get("docs", [])[:KEEP]
    client.converse(
        modelId="amazon.nova-micro-v1:0",
        system=[{"text": "Catalogue:\n" + "\n".join(docs)}],
        messages=[{"role": "user", "content": [{"text": case["query"]}]}],
        inferenceConfig={"maxTokens": 50},
        requestMetadata={"costgate_case": case["id"]},
    )
    if docs or case["intent"] == "rec":
        total = len((case.get("context") or {}).get("docs", [])) or 1
        post("/_costgate/case/" + case["id"] + "/metric", {"name": "recall@3", "value": len(docs) / total})
"#;

fn harness_repo(root: &Path, keep: usize) {
    write_tree(
        root,
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nmode: harness\nharness: {command: [python3, app.py], timeout_s: 120}\n",
            ),
            ("golden.yaml", GOLDEN),
            ("app.py", HARNESS),
            ("keep.txt", &keep.to_string()),
        ],
    );
}

#[test]
fn harness_mode_checks_what_reached_the_stand_in_and_the_reported_metrics() {
    require_python(&["boto3"]);
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    harness_repo(&base, 3);
    harness_repo(&head, 1);
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 1, "{err}");
    assert_eq!(r["fail_kinds"], serde_json::json!(["quality-regression"]));
    assert_eq!(r["summary"]["broken_expectations"], 3, "{}", r["summary"]);
    let m = &r["quality_metrics"][0];
    assert_eq!(
        (&m["name"], &m["base_mean"]),
        (&"recall@3".into(), &1.0.into())
    );
    // R-1 kept 1 of 3, R-2 1 of 2: (1/3 + 1/2) / 2.
    assert_eq!(m["head_mean"].as_f64(), Some((1.0 / 3.0 + 1.0 / 2.0) / 2.0));
    assert_eq!(m["regressed"], true);
    let reasons: Vec<&str> = r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|x| x.starts_with("quality metric recall@3 mean 1.0000 → 0.4167")),
        "{reasons:?}"
    );
    assert_eq!(
        report_case(&r, "R-1")["head"]["quality"]["metrics"]["recall@3"]["value"].as_f64(),
        Some(1.0 / 3.0)
    );
    // The order case was announced and never called: its bypass expectation holds on both sides.
    assert!(report_case(&r, "O-1")["quality_broken"].is_null());
    // The harness's changed file is named behind the cause.
    let files = &r["causes"][0]["files"];
    assert_eq!(files, &serde_json::json!(["keep.txt"]), "{}", r["causes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metric_endpoint_refuses_what_it_cannot_use() {
    let server = standin::start(standin::settings()).await;
    let url = |id: &str| format!("{}/_costgate/case/{id}/metric", server.url());
    let ok = standin::post(&url("GD-1"), r#"{"name": "recall@3", "value": 0.5}"#, &[]).await;
    assert_eq!(ok.0, 204);
    for (id, body, status, says) in [
        (
            "GD-404",
            r#"{"name": "x", "value": 1}"#,
            404,
            "No golden case has the id `GD-404`",
        ),
        ("GD-1", r#"{"name": "x"}"#, 400, "missing field `value`"),
        (
            "GD-1",
            r#"{"name": "", "value": 1}"#,
            400,
            "`name` must be 1 to 128 characters",
        ),
        (
            "GD-1",
            r#"{"name": "x", "value": 1, "higher": true}"#,
            400,
            "unknown field `higher`",
        ),
    ] {
        let (code, _, body) = standin::post(&url(id), body.to_string(), &[]).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(code, status, "{text}");
        assert!(text.contains(says), "{text}");
    }
    standin::post(&url("GD-1"), r#"{"name": "recall@3", "value": 1.0}"#, &[]).await;
    let m = server.state().metrics();
    assert_eq!(
        m["GD-1"]["recall@3"].value, 0.75,
        "reports for one case are averaged"
    );
    let _ = server.shutdown().await;
}
