//! The stand-in against the real AWS SDK for Rust: Converse, InvokeModel (Anthropic body),
//! ConverseStream, InvokeModelWithResponseStream and CountTokens parse, and the usage they report
//! equals `costgate::measure::tokenize`'s count.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseStreamOutput, ConverseTokensRequest, CountTokensInput,
    InferenceConfiguration, InvokeModelTokensRequest, Message, ResponseStream, StopReason,
    SystemContentBlock,
};

use crate::support::standin::*;

fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.into()))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converse_usage_equals_the_tokenizer_count() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let system = "You are MangaAssist, a helpful manga shop assistant.";
    let query = "Recommend a manga like Frieren, please.";
    let out = client
        .converse()
        .model_id(OPENAI)
        .system(SystemContentBlock::Text(system.into()))
        .messages(user(query))
        .send()
        .await
        .unwrap();
    let usage = out.usage().unwrap();
    let expected = count(OPENAI, &[system, query]);
    assert_eq!(usage.input_tokens() as u64, expected);
    // Unattributed: the default answer length.
    assert_eq!(usage.output_tokens(), 150);
    assert_eq!(usage.total_tokens() as u64, expected + 150);
    assert_eq!(out.stop_reason(), &StopReason::EndTurn);
    let text = out.output().unwrap().as_message().unwrap().content()[0]
        .as_text()
        .unwrap()
        .clone();
    assert_eq!(
        count(OPENAI, &[&text]),
        150,
        "the answer has as many tokens as reported"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converse_request_metadata_attributes_and_caps_by_max_tokens() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let out = client
        .converse()
        .model_id(HAIKU)
        .messages(user("anything at all"))
        .request_metadata("costgate_case", "GD-1")
        .inference_config(InferenceConfiguration::builder().max_tokens(25).build())
        .send()
        .await
        .unwrap();
    // GD-1 asks for 40 output tokens; the request caps at 25.
    assert_eq!(out.usage().unwrap().output_tokens(), 25);
    assert_eq!(out.stop_reason(), &StopReason::MaxTokens);
    let calls = server.state().calls();
    assert_eq!(calls[0].case.as_deref(), Some("GD-1"));
    assert_eq!(
        calls[0].attribution,
        Some(costgate::standin::attribution::Method::RequestMetadata)
    );
    let input = count(HAIKU, &["anything at all"]);
    assert_eq!(calls[0].cost_usd, cost(HAIKU, input, 25));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_model_anthropic_body_usage_equals_the_tokenizer_count() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let body = serde_json::json!({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 300,
        "system": "Answer in Japanese.",
        "messages": [
            {"role": "user", "content": "前に読んだのは?"},
            {"role": "assistant", "content": [{"type": "text", "text": "ナルトです。"}]},
            {"role": "user", "content": [{"type": "text", "text": "ワンピースみたいな冒険マンガを教えて"}]}
        ]
    });
    // An inference-profile id resolves to the base model's price.
    let out = client
        .invoke_model()
        .model_id(format!("us.{HAIKU}"))
        .content_type("application/json")
        .body(Blob::new(serde_json::to_vec(&body).unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.content_type(), "application/json");
    let v: serde_json::Value = serde_json::from_slice(out.body().as_ref()).unwrap();
    let expected = count(
        HAIKU,
        &[
            "Answer in Japanese.",
            "前に読んだのは?",
            "ナルトです。",
            "ワンピースみたいな冒険マンガを教えて",
        ],
    );
    assert_eq!(v["usage"]["input_tokens"], expected);
    // Attributed by the query text (GD-1 → 40 output tokens).
    assert_eq!(v["usage"]["output_tokens"], 40);
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["type"], "message");
    let calls = server.state().calls();
    assert_eq!(calls[0].model_id, HAIKU);
    assert_eq!(
        calls[0].segments.history,
        count(HAIKU, &["前に読んだのは?", "ナルトです。"])
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arn_model_ids_are_percent_decoded_and_resolved() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let arn = format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.{OPENAI}");
    let out = client
        .converse()
        .model_id(&arn)
        .messages(user("hello there"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.usage().unwrap().input_tokens() as u64,
        count(OPENAI, &["hello there"])
    );
    let calls = server.state().calls();
    assert_eq!(
        (calls[0].model.as_str(), calls[0].model_id.as_str()),
        (arn.as_str(), OPENAI)
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converse_stream_decodes_and_reports_exact_usage() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let query = "Is volume 12 of Frieren in stock?";
    let out = client
        .converse_stream()
        .model_id(OPENAI)
        .messages(user(query))
        .send()
        .await
        .unwrap();
    let mut stream = out.stream;
    let (mut text, mut usage, mut stop, mut kinds) = (String::new(), None, None, Vec::new());
    while let Some(ev) = stream.recv().await.unwrap() {
        match ev {
            ConverseStreamOutput::MessageStart(_) => kinds.push("start"),
            ConverseStreamOutput::ContentBlockDelta(d) => {
                text.push_str(d.delta().unwrap().as_text().unwrap())
            }
            ConverseStreamOutput::ContentBlockStop(_) => kinds.push("block_stop"),
            ConverseStreamOutput::MessageStop(m) => stop = Some(m.stop_reason().clone()),
            ConverseStreamOutput::Metadata(m) => usage = m.usage().cloned(),
            _ => {}
        }
    }
    let usage = usage.expect("metadata event");
    assert_eq!(kinds, ["start", "block_stop"]);
    assert_eq!(usage.input_tokens() as u64, count(OPENAI, &[query]));
    assert_eq!(usage.output_tokens(), 150);
    assert_eq!(count(OPENAI, &[&text]), 150);
    assert_eq!(stop, Some(StopReason::EndTurn));
    assert_eq!(server.state().calls()[0].case.as_deref(), Some("GD-2"));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_model_with_response_stream_chunks_decode_in_the_sdk() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let body = serde_json::json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
        "messages": [{"role": "user", "content": "hello there"}]});
    let out = client
        .invoke_model_with_response_stream()
        .model_id(HAIKU)
        .body(Blob::new(serde_json::to_vec(&body).unwrap()))
        .send()
        .await
        .unwrap();
    let mut stream = out.body;
    let mut chunks = Vec::new();
    while let Some(ev) = stream.recv().await.unwrap() {
        if let ResponseStream::Chunk(p) = ev {
            chunks.push(
                serde_json::from_slice::<serde_json::Value>(p.bytes().unwrap().as_ref()).unwrap(),
            );
        }
    }
    assert_eq!(chunks[0]["type"], "message_start");
    assert_eq!(
        chunks[0]["message"]["usage"]["input_tokens"],
        count(HAIKU, &["hello there"])
    );
    let delta = chunks
        .iter()
        .find(|c| c["type"] == "message_delta")
        .unwrap();
    assert_eq!(
        (
            delta["usage"]["output_tokens"].as_u64(),
            delta["delta"]["stop_reason"].as_str()
        ),
        (Some(10), Some("max_tokens"))
    );
    let last = chunks.last().unwrap();
    assert_eq!(
        last["amazon-bedrock-invocationMetrics"]["outputTokenCount"],
        10
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_equals_the_tokenizer_for_converse_and_invoke_bodies() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let req = ConverseTokensRequest::builder()
        .messages(user("How many tokens is this sentence, exactly?"))
        .system(SystemContentBlock::Text("Be brief.".into()))
        .build();
    let out = client
        .count_tokens()
        .model_id(OPENAI)
        .input(CountTokensInput::Converse(req))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.input_tokens() as u64,
        count(
            OPENAI,
            &["Be brief.", "How many tokens is this sentence, exactly?"]
        )
    );

    let body = serde_json::json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
        "messages": [{"role": "user", "content": "冒険マンガ"}]});
    let req = InvokeModelTokensRequest::builder()
        .body(Blob::new(serde_json::to_vec(&body).unwrap()))
        .build()
        .unwrap();
    let out = client
        .count_tokens()
        .model_id(HAIKU)
        .input(CountTokensInput::InvokeModel(req))
        .send()
        .await
        .unwrap();
    assert_eq!(out.input_tokens() as u64, count(HAIKU, &["冒険マンガ"]));
    // Counting is free: audited, never priced.
    assert!(
        server
            .state()
            .calls()
            .iter()
            .all(|c| c.cost_usd == 0.0 && !c.is_billable())
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_raises_the_modelled_exceptions() {
    let server = start(settings()).await;
    let client = sdk(&server);
    let err = client
        .converse()
        // No Bedrock provider is called `acme`: unknown, where a new model of a known provider
        // would be served unpriced.
        .model_id("acme.claude-9-giant")
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    let se = err.into_service_error();
    assert!(se.is_resource_not_found_exception(), "{se:?}");
    assert!(se.meta().message().unwrap().contains("acme.claude-9-giant"));

    let err = client
        .invoke_model()
        .model_id(HAIKU)
        .body(Blob::new(br#"{"messages": []}"#.to_vec()))
        .send()
        .await
        .unwrap_err();
    let se = err.into_service_error();
    assert!(se.is_validation_exception(), "{se:?}");
    assert!(se.meta().message().unwrap().contains("anthropic_version"));
    server.shutdown().await.unwrap();
}
