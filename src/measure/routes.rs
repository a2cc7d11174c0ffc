//! Routes (render mode): how each intent is served, from the routes file of each side's tree.
//! Validation resolves every model against the base's price table and checks that every template
//! exists, so a typo fails loudly before anything is priced.

use std::collections::BTreeMap;

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::Spanned;

use crate::infra::diag::{self, Diagnostic, Diagnostics, Sink};
use crate::infra::tree::Tree;
use crate::measure::pricing::{PricingTable, Tier, Ttl};
use crate::measure::reasoning::{RouteReasoning, Setting};

pub const DEFAULT_ROUTE: &str = "default";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    model: Option<Spanned<String>>,
    system: Option<Spanned<String>>,
    prompt: Option<Spanned<String>>,
    max_output_tokens: Option<u64>,
    output_tokens: Option<u64>,
    #[serde(default)]
    bypass: bool,
    #[serde(default)]
    cache: CacheAt,
    #[serde(default)]
    cache_ttl: Ttl,
    #[serde(default)]
    service_tier: Tier,
    reasoning: Option<Spanned<RouteReasoning>>,
}

/// Where a route puts its prompt-cache point (its `cache` key, docs/configuration.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheAt {
    #[default]
    None,
    /// After the system prompt.
    System,
    /// After the last history message: system and history are the cached prefix.
    History,
}

/// How a route's model call is served and billed besides its prompt: cache point, TTL, tier,
/// reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Serving {
    pub cache: CacheAt,
    pub cache_ttl: Ttl,
    pub service_tier: Tier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Setting>,
}

impl Serving {
    fn is_default(&self) -> bool {
        *self == Serving::default()
    }
}

/// Where the routes come from: a file in the tree, or a mapping inline in `costgate.yaml`.
#[derive(Debug, Clone)]
pub enum RoutesSpec {
    Path(String),
    Inline(BTreeMap<String, Spanned<RawRoute>>),
}

impl<'de> Deserialize<'de> for RoutesSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A hand-written visitor instead of `#[serde(untagged)]`, which would buffer the value and
        // lose the line numbers of inline routes.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RoutesSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path to a routes file, or a mapping of intent to route")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RoutesSpec, E> {
                Ok(RoutesSpec::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RoutesSpec, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RoutesSpec::Inline)
            }
        }
        d.deserialize_any(V)
    }
}

/// A validated route.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Route {
    /// Answered without a model call: 0 tokens, $0.
    Bypass,
    Model {
        model: String,
        system: Option<String>,
        prompt: Option<String>,
        max_output_tokens: Option<u64>,
        output_tokens: Option<u64>,
        #[serde(flatten, skip_serializing_if = "Serving::is_default")]
        serving: Serving,
    },
}

/// What [`Routes::hold_estimates`] found: the head's estimates below the base's (replaced, listed
/// as policy changes) and its caps below the base's estimated answer (applied, noted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimates {
    pub lowered: Vec<String>,
    pub capped: Vec<String>,
}

/// All routes of one side, keyed by intent (`default` included).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Routes {
    /// Where they were read from, for messages.
    pub file: String,
    pub by_intent: BTreeMap<String, Route>,
}

impl Routes {
    /// The route for `intent`: its own, else `default`.
    pub fn for_intent(&self, intent: &str) -> Option<&Route> {
        self.by_intent
            .get(intent)
            .or_else(|| self.by_intent.get(DEFAULT_ROUTE))
    }

