//! The Bedrock Runtime stand-in (`costgate mock`, docs/harness.md): an HTTP server that answers
//! Converse, ConverseStream, InvokeModel (every body family), InvokeModelWithResponseStream and
//! CountTokens the way Bedrock does, with usage counted by [`crate::measure::tokenize`] and priced by
//! [`crate::measure::pricing`], the same code render mode uses. Harness mode runs one in-process per side.

pub mod answer;
pub mod attribution;
mod call;
mod control;
pub mod embed;
pub mod error;
pub mod eventstream;
pub mod guardrail;
mod handler;
pub mod knowledge;
pub mod media;
pub mod openai;
pub mod reasoning;
pub mod record;
pub mod request;
pub mod rerank;
pub mod response;
mod retrieval;
pub mod script;
mod service;
pub mod setup;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::measure::dataset::Case;
use crate::measure::guardrails::Guardrails;
use crate::measure::pricing::PricingTable;
use crate::measure::reasoning::ReasoningPolicy;
use crate::measure::steps::Steps;
use attribution::CaseIndex;
use error::BedrockError;
use record::{CallRecord, Recorder};

/// Default request-body cap: Bedrock's own limit for InvokeModel bodies is of this order.
pub const DEFAULT_MAX_BODY: usize = 25 * 1024 * 1024;

/// Header a harness can set to attribute a call to a case.
pub const CASE_HEADER: &str = "x-costgate-case";

/// Header a harness can set to name a call's step (docs/harness.md#steps).
pub const STEP_HEADER: &str = "x-costgate-step";

/// Without a dataset any id names a case (plain `costgate mock`): per-case state (progress,
/// announcements, metrics) then keeps at most this many ids, so a client inventing ids cannot
/// grow the server without bound. With a dataset, its ids are the bound.
pub const MAX_UNLISTED_CASES: usize = 10_000;

/// How the stand-in is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub pricing: PricingTable,
    /// Golden cases, for attribution by query and for each case's output length.
    pub cases: Vec<Case>,
    /// Calibrated answer length per intent (`costgate calibrate`); render mode's default otherwise.
    pub output_by_intent: BTreeMap<String, u64>,
    /// How many tokens a reasoning setting spends (the base's `reasoning:`).
    pub reasoning: ReasoningPolicy,
    /// What each named step answers (the base's `steps:`).
    pub steps: Steps,
    /// What each guardrail checks (the base's `guardrails:`).
    pub guardrails: Guardrails,
    /// Each knowledge base's chunks (the base's `knowledge_bases:`, read from its tree).
    pub knowledge: BTreeMap<String, Vec<crate::measure::knowledge::Chunk>>,
    /// Each prompt router's models and rule (the base's `routers:`).
    pub routers: crate::measure::routers::Routers,
    /// Append one JSONL line per call here.
    pub record: Option<PathBuf>,
    /// Keep every call in memory (harness mode reads them back); off for a long-running server.
    pub keep_calls: bool,
    pub max_body: usize,
    /// See [`HEADER_READ_TIMEOUT`] (shorter in tests).
    pub header_read_timeout: Duration,
}

