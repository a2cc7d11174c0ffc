//! Images and documents through boto3 (every billed input counted): a Converse message
//! with a real PNG, a two-page PDF and a Markdown document, and an Anthropic InvokeModel body with
//! the same image, are billed the providers' published estimates on top of the text, CountTokens
//! agrees with the call, and every such call carries the note that says it is an estimate.

use costgate::measure::cache::Dropped;
use serde_json::Value;

use crate::support::standin::*;

/// Nova Micro takes text only; Lite reads images and documents.
const NOVA: &str = "amazon.nova-lite-v1:0";

/// Runs the calls against `argv[1]` (Converse model) and `argv[2]` (Anthropic model); prints the
/// input tokens each reported.
const CLIENT: &str = r##"
import base64, json, struct, sys, zlib
import boto3
c = boto3.client("bedrock-runtime")
converse_model, claude = sys.argv[1], sys.argv[2]

def png(w, h):
    # A real (all-black, greyscale) PNG, so any decoder would accept it.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + b"\0" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n"
       b"3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n"
       b"4 0 obj << /Type /Page /Parent 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
MD = "# Returns\n\nManga can be returned within 30 days with the receipt."
QUERY = "Is this the cover of volume 12?"

def converse(content):
    messages = [{"role": "user", "content": [{"text": QUERY}] + content}]
    r = c.converse(modelId=converse_model, messages=messages, inferenceConfig={"maxTokens": 20})
    n = c.count_tokens(modelId=converse_model, input={"converse": {"messages": messages}})
    return [r["usage"]["inputTokens"], n["inputTokens"]]

out = {
    "text": converse([]),
    "image": converse([{"image": {"format": "png", "source": {"bytes": png(1000, 1000)}}}]),
    "pdf": converse([{"document": {"format": "pdf", "name": "catalogue", "source": {"bytes": PDF}}}]),
    "md": converse([{"document": {"format": "md", "name": "returns", "source": {"bytes": MD.encode()}}}]),
}

def anthropic(extra):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 20,
            "messages": [{"role": "user", "content": [{"type": "text", "text": QUERY}] + extra}]}
    r = json.loads(c.invoke_model(modelId=claude, body=json.dumps(body))["body"].read())
    return r["usage"]["input_tokens"]

image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(png(200, 200)).decode()}}
out["anthropic"] = [anthropic([]), anthropic([image])]
print(json.dumps(out))
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_and_documents_are_billed_their_published_estimates() {
    crate::support::require_python(&["boto3"]);
    let server = start(settings()).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || {
        crate::support::standin::boto3_script(&url, CLIENT, &[NOVA, HAIKU])
    })
    .await
    .unwrap();
    let out: Value = serde_json::from_str(&out).unwrap();
    let tokens = |k: &str, i: usize| out[k][i].as_u64().unwrap();
    for k in ["text", "image", "pdf", "md"] {
        assert_eq!(
            tokens(k, 0),
            tokens(k, 1),
            "{k}: CountTokens agrees with the call"
        );
    }
    let text = tokens("text", 0);
    // Nova's table: a 1000×1000 image is between 900×900 (1,300) and 1400×900 (1,800); the same
    // image's estimate is what `media` computes, added to the text unchanged.
    let image = tokens("image", 0) - text;
    assert!(1300 < image && image < 1800, "{image}");
    assert_eq!(tokens("pdf", 0) - text, 2 * 1500, "two PDF pages");
    let md = "# Returns\n\nManga can be returned within 30 days with the receipt.";
    assert_eq!(
        tokens("md", 0) - text,
        count(NOVA, &[md]),
        "text documents are text"
    );
    // Anthropic's rule: 200×200 px is ⌈40,000 / 750⌉ = 54 tokens.
    assert_eq!(tokens("anthropic", 1) - tokens("anthropic", 0), 54);

    let calls = server.state().calls();
    let billed: Vec<_> = calls
        .iter()
        .filter(|c| c.operation != "CountTokens")
        .collect();
    assert_eq!(billed.len(), 6);
    let noted = |c: &&costgate::standin::record::CallRecord| {
        c.dropped
            .iter()
            .any(|d| matches!(d, Dropped::MediaEstimated { .. }))
    };
    let with_media: Vec<bool> = billed.iter().map(noted).collect();
    // The Markdown document is text, counted exactly: no estimate, no note.
    assert_eq!(with_media, [false, true, true, false, false, true]);
}
