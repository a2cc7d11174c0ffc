//! `costgate pricing`: the effective price table (built-in plus the repository's file) with each
//! entry's source, date and lifecycle; `--check` exits 1 for stale entries and for models used past
//! their end of life.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::env::Vars;
use super::output::json;
use super::{Format, Outcome};
use crate::infra::error::{Error, Result};
use crate::measure::pricing::audit::{self, Problem, Use};
use crate::measure::pricing::{ModelPrice, PricingTable};

#[derive(Debug, Args)]
pub struct PricingArgs {
    /// The repository's costgate.yaml (default: ./costgate.yaml when present, else the built-in
    /// table alone).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when an entry is older than --max-age or a route or log uses a model past its end
    /// of life.
    #[arg(long)]
    pub check: bool,
    /// Days after which a price entry counts as stale.
    #[arg(long, default_value_t = 180)]
    pub max_age: i64,
    /// Check the age of every entry, not only those the repository uses or sets.
    #[arg(long)]
    pub all: bool,
    /// Invocation logs (plain or gzip JSONL) whose models are checked too.
    #[arg(long, num_args = 1..)]
    pub logs: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Listing<'a> {
    today: String,
    models: &'a std::collections::BTreeMap<String, ModelPrice>,
    /// USD per 1,000 text units per guardrail policy type.
    guardrail_policies: &'a std::collections::BTreeMap<String, f64>,
    aliases: &'a std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<&'a [Problem]>,
}

pub fn pricing(a: PricingArgs, env: &Vars) -> Result<Outcome> {
    let config = a.config.clone().or_else(|| {
        let p = PathBuf::from(crate::measure::config::DEFAULT_PATH);
        p.is_file().then_some(p)
    });
    let (table, uses) = match &config {
        None => (PricingTable::builtin(), Vec::new()),
        Some(path) => repository(path)?,
    };
    let mut uses = uses;
    if !a.logs.is_empty() {
        let parsed = super::calibrate::read_logs(&a.logs, "intent", Some(&table), None)?;
        uses.extend(parsed.records.iter().map(|r| Use {
            model: r.model_id.clone(),
            at: format!("{}:{}", r.file, r.line),
        }));
    }
    let today = env.clock.today();
    let problems = a.check.then(|| {
        let checked: Vec<&str> = if a.all || (config.is_none() && uses.is_empty()) {
            table.models().keys().map(String::as_str).collect()
        } else {
            used_or_set(&table, &uses)
        };
        audit::check(&table, &checked, &dedup(uses), today, a.max_age)
    });
    let stdout = match a.format {
        Format::Json => json(&Listing {
            today: today.to_string(),
            models: table.models(),
            guardrail_policies: table.guardrail_policies(),
            aliases: table.aliases(),
            problems: problems.as_deref(),
        }),
        Format::Text | Format::Markdown => text(&table, problems.as_deref(), a.max_age),
    };
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: i32::from(problems.is_some_and(|p| !p.is_empty())),
    })
}

/// The repository's table and the models its routes use.
fn repository(path: &std::path::Path) -> Result<(PricingTable, Vec<Use>)> {
    let (tree, cfg) = crate::measure::load::load_config_file(path)?;
    let table =
        crate::measure::load::load_pricing(&tree, &cfg).map_err(|d| Error::config("config", d))?;
    let mut uses = Vec::new();
    if let (crate::measure::config::Mode::Render, Some(spec)) = (cfg.mode, &cfg.routes) {
        let routes = crate::measure::routes::Routes::load(&tree, spec, &cfg.file, &table)
            .map_err(|d| Error::config("config", d))?;
        for (intent, route) in &routes.by_intent {
            if let crate::measure::routes::Route::Model { model, .. } = route {
                uses.push(Use {
                    model: model.clone(),
                    at: format!("{}: intent `{intent}`", routes.file),
                });
            }
        }
    }
    Ok((table, uses))
}

