//! Render mode: renders each case's prompts with the side's templates and prices them.
//! Templates run in strict-undefined mode: an undefined variable is an error naming the template,
//! the variable and the case, never silently an empty string that under-counts tokens.
//!
//! The head's templates come from the pull request, so every render is bounded ([`Budget`]): a
//! fuel limit on template instructions, a cap on the rendered text, and a wall-clock deadline for
//! the whole run. Exceeding one is an error naming the template and the case.

mod memo;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::infra::diag::{Diagnostic, Diagnostics};
use crate::infra::tree::Tree;
use crate::measure::cache::{self, Claim, Digester, Dropped, Point};
use crate::measure::dataset::{Dataset, LocatedCase};
use crate::measure::pricing::{ModelPrice, PricingTable, Resolved, Usage};
use crate::measure::reasoning::{ReasoningPolicy, Split};
use crate::measure::routes::{CacheAt, Route, Routes};
use crate::measure::tokenize;

/// Output length used when neither the case, the route nor calibration gives one (docs/configuration.md).
pub const DEFAULT_OUTPUT_TOKENS: u64 = 150;

/// A case's messages as [`Renderer::assemble`] built them; `messages` counts all but the final
/// prompt, which the caller adds.
struct Assembled {
    segments: Segments,
    messages: u64,
    points: Vec<Point>,
    system_text: Option<Arc<str>>,
    prompt_text: Option<Arc<str>>,
}

/// Input tokens by prompt segment, before `token_scale` (so exact encodings sum to the total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segments {
    pub system: u64,
    pub history: u64,
    pub prompt: u64,
    pub overhead: u64,
}

impl Segments {
    pub fn total(&self) -> u64 {
        self.system + self.history + self.prompt + self.overhead
    }
}

/// One metric a harness reported for a case (`POST /_costgate/case/{id}/metric`, docs/quality.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metric {
    pub value: f64,
    pub higher_is_better: bool,
}

/// What a case paid for besides model tokens (harness mode): embeddings, rerank, guardrails.
/// Each dollar figure is part of the case's `cost_usd`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extras {
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub embedding_usd: f64,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub embedding_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub rerank_usd: f64,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub rerank_queries: u64,
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub guardrail_usd: f64,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub guardrail_text_units: u64,
    /// The guardrails the case's calls applied, each with its policies: `gr-support (content,
    /// denied_topics)`, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<String>,
}

impl Extras {
    /// The dollars of each kind: what a cause compares.
    pub fn by_kind(&self) -> [(&'static str, f64); 3] {
        [
            ("embedding", self.embedding_usd),
            ("rerank", self.rerank_usd),
            ("guardrail", self.guardrail_usd),
        ]
    }

    pub fn usd(&self) -> f64 {
        self.embedding_usd + self.rerank_usd + self.guardrail_usd
    }
}

fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
}

fn is_zero_u64(x: &u64) -> bool {
    *x == 0
}

/// One case priced on one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priced {
    /// `None` for a bypassed intent.
    pub model: Option<String>,
    pub bypass: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Reasoning tokens, part of `output_tokens` (docs/pricing.md#reasoning).
    pub reasoning_tokens: u64,
    /// The reasoning settings the case's calls were billed at ("thinking budget 2,048"), distinct,
    /// in order: what a cause names when reasoning grew.
    pub reasoning: Vec<String>,
    /// Calls to models the price table does not price (harness mode): counted at $0.
    pub unpriced_calls: u64,
    pub unpriced_models: Vec<String>,
    /// Embeddings, rerank and guardrails (harness mode).
    pub extras: Extras,
    pub segments: Segments,
    /// Model calls made for the case (1 in render mode, 0 when bypassed).
    pub calls: u64,
    pub cost_usd: f64,
    /// Input tokens billed as prompt-cache reads and writes (docs/pricing.md), part of `input_tokens`.
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// What the cached prefix holds (`system prompt`, `system prompt and history`), when the case
    /// has one: the note that a prefix stopped being shared names it.
    #[serde(skip)]
    pub cache_prefix: Option<&'static str>,
    /// For each of the case's `expect.context_includes` strings, whether a model input held it.
    #[serde(skip)]
    pub context_found: Vec<bool>,
    /// Metrics the harness reported for the case (docs/quality.md).
    #[serde(skip)]
    pub metrics: std::collections::BTreeMap<String, Metric>,
}

