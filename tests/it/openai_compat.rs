//! The stand-in's OpenAI-compatible endpoints (`/openai/v1`) through the `openai` SDK, as a harness
//! reaches them with `OPENAI_BASE_URL`: Chat Completions whole and streamed, and Responses, with
//! reasoning in the usage; each call is counted, attributed and priced like Converse.

use serde_json::Value;

use crate::support::standin::{boto3_script, count, reasoning_settings, start};

const SCRIPT: &str = r#"
import json, os
from openai import OpenAI
c = OpenAI(base_url=os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"].rstrip("/") + "/openai/v1", api_key="dummy")
M = "openai.gpt-oss-120b-1:0"
out = {}
r = c.chat.completions.create(model=M, messages=[{"role": "user", "content": "Is volume 12 of Frieren in stock?"}],
                              reasoning_effort="low")
out["chat"] = [r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.completion_tokens_details.reasoning_tokens,
               r.choices[0].finish_reason]
s = c.chat.completions.create(model=M, messages=[{"role": "user", "content": "hello there"}], max_completion_tokens=1100,
                              stream=True, stream_options={"include_usage": True})
text, usage, finish = "", None, None
for ch in s:
    if ch.choices:
        text += ch.choices[0].delta.content or ""
        finish = ch.choices[0].finish_reason or finish
    if ch.usage:
        usage = ch.usage
out["stream"] = [usage.completion_tokens, usage.completion_tokens_details.reasoning_tokens, finish, text]
r = c.responses.create(model=M, input="Is volume 12 of Frieren in stock?", reasoning={"effort": "high"})
out["responses"] = [r.usage.input_tokens, r.usage.output_tokens, r.usage.output_tokens_details.reasoning_tokens,
                    r.output_text]
done = None
for e in c.responses.create(model=M, input="hello there", reasoning={"effort": "low"}, stream=True):
    if e.type == "response.completed":
        done = e.response
out["responses_stream"] = [done.usage.output_tokens, done.usage.output_tokens_details.reasoning_tokens, done.output_text != ""]
try:
    c.chat.completions.create(model=M, messages=[{"role": "user", "content": "x"}], reasoning_effort="max")
    out["error"] = None
except Exception as e:
    out["error"] = str(e)
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_gets_chat_completions_streams_and_responses_with_reasoning_usage() {
    crate::support::require_python(&["openai"]);
    let server = start(reasoning_settings()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, SCRIPT, &[]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let m = "openai.gpt-oss-120b-1:0";
    let q = "Is volume 12 of Frieren in stock?";
    assert_eq!(
        v["chat"],
        serde_json::json!([count(m, &[q]), 1_024 + 150, 1_024, "stop"])
    );
    // Medium (the default) reasons 4,096 tokens: a cap of 1,100 leaves no answer.
    assert_eq!(v["stream"][0], 1_100);
    assert_eq!(v["stream"][1], 1_100);
    assert_eq!(v["stream"][2], "length");
    assert_eq!(v["stream"][3], "");
    assert_eq!(
        (&v["responses"][0], &v["responses"][1], &v["responses"][2]),
        (
            &serde_json::json!(count(m, &[q])),
            &serde_json::json!(16_384 + 150),
            &serde_json::json!(16_384)
        )
    );
    assert_eq!(
        costgate::measure::tokenize::Encoding::O200kBase.count(v["responses"][3].as_str().unwrap()),
        150
    );
    assert!(
        v["error"].as_str().unwrap().contains("effort level `max`"),
        "{v}"
    );
    let calls = server.state().calls();
    let ops: Vec<(&str, Option<&str>, u64)> = calls
        .iter()
        .map(|c| (c.operation, c.case.as_deref(), c.output_tokens))
        .collect();
    assert_eq!(
        ops,
        [
            ("ChatCompletions", Some("GD-2"), 1_174),
            ("ChatCompletions", Some("GD-3"), 1_100),
            ("Responses", Some("GD-2"), 16_534),
            ("Responses", Some("GD-3"), 1_174)
        ]
    );
    let price = costgate::measure::pricing::PricingTable::builtin()
        .resolve(m)
        .unwrap()
        .price;
    assert_eq!(calls[0].cost_usd, price.cost(calls[0].input_tokens, 1_174));
    server.shutdown().await.unwrap();
}