/// Entries a route or log resolves to, and entries the repository's own file sets.
fn used_or_set<'a>(table: &'a PricingTable, uses: &[Use]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = table
        .models()
        .iter()
        .filter(|(id, p)| {
            p.origin != "built-in"
                || uses.iter().any(|u| {
                    table
                        .resolve(&u.model)
                        .is_ok_and(|r| r.base_id == id.as_str())
                })
        })
        .map(|(id, _)| id.as_str())
        .collect();
    ids.dedup();
    ids
}

/// One use per model and place (a log names the same model on every line: keep the first).
fn dedup(uses: Vec<Use>) -> Vec<Use> {
    let mut seen = std::collections::BTreeSet::new();
    uses.into_iter()
        .filter(|u| seen.insert(u.model.clone()))
        .collect()
}

fn text(table: &PricingTable, problems: Option<&[Problem]>, max_age: i64) -> String {
    use std::fmt::Write;
    let mut out = String::from(
        "model | input | output | cache read | cache write 5m / 1h | other units | per profile | tiers | lifecycle | read on | source\n",
    );
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
    for (id, p) in table.models() {
        let r = &p.standard.rates;
        let profiles: Vec<&str> = p.profiles.keys().map(String::as_str).collect();
        let names = |sets: &std::collections::BTreeMap<
            crate::measure::pricing::Tier,
            crate::measure::pricing::PriceSet,
        >| sets.keys().map(|t| t.name()).collect::<Vec<_>>().join(", ");
        // The entry's tiers, then each profile's own: `batch; global: batch`.
        let tiers: Vec<String> = (!p.tiers.is_empty())
            .then(|| names(&p.tiers))
            .into_iter()
            .chain(
                p.profile_tiers
                    .iter()
                    .map(|(profile, sets)| format!("{profile}: {}", names(sets))),
            )
            .collect();
        let life = match (p.lifecycle.legacy, p.lifecycle.end_of_life) {
            (_, Some(e)) => format!("end of life {e}"),
            (Some(l), None) => format!("legacy since {l}"),
            (None, None) => "active".into(),
        };
        let u = &p.units;
        let units: Vec<String> = [
            u.per_image.map(|v| format!("${v} per image")),
            u.per_1k_queries.map(|v| format!("${v} per 1,000 queries")),
            u.per_request.map(|v| format!("${v} per request")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = writeln!(
            out,
            "{id} | {} | {} | {} | {} / {} | {} | {} | {} | {life} | {} | {}{}{}",
            r.input_per_mtok,
            r.output_per_mtok,
            opt(r.cache_read_per_mtok),
            opt(r.cache_write_per_mtok),
            opt(r.cache_write_1h_per_mtok),
            if units.is_empty() {
                "-".into()
            } else {
                units.join(", ")
            },
            if profiles.is_empty() {
                "-".into()
            } else {
                profiles.join(", ")
            },
            if tiers.is_empty() {
                "-".into()
            } else {
                tiers.join("; ")
            },
            p.as_of.as_deref().unwrap_or("-"),
            p.source.as_deref().unwrap_or("-"),
            if p.origin == "built-in" {
                String::new()
            } else {
                format!(" (from {})", p.origin)
            },
            p.derived
                .as_deref()
                .map_or(String::new(), |d| format!(" (derived: {d})")),
        );
    }
    for (policy, per_1k) in table.guardrail_policies() {
        let _ = writeln!(
            out,
            "guardrail policy {policy} | ${per_1k} per 1,000 text units (each started 1,000 characters)"
        );
    }
    for (alias, target) in table.aliases() {
        let _ = writeln!(out, "alias {alias} -> {target}");
    }
    out.push_str("(USD per million tokens; the entry's own prices are the in-Region and geographic profiles')\n");
    if let Some(problems) = problems {
        if problems.is_empty() {
            let _ = writeln!(
                out,
                "check: no entry older than {max_age} days, no model past its end of life"
            );
        } else {
            let _ = writeln!(out, "check: {} problem(s)", problems.len());
            for p in problems {
                let _ = writeln!(out, "  {p}");
            }
        }
    }
    out
}