impl Priced {
    pub fn bypassed() -> Self {
        Priced {
            model: None,
            bypass: true,
            input_tokens: 0,
            output_tokens: 0,
            reasoning_tokens: 0,
            reasoning: Vec::new(),
            unpriced_calls: 0,
            unpriced_models: Vec::new(),
            extras: Extras::default(),
            segments: Segments::default(),
            calls: 0,
            cost_usd: 0.0,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            cache_prefix: None,
            context_found: Vec::new(),
            metrics: Default::default(),
        }
    }
}

/// One case's call before the side-wide cache rule: its price, usage and cache points.
struct Draft {
    priced: Priced,
    price: Option<Arc<Resolved>>,
    usage: Usage,
    /// The cache points Bedrock would honour ([`cache::eligible`]) and why any other was dropped.
    claim: Option<Claim>,
    dropped: Vec<Dropped>,
}

/// Limits on the work one side's templates may cause (docs/security.md lists the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Template instructions per render (minijinja fuel). A prompt template with a loop over a
    /// few dozen retrieved documents uses a few thousand.
    pub fuel: u64,
    /// Bytes of rendered text per template and case (4 MiB is about a million tokens).
    pub max_output_bytes: usize,
    /// Wall-clock time for rendering a whole side.
    pub wall_clock: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            fuel: 1_000_000,
            max_output_bytes: 4 << 20,
            wall_clock: Duration::from_secs(300),
        }
    }
}

/// Renders and prices cases for one side.
pub struct Renderer<'a> {
    env: Environment<'static>,
    routes: &'a Routes,
    pricing: &'a PricingTable,
    /// Calibrated output length per intent (`costgate calibrate`), if any.
    pub calibrated_output: BTreeMap<String, u64>,
    /// The base's `reasoning:` policy, for routes with a `reasoning` key.
    pub reasoning: ReasoningPolicy,
    budget: Budget,
    /// When rendering must have finished (set by [`Renderer::price_all`]).
    deadline: Option<Instant>,
    memo: memo::Memo,
    /// Each route's model resolved once, not once per case.
    resolved: HashMap<String, Result<Arc<Resolved>, crate::measure::pricing::UnknownModel>>,
}

impl<'a> Renderer<'a> {
    pub fn new(tree: Arc<dyn Tree>, routes: &'a Routes, pricing: &'a PricingTable) -> Self {
        Self::with_budget(tree, routes, pricing, Budget::default())
    }

