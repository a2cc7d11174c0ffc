//! Harness mode (docs/harness.md): for one side, start the Bedrock stand-in on an ephemeral
//! loopback port, run the side's `harness.command` in its tree with the stand-in's endpoint, dummy
//! AWS credentials and `COSTGATE_CASES`, and price every case as the sum of the calls attributed to
//! it. A harness that crashes, times out, or leaves a case without a call (and without announcing
//! it as answered without a model) gives no verdict: exit code 3 with the harness's output tail.

mod isolation;
pub mod process;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;

use crate::infra::error::{Error, Result};
use crate::infra::fmt::usd;
use crate::infra::progress::Progress;
use crate::infra::tree::Tree;
use crate::measure::cache;
use crate::measure::config::Harness;
use crate::measure::dataset::Dataset;
use crate::measure::pricing::{PricingTable, Usage};
use crate::measure::render::{Priced, Segments};
use crate::standin::record::{Bills, CallRecord};
use crate::standin::{Server, Settings};
use process::{Checkout, Ended};

/// Dummy credentials: syntactically valid so SDKs sign requests, useless anywhere else.
pub const DUMMY_ACCESS_KEY: &str = "AKIDCOSTGATEHARNESS0";
pub const DUMMY_SECRET_KEY: &str = "costgate-harness-dummy-secret-key";
pub const DUMMY_REGION: &str = "us-east-1";
/// The OpenAI SDK refuses to start without a key; the stand-in never checks it.
pub const DUMMY_OPENAI_KEY: &str = "sk-costgate-harness-dummy";

/// What every side's run shares.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub pricing: &'a PricingTable,
    /// Calibrated answer length per intent (the base's calibration file).
    pub calibrated: &'a BTreeMap<String, u64>,
    /// The base's configuration: its `reasoning:`, `steps:`, `guardrails:` and `routers:`
    /// (policy) answer for the stand-in of either side.
    pub policy: &'a crate::measure::config::Config,
    /// The base's knowledge bases, chunked.
    pub knowledge: &'a BTreeMap<String, Vec<crate::measure::knowledge::Chunk>>,
    pub progress: &'a dyn Progress,
    /// Write each side's calls to `calls-{side}.jsonl` in this directory.
    pub record_dir: Option<&'a std::path::Path>,
}

/// One side priced by its harness.
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessPriced {
    /// In dataset order.
    pub priced: Vec<Priced>,
    /// Unattributed calls and similar facts for the report.
    pub notes: Vec<String>,
}

