//! The ceiling for the stand-in's load numbers: a bare hyper server on hyper-util's auto builder
//! (HTTP/1.1 and cleartext HTTP/2 on one port, as the stand-in serves) that reads each request
//! body to its end and answers with a fixed JSON body of the size of the stand-in's Converse answer.
//! `scripts/bench-h2load` runs h2load against it and against `costgate mock` in the same run
//! (docs/performance-mock.md). Run alone: `cargo bench --bench echo_ceiling -- --serve ADDR`.
//! Without `--serve` (as `cargo test` runs it) it answers one request on a free port and exits.

use std::convert::Infallible;
use std::io::{Read, Write};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;

/// About the size of the stand-in's Converse response with a 150-token answer.
const ANSWER_BYTES: usize = 1_000;

async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _ = req.into_body().collect().await;
    let text = "x".repeat(ANSWER_BYTES - 60);
    let body = format!("{{\"output\":{{\"message\":{{\"content\":[{{\"text\":\"{text}\"}}]}}}}}}");
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default())
}

async fn serve(listener: tokio::net::TcpListener) {
    let builder = Builder::new(TokioExecutor::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(echo);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .iter()
        .position(|a| a == "--serve")
        .and_then(|i| args.get(i + 1).cloned());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match addr {
        Some(addr) => rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
            eprintln!("echo_ceiling: serving on {addr}");
            serve(listener).await;
        }),
        None => {
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("bind");
            let port = listener.local_addr().expect("addr").port();
            rt.spawn(serve(listener));
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            s.write_all(
                b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
            )
            .expect("write");
            let mut out = String::new();
            s.read_to_string(&mut out).expect("read");
            assert!(out.starts_with("HTTP/1.1 200"), "{out}");
            println!("echo_ceiling: smoke request answered ({} bytes)", out.len());
        }
    }
}