    pub fn with_budget(
        tree: Arc<dyn Tree>,
        routes: &'a Routes,
        pricing: &'a PricingTable,
        budget: Budget,
    ) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Fuel is per render: each template evaluation starts with the full budget.
        env.set_fuel(Some(budget.fuel));
        env.set_loader(move |name| match tree.read_string(name) {
            Ok(t) => Ok(t),
            Err(e) => Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                e.to_string(),
            )),
        });
        let resolved = routes
            .by_intent
            .values()
            .filter_map(|r| match r {
                Route::Model { model, .. } => Some(model),
                Route::Bypass => None,
            })
            .map(|m| (m.clone(), pricing.resolve(m).map(Arc::new)))
            .collect();
        Renderer {
            env,
            routes,
            pricing,
            calibrated_output: BTreeMap::new(),
            reasoning: ReasoningPolicy::default(),
            budget,
            deadline: None,
            memo: memo::Memo::default(),
            resolved,
        }
    }

    /// Prices every case in parallel; the result is in dataset order, with the notes of the run
    /// (cache points that were not honoured). Stops at the budget's wall-clock limit with an error
    /// naming the case it reached.
    pub fn price_all(
        &mut self,
        dataset: &Dataset,
    ) -> Result<(Vec<Priced>, Vec<String>), Diagnostics> {
        self.deadline = Some(Instant::now() + self.budget.wall_clock);
        let this = &*self;
        let results: Vec<Result<Draft, Diagnostic>> =
            dataset.cases.par_iter().map(|c| this.draft(c)).collect();
        if results.iter().any(Result::is_err) {
            let errors = results.into_iter().filter_map(Result::err).collect();
            return Err(Diagnostics::sorted(errors));
        }
        // In place (same allocation): at 100,000 cases a second vector of drafts is 25 MB a side.
        let drafts: Vec<Draft> = results.into_iter().filter_map(Result::ok).collect();
        Ok(settle(drafts))
    }

    /// Prices one case alone: a cache point is priced as a write, since nothing shares it.
    pub fn price(&self, lc: &LocatedCase) -> Result<Priced, Diagnostic> {
        let draft = self.draft(lc)?;
        Ok(settle(vec![draft]).0.remove(0))
    }

    /// Prices one case by the cost formula of docs/pricing.md, leaving its cache points to [`settle`].
    fn draft(&self, lc: &LocatedCase) -> Result<Draft, Diagnostic> {
        let case = &lc.case;
        let Some(route) = self.routes.for_intent(&case.intent) else {
            return Err(Diagnostic::new(
                lc.at.file.as_str(),
                format!(
                    "case `{}`: intent `{}` has no route and there is no `default` route in {}",
                    case.id, case.intent, self.routes.file
                ),
            )
            .at(lc.at.line, 0)
            .help(format!(
                "add a route for `{}` (or a `default` route) to {}",
                case.intent, self.routes.file
            )));
        };
        let Route::Model {
            model,
            system,
            prompt,
            max_output_tokens,
            output_tokens,
            serving,
        } = route
        else {
            return Ok(Draft {
                priced: Priced::bypassed(),
                price: None,
                usage: Usage::default(),
                claim: None,
                dropped: Vec::new(),
            });
        };
        let resolved = match self.resolved.get(model) {
            Some(r) => r.clone(),
            None => self.pricing.resolve(model).map(Arc::new),
        }
        .map_err(|e| {
            Diagnostic::new(
                self.routes.file.as_str(),
                format!("intent `{}`: {e}", case.intent),
            )
            .help("fix the model id, or add its prices to the base branch's pricing file")
        })?;
        let price = &resolved.price;
        let Assembled {
            mut segments,
            mut messages,
            points,
            system_text,
            prompt_text,
        } = self.assemble(
            lc,
            (system.as_deref(), prompt.as_deref()),
            serving.cache,
            price,
        )?;
        // What reached the model, for `expect.context_includes`.
        let context_found = match case.expected_context() {
            [] => Vec::new(),
            expected => {
                let mut texts: Vec<&str> =
                    case.history.iter().map(|m| m.content.as_str()).collect();
                texts.extend(system_text.as_deref());
                texts.push(prompt_text.as_deref().unwrap_or(&case.query));
                crate::measure::dataset::found_in(expected, &texts)
            }
        };
        messages += 1;
        segments.overhead =
            price.message_overhead_tokens * messages + price.request_overhead_tokens;
        let input_tokens = tokenize::scale(segments.total(), price.token_scale);
        let wanted = case
            .output_tokens
            .or(*output_tokens)
            .or_else(|| self.calibrated_output.get(&case.intent).copied())
            .unwrap_or(DEFAULT_OUTPUT_TOKENS);
        let reasoning = serving.reasoning.map_or(0, |s| self.reasoning.tokens(s));
        let split = Split::new(reasoning, wanted, *max_output_tokens);
        let output_tokens = split.output();
        let usage = Usage {
            input_tokens,
            output_tokens,
            cache_ttl: serving.cache_ttl,
            tier: serving.service_tier,
            ..Usage::default()
        };
        let mut dropped = Vec::new();
        let cache_prefix = match serving.cache {
            CacheAt::None => None,
            CacheAt::System => Some("system prompt"),
            CacheAt::History => Some("system prompt and history"),
        };
        Ok(Draft {
            priced: Priced {
                model: Some(model.clone()),
                bypass: false,
                input_tokens,
                output_tokens,
                reasoning_tokens: split.reasoning,
                reasoning: serving.reasoning.iter().map(|s| s.to_string()).collect(),
                unpriced_calls: 0,
                unpriced_models: Vec::new(),
                extras: Extras::default(),
                segments,
                calls: 1,
                cost_usd: price.cost_of(&usage),
                cache_read_tokens: 0,
                cache_write_tokens: 0,
                cache_prefix,
                context_found,
                metrics: Default::default(),
            },
            claim: cache::eligible(
                &resolved.base_id,
                &resolved.price,
                serving.cache_ttl,
                points,
                &mut dropped,
            ),
            price: Some(resolved.clone()),
            usage,
            dropped,
        })
    }

    /// The case's messages in order (system, history, prompt), their tokens by segment and the
    /// cache points `cache` asks for, each with the digest of the prefix it would share.
    fn assemble(
        &self,
        lc: &LocatedCase,
        (system, prompt): (Option<&str>, Option<&str>),
        cache: CacheAt,
        price: &ModelPrice,
    ) -> Result<Assembled, Diagnostic> {
        let case = &lc.case;
        let enc = price.tokenizer;
        let ctx = template_context(case);
        let mut segments = Segments::default();
        let mut messages = 0u64;
        let mut prefix = Digester::default();
        let mut system_text = None;
        if let Some(path) = system {
            let (text, count) = self.render_counted(path, &ctx, lc, enc)?;
            segments.system = count;
            prefix.part("system", &text);
            messages += 1;
            system_text = Some(text);
        }
        let mut points = Vec::new();
        let overhead = price.message_overhead_tokens;
        if cache == CacheAt::System && messages > 0 {
            points.push(Point {
                tokens: tokenize::scale(segments.system + overhead, price.token_scale),
                digest: prefix.digest(),
            });
        }
        for m in &case.history {
            segments.history += enc.count(&m.content);
            prefix.part(
                match m.role {
                    crate::measure::dataset::Role::User => "user",
                    crate::measure::dataset::Role::Assistant => "assistant",
                },
                &m.content,
            );
            messages += 1;
        }
        if cache == CacheAt::History && messages > 0 {
            points.push(Point {
                tokens: tokenize::scale(
                    segments.system + segments.history + overhead * messages,
                    price.token_scale,
                ),
                digest: prefix.digest(),
            });
        }
        let prompt_text = match prompt {
            Some(path) => {
                let (text, count) = self.render_counted(path, &ctx, lc, enc)?;
                segments.prompt = count;
                Some(text)
            }
            None => {
                segments.prompt = enc.count(&case.query);
                None
            }
        };
        Ok(Assembled {
            segments,
            messages,
            points,
            system_text,
            prompt_text,
        })
    }

    /// A template's rendering and its token count, each done once per distinct rendering
    /// ([`memo`]).
    fn render_counted(
        &self,
        path: &str,
        ctx: &serde_json::Value,
        lc: &LocatedCase,
        enc: tokenize::Encoding,
    ) -> Result<(Arc<str>, u64), Diagnostic> {
        let key = self.memo.key(&self.env, path, ctx);
        if let Some(entry) = key.as_deref().and_then(|k| self.memo.get(path, k)) {
            if let Some(n) = entry.count(enc) {
                return Ok((entry.text, n));
            }
            let n = enc.count(&entry.text);
            if let Some(k) = key {
                self.memo.put(path, k, &entry.text, enc, n);
            }
            return Ok((entry.text, n));
        }
        let text: Arc<str> = self.render(path, ctx, lc)?.into();
        let n = enc.count(&text);
        if let Some(k) = key {
            self.memo.put(path, k, &text, enc, n);
        }
        Ok((text, n))
    }

    fn render(
        &self,
        path: &str,
        ctx: &serde_json::Value,
        lc: &LocatedCase,
    ) -> Result<String, Diagnostic> {
        let fail = |msg: String| {
            Diagnostic::new(path, msg).help(format!("the case is defined at {}", lc.at))
        };
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(fail(format!(
                "render mode ran past its wall-clock limit of {} s; stopped at case `{}`",
                self.budget.wall_clock.as_secs(),
                lc.case.id
            ))
            .help("a template that loops over large ranges makes every case slow: simplify it"));
        }
        let tmpl = self
            .env
            .get_template(path)
            .map_err(|e| fail(format!("cannot load template: {}", describe(&e))))?;
        let mut out = CappedWriter::new(self.budget.max_output_bytes);
        // Names this render if it drives the process into its memory ceiling (crate::infra::memory).
        let _activity = crate::infra::memory::Activity::new(format!(
            "template {path} for case `{}`",
            lc.case.id
        ));
        let rendered = tmpl.render_captured_to(ctx, &mut out);
        if out.overflowed {
            return Err(fail(format!(
                "the rendered prompt for case `{}` exceeds {} MiB; a template must not produce more text than a model accepts",
                lc.case.id,
                self.budget.max_output_bytes >> 20
            )));
        }
        rendered.map(|_| out.into_string()).map_err(|e| {
            let line = e.line().unwrap_or(0);
            let what = if e.kind() == ErrorKind::OutOfFuel {
                format!(
                    "template ran out of fuel ({} instructions) while rendering case `{}`: it loops too much",
                    self.budget.fuel, lc.case.id
                )
            } else if e.kind() == ErrorKind::UndefinedError {
                match first_undefined(&tmpl, ctx) {
                    Some(var) => format!(
                        "undefined variable `{var}` while rendering case `{}`",
                        lc.case.id
                    ),
                    None => format!(
                        "undefined value while rendering case `{}`: {}",
                        lc.case.id,
                        describe(&e)
                    ),
                }
            } else {
                format!("cannot render for case `{}`: {}", lc.case.id, describe(&e))
            };
            fail(what).at(line, 0)
        })
    }
}