/// Runs `harness` for the side called `side` (`base`, `head`, `tree`) on `dataset`.
pub fn price(
    side: &str,
    tree: &dyn Tree,
    harness: &Harness,
    dataset: &Dataset,
    ctx: &Context<'_>,
) -> Result<HarnessPriced> {
    let progress = ctx.progress;
    let checkout = Checkout::of(tree, side)?;
    let cases_file = write_cases(dataset)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Run(format!("cannot start the async runtime: {e}")))?;
    let cmd = harness.command.join(" ");
    let (calls, announced, metrics, unserved, undeclared) = rt.block_on(async {
        let mut settings = Settings::new(ctx.pricing.clone());
        settings.cases = dataset.cases.iter().map(|c| c.case.clone()).collect();
        settings.keep_calls = true;
        settings.output_by_intent = ctx.calibrated.clone();
        settings.reasoning = ctx.policy.reasoning;
        settings.steps = ctx.policy.steps.clone();
        settings.guardrails = ctx.policy.guardrails.clone();
        settings.knowledge = ctx.knowledge.clone();
        settings.routers = ctx.policy.routers.clone();
        if let Some(dir) = ctx.record_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Run(format!("cannot create {} for the call records: {e}", dir.display()))
            })?;
            let path = dir.join(format!("calls-{side}.jsonl"));
            // A fresh trail per run (the recorder appends).
            let _ = std::fs::remove_file(&path);
            settings.record = Some(path);
        }
        let server = Server::start("127.0.0.1:0", settings)
            .await
            .map_err(|e| Error::Run(format!("cannot start the Bedrock stand-in for the {side} harness: {e}")))?;
        let url = server.url();
        let env = [
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url.clone()),
            // The clients that read an endpoint variable of their own: LiteLLM, and the
            // Anthropic SDK's Bedrock client (AnthropicBedrock).
            ("AWS_BEDROCK_RUNTIME_ENDPOINT", url.clone()),
            ("ANTHROPIC_BEDROCK_BASE_URL", url.clone()),
            ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_KEY.to_string()),
            ("AWS_REGION", DUMMY_REGION.to_string()),
            ("AWS_DEFAULT_REGION", DUMMY_REGION.to_string()),
            // No instance-metadata lookups when an SDK searches for credentials.
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            // bedrock-agent-runtime (Rerank) and the OpenAI SDK (Chat Completions, Responses) reach
            // the stand-in too: an operation it does not serve is answered
            // UnknownOperationException and named below.
            ("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", url.clone()),
            ("OPENAI_BASE_URL", format!("{url}/openai/v1")),
            ("OPENAI_API_KEY", DUMMY_OPENAI_KEY.to_string()),
            ("COSTGATE_CASES", cases_file.path().display().to_string()),
            ("COSTGATE_MOCK_URL", url.clone()),
            ("COSTGATE_SIDE", side.to_string()),
        ];
        let mut running = process::spawn(&harness.command, checkout.path(), &env)?;
        // One step per case that got its first call (or was announced), in the shared progress.
        let mut reported = 0usize;
        let state = server.state().clone();
        let ended = running
            .wait(Duration::from_secs(harness.timeout_s), || {
                let (seen, calls) = state.progress();
                while reported < seen.min(dataset.len()) {
                    reported += 1;
                    progress.step(&format!("{side}: {seen}/{} cases, {calls} calls", dataset.len()));
                }
            })
            .await?;
        let (seen, calls) = state.progress();
        // The cases finished since the last tick.
        while reported < seen.min(dataset.len()) {
            reported += 1;
            progress.step(&format!("{side}: {seen}/{} cases, {calls} calls", dataset.len()));
        }
        let calls = server.state().calls();
        let announced = server.state().announced();
        let metrics = server.state().metrics();
        let unserved = unserved_line(side, &server.state().unknown_operations());
        let undeclared = undeclared_line(side, &server.state().undeclared_steps());
        let _ = server.shutdown().await;
        // An error says first which calls the stand-in could not answer: usually the cause.
        let tail = || match &unserved {
            Some(u) => format!("{u}\n{}", running.tail()),
            None => running.tail(),
        };
        match ended {
            Ended::TimedOut => Err(Error::Run(format!(
                "the {side} harness `{cmd}` did not finish within harness.timeout_s = {} s and was stopped; {} of {} cases had calls\n{}",
                harness.timeout_s,
                seen,
                dataset.len(),
                tail()
            ))),
            Ended::Exited(status) if !status.success() => Err(Error::Run(format!(
                "the {side} harness `{cmd}` failed ({}); no verdict without a complete run\n{}",
                describe(status),
                tail()
            ))),
            Ended::Exited(_) => {
                let missing = missing_cases(dataset, &calls, &announced);
                if missing.is_empty() {
                    Ok((calls, announced, metrics, unserved, undeclared))
                } else {
                    Err(Error::Run(format!(
                        "the {side} harness `{cmd}` made no Bedrock call for {} of {} cases ({}); attribute each call to its case ({docs}), or announce a case answered without a model with POST /_costgate/case/{{id}}\n{}",
                        missing.len(),
                        dataset.len(),
                        crate::infra::fmt::id_list(&missing),
                        tail(),
                        docs = crate::infra::docs::page("harness.md")
                    )))
                }
            }
        }
    })?;
    let mut priced = aggregate(side, dataset, &calls, &announced, ctx.pricing);
    for (lc, p) in dataset.cases.iter().zip(priced.priced.iter_mut()) {
        if let Some(m) = metrics.get(&lc.case.id) {
            p.metrics = m.clone();
        }
    }
    priced.notes.extend(unserved);
    priced.notes.extend(undeclared);
    // The head's harness is the stranger's code: say so when it could not be isolated.
    if side == "head" {
        priced.notes.extend(isolation::detect().note());
    }
    Ok(priced)
}

/// The calls the stand-in does not serve, named: they are answered `UnknownOperationException`,
/// so they are neither priced nor gated.
fn unserved_line(side: &str, ops: &BTreeMap<String, u64>) -> Option<String> {
    if ops.is_empty() {
        return None;
    }
    let named: Vec<String> = ops.iter().map(|(op, n)| format!("{op} ×{n}")).collect();
    Some(format!(
        "{side}: the harness called operation(s) the stand-in does not serve, answered UnknownOperationException and neither priced nor gated: {} (served operations: {})",
        crate::infra::fmt::first_of(&named, 10, "; "),
        crate::infra::docs::page("harness.md")
    ))
}

/// Steps named by calls that the base's `steps:` does not declare: answered with the case's
/// synthetic length, which a next prompt built from it does not resemble.
fn undeclared_line(side: &str, steps: &BTreeMap<String, u64>) -> Option<String> {
    if steps.is_empty() {
        return None;
    }
    let named: Vec<String> = steps.iter().map(|(s, n)| format!("`{s}` ×{n}")).collect();
    Some(format!(
        "{side}: calls named step(s) the base's costgate.yaml does not declare, answered with synthetic text of the case's length: {}. Declare each under `steps:` with the answer the next call should see ({})",
        crate::infra::fmt::first_of(&named, 10, ", "),
        crate::infra::docs::page("harness.md#steps")
    ))
}

