//! The stand-in's connections: HTTP/1.1 and cleartext HTTP/2 with prior knowledge (the AWS SDK for
//! JavaScript v3's default) on one port, and sockets that send nothing, stall half-way through
//! their headers or sit idle after a request are closed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::standin::*;

const BODY: &str = r#"{"messages": [{"role": "user", "content": [{"text": "Is volume 12 of Frieren in stock?"}]}], "inferenceConfig": {"maxTokens": 20}}"#;

fn curl(url: &str, extra: &[&str]) -> (String, serde_json::Value) {
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "--data",
            BODY,
        ])
        .args(["-w", "\n%{http_version} %{http_code}"])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("{text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (
        status.to_string(),
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_and_h2c_prior_knowledge_share_the_port_and_answer_alike() {
    let server = start(settings()).await;
    let url = format!("{}/model/{OPENAI}/converse", server.url());
    let (u1, (v2, h2)) = tokio::task::spawn_blocking(move || {
        (
            curl(&url, &["--http1.1"]),
            curl(&url, &["--http2-prior-knowledge"]),
        )
    })
    .await
    .unwrap();
    assert_eq!(u1.0, "1.1 200", "{}", u1.1);
    assert_eq!(v2, "2 200", "{h2}");
    assert_eq!(u1.1["usage"], h2["usage"]);
    assert_eq!(
        h2["usage"]["inputTokens"].as_u64().unwrap(),
        count(OPENAI, &["Is volume 12 of Frieren in stock?"])
    );
    assert_eq!(server.state().calls().len(), 2);
}

/// Reads until the server closes the connection (or `limit` passes: then the test fails).
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut got)).await;
    assert!(
        read.is_ok(),
        "the stand-in kept the connection open for {limit:?}"
    );
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_half_sent_and_idle_connections_are_closed() {
    let mut s = settings();
    s.header_read_timeout = Duration::from_millis(300);
    let server = start(s).await;
    let addr = server.addr();
    // Generous limit: the property is that the socket is closed at all, not how fast.
    let limit = Duration::from_secs(20);

    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    closed_within(&mut silent, limit).await;

    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(b"POST /model/openai.gpt-oss-20b-1:0/converse HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    closed_within(&mut half, limit).await;

    // A complete request is answered; the kept-alive connection is then closed when idle.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /model/openai.gpt-oss-20b-1:0/converse HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    idle.write_all(req.as_bytes()).await.unwrap();
    let answer = closed_within(&mut idle, limit).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(server.state().calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_arrive_frame_by_frame_without_a_content_length() {
    let server = start(settings()).await;
    let url = format!("{}/model/{OPENAI}/converse-stream", server.url());
    let body = r#"{"messages": [{"role": "user", "content": [{"text": "Is volume 12 of Frieren in stock?"}]}], "inferenceConfig": {"maxTokens": 200}}"#;
    let mut r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("content-length").is_none(),
        "{:?}",
        r.headers()
    );
    let (mut chunks, mut all) = (0, Vec::new());
    while let Some(c) = r.chunk().await.unwrap() {
        chunks += 1;
        all.extend_from_slice(&c);
    }
    // The prelude's total length says where each frame ends.
    let (mut at, mut frames) = (0, 0);
    while at + 4 <= all.len() {
        at += u32::from_be_bytes([all[at], all[at + 1], all[at + 2], all[at + 3]]) as usize;
        frames += 1;
    }
    assert_eq!(at, all.len());
    assert!(frames >= 5, "{frames} frames");
    assert!(chunks > 1, "the stream came as one chunk");
}
