//! The price table: built-in Bedrock prices plus a repository's `pricing.yaml`, and the resolution
//! of model ids (inference profiles, ARNs) to a priced model. An unknown model is always an error,
//! never $0.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::diag::{self, Diagnostic, Diagnostics, Sink};
use crate::tokenize::Encoding;

const BUILTIN: &str = include_str!("builtin.yaml");
const BUILTIN_NAME: &str = "<built-in pricing table>";

/// Geographic / global prefixes of cross-region inference-profile ids (`us.anthropic…`).
pub const PROFILE_PREFIXES: [&str; 9] = [
    "us", "eu", "apac", "global", "us-gov", "ca", "jp", "au", "de",
];

/// Everything needed to price a call to one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelPrice {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    pub cache_read_per_mtok: Option<f64>,
    pub cache_write_per_mtok: Option<f64>,
    pub tokenizer: Encoding,
    pub token_scale: f64,
    pub message_overhead_tokens: u64,
    pub request_overhead_tokens: u64,
    /// Where the price comes from (`built-in`, or the pricing file).
    pub origin: String,
    pub as_of: Option<String>,
}

impl ModelPrice {
    /// `(in × input_per_mtok + out × output_per_mtok) / 1e6`, unrounded.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_per_mtok + output_tokens as f64 * self.output_per_mtok)
            / 1e6
    }

    /// Cost including prompt-cache reads and writes, for the stand-in's usage records.
    pub fn cost_with_cache(
        &self,
        input: u64,
        output: u64,
        cache_read: u64,
        cache_write: u64,
    ) -> f64 {
        let read = self.cache_read_per_mtok.unwrap_or(self.input_per_mtok);
        let write = self.cache_write_per_mtok.unwrap_or(self.input_per_mtok);
        (input as f64 * self.input_per_mtok
            + output as f64 * self.output_per_mtok
            + cache_read as f64 * read
            + cache_write as f64 * write)
            / 1e6
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
    /// The id of the priced entry (after stripping ARN and profile prefixes).
    pub base_id: String,
    /// The inference-profile prefix, when the id used one.
    pub profile: Option<String>,
    /// The price with any profile uplift applied.
    pub price: ModelPrice,
}