fn describe(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    match status.code() {
        Some(c) => format!("exit code {c}"),
        None => "no exit code".into(),
    }
}

/// `COSTGATE_CASES`: the dataset as JSONL, one case per line, in dataset order.
fn write_cases(dataset: &Dataset) -> Result<tempfile::NamedTempFile> {
    let fail = |e: std::io::Error| Error::Run(format!("cannot write the harness's case file: {e}"));
    let mut f = tempfile::Builder::new()
        .prefix("costgate-cases-")
        .suffix(".jsonl")
        .tempfile()
        .map_err(fail)?;
    for c in &dataset.cases {
        let line = serde_json::to_string(&c.case).map_err(|e| fail(std::io::Error::other(e)))?;
        writeln!(f, "{line}").map_err(fail)?;
    }
    f.flush().map_err(fail)?;
    Ok(f)
}

fn missing_cases(
    dataset: &Dataset,
    calls: &[CallRecord],
    announced: &BTreeSet<String>,
) -> Vec<String> {
    let called: BTreeSet<&str> = calls
        .iter()
        .filter(|c| c.is_billable())
        .filter_map(|c| c.case.as_deref())
        .collect();
    dataset
        .ids()
        .filter(|id| !called.contains(id) && !announced.contains(*id))
        .map(String::from)
        .collect()
}

#[derive(Default)]
struct Acc {
    models: BTreeSet<String>,
    input: u64,
    output: u64,
    reasoning_tokens: u64,
    /// Sorted, so the report does not depend on the order calls arrived in.
    reasoning: BTreeSet<String>,
    unpriced_calls: u64,
    unpriced_models: BTreeSet<String>,
    extras: crate::measure::render::Extras,
    guardrails: BTreeSet<String>,
    segments: Segments,
    calls: u64,
    cost: f64,
    cache_read: u64,
    cache_write: u64,
    /// Indices of the case's expected context strings some call's input held.
    context: BTreeSet<usize>,
}

impl Acc {
    /// Adds one call, with its cache tokens and cost by the steady-state rule.
    fn add(&mut self, c: &CallRecord, assigned: cache::Assigned, cost: f64) {
        self.models.insert(c.model_id.clone());
        self.input += c.input_tokens;
        self.output += c.output_tokens;
        self.reasoning_tokens += c.reasoning_tokens;
        self.reasoning.extend(c.reasoning.iter().cloned());
        if c.unpriced {
            self.unpriced_calls += 1;
            self.unpriced_models.insert(c.model_id.clone());
        }
        let x = &mut self.extras;
        match c.kind {
            Bills::Embedding => {
                x.embedding_usd += cost;
                x.embedding_tokens += c.input_tokens;
            }
            Bills::Rerank => {
                x.rerank_usd += cost;
                x.rerank_queries += c.queries;
            }
            _ => {}
        }
        x.guardrail_usd += c.guardrail_usd;
        x.guardrail_text_units += c.guardrail_text_units;
        self.guardrails.extend(c.guardrail.iter().cloned());
        self.segments.system += c.segments.system;
        self.segments.history += c.segments.history;
        self.segments.prompt += c.segments.prompt;
        self.segments.overhead += c.segments.overhead;
        self.calls += 1;
        self.cost += cost;
        self.cache_read += assigned.read;
        self.cache_write += assigned.write;
        self.context.extend(c.context_hits.iter().copied());
    }
}

/// Each billable call's cache tokens by the steady-state rule over the side's calls, and
/// its cost with them (the stand-in served sequential usage; the gate prices the steady state).
fn steady_costs(calls: &[&CallRecord], pricing: &PricingTable) -> Vec<(cache::Assigned, f64)> {
    let claims: Vec<Option<&cache::Claim>> = calls.iter().map(|c| c.cache.as_ref()).collect();
    cache::steady_state(&claims)
        .into_iter()
        .zip(calls)
        .map(|(a, c)| {
            let cost = match (&c.cache, pricing.resolve(&c.model)) {
                (Some(claim), Ok(r)) => {
                    r.price.cost_of(&Usage {
                        input_tokens: c.input_tokens,
                        output_tokens: c.output_tokens,
                        cache_read_tokens: a.read,
                        cache_write_tokens: a.write,
                        cache_ttl: claim.ttl,
                        tier: c.service_tier,
                        images: c.images,
                        queries: c.queries,
                    }) + c.guardrail_usd
                }
                _ => c.cost_usd,
            };
            (a, cost)
        })
        .collect()
}

