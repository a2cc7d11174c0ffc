//! Render mode (SPEC 3): renders each case's prompts with the side's templates and prices them.
//! Templates run in strict-undefined mode: an undefined variable is an error naming the template,
//! the variable and the case, never silently an empty string that under-counts tokens.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use rayon::prelude::*;
use serde::Serialize;

use crate::dataset::{Dataset, LocatedCase};
use crate::diag::{Diagnostic, Diagnostics};
use crate::pricing::PricingTable;
use crate::routes::{Route, Routes};
use crate::tokenize;
use crate::tree::Tree;

/// Output length used when neither the case, the route nor calibration gives one (SPEC 3).
pub const DEFAULT_OUTPUT_TOKENS: u64 = 150;

/// Input tokens by prompt segment, before `token_scale` (so exact encodings sum to the total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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

/// One case priced on one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priced {
    /// `None` for a bypassed intent.
    pub model: Option<String>,
    pub bypass: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub segments: Segments,
    /// Model calls made for the case (1 in render mode, 0 when bypassed).
    pub calls: u64,
    pub cost_usd: f64,
}

impl Priced {
    pub fn bypassed() -> Self {
        Priced {
            model: None,
            bypass: true,
            input_tokens: 0,
            output_tokens: 0,
            segments: Segments::default(),
            calls: 0,
            cost_usd: 0.0,
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
}

impl<'a> Renderer<'a> {
    pub fn new(tree: Arc<dyn Tree>, routes: &'a Routes, pricing: &'a PricingTable) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_loader(move |name| match tree.read_string(name) {
            Ok(t) => Ok(t),
            Err(e) => Err(minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string())),
        });
        Renderer { env, routes, pricing, calibrated_output: BTreeMap::new() }
    }

    /// Prices every case in parallel; the result is in dataset order.
    pub fn price_all(&self, dataset: &Dataset) -> Result<Vec<Priced>, Diagnostics> {
        let results: Vec<Result<Priced, Diagnostic>> = dataset.cases.par_iter().map(|c| self.price(c)).collect();
        let mut ok = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        for r in results {
            match r {
                Ok(p) => ok.push(p),
                Err(d) => errors.push(d),
            }
        }
        if errors.is_empty() { Ok(ok) } else { Err(Diagnostics::sorted(errors)) }
    }

    /// Prices one case by the formula of SPEC 3.
    pub fn price(&self, lc: &LocatedCase) -> Result<Priced, Diagnostic> {
        let case = &lc.case;
        let Some(route) = self.routes.for_intent(&case.intent) else {
            return Err(Diagnostic::new(lc.at.file.as_str(), format!("case `{}`: intent `{}` has no route and there is no `default` route in {}", case.id, case.intent, self.routes.file))
                .at(lc.at.line, 0)
                .help(format!("add a route for `{}` (or a `default` route) to {}", case.intent, self.routes.file)));
        };
        let Route::Model { model, system, prompt, max_output_tokens, output_tokens } = route else {
            return Ok(Priced::bypassed());
        };
        let resolved = self.pricing.resolve(model).map_err(|e| {
            Diagnostic::new(self.routes.file.as_str(), format!("intent `{}`: {e}", case.intent))
                .help("fix the model id, or add its prices to the base branch's pricing file")
        })?;
        let price = &resolved.price;
        let enc = price.tokenizer;
        let ctx = template_context(case);
        let mut segments = Segments::default();
        let mut messages = 0u64;
        if let Some(path) = system {
            segments.system = enc.count(&self.render(path, &ctx, lc)?);
            messages += 1;
        }
        for m in &case.history {
            segments.history += enc.count(&m.content);
            messages += 1;
        }
        segments.prompt = match prompt {
            Some(path) => enc.count(&self.render(path, &ctx, lc)?),
            None => enc.count(&case.query),
        };
        messages += 1;
        segments.overhead = price.message_overhead_tokens * messages + price.request_overhead_tokens;
        let input_tokens = tokenize::scale(segments.total(), price.token_scale);
        let wanted = case
            .output_tokens
            .or(*output_tokens)
            .or_else(|| self.calibrated_output.get(&case.intent).copied())
            .unwrap_or(DEFAULT_OUTPUT_TOKENS);
        let output_tokens = max_output_tokens.map_or(wanted, |cap| wanted.min(cap));
        Ok(Priced {
            model: Some(model.clone()),
            bypass: false,
            input_tokens,
            output_tokens,
            segments,
            calls: 1,
            cost_usd: price.cost(input_tokens, output_tokens),
        })
    }

    fn render(&self, path: &str, ctx: &serde_json::Value, lc: &LocatedCase) -> Result<String, Diagnostic> {
        let fail = |msg: String| {
            Diagnostic::new(path, msg).help(format!("the case is defined at {}", lc.at))
        };
        let tmpl = self.env.get_template(path).map_err(|e| fail(format!("cannot load template: {}", describe(&e))))?;
        tmpl.render(ctx).map_err(|e| {
            let line = e.line().unwrap_or(0);
            let what = if e.kind() == ErrorKind::UndefinedError {
                match first_undefined(&tmpl, ctx) {
                    Some(var) => format!("undefined variable `{var}` while rendering case `{}`", lc.case.id),
                    None => format!("undefined value while rendering case `{}`: {}", lc.case.id, describe(&e)),
                }
            } else {
                format!("cannot render for case `{}`: {}", lc.case.id, describe(&e))
            };
            fail(what).at(line, 0)
        })
    }
}

/// The variables templates see (SPEC 2.3).
pub fn template_context(case: &crate::dataset::Case) -> serde_json::Value {
    serde_json::json!({
        "query": case.query,
        "history": case.history,
        "context": case.context.clone().unwrap_or_default(),
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
