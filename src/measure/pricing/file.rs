//! The pricing file format (docs/configuration.md), parsed raw and then validated into the table:
//! every problem of a file at once, each with its line. The built-in table is a file in the same
//! format.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{
    Lifecycle, LongContext, ModelPrice, PriceSet, PricingTable, Profile, Rates, Tier, Units,
};
use crate::infra::diag::{self, Diagnostic, Diagnostics, Sink};
use crate::measure::tokenize::Encoding;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    models: BTreeMap<String, Spanned<RawModel>>,
    /// USD per 1,000 text units per guardrail policy type.
    #[serde(default)]
    guardrail_policies: BTreeMap<String, f64>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
    #[serde(default)]
    aliases: BTreeMap<String, Spanned<String>>,
}

/// One price set as written: the entry's own, a profile's or a tier's.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawSet {
    input_per_mtok: Option<f64>,
    output_per_mtok: Option<f64>,
    cache_read_per_mtok: Option<f64>,
    cache_write_per_mtok: Option<f64>,
    cache_write_1h_per_mtok: Option<f64>,
    long_context: Option<RawLongContext>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawLongContext {
    above_input_tokens: u64,
    input_per_mtok: f64,
    output_per_mtok: f64,
    cache_read_per_mtok: Option<f64>,
    cache_write_per_mtok: Option<f64>,
    cache_write_1h_per_mtok: Option<f64>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawModel {
    input_per_mtok: Option<f64>,
    output_per_mtok: Option<f64>,
    cache_read_per_mtok: Option<f64>,
    cache_write_per_mtok: Option<f64>,
    cache_write_1h_per_mtok: Option<f64>,
    long_context: Option<RawLongContext>,
    min_cache_tokens: Option<u64>,
    #[serde(default)]
    profiles: BTreeMap<String, RawSet>,
    #[serde(default)]
    tiers: BTreeMap<Tier, RawSet>,
    /// A profile's own tier prices, where AWS prices a tier differently per profile.
    #[serde(default)]
    profile_tiers: BTreeMap<String, BTreeMap<Tier, RawSet>>,
    legacy: Option<String>,
    end_of_life: Option<String>,
    tokenizer: Option<Encoding>,
    token_scale: Option<f64>,
    message_overhead_tokens: Option<u64>,
    request_overhead_tokens: Option<u64>,
    source: Option<String>,
    as_of: Option<String>,
    per_image: Option<f64>,
    per_1k_queries: Option<f64>,
    per_request: Option<f64>,
    /// How a price not read from a source was derived.
    derived: Option<String>,
}

/// Reports problems of one entry against its line, so a file's every mistake surfaces at once.
struct Checker<'a> {
    file: &'a str,
    id: &'a str,
    line: usize,
    col: usize,
    sink: &'a mut Sink,
}

impl Checker<'_> {
    fn push(&mut self, message: String, help: Option<&str>) {
        let mut d = Diagnostic::new(self.file, format!("model `{}`: {message}", self.id))
            .at(self.line, self.col);
        if let Some(h) = help {
            d = d.help(h);
        }
        self.sink.push(d);
    }

    fn price(&mut self, key: &str, v: f64) {
        if !v.is_finite() || v < 0.0 {
            self.push(
                format!("`{key}` must be a non-negative number, got {v}"),
                None,
            );
        }
    }

    fn rates(&mut self, at: &str, r: &Rates) {
        for (key, v) in [
            ("input_per_mtok", Some(r.input_per_mtok)),
            ("output_per_mtok", Some(r.output_per_mtok)),
            ("cache_read_per_mtok", r.cache_read_per_mtok),
            ("cache_write_per_mtok", r.cache_write_per_mtok),
            ("cache_write_1h_per_mtok", r.cache_write_1h_per_mtok),
        ] {
            if let Some(v) = v {
                self.price(&format!("{at}{key}"), v);
            }
        }
    }

    fn date(&mut self, key: &str, v: Option<String>) -> Option<chrono::NaiveDate> {
        let v = v?;
        match chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.push(
                    format!("`{key}` must be a date like 2026-07-15, got `{v}`"),
                    None,
                );
                None
            }
        }
    }

    /// A profile's or tier's set: fields it leaves out are the entry's own.
    fn set(&mut self, at: &str, raw: RawSet, inherit: &PriceSet) -> PriceSet {
        let (Some(input), Some(output)) = (raw.input_per_mtok, raw.output_per_mtok) else {
            self.push(
                format!("`{at}` needs `input_per_mtok` and `output_per_mtok`"),
                Some("a profile or tier price set gives both prices; cache prices it leaves out are the entry's own"),
            );
            return *inherit;
        };
        let base = &inherit.rates;
        let set = PriceSet {
            rates: Rates {
                input_per_mtok: input,
                output_per_mtok: output,
                cache_read_per_mtok: raw.cache_read_per_mtok.or(base.cache_read_per_mtok),
                cache_write_per_mtok: raw.cache_write_per_mtok.or(base.cache_write_per_mtok),
                cache_write_1h_per_mtok: raw
                    .cache_write_1h_per_mtok
                    .or(base.cache_write_1h_per_mtok),
            },
            long_context: raw.long_context.map(long_context),
        };
        self.rates(&format!("{at}."), &set.rates);
        if let Some(lc) = &set.long_context {
            self.rates(&format!("{at}.long_context."), &lc.rates);
        }
        set
    }
}