/// Prices each case as the sum of its calls; a case with no call (announced) is a $0 bypass.
pub fn aggregate(
    side: &str,
    dataset: &Dataset,
    calls: &[CallRecord],
    announced: &BTreeSet<String>,
    pricing: &PricingTable,
) -> HarnessPriced {
    let ids: BTreeSet<&str> = dataset.ids().collect();
    let mut by_case: BTreeMap<&str, Acc> = BTreeMap::new();
    let mut stray = Acc::default();
    let mut unknown_ids = BTreeSet::new();
    let billable: Vec<&CallRecord> = calls.iter().filter(|c| c.is_billable()).collect();
    let costs = steady_costs(&billable, pricing);
    let dropped = billable
        .iter()
        .flat_map(|c| c.dropped.iter().cloned())
        .collect();
    for (c, (assigned, cost)) in billable.iter().zip(costs) {
        let acc = match c.case.as_deref() {
            Some(id) if ids.contains(id) => by_case.entry(id).or_default(),
            Some(id) => {
                unknown_ids.insert(id.to_string());
                &mut stray
            }
            None => &mut stray,
        };
        acc.add(c, assigned, cost);
    }
    let priced = dataset
        .cases
        .iter()
        .map(|lc| match by_case.remove(lc.case.id.as_str()) {
            Some(a) => Priced {
                model: Some(a.models.into_iter().collect::<Vec<_>>().join(" + ")),
                bypass: false,
                input_tokens: a.input,
                output_tokens: a.output,
                reasoning_tokens: a.reasoning_tokens,
                reasoning: a.reasoning.into_iter().collect(),
                unpriced_calls: a.unpriced_calls,
                unpriced_models: a.unpriced_models.into_iter().collect(),
                extras: crate::measure::render::Extras {
                    guardrails: a.guardrails.into_iter().collect(),
                    ..a.extras
                },
                segments: a.segments,
                calls: a.calls,
                cost_usd: a.cost,
                cache_read_tokens: a.cache_read,
                cache_write_tokens: a.cache_write,
                cache_prefix: (a.cache_read + a.cache_write > 0).then_some("cached prefix"),
                context_found: (0..lc.case.expected_context().len())
                    .map(|i| a.context.contains(&i))
                    .collect(),
                metrics: Default::default(),
            },
            None => Priced::bypassed(),
        })
        .collect();
    let mut notes = cache::notes(dropped);
    let unpriced: BTreeMap<&str, u64> =
        billable
            .iter()
            .filter(|c| c.unpriced)
            .fold(BTreeMap::new(), |mut m, c| {
                *m.entry(c.model_id.as_str()).or_default() += 1;
                m
            });
    if !unpriced.is_empty() {
        let named: Vec<String> = unpriced.iter().map(|(m, n)| format!("{m} ×{n}")).collect();
        notes.push(format!(
            "{side}: {} call(s) to models the price table does not price, counted at $0, so the totals are a floor: {}. Add their prices to the base's pricing file ({})",
            unpriced.values().sum::<u64>(),
            crate::infra::fmt::first_of(&named, 10, ", "),
            crate::infra::docs::page("configuration.md#pricing-file")
        ));
    }
    let bypassed = dataset
        .ids()
        .filter(|id| {
            announced.contains(*id)
                && !calls
                    .iter()
                    .any(|c| c.case.as_deref() == Some(*id) && c.is_billable())
        })
        .count();
    if bypassed > 0 {
        notes.push(format!("{side}: {bypassed} case(s) answered without a model call (announced by the harness), priced at $0"));
    }
    if stray.calls > 0 {
        let mut line = format!(
            "{side}: {} unattributed Bedrock call(s) cost {} ({} input / {} output tokens); not part of any case, not gated",
            stray.calls,
            usd(stray.cost),
            stray.input,
            stray.output
        );
        if !unknown_ids.is_empty() {
            let ids: Vec<String> = unknown_ids.into_iter().collect();
            line.push_str(&format!(
                "; tagged with ids not in the dataset: {}",
                crate::infra::fmt::id_list(&ids)
            ));
        }
        line.push_str(&format!(
            ". Attribute them in one of three ways ({}): `requestMetadata={{\"costgate_case\": id}}` on Converse; the `x-costgate-case` header on any call (boto3: `costgate_harness.tag_boto3(client)`; LangChain: `ChatBedrockConverse(model=…, client=costgate_harness.tag_boto3(boto3.client(\"bedrock-runtime\")))`); or `POST /_costgate/case/{{id}}` before each case",
            crate::infra::docs::page("harness.md")
        ));
        notes.push(line);
    }
    HarnessPriced { priced, notes }
}
