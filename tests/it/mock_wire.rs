//! The stand-in's routes and error statuses against the Bedrock Runtime service model the SDKs are
//! generated from (a subset kept in `tests/fixtures/aws/`).

use crate::support::standin::*;

fn model() -> serde_json::Value {
    let path = crate::support::repo_root().join("tests/fixtures/aws/bedrock-runtime.subset.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_modelled_operation_uri_is_served_and_errors_use_modelled_statuses() {
    let m = model();
    let server = start(settings()).await;
    let body = serde_json::json!({
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "anthropic_version": "bedrock-2023-05-31", "max_tokens": 5,
        "input": {"converse": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}}
    });
    let ops = m["operations"].as_object().unwrap();
    assert_eq!(ops.len(), 5);
    for (name, op) in ops {
        assert_eq!(op["http"]["method"], "POST");
        let uri = op["http"]["requestUri"]
            .as_str()
            .unwrap()
            .replace("{modelId}", HAIKU);
        let (status, _, b) = post(
            &format!("{}{uri}", server.url()),
            serde_json::to_vec(&body).unwrap(),
            &[],
        )
        .await;
        assert_eq!(
            status as u64,
            op["http"]["responseCode"].as_u64().unwrap(),
            "{name}: {}",
            String::from_utf8_lossy(&b)
        );
    }
    for (shape, (uri, payload)) in [
        (
            "ResourceNotFoundException",
            ("/model/acme.nope/converse", "{}"),
        ),
        (
            "ValidationException",
            (
                "/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
                "{",
            ),
        ),
    ] {
        let want = m["shapes"][shape]["error"]["httpStatusCode"]
            .as_u64()
            .unwrap();
        let (status, h, _) = post(&format!("{}{uri}", server.url()), payload, &[]).await;
        assert_eq!(
            (status as u64, header(&h, "x-amzn-errortype")),
            (want, shape.to_string())
        );
    }
    server.shutdown().await.unwrap();
}