    /// Holds every output length estimate (`output_tokens`) to at least the base's: estimates are
    /// policy, so a head cannot price its answers shorter than the base says they are (a longer
    /// estimate only makes the PR dearer, and is kept). `fallback` is the base's estimate for an
    /// intent whose route names none (calibration, else the default). Also names the head's own
    /// output caps (`max_output_tokens`, application behaviour, applied) that cut the base's
    /// estimated answer, since they move the cost without a prompt changing.
    pub fn hold_estimates(&mut self, base: &Routes, fallback: &dyn Fn(&str) -> u64) -> Estimates {
        let mut held = Estimates::default();
        for (intent, route) in &mut self.by_intent {
            let Route::Model {
                output_tokens,
                max_output_tokens,
                ..
            } = route
            else {
                continue;
            };
            let Some(Route::Model {
                output_tokens: base_tokens,
                max_output_tokens: base_cap,
                ..
            }) = base.for_intent(intent)
            else {
                continue;
            };
            let base_estimate = base_tokens.unwrap_or_else(|| fallback(intent));
            let head_estimate = output_tokens.unwrap_or_else(|| fallback(intent));
            if head_estimate < base_estimate {
                held.lowered.push(format!(
                    "{}: route `{intent}` output_tokens: {base_estimate} → {head_estimate} (ignored: output estimates come from the base)",
                    self.file
                ));
                *output_tokens = *base_tokens;
            }
            let answer = base_cap.map_or(base_estimate, |c| base_estimate.min(c));
            if let Some(cap) = max_output_tokens.filter(|cap| *cap < answer) {
                held.capped.push(format!(
                    "{}: route `{intent}` max_output_tokens {cap} cuts the base's estimated answer of {answer} tokens: its cases are priced with at most {cap} output tokens",
                    self.file
                ));
            }
        }
        held
    }

    /// Loads the routes named by `spec` from `tree`, validating models against `pricing`.
    pub fn load(
        tree: &dyn Tree,
        spec: &RoutesSpec,
        config_file: &str,
        pricing: &PricingTable,
    ) -> Result<Routes, Diagnostics> {
        let (file, raw) = read_raw(tree, spec, config_file)?;
        let mut sink = Sink::default();
        let mut by_intent = BTreeMap::new();
        if raw.is_empty() {
            sink.push(
                Diagnostic::new(&file, "no routes defined")
                    .help("map each intent to a model, or add a `default` route"),
            );
        }
        for (intent, spanned) in raw {
            if let Some(route) = route(&intent, spanned, &file, tree, pricing, &mut sink) {
                by_intent.insert(intent, route);
            }
        }
        sink.finish(Routes { file, by_intent })
    }
}

/// The routes as written: inline in `costgate.yaml` or in their own file. Returns the file the
/// diagnostics name.
fn read_raw(
    tree: &dyn Tree,
    spec: &RoutesSpec,
    config_file: &str,
) -> Result<(String, BTreeMap<String, Spanned<RawRoute>>), Diagnostics> {
    Ok(match spec {
        RoutesSpec::Inline(map) => (config_file.to_string(), map.clone()),
        RoutesSpec::Path(path) => {
            let text = match tree.read_string(path) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    return Err(Diagnostics(vec![Diagnostic::new(
                        config_file,
                        format!("routes file `{path}` not found in {}", tree.label()),
                    )
                    .help("fix the `routes:` path in costgate.yaml; it is relative to the repository root")]));
                }
                Err(e) => {
                    return Err(Diagnostics(vec![Diagnostic::new(
                        path.as_str(),
                        e.to_string(),
                    )]));
                }
            };
            let raw: BTreeMap<String, Spanned<RawRoute>> = if text.trim().is_empty() {
                BTreeMap::new()
            } else {
                crate::infra::yaml::from_str(&text)
                    .map_err(|e| Diagnostics(vec![diag::from_yaml_error(path, &e)]))?
            };
            (path.clone(), raw)
        }
    })
}

