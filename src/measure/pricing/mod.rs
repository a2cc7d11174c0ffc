//! The price table: built-in Bedrock prices plus a repository's `pricing.yaml`, and the resolution
//! of model ids (aliases, inference profiles, ARNs) to a priced model. An unknown model is always an
//! error, never $0.
//!
//! A model's prices are one [`PriceSet`] per way Bedrock bills it: the entry's own (in-Region and
//! geographic profiles), per inference-profile prefix where AWS prices one differently (the global
//! profile of Claude Sonnet 4.5 and later), and per service tier. [`ModelPrice::cost`] applies
//! the prompt-caching formula (docs/pricing.md) with the set a call uses.

pub mod audit;
mod file;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::measure::tokenize::Encoding;

const BUILTIN: &str = include_str!("builtin.yaml");
const BUILTIN_NAME: &str = "<built-in pricing table>";

/// Geographic / global prefixes of cross-region inference-profile ids (`us.anthropic…`).
pub const PROFILE_PREFIXES: [&str; 10] = [
    "us", "eu", "apac", "global", "us-gov", "ca", "jp", "au", "de", "in",
];

/// USD per million tokens of each kind of token one price set bills.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_per_mtok: Option<f64>,
    /// The 5-minute cache write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_per_mtok: Option<f64>,
}

impl Rates {
    /// The read and write prices for a cache TTL, when the model caches with it.
    pub fn cache(&self, ttl: Ttl) -> Option<(f64, f64)> {
        let write = match ttl {
            Ttl::FiveMinutes => self.cache_write_per_mtok,
            Ttl::OneHour => self.cache_write_1h_per_mtok,
        };
        Some((self.cache_read_per_mtok?, write?))
    }
}

/// The rate Bedrock applies to a whole request whose input exceeds a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LongContext {
    pub above_input_tokens: u64,
    #[serde(flatten)]
    pub rates: Rates,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PriceSet {
    #[serde(flatten)]
    pub rates: Rates,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_context: Option<LongContext>,
}

impl PriceSet {
    /// The rates a request with this many input tokens (cached ones included) pays.
    pub fn rates_for(&self, input_tokens: u64) -> &Rates {
        match &self.long_context {
            Some(lc) if input_tokens > lc.above_input_tokens => &lc.rates,
            _ => &self.rates,
        }
    }
}

/// Bedrock's service tiers (a route's `service_tier`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    #[default]
    Standard,
    Priority,
    Flex,
    Batch,
    /// `performanceConfig: {latency: optimized}`: the latency-optimized variant's price.
    #[serde(rename = "latency_optimized")]
    LatencyOptimized,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Priority => "priority",
            Tier::Flex => "flex",
            Tier::Batch => "batch",
            Tier::LatencyOptimized => "latency_optimized",
        }
    }
}

/// A prompt-cache entry's time to live (a route's `cache_ttl`, Converse `cachePoint.ttl`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Ttl {
    #[default]
    #[serde(rename = "5m")]
    FiveMinutes,
    #[serde(rename = "1h")]
    OneHour,
}

/// When Bedrock retires a model (AWS's model-lifecycle page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<chrono::NaiveDate>,
}

impl Lifecycle {
    pub fn past_end_of_life(&self, today: chrono::NaiveDate) -> bool {
        self.end_of_life.is_some_and(|d| d <= today)
    }
}

/// Tokens of one call (or one render-mode case) by how they are billed. `input_tokens` counts all
/// input, cached tokens included, so tokens before → after stay comparable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub cache_ttl: Ttl,
    pub tier: Tier,
    /// Images billed per image (multimodal embeddings).
    pub images: u64,
    /// Rerank queries, each started 100 documents one query (Bedrock's search units).
    pub queries: u64,
}

