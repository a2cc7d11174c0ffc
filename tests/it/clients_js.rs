//! The AWS SDK for JavaScript v3 (pinned in tests/node) against the stand-in with its default
//! request handler: Converse, ConverseStream read to the end, InvokeModel and its response stream
//! (Anthropic bodies), CountTokens and an error, each asserting the usage the client reports equals
//! the stand-in's record of the call.

use serde_json::Value;

use crate::support::standin;
use crate::support::{repo_root, require_node};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_sdk_reports_the_usage_the_stand_in_records() {
    require_node(&["@aws-sdk/client-bedrock-runtime"]);
    let server = standin::start(standin::settings()).await;
    let url = server.url();
    let script = repo_root().join("tests/node/conformance.js");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_op = |op: &str| {
        lines
            .iter()
            .find(|l| l["op"] == op)
            .unwrap_or_else(|| panic!("no {op} in {stdout}"))
            .clone()
    };
    assert_eq!(
        lines[0]["handler"], "NodeHttp2Handler",
        "the default handler, over h2c"
    );
    let calls = server.state().calls();
    let record = |op: &str| {
        calls
            .iter()
            .find(|c| c.operation == op)
            .unwrap_or_else(|| panic!("the stand-in recorded no {op}"))
    };
    for op in [
        "Converse",
        "ConverseStream",
        "InvokeModel",
        "InvokeModelWithResponseStream",
    ] {
        let (client, rec) = (by_op(op), record(op));
        assert_eq!(
            (client["input"].as_u64(), client["output"].as_u64()),
            (Some(rec.input_tokens), Some(rec.output_tokens)),
            "{op}: {client}"
        );
        assert!(rec.input_tokens > 0 && rec.output_tokens > 0, "{op}");
    }
    let stream = by_op("ConverseStream");
    assert_eq!(stream["stop"], "end_turn");
    assert!(
        stream["deltas"].as_u64().unwrap() > 1,
        "the answer arrives in several deltas: {stream}"
    );
    let invoke_stream = by_op("InvokeModelWithResponseStream");
    let rec = record("InvokeModelWithResponseStream");
    assert_eq!(
        (
            invoke_stream["metrics_input"].as_u64(),
            invoke_stream["metrics_output"].as_u64()
        ),
        (Some(rec.input_tokens), Some(rec.output_tokens))
    );
    assert!(
        invoke_stream["chunks"].as_u64().unwrap() > 2,
        "{invoke_stream}"
    );
    // CountTokens answers with the count it records, and bills nothing (below).
    let count = by_op("CountTokens");
    assert_eq!(
        count["input"].as_u64(),
        Some(record("CountTokens").input_tokens)
    );
    assert!(count["input"].as_u64().unwrap() > 0);
    let err = by_op("error");
    assert_eq!(
        (&err["name"], &err["status"]),
        (&"ValidationException".into(), &400.into()),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("messages"),
        "{err}"
    );
    assert_eq!(
        calls.iter().filter(|c| c.is_billable()).count(),
        4,
        "the error was not billed"
    );
    let _ = server.shutdown().await;
}