/// One route, validated against the price table and the tree's templates; `None` when it has no
/// model (reported).
fn route(
    intent: &str,
    spanned: Spanned<RawRoute>,
    file: &str,
    tree: &dyn Tree,
    pricing: &PricingTable,
    sink: &mut Sink,
) -> Option<Route> {
    let (line, col) = (
        spanned.referenced.line() as usize,
        spanned.referenced.column() as usize,
    );
    let r = spanned.value;
    if r.bypass {
        if r.model.is_some() || r.system.is_some() || r.prompt.is_some() {
            sink.push(
                Diagnostic::new(
                    file,
                    format!("route `{intent}` has `bypass: true` and also a model or templates"),
                )
                .at(line, col)
                .help("a bypassed intent makes no model call; remove `bypass` or the other keys"),
            );
        }
        return Some(Route::Bypass);
    }
    let Some(model) = r.model else {
        sink.push(
            Diagnostic::new(file, format!("route `{intent}` has no `model`"))
                .at(line, col)
                .help("name a Bedrock model id, or set `bypass: true`"),
        );
        return None;
    };
    let at = (
        model.referenced.line() as usize,
        model.referenced.column() as usize,
    );
    let resolved = pricing.resolve(&model.value);
    let reasoning = match (&r.reasoning, &resolved) {
        (Some(rr), Ok(res)) => match rr.value.setting(&res.base_id, r.max_output_tokens) {
            Ok(s) => Some(s),
            Err(e) => {
                sink.push(
                    Diagnostic::new(file, format!("route `{intent}`: {e}"))
                        .at(
                            rr.referenced.line() as usize,
                            rr.referenced.column() as usize,
                        )
                        .help(format!(
                            "reasoning settings and what each model takes: {}",
                            crate::infra::docs::page("pricing.md#reasoning")
                        )),
                );
                None
            }
        },
        _ => None,
    };
    match resolved {
            Err(e) => sink.push(
                Diagnostic::new(file, format!("route `{intent}`: {e}"))
                    .at(at.0, at.1)
                    .help("fix the model id, or add its prices to the base branch's pricing file (`pricing:` in costgate.yaml)"),
            ),
            Ok(resolved) if resolved.price.tier(r.service_tier).is_none() => sink.push(
                Diagnostic::new(
                    file,
                    format!(
                        "route `{intent}`: the price table has no `{}` tier prices for `{}`",
                        r.service_tier.name(),
                        model.value
                    ),
                )
                .at(line, col)
                .help("use a tier the model is priced for, or add `tiers:` prices for it to the base branch's pricing file"),
            ),
            Ok(_) => {}
        }
    if r.cache == CacheAt::System && r.system.is_none() {
        sink.push(
                Diagnostic::new(
                    file,
                    format!("route `{intent}` has `cache: system` but no `system` template"),
                )
                .at(line, col)
                .help("the cache point goes after the system prompt: add one, or use `cache: history` or `none`"),
            );
    }
    for template in [&r.system, &r.prompt].into_iter().flatten() {
        match tree.read(&template.value) {
            Ok(Some(_)) => {}
            Ok(None) => sink.push(
                Diagnostic::new(
                    file,
                    format!(
                        "route `{intent}`: template `{}` does not exist in {}",
                        template.value,
                        tree.label()
                    ),
                )
                .at(
                    template.referenced.line() as usize,
                    template.referenced.column() as usize,
                )
                .help("template paths are relative to the repository root"),
            ),
            Err(e) => sink.push(Diagnostic::new(file, format!("route `{intent}`: {e}")).at(
                template.referenced.line() as usize,
                template.referenced.column() as usize,
            )),
        }
    }
    if r.max_output_tokens == Some(0) {
        sink.push(
            Diagnostic::new(
                file,
                format!("route `{intent}`: `max_output_tokens` must be at least 1"),
            )
            .at(line, col),
        );
    }
    Some(Route::Model {
        model: model.value,
        system: r.system.map(|s| s.value),
        prompt: r.prompt.map(|s| s.value),
        max_output_tokens: r.max_output_tokens,
        output_tokens: r.output_tokens,
        serving: Serving {
            cache: r.cache,
            cache_ttl: r.cache_ttl,
            service_tier: r.service_tier,
            reasoning,
        },
    })
}
