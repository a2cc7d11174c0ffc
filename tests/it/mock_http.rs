//! The stand-in over raw HTTP: every InvokeModel body family in its own response shape (whole and
//! streamed), the usage headers, each Bedrock-shaped error, the body cap, the control endpoint and
//! attribution by header, control endpoint and query.

use serde_json::json;

use crate::support::standin::*;

const NOVA: &str = "amazon.nova-micro-v1:0";
const TITAN: &str = "amazon.titan-text-express-v1";
const LLAMA: &str = "meta.llama3-3-70b-instruct-v1:0";
const MISTRAL: &str = "mistral.mistral-large-2407-v1:0";

fn url(server: &costgate::standin::Server, model: &str, op: &str) -> String {
    format!("{}/model/{model}/{op}", server.url())
}

fn usage_headers(h: &reqwest::header::HeaderMap) -> (u64, u64) {
    (
        header(h, "x-amzn-bedrock-input-token-count")
            .parse()
            .unwrap(),
        header(h, "x-amzn-bedrock-output-token-count")
            .parse()
            .unwrap(),
    )
}

async fn invoke(
    server: &costgate::standin::Server,
    model: &str,
    body: serde_json::Value,
) -> (reqwest::header::HeaderMap, serde_json::Value) {
    let (status, h, b) = post(
        &url(server, model, "invoke"),
        serde_json::to_vec(&body).unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&b));
    (h, serde_json::from_slice(&b).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_family_answers_in_its_own_shape_with_exact_usage() {
    let server = start(settings()).await;
    let q = "hello there"; // GD-3's query: attributed, 150 output tokens.

    let (h, v) = invoke(&server, NOVA, json!({"schemaVersion": "messages-v1", "system": [{"text": "sys"}],
        "messages": [{"role": "user", "content": [{"text": q}]}], "inferenceConfig": {"max_new_tokens": 500}})).await;
    let n = count(NOVA, &["sys", q]);
    assert_eq!(
        (
            v["usage"]["inputTokens"].as_u64(),
            v["usage"]["outputTokens"].as_u64()
        ),
        (Some(n), Some(150))
    );
    assert_eq!(v["stopReason"], "end_turn");
    assert_eq!(
        count(
            NOVA,
            &[v["output"]["message"]["content"][0]["text"]
                .as_str()
                .unwrap()]
        ),
        150
    );
    assert_eq!(usage_headers(&h), (n, 150));

    let (h, v) = invoke(
        &server,
        TITAN,
        json!({"inputText": q, "textGenerationConfig": {"maxTokenCount": 20}}),
    )
    .await;
    let n = count(TITAN, &[q]);
    assert_eq!(v["inputTextTokenCount"], n);
    assert_eq!(
        (
            v["results"][0]["tokenCount"].as_u64(),
            v["results"][0]["completionReason"].as_str()
        ),
        (Some(20), Some("LENGTH"))
    );
    assert_eq!(usage_headers(&h), (n, 20));

    let (h, v) = invoke(
        &server,
        LLAMA,
        json!({"prompt": format!("<|begin_of_text|>{q}"), "max_gen_len": 512}),
    )
    .await;
    let n = count(LLAMA, &[&format!("<|begin_of_text|>{q}")]);
    assert_eq!(
        (
            v["prompt_token_count"].as_u64(),
            v["generation_token_count"].as_u64()
        ),
        (Some(n), Some(150))
    );
    assert_eq!(v["stop_reason"], "stop");
    assert_eq!(usage_headers(&h), (n, 150));

    let (_, v) = invoke(
        &server,
        OPENAI,
        json!({"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": q}],
        "max_completion_tokens": 1000}),
    )
    .await;
    let n = count(OPENAI, &["sys", q]);
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": n, "completion_tokens": 150, "total_tokens": n + 150})
    );
    assert_eq!(
        (
            v["object"].as_str(),
            v["choices"][0]["finish_reason"].as_str()
        ),
        (Some("chat.completion"), Some("stop"))
    );

    let (_, v) = invoke(
        &server,
        MISTRAL,
        json!({"prompt": format!("<s>[INST] {q} [/INST]"), "max_tokens": 7}),
    )
    .await;
    assert_eq!((v["outputs"][0]["stop_reason"].as_str()), Some("length"));
    assert_eq!(
        count(MISTRAL, &[v["outputs"][0]["text"].as_str().unwrap()]),
        7
    );
    let (h, v) = invoke(
        &server,
        MISTRAL,
        json!({"messages": [{"role": "user", "content": q}], "max_tokens": 1000}),
    )
    .await;
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(usage_headers(&h), (count(MISTRAL, &[q]), 150));

    let calls = server.state().calls();
    assert_eq!(calls.len(), 6);
    assert!(
        calls.iter().all(|c| c.case.as_deref() == Some("GD-3")),
        "{calls:?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_family_streams_in_event_stream_frames() {
    let server = start(settings()).await;
    let q = "hello there";
    let bodies = [
        (
            NOVA,
            json!({"messages": [{"role": "user", "content": [{"text": q}]}]}),
        ),
        (TITAN, json!({"inputText": q})),
        (LLAMA, json!({"prompt": q})),
        (
            OPENAI,
            json!({"messages": [{"role": "user", "content": q}]}),
        ),
        (MISTRAL, json!({"prompt": q})),
    ];
    for (model, body) in bodies {
        let (status, h, b) = post(
            &url(&server, model, "invoke-with-response-stream"),
            serde_json::to_vec(&body).unwrap(),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{model}");
        assert_eq!(
            header(&h, "content-type"),
            "application/vnd.amazon.eventstream"
        );
        let chunks = chunks(&b);
        let metrics = &chunks.last().unwrap()["amazon-bedrock-invocationMetrics"];
        assert_eq!(metrics["inputTokenCount"], count(model, &[q]), "{model}");
        assert_eq!(metrics["outputTokenCount"], 150, "{model}");
        // The streamed text reassembles to an answer of exactly the reported length.
        let text: String = chunks
            .iter()
            .map(|c| {
                c["contentBlockDelta"]["delta"]["text"]
                    .as_str()
                    .or(c["outputText"].as_str())
                    .or(c["generation"].as_str())
                    .or(c["choices"][0]["delta"]["content"].as_str())
                    .or(c["outputs"][0]["text"].as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(count(model, &[&text]), 150, "{model}: {text}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converse_stream_over_raw_http_has_the_event_sequence() {
    let server = start(settings()).await;
    let body = json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"maxTokens": 3}});
    let (_, _, b) = post(
        &url(&server, OPENAI, "converse-stream"),
        serde_json::to_vec(&body).unwrap(),
        &[],
    )
    .await;
    let kinds: Vec<String> = events(&b).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    server.shutdown().await.unwrap();
}

async fn expect_error(
    resp: (u16, reqwest::header::HeaderMap, Vec<u8>),
    status: u16,
    kind: &str,
    needle: &str,
) {
    let (s, h, b) = resp;
    assert_eq!(s, status, "{}", String::from_utf8_lossy(&b));
    assert_eq!(header(&h, "x-amzn-errortype"), kind);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains(needle), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_bedrock_shaped() {
    let mut s = settings();
    s.max_body = 64 * 1024;
    let server = start(s).await;
    let conv = |m: &str| url(&server, m, "converse");
    expect_error(
        post(&conv("acme.nope-v1"), "{}", &[]).await,
        404,
        "ResourceNotFoundException",
        "acme.nope-v1",
    )
    .await;
    expect_error(
        post(&conv(OPENAI), "{not json", &[]).await,
        400,
        "ValidationException",
        "Malformed input request",
    )
    .await;
    expect_error(
        post(&conv(OPENAI), "{}", &[]).await,
        400,
        "ValidationException",
        "`messages` is missing",
    )
    .await;
    expect_error(
        post(&conv(OPENAI), "[]", &[]).await,
        400,
        "ValidationException",
        "JSON object",
    )
    .await;
    let bad_type = json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"maxTokens": "many"}});
    expect_error(
        post(&conv(OPENAI), bad_type.to_string(), &[]).await,
        400,
        "ValidationException",
        "inferenceConfig.maxTokens",
    )
    .await;
    let big = format!(
        "{{\"messages\": [{{\"role\": \"user\", \"content\": [{{\"text\": \"{}\"}}]}}]}}",
        "a".repeat(100 * 1024)
    );
    expect_error(
        post(&conv(OPENAI), big, &[]).await,
        413,
        "ValidationException",
        "limit",
    )
    .await;
    expect_error(
        post(&url(&server, "acme.unknown-v1:0", "invoke"), "{}", &[]).await,
        404,
        "ResourceNotFoundException",
        "acme.unknown",
    )
    .await;
    // Priced, but its InvokeModel body format is not one the stand-in speaks.
    expect_error(
        post(&url(&server, "cohere.command-r-v1:0", "invoke"), "{}", &[]).await,
        400,
        "ValidationException",
        "body format",
    )
    .await;
    expect_error(
        post(&url(&server, OPENAI, "explode"), "{}", &[]).await,
        404,
        "UnknownOperationException",
        "explode",
    )
    .await;
    expect_error(
        post(&format!("{}/_costgate/case/NOPE", server.url()), "", &[]).await,
        404,
        "ResourceNotFoundException",
        "NOPE",
    )
    .await;
    let invalid_utf8 = format!("{}/model/%FF%FE/converse", server.url());
    expect_error(
        post(&invalid_utf8, "{}", &[]).await,
        400,
        "ValidationException",
        "percent-encoded",
    )
    .await;
    assert!(
        server.state().calls().is_empty(),
        "failed requests are not priced"
    );
    server.shutdown().await.unwrap();
}

#[test]
fn default_body_cap_is_25_mib() {
    assert_eq!(costgate::standin::DEFAULT_MAX_BODY, 25 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribution_by_header_control_endpoint_and_query() {
    use costgate::standin::attribution::Method;
    let server = start(settings()).await;
    let body = |text: &str| {
        serde_json::to_vec(&json!({"messages": [{"role": "user", "content": [{"text": text}]}]}))
            .unwrap()
    };
    let conv = url(&server, OPENAI, "converse");
    // Query found inside a larger prompt.
    post(
        &conv,
        body("Context: catalogue...\nUser: Is volume 12 of Frieren in stock?"),
        &[],
    )
    .await;
    // The header beats the query.
    post(&conv, body("hello there"), &[("x-costgate-case", "GD-1")]).await;
    // The control endpoint sets the current case for calls without header or metadata.
    let (s, _, _) = post(&format!("{}/_costgate/case/GD-3", server.url()), "", &[]).await;
    assert_eq!(s, 204);
    post(&conv, body("an unrelated prompt"), &[]).await;
    let (s, _, _) = reqwest::Client::new()
        .delete(format!("{}/_costgate/case", server.url()))
        .send()
        .await
        .map(|r| (r.status().as_u16(), (), ()))
        .unwrap();
    assert_eq!(s, 204);
    // Nothing matches: unattributed.
    post(&conv, body("an unrelated prompt"), &[]).await;
    let got: Vec<(Option<String>, Option<Method>)> = server
        .state()
        .calls()
        .into_iter()
        .map(|c| (c.case, c.attribution))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("GD-2".into()), Some(Method::Query)),
            (Some("GD-1".into()), Some(Method::Header)),
            (Some("GD-3".into()), Some(Method::Control)),
            (None, None),
        ]
    );
    assert_eq!(
        server.state().announced().into_iter().collect::<Vec<_>>(),
        ["GD-3"]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percent_encoded_model_ids_are_decoded() {
    let server = start(settings()).await;
    let body =
        serde_json::to_vec(&json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}))
            .unwrap();
    let encoded = format!(
        "{}/model/us.anthropic.claude-3-haiku-20240307-v1%3A0/converse",
        server.url()
    );
    let (status, h, b) = post(&encoded, body, &[]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&b));
    assert_eq!(usage_headers(&h).0, count(HAIKU, &["hi"]));
    let calls = server.state().calls();
    assert_eq!(calls[0].model, "us.anthropic.claude-3-haiku-20240307-v1:0");
    assert_eq!(calls[0].model_id, HAIKU);
    server.shutdown().await.unwrap();
}