fn long_context(raw: RawLongContext) -> LongContext {
    LongContext {
        above_input_tokens: raw.above_input_tokens,
        rates: Rates {
            input_per_mtok: raw.input_per_mtok,
            output_per_mtok: raw.output_per_mtok,
            cache_read_per_mtok: raw.cache_read_per_mtok,
            cache_write_per_mtok: raw.cache_write_per_mtok,
            cache_write_1h_per_mtok: raw.cache_write_1h_per_mtok,
        },
    }
}

impl PricingTable {
    /// Adds or overrides entries from one pricing file. Fields an override leaves out keep the
    /// built-in entry's value; an override's `profiles` and `tiers` replace the built-in ones of
    /// the same name.
    pub(super) fn merge_str(
        &mut self,
        source: &str,
        file: &str,
        origin: &str,
    ) -> Result<(), Diagnostics> {
        let raw: RawFile = if source.trim().is_empty() {
            RawFile::default()
        } else {
            crate::infra::yaml::from_str(source)
                .map_err(|e| Diagnostics(vec![diag::from_yaml_error(file, &e)]))?
        };
        let mut sink = Sink::default();
        for (id, spanned) in raw.models {
            let mut c = Checker {
                file,
                id: &id,
                line: spanned.referenced.line() as usize,
                col: spanned.referenced.column() as usize,
                sink: &mut sink,
            };
            if let Some(price) = merge_model(&mut c, spanned.value, self.models.get(&id), origin) {
                self.models.insert(id, price);
            }
        }
        for (policy, price) in raw.guardrail_policies {
            if !price.is_finite() || price < 0.0 {
                sink.push(Diagnostic::new(
                    file,
                    format!("guardrail policy `{policy}`: the price per 1,000 text units must be a non-negative number, got {price}"),
                ));
            }
            self.guardrail_policies.insert(policy, price);
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
        for (alias, target) in raw.aliases {
            self.aliases.insert(alias, target.value);
        }
        // Aliases are checked against the whole table, so one may name a model added below it.
        for (alias, target) in &self.aliases {
            if self.aliases.contains_key(target) {
                sink.push(
                    Diagnostic::new(
                        file,
                        format!("alias `{alias}` points at another alias, `{target}`"),
                    )
                    .help("map each alias straight to a model or inference-profile id"),
                );
            } else if let Err(e) = self.resolve_id(target) {
                sink.push(
                    Diagnostic::new(file, format!("alias `{alias}`: {e}"))
                        .help("map the alias to a model or inference-profile id the table prices"),
                );
            }
        }
        sink.finish(())
    }
}

fn merge_model(
    c: &mut Checker<'_>,
    m: RawModel,
    existing: Option<&ModelPrice>,
    origin: &str,
) -> Option<ModelPrice> {
    let old = existing.map(|e| &e.standard.rates);
    let input = m.input_per_mtok.or(old.map(|e| e.input_per_mtok));
    let output = m.output_per_mtok.or(old.map(|e| e.output_per_mtok));
    let (Some(input), Some(output)) = (input, output) else {
        c.push(
            "needs `input_per_mtok` and `output_per_mtok`".into(),
            Some("a new model must give both prices in USD per million tokens"),
        );
        return None;
    };
    let keep = |new: Option<f64>, get: fn(&Rates) -> Option<f64>| new.or(old.and_then(get));
    let standard = PriceSet {
        rates: Rates {
            input_per_mtok: input,
            output_per_mtok: output,
            cache_read_per_mtok: keep(m.cache_read_per_mtok, |r| r.cache_read_per_mtok),
            cache_write_per_mtok: keep(m.cache_write_per_mtok, |r| r.cache_write_per_mtok),
            cache_write_1h_per_mtok: keep(m.cache_write_1h_per_mtok, |r| r.cache_write_1h_per_mtok),
        },
        long_context: m
            .long_context
            .map(long_context)
            .or_else(|| existing.and_then(|e| e.standard.long_context)),
    };
    c.rates("", &standard.rates);
    if let Some(lc) = &standard.long_context {
        c.rates("long_context.", &lc.rates);
    }
    let mut profiles = existing.map(|e| e.profiles.clone()).unwrap_or_default();
    for (name, raw) in m.profiles {
        let set = c.set(&format!("profiles.{name}"), raw, &standard);
        profiles.insert(name, set);
    }
    let mut tiers = existing.map(|e| e.tiers.clone()).unwrap_or_default();
    for (tier, raw) in m.tiers {
        let set = c.set(&format!("tiers.{}", tier.name()), raw, &standard);
        tiers.insert(tier, set);
    }
    let mut profile_tiers = existing
        .map(|e| e.profile_tiers.clone())
        .unwrap_or_default();
    for (name, sets) in m.profile_tiers {
        if !profiles.contains_key(&name) {
            c.push(
                format!("`profile_tiers.{name}` names a profile the entry does not price"),
                Some("add the profile's standard prices under `profiles:` first"),
            );
        }
        let inherit = profiles.get(&name).copied().unwrap_or(standard);
        let out: &mut BTreeMap<Tier, PriceSet> = profile_tiers.entry(name.clone()).or_default();
        for (tier, raw) in sets {
            let set = c.set(
                &format!("profile_tiers.{name}.{}", tier.name()),
                raw,
                &inherit,
            );
            out.insert(tier, set);
        }
    }
    let token_scale = m
        .token_scale
        .or(existing.map(|e| e.token_scale))
        .unwrap_or(1.0);
    if !token_scale.is_finite() || token_scale <= 0.0 {
        c.push(
            format!("`token_scale` must be a positive number, got {token_scale}"),
            None,
        );
    }
    let lifecycle = Lifecycle {
        legacy: c
            .date("legacy", m.legacy)
            .or(existing.and_then(|e| e.lifecycle.legacy)),
        end_of_life: c
            .date("end_of_life", m.end_of_life)
            .or(existing.and_then(|e| e.lifecycle.end_of_life)),
    };
    let inherit = |new: Option<String>, get: fn(&ModelPrice) -> &Option<String>| {
        new.or_else(|| existing.and_then(|e| get(e).clone()))
    };
    Some(ModelPrice {
        standard,
        profiles,
        tiers,
        profile_tiers,
        min_cache_tokens: m
            .min_cache_tokens
            .or(existing.and_then(|e| e.min_cache_tokens)),
        lifecycle,
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
        source: inherit(m.source, |e| &e.source),
        as_of: inherit(m.as_of, |e| &e.as_of),
        units: Units {
            per_image: unit(
                c,
                "per_image",
                m.per_image,
                existing.and_then(|e| e.units.per_image),
            ),
            per_1k_queries: unit(
                c,
                "per_1k_queries",
                m.per_1k_queries,
                existing.and_then(|e| e.units.per_1k_queries),
            ),
            per_request: unit(
                c,
                "per_request",
                m.per_request,
                existing.and_then(|e| e.units.per_request),
            ),
        },
        derived: inherit(m.derived, |e| &e.derived),
    })
}

/// A non-token unit price: the file's, else the entry's own.
fn unit(c: &mut Checker<'_>, key: &str, new: Option<f64>, old: Option<f64>) -> Option<f64> {
    if let Some(v) = new {
        c.price(key, v);
    }
    new.or(old)
}
