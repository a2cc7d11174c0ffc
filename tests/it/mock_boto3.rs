//! The stand-in against boto3 (botocore's own parsers, event-stream decoder and error mapping):
//! InvokeModelWithResponseStream, CountTokens and the modelled exception classes.

use crate::support::standin::*;

const SCRIPT: &str = r#"
import json, sys
import boto3
c = boto3.client("bedrock-runtime")
out = {}
body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 12,
        "messages": [{"role": "user", "content": "hello there"}]}
r = c.invoke_model_with_response_stream(modelId=sys.argv[1], body=json.dumps(body))
chunks = [json.loads(e["chunk"]["bytes"]) for e in r["body"] if "chunk" in e]
out["stream_types"] = [ch["type"] for ch in chunks]
out["stream_metrics"] = chunks[-1]["amazon-bedrock-invocationMetrics"]
out["count"] = c.count_tokens(modelId=sys.argv[2], input={"converse": {
    "messages": [{"role": "user", "content": [{"text": "How many tokens is this sentence, exactly?"}]}]}})["inputTokens"]
errors = []
for call in [lambda: c.converse(modelId="acme.nope-v1", messages=[{"role": "user", "content": [{"text": "x"}]}]),
             lambda: c.invoke_model(modelId=sys.argv[1], body=json.dumps({"messages": []}))]:
    try:
        call()
        errors.append(None)
    except c.exceptions.ResourceNotFoundException as e:
        errors.append(["ResourceNotFoundException", e.response["Error"]["Message"]])
    except c.exceptions.ValidationException as e:
        errors.append(["ValidationException", e.response["Error"]["Message"]])
out["errors"] = errors
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_streams_counts_and_raises_modelled_exceptions() {
    crate::support::require_python(&["boto3"]);
    let server = start(settings()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || {
        crate::support::standin::boto3_script(&url, SCRIPT, &[HAIKU, OPENAI])
    })
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stream_types"][0], "message_start");
    assert_eq!(
        v["stream_types"].as_array().unwrap().last().unwrap(),
        "message_stop"
    );
    assert_eq!(
        v["stream_metrics"]["inputTokenCount"],
        count(HAIKU, &["hello there"])
    );
    assert_eq!(v["stream_metrics"]["outputTokenCount"], 12);
    assert_eq!(
        v["count"],
        count(OPENAI, &["How many tokens is this sentence, exactly?"])
    );
    assert_eq!(v["errors"][0][0], "ResourceNotFoundException");
    assert!(v["errors"][0][1].as_str().unwrap().contains("acme.nope-v1"));
    assert_eq!(v["errors"][1][0], "ValidationException");
    assert!(
        v["errors"][1][1]
            .as_str()
            .unwrap()
            .contains("anthropic_version")
    );
    server.shutdown().await.unwrap();
}