/// A small deterministic generator (xorshift), so the garbage below is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bodies_get_client_errors_and_never_take_the_server_down() {
    let server = start(settings()).await;
    let valid = [
        json!({"messages": [{"role": "user", "content": [{"text": "hello there"}]}], "inferenceConfig": {"maxTokens": 5}}),
        json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
        json!({"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 5}}),
        json!({"input": {"invokeModel": {"body": "eyJwcm9tcHQiOiJoaSJ9"}}}),
    ];
    let models = [OPENAI, HAIKU, NOVA, TITAN, LLAMA, MISTRAL];
    let ops = [
        "converse",
        "converse-stream",
        "invoke",
        "invoke-with-response-stream",
        "count-tokens",
    ];
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let client = reqwest::Client::new();
    for i in 0..400 {
        let mut body = serde_json::to_vec(&valid[i % valid.len()]).unwrap();
        // Flip, drop or duplicate a few bytes: broken JSON, wrong types, odd unicode.
        for _ in 0..(rng.next() % 4) {
            let at = (rng.next() as usize) % body.len();
            match rng.next() % 3 {
                0 => body[at] = (rng.next() % 256) as u8,
                1 => {
                    body.remove(at);
                }
                _ => body.insert(at, body[at]),
            }
        }
        let model = models[(rng.next() as usize) % models.len()];
        let op = ops[(rng.next() as usize) % ops.len()];
        let resp = client
            .post(url(&server, model, op))
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = resp.status().as_u16();
        assert!(
            [200, 400, 404, 413].contains(&status),
            "{model}/{op}: {status}"
        );
        if status != 200 {
            assert!(!header(resp.headers(), "x-amzn-errortype").is_empty());
        }
    }
    let health = client
        .get(format!("{}/_costgate/health", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn conversations_bedrock_rejects_are_rejected_and_never_billed() {
    let server = start(settings()).await;
    let conv = |model: &str| url(&server, model, "converse");
    for (body, needle) in [
        (json!({"messages": []}), "at least one message"),
        (
            json!({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}),
            "must start with a user message",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]}),
            "alternate between user and assistant",
        ),
    ] {
        expect_error(
            post(&conv(OPENAI), serde_json::to_vec(&body).unwrap(), &[]).await,
            400,
            "ValidationException",
            needle,
        )
        .await;
    }
    let anthropic = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5,
        "messages": [{"role": "assistant", "content": "hi"}]});
    expect_error(
        post(
            &url(&server, HAIKU, "invoke"),
            serde_json::to_vec(&anthropic).unwrap(),
            &[],
        )
        .await,
        400,
        "ValidationException",
        "messages[0].role",
    )
    .await;
    assert!(
        server.state().calls().is_empty(),
        "a rejected request is never recorded"
    );
}
