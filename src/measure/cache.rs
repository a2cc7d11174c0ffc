//! Prompt caching (docs/pricing.md): which part of each call's input Bedrock bills as a cache read
//! or a cache write, by the steady-state, order-independent rule. Render mode and harness mode both
//! describe a call's cache points as a [`Claim`] and get back the tokens of each kind.
//!
//! Prefixes are compared by a digest of their exact content (SHA-256 of the length-prefixed parts,
//! truncated to 128 bits): two calls share a prefix only if every byte before the cache point is
//! the same, as Bedrock requires.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use crate::measure::pricing::{ModelPrice, Tier, Ttl};

/// 128 bits of a prefix's SHA-256.
pub type Digest = [u8; 16];

/// Hashes a prefix part by part; the length prefix keeps `["ab", "c"]` apart from `["a", "bc"]`.
#[derive(Clone, Default)]
pub struct Digester(Sha256);

impl Digester {
    pub fn part(&mut self, kind: &str, text: &str) {
        for s in [kind, text] {
            self.0.update((s.len() as u64).to_le_bytes());
            self.0.update(s.as_bytes());
        }
    }

    pub fn digest(&self) -> Digest {
        let full = self.0.clone().finalize();
        let mut d = [0u8; 16];
        d.copy_from_slice(&full[..16]);
        d
    }
}

/// One cache point: the input tokens before it (after `token_scale`) and the digest of that
/// prefix. A call's points are in request order, so their token counts never decrease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub tokens: u64,
    pub digest: Digest,
}

/// A call's cache points on one model, already checked against the model's cache prices and
/// minimum ([`eligible`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The resolved model id: prefixes are shared only within one model.
    pub model: String,
    pub points: Vec<Point>,
    pub ttl: Ttl,
}

/// The cache tokens of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Assigned {
    pub read: u64,
    pub write: u64,
}

/// Why a cache point was not honoured (the report notes it once per model and reason).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dropped {
    /// The model has no cache prices (for this TTL).
    NotCached { model: String, ttl: Ttl },
    /// The prefix is shorter than the model's `min_cache_tokens`.
    BelowMinimum { model: String, min: u64 },
    /// The request asked for a service tier the table has no price for: priced at standard.
    UnpricedTier { model: String, tier: Tier },
    /// A case's `tool_calls` scripts a tool its calls do not declare: that step was skipped.
    ToolNotDeclared { tool: String },
    /// The request carried images or binary documents, whose tokens are estimated.
    MediaEstimated { model: String },
}

impl Dropped {
    pub fn note(&self, calls: usize) -> String {
        match self {
            Dropped::NotCached { model, ttl } => format!(
                "{calls} call(s) to {model} set a cache point, but the price table has no {} cache prices for it: priced without caching",
                match ttl {
                    Ttl::FiveMinutes => "5-minute",
                    Ttl::OneHour => "1-hour",
                }
            ),
            Dropped::BelowMinimum { model, min } => format!(
                "{calls} call(s) to {model} have a cache point before fewer than {min} tokens (the model's minimum cacheable prefix): priced without caching there"
            ),
            Dropped::UnpricedTier { model, tier } => format!(
                "{calls} call(s) to {model} asked for the {} service tier, which the price table does not price for it: priced at standard",
                tier.name()
            ),
            Dropped::ToolNotDeclared { tool } => format!(
                "{calls} call(s) declared tools but not `{tool}`, which their case's `tool_calls` scripts: the stand-in skipped that step"
            ),
            Dropped::MediaEstimated { model } => format!(
                "{calls} call(s) to {model} sent images or documents: their input tokens are estimated from the provider's published rule, not counted ({}, \"Images and documents\")",
                crate::infra::docs::page("harness.md")
            ),
        }
    }
}

/// One note per model and reason, with the number of calls it concerns, in a stable order.
pub fn notes(dropped: Vec<Dropped>) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<Dropped, usize> = Default::default();
    for d in dropped {
        *counts.entry(d).or_default() += 1;
    }
    counts.iter().map(|(d, n)| d.note(*n)).collect()
}

/// Keeps the points Bedrock would honour for `model` and says why any other was dropped.
pub fn eligible(
    model: &str,
    price: &ModelPrice,
    ttl: Ttl,
    points: Vec<Point>,
    dropped: &mut Vec<Dropped>,
) -> Option<Claim> {
    if points.is_empty() {
        return None;
    }
    if price.standard.rates.cache(ttl).is_none() {
        dropped.push(Dropped::NotCached {
            model: model.to_string(),
            ttl,
        });
        return None;
    }
    let min = price.min_cache_tokens.unwrap_or(0);
    let before = points.len();
    let points: Vec<Point> = points.into_iter().filter(|p| p.tokens >= min).collect();
    if points.len() < before {
        dropped.push(Dropped::BelowMinimum {
            model: model.to_string(),
            min,
        });
    }
    (!points.is_empty()).then(|| Claim {
        model: model.to_string(),
        points,
        ttl,
    })
}

