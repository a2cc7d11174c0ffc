//! Knowledge bases on the stand-in: boto3's bedrock-agent-runtime `retrieve` and
//! `retrieve_and_generate` over the base's local corpus, as a harness reaches them with
//! `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME`; the generation is priced as the model's call.

use serde_json::Value;

use crate::support::*;

const APP: &str = r#"
import json, os
import boto3
kb = boto3.client("bedrock-agent-runtime")
seen = {}
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    hdr = lambda params, **kw: params["headers"].__setitem__("x-costgate-case", case["id"])
    kb.meta.events.register("before-call.bedrock-agent-runtime.*", hdr)
    r = kb.retrieve(knowledgeBaseId="KB12345678", retrievalQuery={"text": case["query"]},
                    retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": 2}})
    top = r["retrievalResults"][0]
    g = kb.retrieve_and_generate(input={"text": case["query"]}, retrieveAndGenerateConfiguration={
        "type": "KNOWLEDGE_BASE", "knowledgeBaseConfiguration": {"knowledgeBaseId": "KB12345678",
        "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0"}})
    seen[case["id"]] = [top["location"]["s3Location"]["uri"], len(r["retrievalResults"]), g["output"]["text"] != "",
                        g["citations"][0]["retrievedReferences"][0]["location"]["s3Location"]["uri"]]
    kb.meta.events.unregister("before-call.bedrock-agent-runtime.*", hdr)
json.dump(seen, open("seen.json", "w"))
"#;

#[test]
fn retrieve_answers_from_the_local_corpus_and_generation_is_priced() {
    require_python(&["boto3"]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nmode: harness\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 60\nknowledge_bases:\n  KB12345678: {documents: kb/}\n",
            ),
            (
                "golden.yaml",
                "- {id: K-1, intent: faq, query: How many volumes does One Piece have?, output_tokens: 40}\n- {id: K-2, intent: faq, query: Is Frieren a quiet fantasy?, output_tokens: 40}\n",
            ),
            (
                "kb/one-piece.md",
                "# One Piece\n\nOne Piece has 109 volumes: a pirate adventure across the Grand Line.\n\nLuffy wants to become King of the Pirates.\n",
            ),
            (
                "kb/frieren.md",
                "# Frieren\n\nFrieren is a quiet fantasy about an elf mage who outlives her party.\n",
            ),
            ("app.py", APP),
        ],
    );
    let out = dir.path().join("out");
    let (code, stdout, err) = run(costgate()
        .args(["run", "--format", "json", "--dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    let seen: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("seen.json")).unwrap())
            .unwrap();
    assert_eq!(
        seen["K-1"],
        serde_json::json!([
            "s3://costgate-knowledge-base/kb/one-piece.md",
            2,
            true,
            "s3://costgate-knowledge-base/kb/one-piece.md"
        ])
    );
    assert_eq!(seen["K-2"][0], "s3://costgate-knowledge-base/kb/frieren.md");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let k1 = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "K-1")
        .unwrap();
    // Retrieve is free; the generation is one Nova Micro call of the case's 40 output tokens.
    assert_eq!(k1["calls"], 2, "{k1}");
    assert_eq!(k1["output_tokens"], 40);
    let records = std::fs::read_to_string(out.join("calls-tree.jsonl")).unwrap();
    let generated: Value = records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["operation"] == "RetrieveAndGenerate" && r["case"] == "K-1")
        .unwrap();
    let price = costgate::measure::pricing::PricingTable::builtin()
        .resolve("amazon.nova-micro-v1:0")
        .unwrap()
        .price;
    assert_eq!(
        generated["cost_usd"].as_f64().unwrap(),
        price.cost(generated["input_tokens"].as_u64().unwrap(), 40)
    );
    assert!(
        generated["segments"]["system"].as_u64().unwrap() > 20,
        "the retrieved chunks are input: {generated}"
    );

    // A knowledge base the base does not declare is named; a missing directory is a config error.
    write_tree(
        dir.path(),
        &[(
            "costgate.yaml",
            "version: 1\ngolden: golden.yaml\nmode: harness\nharness:\n  command: [\"python3\", \"app.py\"]\nknowledge_bases:\n  KB12345678: {documents: nowhere/}\n",
        )],
    );
    let (code, _, err) = run(costgate().args(["run", "--dir"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("knowledge base `KB12345678`") && err.contains("nowhere/"),
        "{err}"
    );
}