/// Applies the steady-state cache rule (docs/pricing.md) to one side's drafts and prices each case with its cache
/// tokens; returns the priced cases and a note per model and reason a cache point was dropped.
fn settle(mut drafts: Vec<Draft>) -> (Vec<Priced>, Vec<String>) {
    let dropped: Vec<Dropped> = drafts
        .iter_mut()
        .flat_map(|d| std::mem::take(&mut d.dropped))
        .collect();
    let claims: Vec<Option<&Claim>> = drafts.iter().map(|d| d.claim.as_ref()).collect();
    let assigned = cache::steady_state(&claims);
    drop(claims);
    let priced = drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let a = assigned[i];
            let mut p = d.priced;
            if let (Some(price), true) = (&d.price, a != Default::default()) {
                p.cache_read_tokens = a.read;
                p.cache_write_tokens = a.write;
                p.cost_usd = price.price.cost_of(&Usage {
                    cache_read_tokens: a.read,
                    cache_write_tokens: a.write,
                    ..d.usage
                });
            }
            p
        })
        .collect();
    (priced, cache::notes(dropped))
}

/// Collects rendered text, refusing to grow past `cap` bytes (minijinja then stops rendering).
struct CappedWriter {
    buf: Vec<u8>,
    cap: usize,
    overflowed: bool,
}

