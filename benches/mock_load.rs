//! Load benchmark of the Bedrock stand-in on loopback: Converse requests with ~2 KB prompts from
//! 64 concurrent keep-alive connections, exact counting and JSONL recording on. Prints requests/s
//! and latency percentiles (docs/performance-mock.md records the numbers and the method).
//!
//! `cargo bench --bench mock_load` runs for 15 s after a 3 s warm-up; under `cargo test` (no
//! `--bench` argument) it runs a short smoke round so the suite stays fast.
//!
//! `MOCK_LOAD_OP=embedding|rerank|openai` sends the same ~2 KB of text as a Titan Text Embeddings
//! v2 InvokeModel body, as the documents of a bedrock-agent-runtime `Rerank` (one per line), or as
//! an OpenAI-compatible chat completion on gpt-oss (reasoning effort low), instead of Converse.
//!
//! `MOCK_LOAD_REASONING=off|on` asks Claude Sonnet 4.5 instead, without or with a thinking budget
//! of 2,048 tokens (1,024 reasoning tokens at the default share, answered as a signed reasoning
//! block before the answer): the pair measures what reasoning costs the stand-in per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use costgate::measure::pricing::PricingTable;
use costgate::standin::{Server, Settings};

const CONNECTIONS: usize = 64;
const MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn prompt(i: usize) -> String {
    let mut s =
        format!("Customer #{i} asks: ワンピースみたいな冒険マンガを教えて. Catalogue excerpts:\n");
    let mut n = 0;
    while s.len() < 2000 {
        s.push_str(&format!(
            "- Title {n}: a long-running adventure series with {} volumes, pirates, friendship and a huge world.\n",
            10 + n * 7
        ));
        n += 1;
    }
    s
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    let idx = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[idx.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (warmup, measure) = if full {
        (Duration::from_secs(3), Duration::from_secs(15))
    } else {
        (Duration::from_millis(200), Duration::from_millis(500))
    };
    let record = tempfile::NamedTempFile::new().unwrap();

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut settings = Settings::new(PricingTable::builtin());
    settings.record = Some(record.path().to_path_buf());
    // MOCK_LOAD_QUERY=1: no tags, every call attributed by searching the 328 golden queries.
    let by_query = std::env::var("MOCK_LOAD_QUERY").is_ok_and(|v| v == "1");
    if by_query {
        let root = env!("CARGO_MANIFEST_DIR");
        let tree = costgate::infra::tree::DirTree::new(root, root);
        let ds = costgate::measure::dataset::Dataset::load(&tree, "golden").unwrap();
        settings.cases = ds.cases.into_iter().map(|c| c.case).collect();
    }
    let server = server_rt
        .block_on(Server::start("127.0.0.1:0", settings))
        .unwrap();
    // MOCK_LOAD_REASONING=off|on: Sonnet 4.5, without or with a thinking budget.
    let reasoning = std::env::var("MOCK_LOAD_REASONING").ok();
    let model = match reasoning.as_deref() {
        Some(_) => "anthropic.claude-sonnet-4-5-20250929-v1:0",
        None => MODEL,
    };
    let thinking = reasoning.as_deref() == Some("on");
    let op = std::env::var("MOCK_LOAD_OP").unwrap_or_else(|_| "converse".into());
    let url = Arc::new(match op.as_str() {
        "embedding" => format!("{}/model/amazon.titan-embed-text-v2:0/invoke", server.url()),
        "rerank" => format!("{}/rerank", server.url()),
        "openai" => format!("{}/openai/v1/chat/completions", server.url()),
        _ => format!("{}/model/{model}/converse", server.url()),
    });

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..256)
            .map(|i| {
                match op.as_str() {
                    "embedding" => {
                        return serde_json::to_vec(&serde_json::json!({"inputText": prompt(i), "dimensions": 1024})).unwrap();
                    }
                    "rerank" => {
                        let sources: Vec<serde_json::Value> = prompt(i)
                            .lines()
                            .map(|l| serde_json::json!({"type": "INLINE", "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": l}}}))
                            .collect();
                        return serde_json::to_vec(&serde_json::json!({
                            "queries": [{"type": "TEXT", "textQuery": {"text": "a pirate adventure with friendship"}}],
                            "sources": sources,
                            "rerankingConfiguration": {"type": "BEDROCK_RERANKING_MODEL", "bedrockRerankingConfiguration": {
                                "modelConfiguration": {"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0"}}}
                        })).unwrap();
                    }
                    "openai" => {
                        return serde_json::to_vec(&serde_json::json!({
                            "model": "openai.gpt-oss-120b-1:0",
                            "messages": [{"role": "system", "content": "You are MangaAssist, a helpful manga shop assistant."},
                                         {"role": "user", "content": prompt(i)}],
                            "max_completion_tokens": 2000,
                            "reasoning_effort": "low"
                        })).unwrap();
                    }
                    _ => {}
                }
                let mut body = serde_json::json!({
                    "system": [{"text": "You are MangaAssist, a helpful manga shop assistant."}],
                    "messages": [{"role": "user", "content": [{"text": prompt(i)}]}],
                    "inferenceConfig": {"maxTokens": if reasoning.is_some() { 4096 } else { 300 }}
                });
                if thinking {
                    body["additionalModelRequestFields"] =
                        serde_json::json!({"thinking": {"type": "enabled", "budget_tokens": 2048}});
                }
                serde_json::to_vec(&body).unwrap()
            })
            .collect(),
    );
    let body_len = bodies[0].len();
    let (latencies, elapsed) = client_rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap();
        let start = Instant::now();
        let (warm_end, end) = (start + warmup, start + warmup + measure);
        let mut tasks = Vec::new();
        for c in 0..CONNECTIONS {
            let (client, url, bodies) = (client.clone(), url.clone(), bodies.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = c;
                loop {
                    let t = Instant::now();
                    if t >= end {
                        break;
                    }
                    let mut req = client
                        .post(url.as_str())
                        .header("content-type", "application/json");
                    if !by_query {
                        req = req.header("x-costgate-case", "BENCH");
                    }
                    let resp = req
                        .body(bodies[i % bodies.len()].clone())
                        .send()
                        .await
                        .expect("request");
                    assert!(resp.status().is_success());
                    let _ = resp.bytes().await.expect("body");
                    if t >= warm_end {
                        lat.push(t.elapsed().as_micros() as u32);
                    }
                    i += CONNECTIONS;
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (all, measure)
    });
    server_rt.block_on(server.shutdown()).unwrap();
    let recorded = std::fs::read_to_string(record.path())
        .unwrap()
        .lines()
        .count();
    let mut lat = latencies;
    lat.sort_unstable();
    let cpu = process_cpu_seconds();
    let rps = lat.len() as f64 / elapsed.as_secs_f64();
    println!(
        "mock_load ({op}, {} attribution{}): {} connections, {body_len}-byte bodies, {} requests measured in {:.1}s: {rps:.0} req/s, latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {recorded} calls recorded; process CPU {:.1} µs per request (warm-up included)",
        if by_query { "query" } else { "header" },
        match reasoning.as_deref() {
            Some("on") => ", Sonnet 4.5 with a 2,048-token thinking budget",
            Some(_) => ", Sonnet 4.5 without reasoning",
            None => "",
        },
        CONNECTIONS,
        lat.len(),
        elapsed.as_secs_f64(),
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
        *lat.last().unwrap_or(&0) as f64 / 1000.0,
        cpu / recorded.max(1) as f64 * 1e6,
    );
    assert!(recorded >= lat.len(), "every call is recorded");
}

/// User and system CPU time of this process so far (server and load generator), in seconds.
fn process_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