/// The steady-state rule over one side's calls: a prefix (model and digest) that occurs in two or
/// more calls is shared and read by each; the rest up to a call's last point is written. Result in
/// the calls' order; `None` calls (no cache point) get zeros.
pub fn steady_state(calls: &[Option<&Claim>]) -> Vec<Assigned> {
    let mut seen: HashMap<(&str, Digest), u32> = HashMap::new();
    for claim in calls.iter().flatten() {
        for p in &claim.points {
            *seen.entry((claim.model.as_str(), p.digest)).or_default() += 1;
        }
    }
    calls
        .iter()
        .map(|c| {
            let Some(claim) = c else {
                return Assigned::default();
            };
            let shared = |p: &&Point| seen[&(claim.model.as_str(), p.digest)] >= 2;
            let read = claim
                .points
                .iter()
                .filter(shared)
                .map(|p| p.tokens)
                .max()
                .unwrap_or(0);
            let last = claim.points.last().map_or(0, |p| p.tokens);
            Assigned {
                read,
                write: last.saturating_sub(read),
            }
        })
        .collect()
}

/// Bedrock's sequential behaviour, for the stand-in's responses: the first call with a prefix
/// writes it, later calls read the longest prefix written before.
#[derive(Debug, Default)]
pub struct Sequential {
    written: std::collections::HashSet<(String, Digest)>,
}

impl Sequential {
    pub fn serve(&mut self, claim: &Claim) -> Assigned {
        let read = claim
            .points
            .iter()
            .filter(|p| self.written.contains(&(claim.model.clone(), p.digest)))
            .map(|p| p.tokens)
            .max()
            .unwrap_or(0);
        for p in &claim.points {
            self.written.insert((claim.model.clone(), p.digest));
        }
        let last = claim.points.last().map_or(0, |p| p.tokens);
        Assigned {
            read,
            write: last.saturating_sub(read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(tokens: u64, text: &str) -> Point {
        let mut d = Digester::default();
        d.part("system", text);
        Point {
            tokens,
            digest: d.digest(),
        }
    }

    fn claim(points: Vec<Point>) -> Claim {
        Claim {
            model: "m".into(),
            points,
            ttl: Ttl::FiveMinutes,
        }
    }

    #[test]
    fn shared_prefixes_read_and_unique_ones_write_whatever_the_order() {
        let a = claim(vec![point(1500, "shared")]);
        let b = claim(vec![point(1500, "unique")]);
        let out = steady_state(&[Some(&a), None, Some(&b), Some(&a)]);
        let read = Assigned {
            read: 1500,
            write: 0,
        };
        assert_eq!(
            out,
            vec![
                read,
                Assigned::default(),
                Assigned {
                    read: 0,
                    write: 1500
                },
                read
            ]
        );
        let reversed = steady_state(&[Some(&a), Some(&b), None, Some(&a)]);
        assert_eq!(reversed[0], read);
    }

    #[test]
    fn several_points_read_the_longest_shared_prefix_and_write_the_rest() {
        let common = point(1200, "system");
        let x = claim(vec![common, point(3000, "system+history x")]);
        let y = claim(vec![common, point(3400, "system+history y")]);
        let out = steady_state(&[Some(&x), Some(&y)]);
        assert_eq!(
            out[0],
            Assigned {
                read: 1200,
                write: 1800
            }
        );
        assert_eq!(
            out[1],
            Assigned {
                read: 1200,
                write: 2200
            }
        );
    }

    #[test]
    fn the_same_text_on_another_model_is_not_shared() {
        let a = claim(vec![point(1500, "s")]);
        let mut b = a.clone();
        b.model = "other".into();
        let out = steady_state(&[Some(&a), Some(&b)]);
        assert_eq!(out[0].write, 1500);
        assert_eq!(out[1].write, 1500);
    }

    #[test]
    fn sequential_writes_first_and_reads_after() {
        let mut s = Sequential::default();
        let a = claim(vec![point(1500, "s")]);
        assert_eq!(s.serve(&a).write, 1500);
        assert_eq!(s.serve(&a).read, 1500);
    }

    #[test]
    fn digest_separates_parts() {
        let mut x = Digester::default();
        x.part("a", "bc");
        let mut y = Digester::default();
        y.part("ab", "c");
        assert_ne!(x.digest(), y.digest());
    }
}