/// Everything needed to price a call to one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelPrice {
    /// The entry's own prices; after [`PricingTable::resolve`], the prices of the profile used.
    #[serde(flatten)]
    pub standard: PriceSet,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, PriceSet>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<Tier, PriceSet>,
    /// Tier prices of one profile where they differ from [`Self::tiers`] (Nova 2 Lite's global
    /// profile); [`PricingTable::resolve`] puts them in `tiers` for a call through that profile.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub profile_tiers: BTreeMap<String, BTreeMap<Tier, PriceSet>>,
    /// The smallest prefix a cache point caches (AWS's prompt-caching docs, per model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_cache_tokens: Option<u64>,
    #[serde(flatten)]
    pub lifecycle: Lifecycle,
    pub tokenizer: Encoding,
    pub token_scale: f64,
    pub message_overhead_tokens: u64,
    pub request_overhead_tokens: u64,
    /// Where the price comes from (`built-in`, or the pricing file).
    pub origin: String,
    /// The page or offer file the numbers were read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Prices in units other than tokens.
    #[serde(flatten)]
    pub units: Units,
    /// How a price not read from a source was derived (a ratio applied to a sourced price):
    /// shown by `costgate pricing` so no derived number passes for a quoted one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived: Option<String>,
}

/// Prices in the units Bedrock bills beside tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Units {
    /// USD per image (multimodal embeddings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_image: Option<f64>,
    /// USD per 1,000 rerank queries (a query of more than 100 documents counts once per
    /// started 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_1k_queries: Option<f64>,
    /// USD per request (a prompt router's own fee).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_request: Option<f64>,
}

impl ModelPrice {
    /// The price set of a tier; `None` when the table has no price for it.
    pub fn tier(&self, tier: Tier) -> Option<&PriceSet> {
        match tier {
            Tier::Standard => Some(&self.standard),
            other => self.tiers.get(&other),
        }
    }

    /// `(in × input + out × output) / 1e6` at the standard tier, unrounded: a call without caching.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        self.cost_of(&Usage {
            input_tokens,
            output_tokens,
            ..Usage::default()
        })
    }

    /// `(uncached × input + read × cache_read + write × cache_write + out × output) / 1e6`
    /// with the rates of the usage's tier (standard when the tier is unpriced) and, above the
    /// long-context threshold, the long-context rates. Cache tokens on a model without cache prices
    /// are billed as input, which is what Bedrock does with a cache point it cannot honour.
    pub fn cost_of(&self, u: &Usage) -> f64 {
        let set = self.tier(u.tier).unwrap_or(&self.standard);
        let r = set.rates_for(u.input_tokens);
        let (read, write) = r
            .cache(u.cache_ttl)
            .unwrap_or((r.input_per_mtok, r.input_per_mtok));
        let uncached = u
            .input_tokens
            .saturating_sub(u.cache_read_tokens + u.cache_write_tokens);
        (uncached as f64 * r.input_per_mtok
            + u.cache_read_tokens as f64 * read
            + u.cache_write_tokens as f64 * write
            + u.output_tokens as f64 * r.output_per_mtok)
            / 1e6
            + u.images as f64 * self.units.per_image.unwrap_or(0.0)
            + u.queries as f64 * self.units.per_1k_queries.unwrap_or(0.0) / 1000.0
    }

    /// Whether the table prices every unit `u` bills (images and queries need their unit price).
    pub fn prices(&self, u: &Usage) -> bool {
        (u.images == 0 || self.units.per_image.is_some())
            && (u.queries == 0 || self.units.per_1k_queries.is_some())
    }
}

/// Price uplift for an inference-profile prefix, in percent (0 = same price as the base model).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub uplift_pct: f64,
}

/// A model id resolved against the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The id of the priced entry (after aliases, ARN and profile prefixes).
    pub base_id: String,
    /// The inference-profile prefix, when the id used one.
    pub profile: Option<String>,
    /// The price of the profile used.
    pub price: ModelPrice,
    /// The table has no price for the model: every rate is 0 and the call's cost is a floor
    /// ([`PricingTable::unpriced`]).
    pub unpriced: bool,
}