impl CappedWriter {
    fn new(cap: usize) -> Self {
        CappedWriter {
            buf: Vec::new(),
            cap,
            overflowed: false,
        }
    }

    fn into_string(self) -> String {
        // minijinja writes only whole `str`s, so the bytes are UTF-8.
        String::from_utf8(self.buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.cap {
            self.overflowed = true;
            return Err(std::io::Error::other("rendered text over its size cap"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The variables templates see (docs/configuration.md).
pub fn template_context(case: &crate::measure::dataset::Case) -> serde_json::Value {
    serde_json::json!({
        "query": case.query,
        "history": case.history,
        "context": case.context.as_ref().map_or_else(
            || serde_json::Value::Object(Default::default()),
            crate::measure::dataset::Context::to_value
        ),
        "intent": case.intent,
        "tier": case.tier,
        "case": case,
    })
}

/// minijinja's own message without its trailing location details, which we report ourselves.
fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// The first variable path the template uses that the context does not define, e.g. `context.docs`.
fn first_undefined(tmpl: &minijinja::Template<'_, '_>, ctx: &serde_json::Value) -> Option<String> {
    let mut names: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    names.sort();
    names.into_iter().find(|path| {
        let mut v = ctx;
        for part in path.split('.') {
            match v.get(part) {
                Some(next) => v = next,
                None => return true,
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::tree::DirTree;
    use crate::measure::dataset::{Case, Location, Message, Role};
    use crate::measure::tokenize::Encoding;

    fn case(intent: &str, output_tokens: Option<u64>) -> LocatedCase {
        LocatedCase {
            case: Case {
                id: "C1".into(),
                intent: intent.into(),
                query: "Where is volume 3?".into(),
                history: vec![Message {
                    role: Role::User,
                    content: "hello there".into(),
                }],
                context: None,
                tier: Some("prime".into()),
                weight: None,
                output_tokens,
                expected_cost_band: None,
                added: None,
                expect: None,
                tool_calls: vec![],
                answers: Default::default(),
                guardrail: None,
            },
            at: Location {
                file: "g.yaml".into(),
                line: 1,
            },
        }
    }

    fn setup(model_yaml: &str) -> (tempfile::TempDir, Arc<dyn Tree>, Routes, PricingTable) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sys.j2"), "You help {{ tier }} customers.").unwrap();
        std::fs::write(dir.path().join("p.j2"), "Q: {{ query }}").unwrap();
        let tree: Arc<dyn Tree> = Arc::new(DirTree::new(dir.path(), "t"));
        let mut by_intent = BTreeMap::new();
        by_intent.insert(
            "chat".to_string(),
            Route::Model {
                model: "acme.m".into(),
                system: Some("sys.j2".into()),
                prompt: Some("p.j2".into()),
                max_output_tokens: Some(100),
                output_tokens: Some(80),
                serving: Default::default(),
            },
        );
        by_intent.insert("orders".to_string(), Route::Bypass);
        let routes = Routes {
            file: "routes.yaml".into(),
            by_intent,
        };
        let pricing = PricingTable::with_overrides(model_yaml, "pricing.yaml").unwrap();
        (dir, tree, routes, pricing)
    }

    #[test]
    fn spec_formula_with_overheads_and_scale() {
        let (_d, tree, routes, pricing) = setup(
            "models:\n  acme.m:\n    input_per_mtok: 2\n    output_per_mtok: 10\n    token_scale: 1.5\n    message_overhead_tokens: 3\n    request_overhead_tokens: 7\n",
        );
        let r = Renderer::new(tree, &routes, &pricing);
        let p = r.price(&case("chat", None)).unwrap();
        let enc = Encoding::ClaudeApprox;
        let system = enc.count("You help prime customers.");
        let history = enc.count("hello there");
        let prompt = enc.count("Q: Where is volume 3?");
        assert_eq!(
            p.segments,
            Segments {
                system,
                history,
                prompt,
                overhead: 3 * 3 + 7
            }
        );
        let want_in = ((system + history + prompt + 16) as f64 * 1.5).round() as u64;
        assert_eq!(p.input_tokens, want_in);
        assert_eq!(p.output_tokens, 80);
        assert_eq!(p.cost_usd, (want_in as f64 * 2.0 + 80.0 * 10.0) / 1e6);
    }

    #[test]
    fn output_tokens_precedence_and_cap() {
        let (_d, tree, routes, pricing) =
            setup("models:\n  acme.m:\n    input_per_mtok: 1\n    output_per_mtok: 1\n");
        let mut r = Renderer::new(tree, &routes, &pricing);
        assert_eq!(r.price(&case("chat", Some(30))).unwrap().output_tokens, 30); // case wins
        assert_eq!(
            r.price(&case("chat", Some(500))).unwrap().output_tokens,
            100
        ); // capped
        r.calibrated_output.insert("chat".into(), 55);
        assert_eq!(r.price(&case("chat", None)).unwrap().output_tokens, 80); // route beats calibration
    }

    #[test]
    fn bypass_is_free_and_makes_no_call() {
        let (_d, tree, routes, pricing) =
            setup("models:\n  acme.m:\n    input_per_mtok: 1\n    output_per_mtok: 1\n");
        let r = Renderer::new(tree, &routes, &pricing);
        let p = r.price(&case("orders", None)).unwrap();
        assert_eq!((p.cost_usd, p.calls, p.bypass), (0.0, 0, true));
    }

    #[test]
    fn memoized_renderings_follow_the_variables_the_template_reads() {
        let (dir, tree, routes, pricing) =
            setup("models:\n  acme.m:\n    input_per_mtok: 1\n    output_per_mtok: 1\n");
        let r = Renderer::new(tree, &routes, &pricing);
        let mut standard = case("chat", None);
        standard.case.tier = Some("standard".into());
        let prime = r.price(&case("chat", None)).unwrap();
        let again = r.price(&case("chat", None)).unwrap();
        let other = r.price(&standard).unwrap();
        let enc = Encoding::ClaudeApprox;
        assert_eq!(
            prime.segments.system,
            enc.count("You help prime customers.")
        );
        assert_eq!(again.segments, prime.segments);
        assert_eq!(
            other.segments.system,
            enc.count("You help standard customers.")
        );
        // A template that pulls in another one is rendered every time, never from the memo.
        std::fs::write(dir.path().join("part.j2"), "{{ query }} / {{ tier }}").unwrap();
        std::fs::write(dir.path().join("sys.j2"), "{% include 'part.j2' %}").unwrap();
        let tree: Arc<dyn Tree> = Arc::new(DirTree::new(dir.path(), "t"));
        let r = Renderer::new(tree, &routes, &pricing);
        let a = r.price(&case("chat", None)).unwrap();
        let b = r.price(&standard).unwrap();
        assert_eq!(a.segments.system, enc.count("Where is volume 3? / prime"));
        assert_eq!(
            b.segments.system,
            enc.count("Where is volume 3? / standard")
        );
    }
}
