//! Tool definitions are billed input in every InvokeModel body family that carries them
//! (Anthropic `tools`, Nova `toolConfig`, OpenAI `tools`), and CountTokens on the same body counts
//! exactly what the call records: one counting function per request shape.

use base64::Engine;
use serde_json::{Value, json};

use crate::support::standin::{self, HAIKU, OPENAI};

const NOVA: &str = "amazon.nova-micro-v1:0";
const DESCRIPTION: &str =
    "Search the manga catalogue by title, author or genre and return the matching series in print.";

fn bodies(with_tools: bool) -> Vec<(&'static str, Value)> {
    let schema =
        json!({"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]});
    let mut anthropic = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
        "messages": [{"role": "user", "content": "manga like Frieren"}]});
    let mut nova = json!({"messages": [{"role": "user", "content": [{"text": "manga like Frieren"}]}],
        "inferenceConfig": {"max_new_tokens": 10}});
    let mut openai =
        json!({"messages": [{"role": "user", "content": "manga like Frieren"}], "max_tokens": 10});
    if with_tools {
        anthropic["tools"] =
            json!([{"name": "search_catalog", "description": DESCRIPTION, "input_schema": schema}]);
        nova["toolConfig"] = json!({"tools": [{"toolSpec": {"name": "search_catalog", "description": DESCRIPTION, "inputSchema": {"json": schema}}}]});
        openai["tools"] = json!([{"type": "function", "function": {"name": "search_catalog", "description": DESCRIPTION, "parameters": schema}}]);
    }
    vec![(HAIKU, anthropic), (NOVA, nova), (OPENAI, openai)]
}

async fn invoke(url: &str, model: &str, body: &Value, op: &str) -> Value {
    let (status, _, bytes) =
        standin::post(&format!("{url}/model/{model}/{op}"), body.to_string(), &[]).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(status, 200, "{model} {op}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_definitions_are_billed_and_count_tokens_agrees_in_every_family() {
    let server = standin::start(standin::settings()).await;
    let url = server.url();
    for with_tools in [false, true] {
        for (model, body) in bodies(with_tools) {
            invoke(&url, model, &body, "invoke").await;
            let b64 = base64::engine::general_purpose::STANDARD.encode(body.to_string());
            let counted = invoke(
                &url,
                model,
                &json!({"input": {"invokeModel": {"body": b64}}}),
                "count-tokens",
            )
            .await;
            let calls = server.state().calls();
            let billed = calls
                .iter()
                .rev()
                .find(|c| c.operation == "InvokeModel")
                .unwrap();
            assert_eq!(
                counted["inputTokens"].as_u64(),
                Some(billed.input_tokens),
                "{model}, tools: {with_tools}"
            );
        }
    }
    let calls = server.state().calls();
    let invokes: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "InvokeModel")
        .collect();
    assert_eq!(invokes.len(), 6);
    for (plain, tooled) in invokes[..3].iter().zip(&invokes[3..]) {
        let model = &plain.model;
        let grown = tooled.input_tokens - plain.input_tokens;
        let description = standin::count(model, &[DESCRIPTION]);
        assert!(
            grown >= description,
            "{model}: the tool definition adds {grown} tokens, its description alone is {description}"
        );
    }
    let _ = server.shutdown().await;
}
