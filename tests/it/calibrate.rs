//! `costgate calibrate` on generated Bedrock invocation logs whose true production/offline ratio,
//! correlation and output lengths are known, in plain and gzip files with malformed lines; and
//! render mode using the calibration it writes.

use std::io::Write;
use std::path::Path;

use costgate::measure::tokenize::Encoding;

use crate::support::*;

const WORDS: &[&str] = &[
    "manga",
    "volume",
    "おすすめ",
    "冒険",
    "shipping",
    "refund",
    "the",
    "latest",
    "series",
    "キャラクター",
    "price",
    "¥528",
    "ending",
    "spoilers",
    "please",
    "ワンピース",
];
const SYSTEM: &str =
    "You are MangaAssist, the shopping assistant of a manga store. Answer briefly and politely.";

/// xorshift64*: deterministic noise without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

struct Generated {
    lines: Vec<String>,
    /// (offline, production) per model, computed here independently of costgate's calibrate code.
    claude: (Vec<f64>, Vec<f64>),
    nova: (Vec<f64>, Vec<f64>),
}

/// Claude (Anthropic InvokeModel body) at true ratio 1.25, Nova (Converse body, through a `us.`
/// inference profile) at 0.9, each with ±5% uniform noise; recommendation answers 180..=260 tokens,
/// faq answers 40..=80.
fn generate(n: usize, claude_ratio: f64) -> Generated {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut g = Generated {
        lines: Vec::new(),
        claude: (vec![], vec![]),
        nova: (vec![], vec![]),
    };
    for i in 0..n {
        let words = rng.range(3, 300) as usize;
        let query: Vec<&str> = (0..words)
            .map(|_| WORDS[rng.range(0, WORDS.len() as u64 - 1) as usize])
            .collect();
        let query = query.join(" ");
        let offline = Encoding::ClaudeApprox.count(SYSTEM) + Encoding::ClaudeApprox.count(&query);
        let claude = i % 2 == 0;
        let ratio = if claude { claude_ratio } else { 0.9 };
        let prod = (offline as f64 * ratio * (1.0 + (rng.unit() - 0.5) * 0.1)).round();
        let (intent, out) = if i % 3 == 0 {
            ("faq", rng.range(40, 80))
        } else {
            ("recommendation", rng.range(180, 260))
        };
        let (model, body) = if claude {
            (
                "anthropic.claude-3-haiku-20240307-v1:0",
                serde_json::json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 400, "system": SYSTEM, "messages": [{"role": "user", "content": [{"type": "text", "text": query}]}]}),
            )
        } else {
            (
                "us.amazon.nova-lite-v1:0",
                serde_json::json!({"system": [{"text": SYSTEM}], "messages": [{"role": "user", "content": [{"text": query}]}], "inferenceConfig": {"maxTokens": 400}}),
            )
        };
        let series = if claude { &mut g.claude } else { &mut g.nova };
        series.0.push(offline as f64);
        series.1.push(prod);
        let rec = serde_json::json!({
            "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
            // One invocation a minute from 2026-11-20T00:00Z.
            "timestamp": format!("2026-11-{:02}T{:02}:{:02}:00Z", 20 + i / 1440, (i % 1440) / 60, i % 60),
            "accountId": "123456789012", "region": "us-east-1", "requestId": format!("req-{i}"),
            "operation": if claude { "InvokeModel" } else { "Converse" }, "modelId": model,
            "requestMetadata": {"intent": intent, "session": format!("s-{i}")},
            "input": {"inputContentType": "application/json", "inputBodyJson": body, "inputTokenCount": prod as u64},
            "output": {"outputContentType": "application/json", "outputTokenCount": out}
        });
        g.lines.push(rec.to_string());
    }
    g
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx.sqrt() * vy.sqrt())
}

fn within(actual: f64, expected: f64, rel: f64) -> bool {
    ((actual - expected) / expected).abs() <= rel
}