impl Settings {
    pub fn new(pricing: PricingTable) -> Self {
        Settings {
            pricing,
            cases: Vec::new(),
            output_by_intent: BTreeMap::new(),
            reasoning: ReasoningPolicy::default(),
            steps: Steps::default(),
            guardrails: Guardrails::default(),
            knowledge: BTreeMap::new(),
            routers: Default::default(),
            record: None,
            keep_calls: false,
            max_body: DEFAULT_MAX_BODY,
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

/// The server's shared state.
#[derive(Debug)]
pub struct State {
    pub(crate) pricing: PricingTable,
    pub(crate) cases: CaseIndex,
    pub(crate) output_by_intent: BTreeMap<String, u64>,
    pub(crate) reasoning: ReasoningPolicy,
    pub(crate) steps: Steps,
    pub(crate) guardrails: Guardrails,
    pub(crate) knowledge: BTreeMap<String, Vec<knowledge::Indexed>>,
    pub(crate) routers: crate::measure::routers::Routers,
    pub(crate) max_body: usize,
    pub(crate) recorder: Option<Recorder>,
    pub(crate) keep_calls: bool,
    pub(crate) calls: Mutex<Vec<CallRecord>>,
    /// The case set by `POST /_costgate/case/{id}`.
    pub(crate) current: Mutex<Option<String>>,
    /// Prefixes written so far, for usage as Bedrock's sequential cache reports it.
    pub(crate) cache: Mutex<crate::measure::cache::Sequential>,
    /// Cases the harness announced through the control endpoint (a case answered without any
    /// model call, like a template bypass, is announced and costs $0).
    pub(crate) announced: Mutex<BTreeSet<String>>,
    /// Cases with at least one call or announcement, for progress.
    pub(crate) seen: Mutex<BTreeSet<String>>,
    /// Metrics reported per case (`POST /_costgate/case/{id}/metric`).
    pub(crate) metrics: Mutex<control::Metrics>,
    pub(crate) served: AtomicU64,
    /// Scripted tools skipped as undeclared, by name (tool names come from the dataset: bounded).
    pub(crate) skipped_tools: Mutex<BTreeMap<String, u64>>,
    /// Requests for operations the stand-in does not serve, by `METHOD path` (at most
    /// [`MAX_UNKNOWN_OPERATIONS`] distinct, the rest counted under one key): named in the report.
    pub(crate) unknown_operations: Mutex<BTreeMap<String, u64>>,
    /// Steps named by calls that the base does not declare, by name (at most
    /// [`MAX_UNKNOWN_OPERATIONS`] distinct): answered as any call is, and noted.
    pub(crate) undeclared_steps: Mutex<BTreeMap<String, u64>>,
    pub(crate) header_read_timeout: Duration,
}

/// Distinct unknown operations kept by name; a harness that sprays paths cannot grow the map.
pub const MAX_UNKNOWN_OPERATIONS: usize = 32;
/// Characters of a path kept for the name of an unknown operation.
const MAX_UNKNOWN_PATH_CHARS: usize = 160;

impl State {
    fn new(s: Settings) -> std::io::Result<State> {
        let recorder = s.record.as_deref().map(Recorder::create).transpose()?;
        Ok(State {
            cases: CaseIndex::new(&s.cases),
            pricing: s.pricing,
            output_by_intent: s.output_by_intent,
            reasoning: s.reasoning,
            steps: s.steps,
            guardrails: s.guardrails,
            knowledge: knowledge::index(s.knowledge),
            routers: s.routers,
            max_body: s.max_body,
            recorder,
            keep_calls: s.keep_calls,
            calls: Mutex::new(Vec::new()),
            current: Mutex::new(None),
            cache: Mutex::default(),
            announced: Mutex::new(BTreeSet::new()),
            seen: Mutex::new(BTreeSet::new()),
            metrics: Mutex::default(),
            served: AtomicU64::new(0),
            skipped_tools: Mutex::default(),
            unknown_operations: Mutex::default(),
            undeclared_steps: Mutex::default(),
            header_read_timeout: s.header_read_timeout,
        })
    }

    /// Whether per-case state may hold `id`: a dataset id, one already held, or (without a
    /// dataset) room under [`MAX_UNLISTED_CASES`].
    pub(crate) fn may_track(&self, id: &str, held: usize, contains: bool) -> bool {
        if !self.cases.is_empty() {
            return self.cases.contains(id);
        }
        contains || held < MAX_UNLISTED_CASES
    }

    /// Counts a request for an operation the stand-in does not serve.
    pub(crate) fn unknown_operation(&self, method: &str, path: &str) {
        let path: String = path.chars().take(MAX_UNKNOWN_PATH_CHARS).collect();
        count_bounded(
            &self.unknown_operations,
            format!("{method} {path}"),
            "(other operations)",
        );
    }

    /// Counts a call naming a step the base does not declare.
    pub(crate) fn undeclared_step(&self, name: &str) {
        let name: String = name.chars().take(MAX_UNKNOWN_PATH_CHARS).collect();
        count_bounded(&self.undeclared_steps, name, "(other steps)");
    }

    /// Steps named by calls that the base does not declare, with their count.
    pub fn undeclared_steps(&self) -> BTreeMap<String, u64> {
        lock(&self.undeclared_steps).clone()
    }

    /// Requests for operations the stand-in does not serve, by `METHOD path`, with their count.
    pub fn unknown_operations(&self) -> BTreeMap<String, u64> {
        lock(&self.unknown_operations).clone()
    }

    /// Scripted tool calls skipped because the request did not declare the tool, by tool name.
    pub fn skipped_tools(&self) -> BTreeMap<String, u64> {
        lock(&self.skipped_tools).clone()
    }

    /// Every call so far (when `keep_calls`), in arrival order.
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.calls).clone()
    }

    pub fn announced(&self) -> BTreeSet<String> {
        lock(&self.announced).clone()
    }

    /// Each case's reported metrics, a metric reported more than once for a case averaged.
    pub fn metrics(&self) -> BTreeMap<String, BTreeMap<String, crate::measure::render::Metric>> {
        lock(&self.metrics).means()
    }

    /// (cases seen, calls served) so far.
    pub fn progress(&self) -> (usize, u64) {
        (lock(&self.seen).len(), self.served.load(Ordering::Relaxed))
    }

    fn flush(&self) {
        if let Some(r) = &self.recorder {
            r.flush();
        }
    }
}

/// Counts `key` in `map`, keeping at most [`MAX_UNKNOWN_OPERATIONS`] distinct keys: the rest are
/// counted under `other`, so a client that invents names cannot grow the map.
fn count_bounded(map: &Mutex<BTreeMap<String, u64>>, key: String, other: &str) {
    let mut m = lock(map);
    let key = if m.contains_key(&key) || m.len() < MAX_UNKNOWN_OPERATIONS {
        key
    } else {
        other.to_string()
    };
    *m.entry(key).or_default() += 1;
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another request panicked mid-update of plain data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running stand-in.
pub struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds `addr` (port 0 for an ephemeral port) and serves until [`Server::shutdown`].
    pub async fn start(addr: &str, settings: Settings) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let state = Arc::new(State::new(settings)?);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let addr = listener.local_addr()?;
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Ok(Server {
            addr,
            state,
            stop: Some(tx),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Stops accepting, lets in-flight requests finish, flushes the record file.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

/// How long a connection may wait for a request's headers, idle between requests included
/// (HTTP/1.1), or for its first bytes (either protocol).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 keep-alive: a peer that does not answer a ping within the timeout is dropped.
const H2_PING_INTERVAL: Duration = Duration::from_secs(10);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves on `listener` until `signal` completes, then shuts down gracefully. HTTP/1.1 and
/// cleartext HTTP/2 with prior knowledge share the port (hyper-util's auto builder picks by the
/// connection preface); slow and idle connections are closed ([`HEADER_READ_TIMEOUT`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;

    let app = router(state.clone());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(signal);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before accept: keep serving.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let first_bytes = state.header_read_timeout;
        tokio::spawn(async move {
            // The protocol is chosen from the first bytes, which hyper-util waits for without a
            // deadline: a socket that never sends one is closed here.
            let mut first = [0u8; 1];
            match tokio::time::timeout(first_bytes, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            // Errors are the client's (reset, timeout, malformed preface); nothing to report.
            let _ = watcher.watch(conn).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    state.flush();
    Ok(())
}

/// The stand-in's routes.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route(
            "/model/{model_id}/{operation}",
            post(handler::model_operation),
        )
        .route("/openai/v1/chat/completions", post(handler::openai_chat))
        .route("/openai/v1/responses", post(handler::openai_responses))
        .route("/rerank", post(rerank::agent_rerank))
        .route("/knowledgebases/{id}/retrieve", post(knowledge::retrieve))
        .route(
            "/retrieveAndGenerate",
            post(knowledge::retrieve_and_generate),
        )
        .route(
            "/guardrail/{id}/version/{version}/apply",
            post(guardrail::apply_guardrail),
        )
        .route("/_costgate/case/{id}", post(control::set_case))
        .route("/_costgate/case/{id}/metric", post(control::record_metric))
        .route("/_costgate/case", delete(control::clear_case))
        .route("/_costgate/health", get(|| async { "ok" }))
        .fallback(
            |axum::extract::State(st): axum::extract::State<Arc<State>>,
             method: axum::http::Method,
             uri: axum::http::Uri| async move {
                st.unknown_operation(method.as_str(), uri.path());
                BedrockError::UnknownOperation(uri.path().to_string())
            },
        )
        .with_state(state)
}
