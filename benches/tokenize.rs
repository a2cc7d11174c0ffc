//! Counting throughput on a mixed multilingual corpus: costgate's tokenizer (bpe-openai) against
//! tiktoken-rs, the Rust port of OpenAI's reference implementation, in one run.
//!
//! Run: `cargo bench --bench tokenize` (see docs/performance.md).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// ~1 MB of text mixing English, Japanese, code, JSON and emoji, built from the token corpus.
fn mixed_corpus() -> String {
    let corpus = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokens/corpus.jsonl"
    ))
    .unwrap();
    let mut pieces = Vec::new();
    for line in corpus.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(t) = v["text"].as_str() {
            pieces.push(t.to_string());
        }
    }
    let mut text = String::new();
    while text.len() < 1_000_000 {
        for p in &pieces {
            text.push_str(p);
            text.push('\n');
        }
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = mixed_corpus();
    let cl100k = tiktoken_rs::cl100k_base().unwrap();
    let o200k = tiktoken_rs::o200k_base().unwrap();
    let mut g = c.benchmark_group("count_mixed_1MB");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(10);
    g.bench_function("costgate_cl100k", |b| {
        b.iter(|| costgate::measure::tokenize::Encoding::Cl100kBase.count(&text))
    });
    g.bench_function("tiktoken_rs_cl100k", |b| {
        b.iter(|| cl100k.encode_ordinary(&text).len())
    });
    g.bench_function("costgate_o200k", |b| {
        b.iter(|| costgate::measure::tokenize::Encoding::O200kBase.count(&text))
    });
    g.bench_function("tiktoken_rs_o200k", |b| {
        b.iter(|| o200k.encode_ordinary(&text).len())
    });
    g.finish();

    let run = "a".repeat(200_000);
    let mut g = c.benchmark_group("count_run_of_a_200KB");
    g.throughput(Throughput::Bytes(run.len() as u64));
    g.sample_size(10);
    g.bench_function("costgate_cl100k", |b| {
        b.iter(|| costgate::measure::tokenize::Encoding::Cl100kBase.count(&run))
    });
    g.bench_function("tiktoken_rs_cl100k", |b| {
        b.iter(|| cl100k.encode_ordinary(&run).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
