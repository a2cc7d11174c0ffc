//! Rerank on the stand-in: bedrock-agent-runtime's `Rerank` through boto3 and LangChain's
//! `BedrockRerank`, and Cohere Rerank 3.5's InvokeModel body; documents sharing the query's words
//! rank first, every run the same; billed per query, once per started 100 documents.

use serde_json::Value;

use crate::support::standin::{boto3_script, settings, start};

const SCRIPT: &str = r#"
import json, os, sys
import boto3
from langchain_aws import BedrockRerank
from langchain_core.documents import Document
URL = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]
agent = boto3.client("bedrock-agent-runtime", endpoint_url=URL)
ARN = "arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0"
docs = ["quiet cooking stories", "Frieren volume 12 is in stock", "a pirate adventure"]
def rerank(texts, n=None, arn=ARN):
    conf = {"modelConfiguration": {"modelArn": arn}}
    if n:
        conf["numberOfResults"] = n
    return agent.rerank(
        queries=[{"type": "TEXT", "textQuery": {"text": "Is volume 12 of Frieren in stock?"}}],
        sources=[{"type": "INLINE", "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": t}}} for t in texts],
        rerankingConfiguration={"type": "BEDROCK_RERANKING_MODEL", "bedrockRerankingConfiguration": conf})["results"]
out = {}
r = rerank(docs, 2)
out["agent"] = [x["index"] for x in r]
out["many"] = len(rerank(["doc %d" % i for i in range(150)]))
# boto3 refuses an empty list before sending it: a raw request reaches the stand-in's own check.
import urllib.request, urllib.error
empty = {"queries": [{"type": "TEXT", "textQuery": {"text": "x"}}], "sources": [],
         "rerankingConfiguration": {"type": "BEDROCK_RERANKING_MODEL", "bedrockRerankingConfiguration": {"modelConfiguration": {"modelArn": ARN}}}}
try:
    urllib.request.urlopen(urllib.request.Request(URL.rstrip("/") + "/rerank", data=json.dumps(empty).encode(),
                                                  headers={"content-type": "application/json"}))
    out["empty"] = None
except urllib.error.HTTPError as e:
    out["empty"] = [e.code, e.headers["x-amzn-errortype"], json.load(e)["message"]]
lc = BedrockRerank(model_arn=ARN, client=agent, top_n=1)
picked = lc.compress_documents([Document(page_content=t) for t in docs], "Is volume 12 of Frieren in stock?")
out["langchain"] = picked[0].page_content
rt = boto3.client("bedrock-runtime")
body = {"query": "pirate adventure", "documents": docs, "top_n": 1, "api_version": 2}
r = json.loads(rt.invoke_model(modelId="cohere.rerank-v3-5:0", body=json.dumps(body))["body"].read())
out["cohere"] = [x["index"] for x in r["results"]]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerank_ranks_by_shared_words_and_bills_per_hundred_documents() {
    crate::support::require_python(&["boto3", "langchain_aws"]);
    let server = start(settings()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || boto3_script(&url, SCRIPT, &[]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["agent"], serde_json::json!([1, 0]));
    assert_eq!(v["many"], 150);
    assert_eq!(v["empty"][0], 400);
    assert_eq!(v["empty"][1], "ValidationException");
    assert!(v["empty"][2].as_str().unwrap().contains("'sources'"), "{v}");
    assert_eq!(v["langchain"], "Frieren volume 12 is in stock");
    assert_eq!(v["cohere"], serde_json::json!([2]));
    let calls = server.state().calls();
    let billed: Vec<(&str, u64, f64)> = calls
        .iter()
        .map(|c| (c.operation, c.queries, c.cost_usd))
        .collect();
    assert_eq!(
        billed,
        [
            ("Rerank", 1, 0.001),
            ("Rerank", 2, 0.002),
            ("Rerank", 1, 0.001),
            ("InvokeModel", 1, 0.002)
        ],
        "Amazon Rerank $1.00 and Cohere Rerank 3.5 $2.00 per 1,000 queries"
    );
    assert_eq!(
        calls[0].case.as_deref(),
        Some("GD-2"),
        "attributed by the query"
    );
    server.shutdown().await.unwrap();
}
