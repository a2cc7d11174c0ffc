//! Embedding models on the stand-in (docs/harness.md#every-call-the-application-pays-for): boto3
//! and LangChain's `BedrockEmbeddings` get vectors of the requested size, deterministic and closer
//! for texts that share words; each call is counted, priced per input token and recorded.

use serde_json::Value;

use crate::support::standin::{boto3_script, count, settings, start};

const SCRIPT: &str = r#"
import json, math
import boto3
from langchain_aws import BedrockEmbeddings
c = boto3.client("bedrock-runtime")
out = {}
def invoke(model, body):
    r = c.invoke_model(modelId=model, body=json.dumps(body))
    return json.loads(r["body"].read()), int(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"])
v, n = invoke("amazon.titan-embed-text-v2:0", {"inputText": "Is volume 12 of Frieren in stock?", "dimensions": 256})
out["titan"] = [len(v["embedding"]), v["inputTextTokenCount"], n, len(v["embeddingsByType"]["float"])]
v, n = invoke("cohere.embed-english-v3", {"texts": ["pirate adventure", "quiet cooking"], "input_type": "search_document"})
out["cohere"] = [len(v["embeddings"]), len(v["embeddings"][0]), v["response_type"], n]
lc = BedrockEmbeddings(model_id="amazon.titan-embed-text-v2:0", client=c)
q = lc.embed_query("pirate adventure manga")
docs = BedrockEmbeddings(model_id="cohere.embed-multilingual-v3", client=c).embed_documents(
    ["a long pirate adventure with friends", "quiet cooking stories in a village"])
cos = lambda a, b: sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))
q2 = BedrockEmbeddings(model_id="cohere.embed-multilingual-v3", client=c).embed_query("pirate adventure manga")
out["langchain"] = [len(q), len(docs), cos(q2, docs[0]) > cos(q2, docs[1])]
try:
    invoke("amazon.titan-embed-text-v2:0", {"inputText": "x", "dimensions": 300})
    out["error"] = None
except c.exceptions.ValidationException as e:
    out["error"] = e.response["Error"]["Message"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_langchain_embed_and_every_call_is_priced_per_token() {
    crate::support::require_python(&["boto3", "langchain_aws"]);
    let server = start(settings()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, SCRIPT, &[]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let titan = "amazon.titan-embed-text-v2:0";
    let q = "Is volume 12 of Frieren in stock?";
    assert_eq!(
        v["titan"],
        serde_json::json!([256, count(titan, &[q]), count(titan, &[q]), 256])
    );
    let cohere = "cohere.embed-english-v3";
    assert_eq!(
        v["cohere"],
        serde_json::json!([
            2,
            1024,
            "embeddings_floats",
            count(cohere, &["pirate adventure", "quiet cooking"])
        ])
    );
    assert_eq!(v["langchain"], serde_json::json!([1024, 2, true]));
    let e = v["error"].as_str().unwrap();
    assert!(
        e.contains("#/dimensions: 300 is not a valid enum value"),
        "{e}"
    );
    let calls = server.state().calls();
    // Titan, Cohere, LangChain's query, its two documents in one Cohere call and the second query;
    // the rejected call is not billed.
    assert_eq!(calls.len(), 5, "{calls:#?}");
    let titan_call = &calls[0];
    assert_eq!(titan_call.model_id, titan);
    assert_eq!(
        titan_call.case.as_deref(),
        Some("GD-2"),
        "attributed by the query it embeds"
    );
    assert_eq!(
        titan_call.cost_usd,
        titan_call.input_tokens as f64 * 0.02 / 1e6
    );
    assert!(calls.iter().all(|c| !c.unpriced && c.output_tokens == 0));
    server.shutdown().await.unwrap();
}

/// A multimodal embedding bills its image besides its text tokens; Embed v4 answers keyed by type,
/// which LangChain reads; a latency-optimized Converse call is priced at that tier and says so.
const MORE: &str = r#"
import base64, json
import boto3
from langchain_aws import BedrockEmbeddings
c = boto3.client("bedrock-runtime")
out = {}
png = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                     "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()
r = json.loads(c.invoke_model(modelId="amazon.titan-embed-image-v1",
                              body=json.dumps({"inputText": "pirate", "inputImage": png, "embeddingConfig": {"outputEmbeddingLength": 384}}))["body"].read())
out["image"] = len(r["embedding"])
v4 = BedrockEmbeddings(model_id="cohere.embed-v4:0", client=c).embed_query("pirate adventure")
out["v4"] = len(v4)
r = c.converse(modelId="amazon.nova-pro-v1:0", messages=[{"role": "user", "content": [{"text": "hello there"}]}],
               performanceConfig={"latency": "optimized"})
out["latency"] = r["performanceConfig"]["latency"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_billed_per_image_and_the_latency_tier_is_priced_and_reported() {
    crate::support::require_python(&["boto3", "langchain_aws"]);
    let server = start(settings()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, MORE, &[]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["image"], 384);
    assert_eq!(v["v4"], 1536);
    assert_eq!(v["latency"], "optimized");
    let calls = server.state().calls();
    let image = &calls[0];
    assert_eq!(image.images, 1);
    assert_eq!(
        image.cost_usd,
        image.input_tokens as f64 * 0.80 / 1e6 + 0.00006
    );
    let nova = &calls[2];
    assert_eq!(nova.service_tier.name(), "latency_optimized");
    assert_eq!(
        nova.cost_usd,
        (nova.input_tokens as f64 * 1.00 + nova.output_tokens as f64 * 4.00) / 1e6,
        "Nova Pro's latency-optimized price"
    );
    server.shutdown().await.unwrap();
}
