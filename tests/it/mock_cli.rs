//! `costgate mock` as a process: ready file, record file (one JSONL line per call), config with
//! repository price overrides, graceful shutdown on SIGTERM.

use std::time::{Duration, Instant};

use crate::support::*;

fn wait_for(path: &std::path::Path) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(s) = std::fs::read_to_string(path) {
            return s.trim().to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}

#[test]
fn mock_process_writes_ready_file_records_calls_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden/\npricing: pricing.yaml\nroutes: {default: {model: acme.chat-v1}}\nreasoning: {effort_tokens: {low: 0, medium: 0, high: 0, xhigh: 0, max: 0}}\n",
            ),
            (
                "pricing.yaml",
                "models:\n  acme.chat-v1: {input_per_mtok: 2.0, output_per_mtok: 8.0, tokenizer: o200k_base}\n  openai.gpt-oss-20b-1:0: {input_per_mtok: 1.0}\n",
            ),
            (
                "golden/cases.yaml",
                "- {id: C-1, intent: faq, query: where is my order, output_tokens: 12}\n",
            ),
        ],
    );
    let ready = dir.path().join("ready");
    let record = dir.path().join("calls.jsonl");
    let child = costgate()
        .args(["mock", "--addr", "127.0.0.1:0", "--config"])
        .arg(dir.path().join("costgate.yaml"))
        .arg("--ready-file")
        .arg(&ready)
        .arg("--record")
        .arg(&record)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = wait_for(&ready);
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );

    let body = r#"{"messages":[{"role":"user","content":[{"text":"hi, where is my order"}]}]}"#;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, _, b) = rt.block_on(crate::support::standin::post(
        &format!("http://{addr}/model/openai.gpt-oss-20b-1:0/converse"),
        body,
        &[],
    ));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&b));

    let t = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("served 1 calls"));

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let r = &lines[0];
    let input = costgate::measure::tokenize::Encoding::O200kBase.count("hi, where is my order");
    assert_eq!(
        (
            r["operation"].as_str(),
            r["case"].as_str(),
            r["attribution"].as_str()
        ),
        (Some("Converse"), Some("C-1"), Some("query"))
    );
    assert_eq!(
        (r["input_tokens"].as_u64(), r["output_tokens"].as_u64()),
        (Some(input), Some(12))
    );
    // The repository's override (input $1/Mtok) priced the call, not the built-in price.
    assert_eq!(
        r["cost_usd"].as_f64().unwrap(),
        (input as f64 * 1.0 + 12.0 * 0.3) / 1e6
    );
    assert!(r["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn mock_refuses_a_missing_config_with_exit_2() {
    let (code, _, err) = run(costgate().args(["mock", "--config", "/nonexistent/costgate.yaml"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/costgate.yaml"), "{err}");
}
