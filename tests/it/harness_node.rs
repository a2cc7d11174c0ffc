//! The shipped Node example (`examples/harness-node/`): the application's own JavaScript, with the
//! AWS SDK for JavaScript v3 and its default request handler (cleartext HTTP/2 to the stand-in),
//! locally and through `costgate action` on a pull request. The head raises retrieval top-k.

use crate::action_harness::gate;
use crate::support::action::ours;
use crate::support::*;

const SDK: &str = "@aws-sdk/client-bedrock-runtime";

fn trees() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    require_node(&[SDK]);
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    copy_dir(&repo_root().join("examples/harness-node/base"), &base);
    copy_dir(&repo_root().join("examples/harness-node/head"), &head);
    (dir, base, head)
}

#[test]
fn node_example_top_k_regression_fails_the_gate() {
    let (_dir, base, head) = trees();
    let (code, r, err) = check_json(&base, &head);
    assert_eq!((code, &r["verdict"]), (1, &"fail".into()), "{err}");
    for c in r["cases"].as_array().unwrap() {
        let recommendation = c["intent"] == "recommendation";
        let want = if recommendation {
            "regressed"
        } else {
            "unchanged"
        };
        assert_eq!(c["status"], want, "{}", c["id"]);
        if recommendation {
            assert_eq!(c["grew"], "prompt", "{}", c["id"]);
        }
    }
    // Template bypass: announced, never called, $0.
    let bypass = &report_case(&r, "NX-09")["base"];
    assert_eq!(
        (bypass["calls"].as_u64(), bypass["cost_usd"].as_f64()),
        (Some(0), Some(0.0))
    );
    // Small talk went through ConverseStream and the SDK read the event stream to its end.
    let chat = &report_case(&r, "NX-07")["base"];
    assert_eq!(chat["calls"], 1);
    assert_eq!(chat["model"], "amazon.nova-micro-v1:0");
    assert_eq!(
        report_case(&r, "NX-05")["base"]["model"],
        "anthropic.claude-haiku-4-5-20251001-v1:0"
    );
}

#[test]
fn node_example_records_converse_and_converse_stream_by_request_metadata() {
    let (dir, base, _) = trees();
    let mut ops = recorded_calls(&base, &dir.path().join("out"));
    assert_eq!(ops.len(), 8, "nine cases, one of them bypassed: {ops:?}");
    ops.sort();
    ops.dedup();
    assert_eq!(
        ops,
        [
            ("Converse".to_string(), "request_metadata".to_string()),
            ("ConverseStream".to_string(), "request_metadata".to_string()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_example_through_the_action_fails_the_pr_with_the_sticky_comment() {
    let (code, out, err, ws, fake, report) = gate("harness-node", "apps/web", "head").await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(report["verdict"], "fail", "{err}");
    assert!(ws.outputs().contains("verdict=fail\n"), "{}", ws.outputs());
    assert_eq!(ours(&fake).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_example_through_the_action_passes_an_unchanged_application() {
    let (code, out, err, _ws, fake, report) = gate("harness-node", "", "base").await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(report["verdict"], "pass", "{err}");
    assert!(ours(&fake).is_empty());
}

/// What makes the example worth having: the client's default handler speaks cleartext HTTP/2
/// with prior knowledge to an `http://` endpoint, which the stand-in must accept.
#[test]
fn the_pinned_sdk_defaults_to_its_http2_handler() {
    require_node(&[SDK]);
    let out = std::process::Command::new("node")
        .args([
            "-e",
            "const {BedrockRuntimeClient} = require('@aws-sdk/client-bedrock-runtime');\
             process.stdout.write(new BedrockRuntimeClient({region: 'us-east-1'}).config.requestHandler.constructor.name)",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "NodeHttp2Handler");
}