/// Writes the first two thirds plain (with malformed lines at known places and a CloudWatch
/// timestamp prefix), the rest gzip'd. Returns the paths and the malformed line numbers.
fn write_logs(dir: &Path, g: &Generated) -> (Vec<std::path::PathBuf>, Vec<String>) {
    let split = g.lines.len() * 2 / 3;
    let mut plain = String::new();
    let mut bad = Vec::new();
    let mut line = 0;
    for (i, l) in g.lines[..split].iter().enumerate() {
        if i == 10 {
            line += 1;
            plain.push_str("{\"schemaType\":\"ModelInvocationLog\",\"modelId\":\"anthropic.claude-3-haiku-20240307-v1:0\",\"input\":{\"inputTokenCount\":12}}\n");
            bad.push(format!("plain.jsonl:{line}"));
        }
        if i == 500 {
            line += 1;
            let mut cut = l.len() / 2;
            while !l.is_char_boundary(cut) {
                cut -= 1;
            }
            plain.push_str(&l[..cut]); // truncated mid-record
            plain.push('\n');
            bad.push(format!("plain.jsonl:{line}"));
        }
        line += 1;
        if i == 20 {
            plain.push_str("2026-11-20T23:00:17.000Z ");
        }
        plain.push_str(l);
        plain.push('\n');
    }
    let p1 = dir.join("plain.jsonl");
    std::fs::write(&p1, plain).unwrap();
    let p2 = dir.join("s3-delivery.json.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p2).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(b"garbage that is not json\n").unwrap();
    for l in &g.lines[split..] {
        gz.write_all(l.as_bytes()).unwrap();
        gz.write_all(b"\n").unwrap();
    }
    gz.finish().unwrap();
    bad.push("s3-delivery.json.gz:1".into());
    (vec![p1, p2], bad)
}

fn calibrate(dir: &Path, logs: &[std::path::PathBuf], today: &str) -> serde_json::Value {
    let mut cmd = costgate();
    cmd.args(["calibrate", "--format", "json", "--dir"])
        .arg(dir)
        .arg("--logs")
        .args(logs)
        .env("COSTGATE_TODAY", today);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn calibrate_recovers_known_ratio_correlation_and_lengths_from_plain_and_gzip_logs() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(3000, 1.25);
    let (logs, bad) = write_logs(dir.path(), &g);
    let v = calibrate(dir.path(), &logs, "2026-11-01");

    assert_eq!(v["records_used"], 3000, "{v}");
    // One a minute is 1,440 a day, 43,830 in an average month; a third of them faq.
    let t = &v["traffic"];
    assert_eq!(t["requests_per_month"], 43_830, "{t}");
    assert_eq!(t["invocations"], 3000);
    assert_eq!(
        t["intent_share"],
        serde_json::json!({"faq": 0.3333, "recommendation": 0.6667})
    );
    let malformed: Vec<&str> = v["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["at"].as_str().unwrap())
        .collect();
    let malformed: Vec<String> = malformed
        .iter()
        .map(|m| {
            Path::new(m)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(malformed, bad);

    let claude = &v["models"]["anthropic.claude-3-haiku-20240307-v1:0"];
    let nova = &v["models"]["amazon.nova-lite-v1:0"];
    eprintln!(
        "measured: claude ratio {} (true 1.25) r {} (data {:.4}); nova ratio {} (true 0.9) r {} (data {:.4}); recommendation out p50 {} (true 220)",
        claude["ratio_median"],
        claude["pearson_r"],
        pearson(&g.claude.0, &g.claude.1),
        nova["ratio_median"],
        nova["pearson_r"],
        pearson(&g.nova.0, &g.nova.1),
        v["intents"]["recommendation"]["output"]["p50"]
    );
    assert!(
        within(claude["ratio_median"].as_f64().unwrap(), 1.25, 0.01),
        "{claude}"
    );
    assert!(
        within(nova["ratio_median"].as_f64().unwrap(), 0.9, 0.01),
        "{nova}"
    );
    assert!(
        within(
            claude["pearson_r"].as_f64().unwrap(),
            pearson(&g.claude.0, &g.claude.1),
            0.01
        ),
        "{claude}"
    );
    assert!(
        within(
            nova["pearson_r"].as_f64().unwrap(),
            pearson(&g.nova.0, &g.nova.1),
            0.01
        ),
        "{nova}"
    );
    // p90 of a ±5% uniform noise around the ratio: 1.25 × 1.04.
    assert!(
        within(claude["ratio_p90"].as_f64().unwrap(), 1.25 * 1.04, 0.01),
        "{claude}"
    );
    assert!(
        within(
            v["intents"]["recommendation"]["output"]["p50"]
                .as_f64()
                .unwrap(),
            220.0,
            0.01
        ),
        "{v}"
    );
    assert!(
        within(
            v["intents"]["faq"]["output"]["p50"].as_f64().unwrap(),
            60.0,
            0.02
        ),
        "{v}"
    );
    assert_eq!(v["intents"]["faq"]["output"]["min"], 40);
    assert_eq!(v["intents"]["faq"]["output"]["max"], 80);
    assert!(v["flags"].as_array().unwrap().is_empty());

    let file = std::fs::read_to_string(dir.path().join("costgate/calibration.yaml")).unwrap();
    assert!(
        file.contains("calibrated_on: \"2026-11-01\"\nrecords: 3000\n"),
        "{file}"
    );
    assert!(
        file.contains("\"anthropic.claude-3-haiku-20240307-v1:0\": {token_scale: 1.2"),
        "{file}"
    );

    // A month later production counts 40% more for Claude: flagged as a >20% move.
    let g2 = generate(600, 1.25 * 1.4);
    let (logs2, _) = write_logs(dir.path(), &g2);
    let v2 = calibrate(dir.path(), &logs2, "2026-12-01");
    let flags: Vec<&str> = v2["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        flags.iter().any(|f| f
            .starts_with("model anthropic.claude-3-haiku-20240307-v1:0: ratio 1.2")
            && f.contains("since the calibration of 2026-11-01")),
        "{flags:?}"
    );
    assert!(!flags.iter().any(|f| f.contains("nova")), "{flags:?}");
}

#[test]
fn calibrate_with_only_bad_records_is_a_usage_error_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.jsonl");
    std::fs::write(&p, "nope\n{\"modelId\": \"m\"}\n").unwrap();
    let (code, _, err) = run(costgate()
        .args(["calibrate", "--dir"])
        .arg(dir.path())
        .arg("--logs")
        .arg(&p));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no usable invocation-log records in 1 file(s): 2 malformed")
            && err.contains("bad.jsonl:1"),
        "{err}"
    );
}

#[test]
fn calibrate_reads_the_aws_example_records() {
    let p = repo_root().join("tests/fixtures/aws/invocation-log.example.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let v = calibrate(dir.path(), &[p], "2026-11-01");
    assert_eq!(v["records_used"], 2);
    assert_eq!(v["intents"]["faq"]["output"]["p50"], 61);
    assert_eq!(
        v["models"]["anthropic.claude-3-haiku-20240307-v1:0"]["samples"],
        1
    );
}

#[test]
fn render_mode_uses_the_calibrated_scale_and_output_length() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                "version: 1\nroutes:\n  default:\n    model: anthropic.claude-3-haiku-20240307-v1:0\n",
            ),
            (
                "golden/g.yaml",
                "- id: A\n  intent: faq\n  query: \"How much is shipping to Osaka for three volumes of One Piece?\"\n",
            ),
        ],
    );
    let price = || {
        let (code, out, err) = run(costgate()
            .args(["run", "--format", "json", "--dir"])
            .arg(dir.path()));
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (
            v["cases"][0]["input_tokens"].as_u64().unwrap(),
            v["cases"][0]["output_tokens"].as_u64().unwrap(),
        )
    };
    let (raw_in, out) = price();
    assert_eq!(out, 150, "the default output length without calibration");
    write_tree(
        dir.path(),
        &[(
            "costgate/calibration.yaml",
            "calibrated_on: \"2026-11-01\"\nrecords: 9\nmodels:\n  \"anthropic.claude-3-haiku-20240307-v1:0\": {token_scale: 1.25, ratio_p90: 1.3, samples: 9}\nintents:\n  \"faq\": {output_tokens: 61, ratio_median: 1.25, samples: 9}\n",
        )],
    );
    let (scaled_in, out) = price();
    assert_eq!(out, 61);
    assert_eq!(scaled_in, (raw_in as f64 * 1.25).round() as u64);
    // A broken calibration file is a configuration error naming it.
    write_tree(
        dir.path(),
        &[(
            "costgate/calibration.yaml",
            "calibrated_on: x\nrecords: 1\nmodels: {}\nintents: {}\nextra: 1\n",
        )],
    );
    let (code, _, err) = run(costgate().args(["run", "--dir"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("costgate/calibration.yaml") && err.contains("extra"),
        "{err}"
    );
}

#[test]
fn calibrate_reports_the_production_cache_share_beside_the_offline_one() {
    let dir = tempfile::tempdir().unwrap();
    // Offline: three cases sharing a cached system prompt of a model with cache prices.
    let system = "You are MangaAssist, the helpful assistant of a manga store. Answer briefly.";
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nroutes: routes.yaml\npricing: pricing.yaml\n",
            ),
            // The built-in minimum (2,048 tokens) is longer than this test's system prompt.
            (
                "pricing.yaml",
                "models:\n  anthropic.claude-3-5-haiku-20241022-v1:0: {min_cache_tokens: 1}\n",
            ),
            (
                "routes.yaml",
                "chat:\n  model: anthropic.claude-3-5-haiku-20241022-v1:0\n  system: system.j2\n  cache: system\n  output_tokens: 10\n",
            ),
            ("system.j2", system),
            (
                "golden.yaml",
                "- {id: A, intent: chat, query: one}\n- {id: B, intent: chat, query: two}\n- {id: C, intent: chat, query: three}\n",
            ),
        ],
    );
    // Production: 100 uncached + 900 read + 0 written, then 100 uncached + 0 read + 900 written.
    let line = |read: u64, write: u64| {
        serde_json::json!({"schemaType": "ModelInvocationLog", "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
            "input": {"inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "hello there"}]}]},
                      "inputTokenCount": 100, "cacheReadInputTokenCount": read, "cacheWriteInputTokenCount": write},
            "output": {"outputTokenCount": 5}})
        .to_string()
    };
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, format!("{}\n{}\n", line(900, 0), line(0, 900))).unwrap();
    let v = calibrate(dir.path(), &[logs], "2026-12-02");
    assert_eq!(v["cache"]["production_read_share"], 0.45);
    assert_eq!(v["cache"]["production_write_share"], 0.45);
    // The production ratio compares all input (cached included) with the offline count.
    let m = &v["models"]["anthropic.claude-3-5-haiku-20241022-v1:0"];
    assert_eq!(m["production_mean"], 1000.0);
    let read = v["cache"]["offline_read_share"].as_f64().unwrap();
    let sys = costgate::measure::tokenize::Encoding::ClaudeApprox.count(system) as f64;
    let q = |s: &str| costgate::measure::tokenize::Encoding::ClaudeApprox.count(s) as f64;
    let total = 3.0 * sys + q("one") + q("two") + q("three");
    assert_eq!(read, 3.0 * sys / total);
    assert_eq!(v["cache"]["offline_write_share"], 0.0);
}