/// Why a model id could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownModel {
    #[error(
        "unknown model `{model}`: it is not in the built-in price table or the repository's pricing file"
    )]
    Model { model: String },
    #[error(
        "application inference profile `{model}` is not mapped to a model: add it under `aliases:` in the base branch's pricing file, e.g. `{model}: us.anthropic.claude-sonnet-4-5-20250929-v1:0`"
    )]
    ApplicationProfile { model: String },
}

impl UnknownModel {
    pub fn model(&self) -> &str {
        match self {
            UnknownModel::Model { model } | UnknownModel::ApplicationProfile { model } => model,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PricingTable {
    models: BTreeMap<String, ModelPrice>,
    /// USD per 1,000 text units (each started 1,000 characters) per guardrail policy type.
    guardrail_policies: BTreeMap<String, f64>,
    profiles: BTreeMap<String, Profile>,
    /// Opaque ids (application inference profile ARNs) → the model or profile id they wrap.
    aliases: BTreeMap<String, String>,
}

impl PricingTable {
    /// The built-in table alone. Parsed once per process: `backtest`, `drift` and the stand-in
    /// ask for it per side and per commit.
    pub fn builtin() -> Self {
        static TABLE: LazyLock<PricingTable> = LazyLock::new(|| {
            let mut table = PricingTable {
                models: BTreeMap::new(),
                guardrail_policies: BTreeMap::new(),
                profiles: BTreeMap::new(),
                aliases: BTreeMap::new(),
            };
            // The built-in file is part of the binary and covered by tests; failing here is a
            // build bug.
            table
                .merge_str(BUILTIN, BUILTIN_NAME, "built-in")
                .unwrap_or_else(|d| panic!("built-in pricing table is invalid: {d}"));
            table
        });
        TABLE.clone()
    }

    /// The built-in table with a repository pricing file's entries added or overriding.
    pub fn with_overrides(
        source: &str,
        file: &str,
    ) -> Result<Self, crate::infra::diag::Diagnostics> {
        let mut table = Self::builtin();
        table.merge_str(source, file, file)?;
        Ok(table)
    }

    pub fn models(&self) -> &BTreeMap<String, ModelPrice> {
        &self.models
    }

    pub fn aliases(&self) -> &BTreeMap<String, String> {
        &self.aliases
    }

    /// Sets a model's `token_scale` (from a calibration file).
    pub fn set_token_scale(&mut self, model: &str, scale: f64) -> bool {
        match self.models.get_mut(model) {
            Some(m) => {
                m.token_scale = scale;
                true
            }
            None => false,
        }
    }

    /// Resolves an alias, a model id, an inference-profile id (`us.anthropic…`) or a Bedrock ARN.
    pub fn resolve(&self, model: &str) -> Result<Resolved, UnknownModel> {
        match self.aliases.get(model) {
            Some(target) => self.resolve_id(target).map_err(|_| UnknownModel::Model {
                model: model.to_string(),
            }),
            None => self.resolve_id(model),
        }
    }

    fn resolve_id(&self, model: &str) -> Result<Resolved, UnknownModel> {
        let unknown = || {
            if model.starts_with("arn:") && model.contains(":application-inference-profile/") {
                UnknownModel::ApplicationProfile {
                    model: model.to_string(),
                }
            } else {
                UnknownModel::Model {
                    model: model.to_string(),
                }
            }
        };
        let id = strip_arn(model);
        if let Some(price) = self.models.get(id) {
            return Ok(Resolved {
                base_id: id.to_string(),
                profile: None,
                price: price.clone(),
                unpriced: false,
            });
        }
        let (prefix, rest) = id.split_once('.').ok_or_else(unknown)?;
        if !PROFILE_PREFIXES.contains(&prefix) && !self.profiles.contains_key(prefix) {
            return Err(unknown());
        }
        let mut price = self.models.get(rest).ok_or_else(unknown)?.clone();
        if let Some(set) = price.profiles.get(prefix) {
            price.standard = *set;
            if let Some(tiers) = price.profile_tiers.get(prefix) {
                price.tiers.extend(tiers.iter().map(|(t, s)| (*t, *s)));
            }
        } else if let Some(p) = self.profiles.get(prefix) {
            let k = 1.0 + p.uplift_pct / 100.0;
            uplift(&mut price.standard, k);
            for set in price.tiers.values_mut() {
                uplift(set, k);
            }
        }
        Ok(Resolved {
            base_id: rest.to_string(),
            profile: Some(prefix.to_string()),
            price,
            unpriced: false,
        })
    }

    /// USD per 1,000 text units of a guardrail policy type, when the table prices it.
    pub fn guardrail_policy(&self, policy: &str) -> Option<f64> {
        self.guardrail_policies.get(policy).copied()
    }

    /// Every guardrail policy type the table prices, with its price per 1,000 text units.
    pub fn guardrail_policies(&self) -> &BTreeMap<String, f64> {
        &self.guardrail_policies
    }

    /// A model of a Bedrock provider the table does not price, served at $0 and marked unpriced
    /// so every report says its cost is a floor. `None` for an id of no known provider (a typo
    /// Bedrock itself would reject).
    pub fn unpriced(&self, model: &str) -> Option<Resolved> {
        let id = strip_arn(model);
        let (profile, base) = match id.split_once('.') {
            Some((p, rest)) if PROFILE_PREFIXES.contains(&p) => (Some(p.to_string()), rest),
            _ => (None, id),
        };
        let provider = base.split_once('.')?.0;
        if !BEDROCK_PROVIDERS.contains(&provider) {
            return None;
        }
        let zero = PriceSet {
            rates: Rates {
                input_per_mtok: 0.0,
                output_per_mtok: 0.0,
                cache_read_per_mtok: None,
                cache_write_per_mtok: None,
                cache_write_1h_per_mtok: None,
            },
            long_context: None,
        };
        Some(Resolved {
            base_id: base.to_string(),
            profile,
            price: ModelPrice {
                standard: zero,
                profiles: BTreeMap::new(),
                tiers: BTreeMap::new(),
                profile_tiers: BTreeMap::new(),
                min_cache_tokens: None,
                lifecycle: Lifecycle::default(),
                tokenizer: Encoding::ClaudeApprox,
                token_scale: 1.0,
                message_overhead_tokens: 0,
                request_overhead_tokens: 0,
                origin: "unpriced".into(),
                source: None,
                as_of: None,
                units: Units::default(),
                derived: None,
            },
            unpriced: true,
        })
    }
}

/// Model providers on Bedrock (the first part of a model id): a model of one of them that the
/// table lacks is unpriced, not unknown.
pub const BEDROCK_PROVIDERS: [&str; 20] = [
    "ai21",
    "amazon",
    "anthropic",
    "cohere",
    "deepseek",
    "google",
    "luma",
    "meta",
    "minimax",
    "mistral",
    "moonshot",
    "moonshotai",
    "nvidia",
    "openai",
    "qwen",
    "stability",
    "twelvelabs",
    "writer",
    "zai",
    "kimi",
];

fn uplift(set: &mut PriceSet, k: f64) {
    let scale = |r: &mut Rates| {
        r.input_per_mtok *= k;
        r.output_per_mtok *= k;
        for v in [
            &mut r.cache_read_per_mtok,
            &mut r.cache_write_per_mtok,
            &mut r.cache_write_1h_per_mtok,
        ] {
            *v = v.map(|x| x * k);
        }
    };
    scale(&mut set.rates);
    if let Some(lc) = &mut set.long_context {
        scale(&mut lc.rates);
    }
}

/// `arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic…` → `us.anthropic…`;
/// `arn:…:foundation-model/anthropic…` → `anthropic…`. Anything else (application inference
/// profiles are opaque) is returned unchanged.
pub fn strip_arn(model: &str) -> &str {
    if !model.starts_with("arn:") {
        return model;
    }
    for kind in [
        "foundation-model/",
        "inference-profile/",
        "provisioned-model/",
    ] {
        if let Some(i) = model.find(kind) {
            if model[..i].ends_with(':') {
                return &model[i + kind.len()..];
            }
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_loads_and_covers_the_families() {
        let t = PricingTable::builtin();
        for id in [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "amazon.nova-micro-v1:0",
            "meta.llama3-3-70b-instruct-v1:0",
            "mistral.mistral-large-2407-v1:0",
            "openai.gpt-oss-120b-1:0",
        ] {
            assert!(t.resolve(id).is_ok(), "{id}");
        }
        assert_eq!(
            t.resolve("openai.gpt-oss-20b-1:0").unwrap().price.tokenizer,
            Encoding::O200kHarmony
        );
    }

    #[test]
    fn unknown_model_is_an_error_not_free() {
        let t = PricingTable::builtin();
        let e = t.resolve("anthropic.claude-9-giant").unwrap_err();
        assert_eq!(e.model(), "anthropic.claude-9-giant");
        assert!(
            t.resolve("xx.anthropic.claude-3-haiku-20240307-v1:0")
                .is_err()
        );
    }

    #[test]
    fn profiles_and_arns_resolve_to_the_base_model() {
        let t = PricingTable::builtin();
        let r = t
            .resolve("us.anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap();
        assert_eq!(r.base_id, "anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(r.profile.as_deref(), Some("us"));
        assert_eq!(r.price.standard.rates.input_per_mtok, 0.25);
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-lite-v1:0";
        assert_eq!(t.resolve(arn).unwrap().base_id, "amazon.nova-lite-v1:0");
        let arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0";
        assert_eq!(
            t.resolve(arn).unwrap().price.standard.rates.output_per_mtok,
            3.20
        );
    }

    #[test]
    fn repo_file_overrides_adds_and_uplifts() {
        let src = "models:\n  anthropic.claude-3-haiku-20240307-v1:0:\n    input_per_mtok: 0.5\n  acme.custom-v1:\n    input_per_mtok: 1\n    output_per_mtok: 2\n    tokenizer: o200k_base\nprofiles:\n  global: {uplift_pct: 10}\n";
        let t = PricingTable::with_overrides(src, "pricing.yaml").unwrap();
        let h = t
            .resolve("anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap()
            .price;
        assert_eq!(
            (
                h.standard.rates.input_per_mtok,
                h.standard.rates.output_per_mtok
            ),
            (0.5, 1.25)
        );
        assert_eq!(h.origin, "pricing.yaml");
        assert_eq!(
            t.resolve("acme.custom-v1").unwrap().price.tokenizer,
            Encoding::O200kBase
        );
        let g = t
            .resolve("global.anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap()
            .price;
        assert!((g.standard.rates.input_per_mtok - 0.55).abs() < 1e-12);
    }

    #[test]
    fn new_model_without_prices_is_reported_with_location() {
        let src = "models:\n  acme.custom-v1:\n    input_per_mtok: 1\n";
        let err = PricingTable::with_overrides(src, "pricing.yaml").unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].line, 3);
        assert!(err.0[0].message.contains("acme.custom-v1"));
    }

    #[test]
    fn unknown_key_in_pricing_file_is_rejected() {
        let err = PricingTable::with_overrides("models:\n  a.b:\n    input_per_mtk: 1\n", "p.yaml")
            .unwrap_err();
        assert!(err.0[0].message.contains("input_per_mtk"), "{}", err);
        assert_eq!(err.0[0].line, 3);
    }

    #[test]
    fn cost_is_unrounded() {
        let t = PricingTable::builtin();
        let p = t
            .resolve("anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap()
            .price;
        assert_eq!(p.cost(1200, 220), (1200.0 * 0.25 + 220.0 * 1.25) / 1e6);
    }

    const SONNET: &str = "models:\n  acme.sonnet:\n    input_per_mtok: 3.3\n    output_per_mtok: 16.5\n    cache_read_per_mtok: 0.33\n    cache_write_per_mtok: 4.125\n    cache_write_1h_per_mtok: 6.6\n    min_cache_tokens: 1024\n    long_context: {above_input_tokens: 200000, input_per_mtok: 6.6, output_per_mtok: 24.75, cache_read_per_mtok: 0.66, cache_write_per_mtok: 8.25}\n    profiles:\n      global: {input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3, cache_write_per_mtok: 3.75}\n    tiers:\n      flex: {input_per_mtok: 1.65, output_per_mtok: 8.25}\n    legacy: 2026-01-15\n    end_of_life: \"2026-07-15\"\n    source: https://aws.amazon.com/bedrock/pricing/\n";

    #[test]
    fn global_profile_has_its_own_price_and_geographic_ones_the_entrys() {
        let t = PricingTable::with_overrides(SONNET, "pricing.yaml").unwrap();
        let g = t.resolve("global.acme.sonnet").unwrap().price;
        assert_eq!(g.standard.rates.input_per_mtok, 3.0);
        // Left out of the global set: the entry's own 1-hour write price.
        assert_eq!(g.standard.rates.cache_write_1h_per_mtok, Some(6.6));
        assert_eq!(g.standard.long_context, None);
        for id in ["us.acme.sonnet", "eu.acme.sonnet", "acme.sonnet"] {
            let p = t.resolve(id).unwrap().price;
            assert_eq!(p.standard.rates.input_per_mtok, 3.3, "{id}");
        }
    }

    #[test]
    fn cost_of_follows_the_cache_formula_tiers_and_long_context() {
        let t = PricingTable::with_overrides(SONNET, "pricing.yaml").unwrap();
        let p = t.resolve("acme.sonnet").unwrap().price;
        let u = Usage {
            input_tokens: 5000,
            output_tokens: 200,
            cache_read_tokens: 3000,
            cache_write_tokens: 1000,
            ..Usage::default()
        };
        assert_eq!(
            p.cost_of(&u),
            (1000.0 * 3.3 + 3000.0 * 0.33 + 1000.0 * 4.125 + 200.0 * 16.5) / 1e6
        );
        let hour = Usage {
            cache_ttl: Ttl::OneHour,
            ..u
        };
        assert_eq!(
            p.cost_of(&hour),
            (1000.0 * 3.3 + 3000.0 * 0.33 + 1000.0 * 6.6 + 200.0 * 16.5) / 1e6
        );
        let flex = Usage {
            tier: Tier::Flex,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            ..u
        };
        assert_eq!(p.cost_of(&flex), (5000.0 * 1.65 + 200.0 * 8.25) / 1e6);
        let long = Usage {
            input_tokens: 200_001,
            ..Usage::default()
        };
        assert_eq!(p.cost_of(&long), 200_001.0 * 6.6 / 1e6);
        let at_threshold = Usage {
            input_tokens: 200_000,
            ..Usage::default()
        };
        assert_eq!(p.cost_of(&at_threshold), 200_000.0 * 3.3 / 1e6);
        // Without caching the formula is the plain one, to the bit.
        assert_eq!(p.cost(1234, 56), (1234.0 * 3.3 + 56.0 * 16.5) / 1e6);
    }

    #[test]
    fn a_profile_prices_its_own_tiers_where_aws_lists_them() {
        // Nova 2 Lite (AWS's page, US East (Ohio)): flex is $0.165 in-Region and geographic,
        // $0.15 through the global profile.
        let t = PricingTable::builtin();
        let flex = |id: &str| {
            let p = t.resolve(id).unwrap().price;
            p.cost_of(&Usage {
                input_tokens: 1_000_000,
                output_tokens: 1_000_000,
                tier: Tier::Flex,
                ..Usage::default()
            })
        };
        assert_eq!(flex("amazon.nova-2-lite-v1:0"), 0.165 + 1.375);
        assert_eq!(flex("us.amazon.nova-2-lite-v1:0"), 0.165 + 1.375);
        assert_eq!(flex("global.amazon.nova-2-lite-v1:0"), 0.15 + 1.25);
        // Claude batch is half the profile's on-demand price, long context included.
        let sonnet = t
            .resolve("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap()
            .price;
        let long = Usage {
            input_tokens: 300_000,
            output_tokens: 1000,
            tier: Tier::Batch,
            ..Usage::default()
        };
        assert_eq!(
            sonnet.cost_of(&long),
            (300_000.0 * 3.00 + 1000.0 * 11.25) / 1e6
        );
        // Haiku 5.5 is priced by prompt length: past 100,000 tokens every token pays the higher rate.
        let haiku = t
            .resolve("global.anthropic.claude-haiku-5-5")
            .unwrap()
            .price;
        assert_eq!(
            haiku.cost(100_000, 1000),
            (100_000.0 * 0.10 + 1000.0 * 0.50) / 1e6
        );
        assert_eq!(
            haiku.cost(100_001, 1000),
            (100_001.0 * 0.50 + 1000.0 * 2.50) / 1e6
        );
        let err = PricingTable::with_overrides(
            "models:\n  a.b:\n    input_per_mtok: 1\n    output_per_mtok: 1\n    profile_tiers:\n      global:\n        flex: {input_per_mtok: 0.5, output_per_mtok: 0.5}\n",
            "p.yaml",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`profile_tiers.global` names a profile the entry does not price"),
            "{err}"
        );
    }

    #[test]
    fn lifecycle_dates_parse_and_bad_ones_are_reported() {
        let t = PricingTable::with_overrides(SONNET, "pricing.yaml").unwrap();
        let p = t.resolve("acme.sonnet").unwrap().price;
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(p.lifecycle.legacy, Some(day("2026-01-15")));
        assert!(p.lifecycle.past_end_of_life(day("2026-07-15")));
        assert!(!p.lifecycle.past_end_of_life(day("2026-07-14")));
        let err = PricingTable::with_overrides(
            "models:\n  a.b:\n    input_per_mtok: 1\n    output_per_mtok: 1\n    end_of_life: soon\n    tiers:\n      batch: {input_per_mtok: 1}\n",
            "p.yaml",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`end_of_life` must be a date"), "{text}");
        assert!(text.contains("`tiers.batch` needs"), "{text}");
        assert_eq!(err.0.len(), 2);
    }

    #[test]
    fn aliases_map_application_profiles_and_unmapped_ones_say_how() {
        let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
        let t = PricingTable::builtin();
        let e = t.resolve(arn).unwrap_err();
        assert!(matches!(e, UnknownModel::ApplicationProfile { .. }));
        assert!(e.to_string().contains("aliases:"), "{e}");
        let src = format!("aliases:\n  \"{arn}\": us.anthropic.claude-3-haiku-20240307-v1:0\n");
        let t = PricingTable::with_overrides(&src, "pricing.yaml").unwrap();
        let r = t.resolve(arn).unwrap();
        assert_eq!(r.base_id, "anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(r.profile.as_deref(), Some("us"));
        let bad = PricingTable::with_overrides("aliases:\n  x: acme.nothing\n", "pricing.yaml")
            .unwrap_err();
        assert!(bad.to_string().contains("alias `x`"), "{bad}");
    }

    #[test]
    fn builtin_sonnet_4_5_global_profile_is_cheaper_than_geographic_ones() {
        let t = PricingTable::builtin();
        let id = "anthropic.claude-sonnet-4-5-20250929-v1:0";
        let global = t.resolve(&format!("global.{id}")).unwrap().price;
        let us = t.resolve(&format!("us.{id}")).unwrap().price;
        let g = global.standard.rates.input_per_mtok;
        let u = us.standard.rates.input_per_mtok;
        assert!(g < u, "global {g} vs us {u}");
        assert_eq!(
            u,
            t.resolve(id).unwrap().price.standard.rates.input_per_mtok
        );
    }
}
