//! `costgate pricing --check` (docs/pricing.md): which price entries are older than a limit, and
//! which models a repository uses past their end of life. The gate asks the same question of a
//! head's routes ([`past_end_of_life`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::PricingTable;

/// Where a model is used: a route, or an invocation-log line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Use {
    pub model: String,
    /// `app/routes.yaml: intent recommendation`, `logs.jsonl:12`.
    pub at: String,
}

/// One thing `--check` objects to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The entry's price was read more than `max_age_days` ago (or carries no date).
    Stale {
        model: String,
        as_of: Option<String>,
        age_days: Option<i64>,
    },
    /// A route or log uses a model on or after its end-of-life date.
    EndOfLife {
        model: String,
        end_of_life: NaiveDate,
        at: String,
    },
    /// A route or log uses a model the table does not price.
    Unknown { model: String, at: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Stale {
                model,
                as_of: Some(d),
                age_days: Some(n),
            } => write!(
                f,
                "{model}: price read on {d}, {n} days ago; check it against AWS's pricing page and update the pricing file"
            ),
            Problem::Stale { model, as_of, .. } => write!(
                f,
                "{model}: `as_of` {} is not a date like 2026-12-01; say when the price was read",
                as_of.as_deref().unwrap_or("is missing")
            ),
            Problem::EndOfLife {
                model,
                end_of_life,
                at,
            } => write!(
                f,
                "{model} reached end of life on {end_of_life} and Bedrock no longer serves it; used by {at}"
            ),
            Problem::Unknown { model, at } => {
                write!(f, "{model} is not in the price table; used by {at}")
            }
        }
    }
}

/// Checks the entries `checked` (ids of the table) for age and every use for end of life.
pub fn check(
    table: &PricingTable,
    checked: &[&str],
    uses: &[Use],
    today: NaiveDate,
    max_age_days: i64,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for id in checked {
        let Some(p) = table.models().get(*id) else {
            continue;
        };
        let read = p
            .as_of
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let age = read.map(|d| (today - d).num_days());
        if age.is_none_or(|n| n > max_age_days) {
            out.push(Problem::Stale {
                model: id.to_string(),
                as_of: p.as_of.clone(),
                age_days: age,
            });
        }
    }
    for u in uses {
        match table.resolve(&u.model) {
            Err(_) => out.push(Problem::Unknown {
                model: u.model.clone(),
                at: u.at.clone(),
            }),
            Ok(r) => {
                if let Some(eol) = r.price.lifecycle.end_of_life.filter(|d| *d <= today) {
                    out.push(Problem::EndOfLife {
                        model: u.model.clone(),
                        end_of_life: eol,
                        at: u.at.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Models used past their end of life, with the end-of-life date (for the gate's note).
/// Models past end of life that a head routes to, by intent: what `check` warns about and a shard
/// hands to `merge` (each shard sees only the routes its slice uses).
pub type EndOfLifeRoutes = BTreeMap<String, BTreeMap<String, NaiveDate>>;

/// The warn-level reasons for [`EndOfLifeRoutes`], in intent then model order.
pub fn end_of_life_reasons(routes: &EndOfLifeRoutes) -> Vec<String> {
    routes
        .iter()
        .flat_map(|(intent, models)| {
            models.iter().map(move |(m, date)| {
                format!(
                    "intent {intent} uses {m}, past its end of life ({date}): Bedrock no longer serves it"
                )
            })
        })
        .collect()
}

/// The notes for routes to models past end of life that the base already used: not the PR's
/// doing, so never a reason.
pub fn end_of_life_notes(routes: &EndOfLifeRoutes) -> Vec<String> {
    routes
        .iter()
        .flat_map(|(intent, models)| {
            models.iter().map(move |(m, date)| {
                format!(
                    "intent {intent} uses {m}, past its end of life ({date}), as the base already did: not this PR's doing (`costgate drift` flags it on the main branch)"
                )
            })
        })
        .collect()
}

pub fn past_end_of_life<'a>(
    table: &PricingTable,
    models: impl IntoIterator<Item = &'a str>,
    today: NaiveDate,
) -> BTreeMap<String, NaiveDate> {
    models
        .into_iter()
        .filter_map(|m| {
            let eol = table.resolve(m).ok()?.price.lifecycle.end_of_life?;
            (eol <= today).then(|| (m.to_string(), eol))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn stale_entries_and_end_of_life_uses_are_problems() {
        let t = PricingTable::with_overrides(
            "models:\n  a.old:\n    input_per_mtok: 1\n    output_per_mtok: 1\n    as_of: \"2026-01-01\"\n    end_of_life: \"2026-06-30\"\n  a.new:\n    input_per_mtok: 1\n    output_per_mtok: 1\n    as_of: \"2026-11-20\"\n",
            "p.yaml",
        )
        .unwrap();
        let uses = [
            Use {
                model: "us.a.old".into(),
                at: "routes.yaml: intent chat".into(),
            },
            Use {
                model: "a.new".into(),
                at: "routes.yaml: intent faq".into(),
            },
        ];
        let p = check(&t, &["a.old", "a.new"], &uses, day("2026-12-01"), 180);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].to_string().contains("334 days ago"), "{}", p[0]);
        assert!(
            p[1].to_string().contains("end of life on 2026-06-30"),
            "{}",
            p[1]
        );
        let eol = past_end_of_life(&t, ["us.a.old", "a.new"], day("2026-12-01"));
        assert_eq!(eol.len(), 1);
        assert!(past_end_of_life(&t, ["a.old"], day("2026-06-29")).is_empty());
    }
}