/// Logged requests with a thinking budget and their output bodies: the share each spent is its
/// output less its answer over its budget; logged steps give their median length. Logs without
/// output bodies say why there is no share.
#[test]
fn calibrate_proposes_the_budget_share_and_step_lengths_from_logs() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nroutes: routes.yaml\n",
            ),
            ("routes.yaml", "default:\n  model: openai.gpt-oss-20b-1:0\n"),
            ("golden.yaml", "- {id: A, intent: chat, query: one}\n"),
        ],
    );
    let answer = "Try Frieren: a quiet fantasy about time and friendship.";
    let o200k = costgate::measure::tokenize::Encoding::O200kBase;
    let answer_tokens = o200k.count(answer);
    // Logged input as costgate counts it, so the calibrated scale is 1.
    let gpt = costgate::measure::pricing::PricingTable::builtin()
        .resolve("openai.gpt-oss-20b-1:0")
        .unwrap()
        .price;
    let input =
        |text: &str| o200k.count(text) + gpt.message_overhead_tokens + gpt.request_overhead_tokens;
    // Claude-shaped output bodies on gpt-oss (exact tokenizer): reasoning is output − answer.
    let line = |intent: &str, budget: u64, reasoning: u64, body: bool| {
        let mut out = serde_json::json!({"outputTokenCount": reasoning + answer_tokens});
        if body {
            out["outputBodyJson"] = serde_json::json!({"content": [
                {"type": "thinking", "thinking": "hidden", "signature": "x"},
                {"type": "text", "text": answer}]});
        }
        serde_json::json!({"schemaType": "ModelInvocationLog", "modelId": "openai.gpt-oss-20b-1:0",
            "requestMetadata": {"intent": intent},
            "input": {"inputBodyJson": {"thinking": {"type": "enabled", "budget_tokens": budget},
                      "messages": [{"role": "user", "content": "hello there"}]}, "inputTokenCount": input("hello there")},
            "output": out})
        .to_string()
    };
    let step = |name: &str, out: u64| {
        serde_json::json!({"schemaType": "ModelInvocationLog", "modelId": "openai.gpt-oss-20b-1:0",
            "requestMetadata": {"intent": "chat", "costgate_step": name},
            "input": {"inputBodyJson": {"messages": [{"role": "user", "content": "rewrite it"}]}, "inputTokenCount": input("rewrite it")},
            "output": {"outputTokenCount": out}})
        .to_string()
    };
    let logs = dir.path().join("logs.jsonl");
    let lines = [
        line("chat", 4000, 1000, true),
        line("chat", 4000, 3000, true),
        line("chat", 4000, 2000, true),
        line("faq", 2000, 200, true),
        line("faq", 2000, 900, false),
        step("condense", 18),
        step("condense", 22),
        step("condense", 20),
    ];
    std::fs::write(&logs, lines.join("\n") + "\n").unwrap();
    let v = calibrate(dir.path(), std::slice::from_ref(&logs), "2026-12-06");
    let r = &v["reasoning"];
    assert_eq!(
        (r["with_budget"].as_u64(), r["separable"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(r["by_intent"]["chat"]["share"], 0.5);
    assert_eq!(r["by_intent"]["faq"]["share"], 0.1);
    assert_eq!(
        r["overall"]["share"], 0.25,
        "nearest-rank median of 0.1, 0.25, 0.5, 0.75"
    );
    assert_eq!(v["steps"]["condense"]["output_tokens"], 20);

    let mut cmd = costgate();
    cmd.args(["calibrate", "--dir"])
        .arg(dir.path())
        .arg("--logs")
        .arg(&logs)
        .env("COSTGATE_TODAY", "2026-12-06");
    let (code, text, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("reasoning: {budget_share: 0.25}"), "{text}");
    assert!(text.contains("condense: {output_tokens: 20}"), "{text}");

    std::fs::write(&logs, line("faq", 2000, 900, false) + "\n").unwrap();
    let mut cmd = costgate();
    cmd.args(["calibrate", "--dir"])
        .arg(dir.path())
        .arg("--logs")
        .arg(&logs)
        .env("COSTGATE_TODAY", "2026-12-06");
    let (code, text, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("cannot be told apart from the answer"),
        "{text}"
    );
}