/// Why a model id could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown model `{model}`: it is not in the built-in price table or the repository's pricing file"
)]
pub struct UnknownModel {
    pub model: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PricingTable {
    models: BTreeMap<String, ModelPrice>,
    profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    models: BTreeMap<String, Spanned<RawModel>>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawModel {
    input_per_mtok: Option<f64>,
    output_per_mtok: Option<f64>,
    cache_read_per_mtok: Option<f64>,
    cache_write_per_mtok: Option<f64>,
    tokenizer: Option<Encoding>,
    token_scale: Option<f64>,
    message_overhead_tokens: Option<u64>,
    request_overhead_tokens: Option<u64>,
    as_of: Option<String>,
}

impl PricingTable {
    /// The built-in table alone. Parsed once per process: `backtest`, `drift` and the stand-in
    /// ask for it per side and per commit.
    pub fn builtin() -> Self {
        static TABLE: LazyLock<PricingTable> = LazyLock::new(|| {
            let mut table = PricingTable {
                models: BTreeMap::new(),
                profiles: BTreeMap::new(),
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
    pub fn with_overrides(source: &str, file: &str) -> Result<Self, Diagnostics> {
        let mut table = Self::builtin();
        table.merge_str(source, file, file)?;
        Ok(table)
    }

    fn merge_str(&mut self, source: &str, file: &str, origin: &str) -> Result<(), Diagnostics> {
        let raw: RawFile = if source.trim().is_empty() {
            RawFile {
                models: BTreeMap::new(),
                profiles: BTreeMap::new(),
            }
        } else {
            crate::yaml::from_str(source)
                .map_err(|e| Diagnostics(vec![diag::from_yaml_error(file, &e)]))?
        };
        let mut sink = Sink::default();
        for (id, spanned) in raw.models {
            let (line, col) = (
                spanned.referenced.line() as usize,
                spanned.referenced.column() as usize,
            );
            let m = spanned.value;
            let existing = self.models.get(&id);
            let input = m.input_per_mtok.or(existing.map(|e| e.input_per_mtok));
            let output = m.output_per_mtok.or(existing.map(|e| e.output_per_mtok));
            let (Some(input), Some(output)) = (input, output) else {
                sink.push(
                    Diagnostic::new(
                        file,
                        format!("model `{id}` needs `input_per_mtok` and `output_per_mtok`"),
                    )
                    .at(line, col)
                    .help("a new model must give both prices in USD per million tokens"),
                );
                continue;
            };
            let mut bad = |key: &str, v: f64, allow_zero: bool| {
                if !v.is_finite() || v < 0.0 || (!allow_zero && v == 0.0) {
                    sink.push(
                        Diagnostic::new(
                            file,
                            format!(
                                "model `{id}`: `{key}` must be a {} number, got {v}",
                                if allow_zero {
                                    "non-negative"
                                } else {
                                    "positive"
                                }
                            ),
                        )
                        .at(line, col),
                    );
                }
            };
            bad("input_per_mtok", input, true);
            bad("output_per_mtok", output, true);
            for (k, v) in [
                ("cache_read_per_mtok", m.cache_read_per_mtok),
                ("cache_write_per_mtok", m.cache_write_per_mtok),
            ] {
                if let Some(v) = v {
                    bad(k, v, true);
                }
            }
            let token_scale = m
                .token_scale
                .or(existing.map(|e| e.token_scale))
                .unwrap_or(1.0);
            bad("token_scale", token_scale, false);
            let price = ModelPrice {
                input_per_mtok: input,
                output_per_mtok: output,
                cache_read_per_mtok: m
                    .cache_read_per_mtok
                    .or(existing.and_then(|e| e.cache_read_per_mtok)),
                cache_write_per_mtok: m
                    .cache_write_per_mtok
                    .or(existing.and_then(|e| e.cache_write_per_mtok)),
                tokenizer: m
                    .tokenizer
                    .or(existing.map(|e| e.tokenizer))
                    .unwrap_or(Encoding::ClaudeApprox),
                token_scale,
                message_overhead_tokens: m
                    .message_overhead_tokens
                    .or(existing.map(|e| e.message_overhead_tokens))
                    .unwrap_or(0),
                request_overhead_tokens: m
                    .request_overhead_tokens
                    .or(existing.map(|e| e.request_overhead_tokens))
                    .unwrap_or(0),
                origin: origin.to_string(),
                as_of: m.as_of.or(existing.and_then(|e| e.as_of.clone())),
            };
            self.models.insert(id, price);
        }
        for (prefix, p) in raw.profiles {
            if !p.uplift_pct.is_finite() || p.uplift_pct < 0.0 {
                sink.push(Diagnostic::new(
                    file,
                    format!("profile `{prefix}`: `uplift_pct` must be a non-negative number"),
                ));
            }
            self.profiles.insert(prefix, p);
        }
        sink.finish(())
    }

    pub fn models(&self) -> &BTreeMap<String, ModelPrice> {
        &self.models
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

    /// Resolves a model id, an inference-profile id (`us.anthropic…`) or a Bedrock ARN.
    pub fn resolve(&self, model: &str) -> Result<Resolved, UnknownModel> {
        let unknown = || UnknownModel {
            model: model.to_string(),
        };
        let id = strip_arn(model);
        if let Some(price) = self.models.get(id) {
            return Ok(Resolved {
                base_id: id.to_string(),
                profile: None,
                price: price.clone(),
            });
        }
        let (prefix, rest) = id.split_once('.').ok_or_else(unknown)?;
        if !PROFILE_PREFIXES.contains(&prefix) && !self.profiles.contains_key(prefix) {
            return Err(unknown());
        }
        let mut price = self.models.get(rest).ok_or_else(unknown)?.clone();
        if let Some(p) = self.profiles.get(prefix) {
            let k = 1.0 + p.uplift_pct / 100.0;
            price.input_per_mtok *= k;
            price.output_per_mtok *= k;
            price.cache_read_per_mtok = price.cache_read_per_mtok.map(|v| v * k);
            price.cache_write_per_mtok = price.cache_write_per_mtok.map(|v| v * k);
        }
        Ok(Resolved {
            base_id: rest.to_string(),
            profile: Some(prefix.to_string()),
            price,
        })
    }
}

/// `arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic…` → `us.anthropic…`;
/// `arn:…:foundation-model/anthropic…` → `anthropic…`. Anything else is returned unchanged.
fn strip_arn(model: &str) -> &str {
    if !model.starts_with("arn:") {
        return model;
    }
    for kind in [
        "foundation-model/",
        "inference-profile/",
        "provisioned-model/",
    ] {
        if let Some(i) = model.find(kind) {
            return &model[i + kind.len()..];
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
        assert_eq!(e.model, "anthropic.claude-9-giant");
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
        assert_eq!(r.price.input_per_mtok, 0.25);
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-lite-v1:0";
        assert_eq!(t.resolve(arn).unwrap().base_id, "amazon.nova-lite-v1:0");
        let arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0";
        assert_eq!(t.resolve(arn).unwrap().price.output_per_mtok, 3.20);
    }

    #[test]
    fn repo_file_overrides_adds_and_uplifts() {
        let src = "models:\n  anthropic.claude-3-haiku-20240307-v1:0:\n    input_per_mtok: 0.5\n  acme.custom-v1:\n    input_per_mtok: 1\n    output_per_mtok: 2\n    tokenizer: o200k_base\nprofiles:\n  global: {uplift_pct: 10}\n";
        let t = PricingTable::with_overrides(src, "pricing.yaml").unwrap();
        let h = t
            .resolve("anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap()
            .price;
        assert_eq!((h.input_per_mtok, h.output_per_mtok), (0.5, 1.25));
        assert_eq!(h.origin, "pricing.yaml");
        assert_eq!(
            t.resolve("acme.custom-v1").unwrap().price.tokenizer,
            Encoding::O200kBase
        );
        let g = t
            .resolve("global.anthropic.claude-3-haiku-20240307-v1:0")
            .unwrap()
            .price;
        assert!((g.input_per_mtok - 0.55).abs() < 1e-12);
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
}
