//! The shipped boto3 example (`examples/harness/`): base against head, run through the real
//! application code with boto3 against the stand-in. The head raises retrieval top-k from 3 to 8,
//! a code-level regression render mode cannot see.

use crate::support::*;

fn trees() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    require_python(&["boto3"]);
    // Copies, so Python's bytecode caches never land in the repository.
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    copy_dir(&repo_root().join("examples/harness/base"), &base);
    copy_dir(&repo_root().join("examples/harness/head"), &head);
    (dir, base, head)
}

fn check(base: &std::path::Path, head: &std::path::Path) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(costgate()
        .args(["check", "--format", "json", "--base-dir"])
        .arg(base)
        .arg("--head-dir")
        .arg(head));
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v, err)
}

#[test]
fn boto3_example_top_k_regression_fails_the_gate() {
    let (_dir, base, head) = trees();
    let (code, r, err) = check(&base, &head);
    assert_eq!(code, 1, "{err}");
    assert_eq!(r["verdict"], "fail", "{err}");
    let cases = r["cases"].as_array().unwrap();
    let by = |id: &str| cases.iter().find(|c| c["id"] == id).unwrap();
    for c in cases {
        let intent = c["intent"].as_str().unwrap();
        let want = if intent == "recommendation" {
            "regressed"
        } else {
            "unchanged"
        };
        assert_eq!(c["status"], want, "{}", c["id"]);
        if intent == "recommendation" {
            assert_eq!(c["grew"], "prompt", "{}", c["id"]);
            assert_eq!(c["base"]["output_tokens"], c["head"]["output_tokens"]);
        }
    }
    // Template bypass: no call, $0. Escalation: triage + answer, two calls, two models.
    assert_eq!(
        (
            by("HX-16")["base"]["calls"].as_u64(),
            by("HX-16")["base"]["cost_usd"].as_f64()
        ),
        (Some(0), Some(0.0))
    );
    assert_eq!(by("HX-18")["head"]["calls"], 2);
    assert_eq!(
        by("HX-18")["head"]["model"],
        "amazon.nova-micro-v1:0 + anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    // Product questions use InvokeModel with an Anthropic body, attributed through the control endpoint.
    assert_eq!(by("HX-09")["base"]["calls"], 1);
    assert_eq!(
        by("HX-09")["base"]["model"],
        "anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    // Chit-chat is streamed (ConverseStream), capped by its maxTokens of 100: boto3 decoded the
    // stand-in's event-stream frames (botocore checks both CRCs of every frame).
    assert_eq!(
        (
            by("HX-13")["base"]["calls"].as_u64(),
            by("HX-13")["base"]["output_tokens"].as_u64()
        ),
        (Some(1), Some(100))
    );
    assert!(
        r["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("> 25%"))
    );
}

/// `head-thinking/` raises the escalation's thinking budget from 2,048 to 16,384 and nothing else:
/// only escalations get dearer, by their reasoning, and the cause names the budget. The base's
/// declared steps answer the condense and triage calls: the follow-up case makes a condense call
/// whose answer is the query, and triage answers `high`.
#[test]
fn boto3_example_a_raised_thinking_budget_fails_with_the_reasoning_cause() {
    let (dir, base, _) = trees();
    let head = dir.path().join("head-thinking");
    copy_dir(&repo_root().join("examples/harness/head-thinking"), &head);
    let (code, r, err) = check(&base, &head);
    assert_eq!(code, 1, "{err}");
    let cases = r["cases"].as_array().unwrap();
    let by = |id: &str| cases.iter().find(|c| c["id"] == id).unwrap();
    for c in cases {
        let escalation = c["intent"] == "escalation";
        assert_eq!(
            c["status"],
            if escalation { "regressed" } else { "unchanged" },
            "{}",
            c["id"]
        );
        if escalation {
            assert_eq!(c["grew"], "reasoning", "{c}");
            assert_eq!(c["base"]["reasoning_tokens"], 1_024, "{c}");
            assert_eq!(c["head"]["reasoning_tokens"], 8_192, "{c}");
        }
    }
    let cause = r["causes"][0]["line"].as_str().unwrap();
    assert!(
        cause.contains("escalation") && cause.contains("thinking budget 2,048 → 16,384"),
        "{cause}"
    );
    // The follow-up recommendation condenses first (Nova Micro), embeds the query, reranks, then
    // answers (Haiku).
    assert_eq!(by("HX-06")["base"]["calls"], 4);
    let q = "I like cooking stories and dungeons";
    let condensed = crate::support::standin::count("amazon.nova-micro-v1:0", &[q]);
    let hx06 = &by("HX-06")["base"];
    // The case's answer is 150 tokens (its own length); the condense step answered the query.
    assert_eq!(
        hx06["output_tokens"].as_u64(),
        Some(condensed + 150),
        "{hx06}"
    );
    // Triage answered `high` (one Nova token or so), not 5 tokens of filler.
    let high = crate::support::standin::count("amazon.nova-micro-v1:0", &["high"]);
    let hx18 = &by("HX-18")["base"];
    assert_eq!(
        hx18["output_tokens"].as_u64(),
        Some(high + 1_024 + 150),
        "{hx18}"
    );
}

/// `head-no-condense/` drops the condense step and puts the conversation into the answer's prompt
/// instead: only the follow-up case changes, one call fewer, and dearer: the transcript now rides
/// in the larger model's prompt.
#[test]
fn boto3_example_without_the_condense_step_changes_only_the_follow_up() {
    let (dir, base, _) = trees();
    let head = dir.path().join("head-no-condense");
    copy_dir(
        &repo_root().join("examples/harness/head-no-condense"),
        &head,
    );
    let (code, r, err) = check(&base, &head);
    assert!(code == 0 || code == 1, "{err}");
    for c in r["cases"].as_array().unwrap() {
        if c["id"] == "HX-06" {
            assert_eq!(
                (c["base"]["calls"].as_u64(), c["head"]["calls"].as_u64()),
                (Some(4), Some(3)),
                "{c}"
            );
            // The transcript in the Haiku prompt costs more than the Nova Micro call saved.
            assert!(c["delta_usd"].as_f64().unwrap() > 0.0, "{c}");
        } else {
            assert_eq!(c["status"], "unchanged", "{}", c["id"]);
        }
    }
}

/// `head-guardrail/` switches recommendations to a guardrail with a second policy and doubles the
/// documents it reranks (60 → 120, two rerank queries instead of one): only recommendations get
/// dearer, and the cause names the rerank queries and the guardrail.
#[test]
fn boto3_example_a_second_guardrail_policy_and_doubled_rerank_fail_with_their_causes() {
    let (dir, base, _) = trees();
    let head = dir.path().join("head-guardrail");
    copy_dir(&repo_root().join("examples/harness/head-guardrail"), &head);
    let (code, r, err) = check(&base, &head);
    assert_eq!(code, 1, "{err}");
    for c in r["cases"].as_array().unwrap() {
        let rec = c["intent"] == "recommendation";
        assert_eq!(
            c["status"],
            if rec { "regressed" } else { "unchanged" },
            "{c}"
        );
        if rec {
            assert_eq!(
                (
                    c["base"]["rerank_queries"].as_u64(),
                    c["head"]["rerank_queries"].as_u64()
                ),
                (Some(1), Some(2)),
                "{c}"
            );
            assert_eq!(
                c["head"]["guardrails"][0],
                "gr-support-pii (content, sensitive_information)"
            );
            assert!(c["base"]["embedding_tokens"].as_u64().unwrap() > 0, "{c}");
        }
    }
    let cause = r["causes"][0]["line"].as_str().unwrap();
    assert!(
        cause.contains("rerank +1 queries")
            && cause
                .contains("gr-support (content) → gr-support-pii (content, sensitive_information)"),
        "{cause}"
    );
}

#[test]
fn boto3_example_uses_converse_stream_and_invoke_model_as_recorded() {
    let (dir, base, _) = trees();
    let mut ops = recorded_calls(&base, &dir.path().join("out"));
    ops.sort();
    ops.dedup();
    assert_eq!(
        ops,
        [
            ("Converse".to_string(), "request_metadata".to_string()),
            ("ConverseStream".to_string(), "request_metadata".to_string()),
            ("InvokeModel".to_string(), "control".to_string()),
            ("Rerank".to_string(), "control".to_string()),
        ]
    );
}

#[test]
fn boto3_example_against_itself_passes_with_identical_costs() {
    let (_dir, base, _) = trees();
    let (code, r, err) = check(&base, &base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(r["verdict"], "pass");
    assert_eq!(
        r["summary"]["base_total_usd"],
        r["summary"]["head_total_usd"]
    );
    assert!(r["summary"]["base_total_usd"].as_f64().unwrap() > 0.0);
}

#[test]
fn boto3_example_terminal_report_snapshot() {
    let (_dir, base, head) = trees();
    let (code, out, err) = run(costgate()
        .args(["check", "--base-dir"])
        .arg(&base)
        .arg("--head-dir")
        .arg(&head));
    assert_eq!(code, 1, "{err}");
    crate::support::snapshots::settings(&[])
        .bind(|| insta::assert_snapshot!("harness_example_text", out));
}

/// The agent-loop example (`examples/harness/agent/`): a Converse tool loop whose head adds a
/// second tool (`check_stock`), so every case takes one more turn. The stand-in plays each case's
/// `tool_calls`; at the base the undeclared `check_stock` step is skipped and noted.
#[test]
fn agent_loop_example_fails_the_gate_on_the_extra_tool_round() {
    require_python(&["boto3"]);
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    copy_dir(&repo_root().join("examples/harness/agent/base"), &base);
    copy_dir(&repo_root().join("examples/harness/agent/head"), &head);
    let (code, r, err) = check(&base, &head);
    assert_eq!((code, r["verdict"].as_str()), (1, Some("fail")), "{err}");
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for c in cases {
        assert_eq!(c["status"], "regressed", "{}", c["id"]);
        // search, then text at the base; search, stock, then text at the head.
        assert_eq!(
            (c["base"]["calls"].as_u64(), c["head"]["calls"].as_u64()),
            (Some(2), Some(3))
        );
    }
    let why = r["causes"].as_array().unwrap();
    assert!(
        why[0]["line"]
            .as_str()
            .unwrap()
            .contains("+1 model call(s) per case"),
        "{why:?}"
    );
    assert!(
        r["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("12 call(s) declared tools but not `check_stock`")),
        "{}",
        r["notes"]
    );
    // Unchanged, the loop costs the same on both sides.
    let (code, r, err) = check(&base, &base);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("pass")), "{err}");
}
