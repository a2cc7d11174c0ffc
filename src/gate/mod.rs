//! The gate's orchestration: load policy from the base, application inputs from each side, price
//! the base dataset on both, compare, and assemble the [`Report`]. Also `run` (one side alone).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::gate::inputs::BaseInputs;
pub use crate::gate::inputs::{App, Inputs, Options, Side};
use crate::gate::report::{Report, RunCase, RunReport, RunSummary, SCHEMA_VERSION};
use crate::gate::shard::{PartialReport, Shard};
use crate::harness;
use crate::infra::error::{Error, Result};
use crate::infra::progress::{self, Progress};
use crate::measure::dataset::{Dataset, LocatedCase};
use crate::measure::pricing::audit::EndOfLifeRoutes;
use crate::measure::render::{Priced, Renderer};
use crate::measure::routes::{Route, Routes};
use finish::{Finish, Parts, Scope};

pub mod baseline;
mod cases;
pub mod causes;
pub mod changed;
pub mod cumulative;
pub mod diff;
pub(crate) mod finish;
mod grown;
pub mod inputs;
pub mod justification;
pub mod monthly;
pub mod quality;
pub mod report;
pub mod review;
pub mod rules;
pub mod shard;
pub mod story;
pub mod unpriced;
pub mod verdict;
use cases::{HeadEdits, compare_cases, side_with_quality};

/// How a `check` or `run` is carried out (not what it reads): progress display, sharding, and
/// where harness runs write their per-call audit trail.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where progress of harness runs goes (nowhere by default).
    pub progress: progress::Shared,
    /// Price only this slice of the base dataset (`check --shard I/N`).
    pub shard: Option<Shard>,
    /// Harness mode: write each side's calls to `calls-{side}.jsonl` in this directory.
    pub record_dir: Option<std::path::PathBuf>,
    /// "Today" for date rules (an overdue re-baseline).
    pub clock: crate::infra::clock::Clock,
}

/// Prices `dataset` on one side. `calibrated`: output length per intent from the base's
/// `costgate/calibration.yaml` (policy). Harness runs also return notes (unattributed calls…).
fn price(
    side: &Side,
    app: &App,
    dataset: &Dataset,
    ctx: &harness::Context<'_>,
) -> Result<(Vec<Priced>, Vec<String>)> {
    match app {
        App::Render(routes) => {
            let mut renderer = Renderer::new(side.tree.clone(), routes, ctx.pricing);
            renderer.calibrated_output = ctx.calibrated.clone();
            renderer.reasoning = ctx.policy.reasoning;
            renderer.price_all(dataset).map_err(side.cfg_err())
        }
        App::Harness(h) => {
            let r = harness::price(side.name, side.tree.as_ref(), h, dataset, ctx)?;
            Ok((r.priced, r.notes))
        }
    }
}

/// The routes a side used: its routes file, or for a harness the models each intent was seen
/// calling (so routing changes are reported in harness mode too).
fn observed_routes(app: &App, dataset: &Dataset, priced: &[Priced]) -> Routes {
    match app {
        App::Render(r) => r.clone(),
        App::Harness(_) => {
            let mut models: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (c, p) in dataset.cases.iter().zip(priced) {
                let set = models.entry(c.case.intent.clone()).or_default();
                if let Some(m) = &p.model {
                    set.extend(m.split(" + ").map(String::from));
                }
            }
            let by_intent = models
                .into_iter()
                .map(|(intent, set)| {
                    let route = if set.is_empty() {
                        Route::Bypass
                    } else {
                        Route::Model {
                            model: set.into_iter().collect::<Vec<_>>().join(" + "),
                            system: None,
                            prompt: None,
                            max_output_tokens: None,
                            output_tokens: None,
                            serving: Default::default(),
                        }
                    };
                    (intent, route)
                })
                .collect();
            Routes {
                file: "harness".into(),
                by_intent,
            }
        }
    }
}

/// Progress for the harness runs among `apps` (render mode is too fast to need any): one phase of
/// `cases` steps per harness side.
fn harness_progress<'a>(ro: &'a RunOptions, apps: &[&App], cases: usize) -> &'a dyn Progress {
    let harnesses: usize = apps
        .iter()
        .map(|a| match a {
            App::Harness(_) => 1,
            App::Render(_) => 0,
        })
        .sum();
    // The base (first) runs `repeat` times.
    let harnesses = harnesses
        + match apps.first() {
            Some(App::Harness(h)) => h.repeat.saturating_sub(1) as usize,
            _ => 0,
        };
    if harnesses == 0 {
        return &progress::Silent;
    }
    let p = ro.progress.0.as_ref();
    p.start("harness", (harnesses * cases) as u64);
    p
}

/// The cases that read less of a shared cached prefix at the head than at the base and write
/// more (a prefix stopped being shared), in render and harness mode alike, grouped by what the
/// prefix holds, and the note that says so.
fn cache_lost(
    dataset: &Dataset,
    base: &[Priced],
    head: &[Priced],
) -> (Vec<crate::gate::report::CacheLost>, Vec<String>) {
    let mut by_segment: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (c, (b, h)) in dataset.cases.iter().zip(base.iter().zip(head)) {
        // Per case, whatever its calls: the head reads less from the cache and writes more. A
        // harness case of several calls that still shares one prefix and lost another counts.
        if h.cache_read_tokens < b.cache_read_tokens && h.cache_write_tokens > b.cache_write_tokens
        {
            let segment = h.cache_prefix.unwrap_or("cached prefix");
            by_segment
                .entry(segment)
                .or_default()
                .push(c.case.id.clone());
        }
    }
    let notes = by_segment
        .iter()
        .map(|(segment, ids)| {
            format!(
                "prompt cache lost: {} case(s) shared their cached {segment} at the base and no longer do at the head, so each call now writes the cache (1.25x input or more) instead of reading it (0.1x): something per-query moved in front of the cache point: {}",
                ids.len(),
                crate::infra::fmt::id_list(ids)
            )
        })
        .collect();
    let lost = by_segment
        .into_iter()
        .map(|(segment, cases)| crate::gate::report::CacheLost {
            segment: segment.to_string(),
            cases,
        })
        .collect();
    (lost, notes)
}

/// `costgate check`: the verdict of head against base.
pub fn check(base: &Side, head: &Side, opts: &Options) -> Result<Report> {
    check_with(base, head, opts, RunOptions::default())
}

/// `check` with progress display and/or a shard.
pub fn check_with(base: &Side, head: &Side, opts: &Options, ro: RunOptions) -> Result<Report> {
    check_inputs(&Inputs::load(base, head, opts)?, &ro)
}

/// The check on inputs already loaded (the Action loads once and shares them with its layers).
pub fn check_inputs(inputs: &Inputs, ro: &RunOptions) -> Result<Report> {
    check_sliced(inputs, ro).map(|(report, ..)| report)
}

/// `costgate check --shard I/N`: the partial report of one slice, for `costgate merge`.
pub fn check_partial(inputs: &Inputs, ro: RunOptions, shard: Shard) -> Result<PartialReport> {
    let ro = RunOptions {
        shard: Some(shard),
        ..ro
    };
    let (report, slice, end_of_life) = check_sliced(inputs, &ro)?;
    let (base, full) = (&inputs.base_side, &inputs.base.dataset);
    let cumulative = crate::gate::shard::CumulativeInputs::read(
        base.tree.as_ref(),
        inputs.head_side.tree.as_ref(),
        &inputs.base.config.baseline,
        full,
    )
    .map_err(base.cfg_err())?;
    let rules = crate::gate::rules::Rules::of(&inputs.base.config);
    Ok(PartialReport::new(
        shard,
        full,
        &slice,
        crate::gate::shard::PolicyInputs {
            cumulative,
            rules,
            end_of_life,
        },
        report,
    ))
}

/// The check, on `ro.shard`'s slice of the base dataset when set; also returns the slice and the
/// head's routes to models past end of life (a shard's share of them, for `merge`).
fn check_sliced<'a>(
    inputs: &'a Inputs,
    ro: &RunOptions,
) -> Result<(Report, Cow<'a, Dataset>, EndOfLifeRoutes)> {
    // Policy (thresholds, dataset, prices) comes from the base only; application inputs (routes,
    // templates) from each side.
    let (base, head) = (&inputs.base_side, &inputs.head_side);
    let BaseInputs {
        config: base_cfg,
        pricing,
        dataset: full,
        app: base_routes,
        calibrated,
    } = &inputs.base;
    // Borrowed unless sharded: the whole dataset is not copied for an unsharded run.
    let dataset: Cow<'_, Dataset> = match ro.shard {
        Some(s) => Cow::Owned(s.slice(full)),
        None => Cow::Borrowed(full),
    };
    let head_routes = &inputs.head.app;

    let (mut policy_changes, head_dataset) = head_policy(inputs);

    tracing::debug!(
        cases = dataset.len(),
        base = base.tree.label(),
        head = head.tree.label(),
        "pricing both sides"
    );
    let progress = harness_progress(ro, &[base_routes, head_routes], dataset.len());
    let knowledge = knowledge_of(base, base_cfg)?;
    let ctx = harness::Context {
        pricing,
        calibrated,
        policy: base_cfg,
        knowledge: &knowledge,
        progress,
        record_dir: ro.record_dir.as_deref(),
    };
    let (base_priced, head_priced) = rayon::join(
        || price(base, base_routes, &dataset, &ctx),
        || price(head, head_routes, &dataset, &ctx),
    );
    progress.finish();
    let ((base_priced, mut base_notes), (head_priced, head_notes)) = (base_priced?, head_priced?);
    let noisy = repeat_base(base, base_routes, &dataset, &ctx, &base_priced)?;
    base_notes.extend(noise_note(&noisy));
    let head_observed = observed_routes(head_routes, &dataset, &head_priced);
    let base_observed = observed_routes(base_routes, &dataset, &base_priced);
    let (end_of_life, kept_end_of_life) =
        end_of_life(pricing, &base_observed, &head_observed, ro.clock.today());

    let head_by_id = head_cases(head_dataset);
    let mut notes = merge_notes(base_notes, head_notes);
    let (cache_lost, lost_notes) = cache_lost(&dataset, &base_priced, &head_priced);
    notes.extend(lost_notes);
    let min = base_cfg.thresholds.min_cost_delta_usd;
    let head_loaded = head_dataset.is_some();
    let mut cases = compare_cases(
        &dataset,
        (&base_priced, &head_priced),
        &head_by_id,
        head_loaded,
        min,
        pricing,
    );
    for c in &mut cases {
        c.nondeterministic = noisy.contains_key(&c.id);
    }
    // A shard's slice may hold only bypassed cases; the merge checks the whole run.
    if let (None, Some(side)) = (ro.shard, crate::gate::report::side_without_calls(&cases)) {
        return Err(match side {
            "base" => no_calls(base, base_routes, cases.len()),
            _ => no_calls(head, head_routes, cases.len()),
        });
    }
    notes.extend(outside_band_note(&cases));
    notes.extend(crate::measure::pricing::audit::end_of_life_notes(
        &kept_end_of_life,
    ));
    notes.extend(inputs.head.estimates.capped.iter().cloned());
    if let Some(hd) = head_dataset {
        let edits = HeadEdits {
            head,
            head_app: head_routes,
            head_dataset: hd,
            head_by_id: &head_by_id,
            full,
            dataset: &dataset,
            ctx: &ctx,
            shard: ro.shard,
        };
        edits.report(&mut cases, &mut policy_changes)?;
    }
    notes.extend(default_fallback_notes(&cases, base_routes, head_routes));

    let hints = crate::gate::changed::Hints::new(
        base.tree.as_ref(),
        head.tree.as_ref(),
        (base_routes, head_routes),
    );
    let weights: BTreeMap<&str, f64> = dataset
        .cases
        .iter()
        .map(|c| (c.case.id.as_str(), c.case.weight()))
        .collect();
    let rules = crate::gate::rules::Rules::of(base_cfg);
    let rule_error =
        |m: String| Error::Usage(format!("{}:{}: {m}", base_cfg.file, base_cfg.traffic_line));
    let finish = Finish {
        thresholds: &base_cfg.thresholds,
        weight: &|id| weights.get(id).copied().unwrap_or(1.0),
        end_of_life: &end_of_life,
        // The whole-run rules; a shard leaves them to `merge`, which sees every case.
        scope: match ro.shard {
            Some(_) => Scope::Shard,
            None => Scope::Whole {
                rules: &rules,
                error: &rule_error,
            },
        },
        files: &|intent, what| hints.files(intent, what),
    };
    let decided = finish.decide(&cases, |decision| match ro.shard {
        // A shard's mean is not the run's: `merge` applies the cumulative rule once, on all cases.
        Some(_) => Ok(Vec::new()),
        // Its formal exception (re-baseline plus a signed-off justification) is `review::apply`'s.
        None => cumulative::check_trees(
            base.tree.as_ref(),
            head.tree.as_ref(),
            base_cfg,
            &dataset,
            decision,
            ro.clock.today(),
        )
        .map_err(base.cfg_err()),
    })?;
    let report = decided.report(Parts {
        base: base.info(),
        head: head.info(),
        thresholds: base_cfg.thresholds.clone(),
        routing_changes: diff::routing_diff(&base_observed, &head_observed),
        policy_changes,
        notes,
        cache_lost,
        cases,
    });
    Ok((report, dataset, end_of_life))
}

/// What the head changed of the policy the base decides (listed, never applied), and the
/// head's dataset when it loads.
fn head_policy(inputs: &Inputs) -> (Vec<String>, Option<&crate::gate::inputs::HeadDataset>) {
    let (base_cfg, head_cfg) = (&inputs.base.config, &inputs.head.config);
    let mut policy_changes = diff::policy_diff(base_cfg, head_cfg);
    policy_changes.extend(inputs.head.estimates.lowered.iter().cloned());
    let head_dataset = match &inputs.head.dataset {
        Ok(d) => Some(d),
        Err(d) => {
            policy_changes.push(format!(
                "head's golden dataset does not load ({}); the base dataset was used",
                problems(d)
            ));
            None
        }
    };
    match &inputs.head.pricing {
        Ok(head_pricing) => {
            policy_changes.extend(diff::pricing_diff(&inputs.base.pricing, head_pricing))
        }
        Err(d) => policy_changes.push(format!(
            "head's pricing file does not load ({}); the base prices were used",
            problems(d)
        )),
    }
    (policy_changes, head_dataset)
}

/// A head file's problems for the policy-change line: where and what, the first three of them, so
/// the author can fix the file the gate ignored.
fn problems(d: &crate::infra::diag::Diagnostics) -> String {
    let all: Vec<String> =
        d.0.iter()
            .map(|p| {
                let mut p = p.clone();
                p.help = None;
                p.to_string()
            })
            .collect();
    format!(
        "{} problem{}: {}",
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        crate::infra::fmt::first_of(&all, 3, "; ")
    )
}

/// Intents the head's `default` route now serves that the PR made so: an intent the base's routes
/// name and the head's no longer do (a renamed or misspelt route), or an intent of a case the head
/// adds that no route names (a misspelt intent, `return` for `returns`). Said, since each is
/// otherwise priced as something else without a word; a `default` the base already relied on is
/// not the PR's doing.
fn default_fallback_notes(
    cases: &[crate::gate::report::CaseReport],
    base: &App,
    head: &App,
) -> Vec<String> {
    let App::Render(head_routes) = head else {
        return Vec::new();
    };
    if !head_routes
        .by_intent
        .contains_key(crate::measure::routes::DEFAULT_ROUTE)
    {
        return Vec::new();
    }
    let named_at_base = |i: &str| match base {
        App::Render(r) => r.by_intent.contains_key(i),
        App::Harness(_) => false,
    };
    let mut counts: BTreeMap<(&str, bool), usize> = BTreeMap::new();
    for c in cases {
        let added = c.status == crate::gate::report::Status::Added;
        let i = c.intent.as_str();
        // A gated case counts when the base named its intent; an added one when nothing did.
        if head_routes.by_intent.contains_key(i) || named_at_base(i) == added {
            continue;
        }
        *counts.entry((i, added)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((intent, added), n)| {
            let what = if added {
                format!("{n} case(s) the head adds with intent `{intent}`, which no route names,")
            } else {
                format!("{n} case(s) of intent `{intent}`, which the base's routes name and the head's no longer do,")
            };
            format!(
                "{what} are served by the `default` route of {}: name the intent if that is not meant (a misspelt intent or route?)",
                head_routes.file
            )
        })
        .collect()
}

/// Both sides' notes: a note both raise alike (a cache point below a model's minimum) is said once.
fn merge_notes(base: Vec<String>, head: Vec<String>) -> Vec<String> {
    let head: Vec<String> = head.into_iter().filter(|n| !base.contains(n)).collect();
    let mut notes = base;
    notes.extend(head);
    notes
}

/// The head's cases by id; `None`: the head's case is the base's.
fn head_cases(
    head: Option<&crate::gate::inputs::HeadDataset>,
) -> BTreeMap<&str, Option<&LocatedCase>> {
    head.iter()
        .flat_map(|d| {
            let edited = d.edited.cases.iter().map(|c| (c.case.id.as_str(), Some(c)));
            edited.chain(d.unchanged.iter().map(|id| (id.as_str(), None)))
        })
        .collect()
}

/// How a case priced on repeated runs of the base: its cost, input tokens and calls on the first
/// run and on the first run that differed.
#[derive(Debug, Clone, PartialEq)]
struct Noise {
    cost: (f64, f64),
    input_tokens: (u64, u64),
    calls: (usize, usize),
}

/// Runs the base's harness again `harness.repeat − 1` times and returns the cases whose cost
/// differed from the first run. Render mode renders deterministically: nothing to repeat.
fn repeat_base(
    base: &Side,
    app: &App,
    dataset: &Dataset,
    ctx: &harness::Context<'_>,
    first: &[Priced],
) -> Result<BTreeMap<String, Noise>> {
    let App::Harness(h) = app else {
        return Ok(BTreeMap::new());
    };
    let mut noisy = BTreeMap::new();
    // The repeats leave no call records: the first run's are the side's.
    let quiet = harness::Context {
        record_dir: None,
        ..*ctx
    };
    for _ in 1..h.repeat {
        let (again, _) = price(base, app, dataset, &quiet)?;
        for (c, (a, b)) in dataset.cases.iter().zip(first.iter().zip(&again)) {
            if a.cost_usd != b.cost_usd && !noisy.contains_key(&c.case.id) {
                noisy.insert(
                    c.case.id.clone(),
                    Noise {
                        cost: (a.cost_usd, b.cost_usd),
                        input_tokens: (a.input_tokens, b.input_tokens),
                        calls: (a.calls as usize, b.calls as usize),
                    },
                );
            }
        }
    }
    Ok(noisy)
}

/// The note naming the nondeterministic cases, with what differed.
fn noise_note(noisy: &BTreeMap<String, Noise>) -> Option<String> {
    if noisy.is_empty() {
        return None;
    }
    let usd = crate::infra::fmt::usd;
    let all: Vec<String> = noisy
        .iter()
        .map(|(id, n)| {
            format!(
                "{id} ({} vs {}, {} vs {} input tokens, {} vs {} calls)",
                usd(n.cost.0),
                usd(n.cost.1),
                n.input_tokens.0,
                n.input_tokens.1,
                n.calls.0,
                n.calls.1
            )
        })
        .collect();
    Some(format!(
        "{} case(s) cost differently on repeated runs of the base's harness, so its answers depend on more than the case (hash order, time, randomness): they are left out of the per-query rule until it is deterministic ({docs}): {}",
        noisy.len(),
        crate::infra::fmt::first_of(&all, 10, "; "),
        docs = crate::infra::docs::page("false-positives.md")
    ))
}

/// The note naming cases whose head cost left their `expected_cost_band`.
fn outside_band_note(cases: &[crate::gate::report::CaseReport]) -> Option<String> {
    let outside: Vec<&str> = cases
        .iter()
        .filter(|c| c.outside_band)
        .map(|c| c.id.as_str())
        .collect();
    (!outside.is_empty()).then(|| {
        format!(
            "{} case(s) cost outside their expected_cost_band at head: {}",
            outside.len(),
            crate::infra::fmt::id_list(&outside)
        )
    })
}

/// The head's routes to models past their end of life, split by who is responsible: those the
/// PR introduces (a warn reason: the PR cannot work as priced) and those the base already used (a
/// note: the PR did not do it, and `costgate drift` owns main's health).
fn end_of_life(
    pricing: &crate::measure::pricing::PricingTable,
    base: &Routes,
    head: &Routes,
    today: chrono::NaiveDate,
) -> (EndOfLifeRoutes, EndOfLifeRoutes) {
    let dead = |routes: &Routes| -> EndOfLifeRoutes {
        routes
            .by_intent
            .iter()
            .filter_map(|(intent, route)| {
                let Route::Model { model, .. } = route else {
                    return None;
                };
                let eol = crate::measure::pricing::audit::past_end_of_life(
                    pricing,
                    model.split(" + "),
                    today,
                );
                (!eol.is_empty()).then(|| (intent.clone(), eol))
            })
            .collect()
    };
    let base_uses: BTreeSet<String> = dead(base)
        .into_values()
        .flat_map(|m| m.into_keys())
        .collect();
    let (mut introduced, mut kept) = (EndOfLifeRoutes::new(), EndOfLifeRoutes::new());
    for (intent, models) in dead(head) {
        for (model, date) in models {
            let side = if base_uses.contains(&model) {
                &mut kept
            } else {
                &mut introduced
            };
            side.entry(intent.clone()).or_default().insert(model, date);
        }
    }
    (introduced, kept)
}

/// The error for a side that made no model call ([`crate::gate::report::side_without_calls`]).
fn no_calls(side: &Side, app: &App, n: usize) -> Error {
    match app {
        App::Render(routes) => Error::Usage(format!(
            "{}: no model call on the {} side: all {n} case(s) are answered by bypass routes in {}, so there is no cost to gate; route at least one intent to a model",
            side.tree.label(),
            side.name,
            routes.file
        )),
        App::Harness(_) => Error::Run(format!(
            "{}: the harness made no Bedrock call on the {} side for any of the {n} case(s), so there is no cost to gate; check that it sends each case through the application",
            side.tree.label(),
            side.name
        )),
    }
}

/// The knowledge bases' chunks the stand-in answers from, read from `side`'s tree (the base's)
/// only in harness mode: render mode makes no Retrieve call.
fn knowledge_of(
    side: &Side,
    cfg: &crate::measure::config::Config,
) -> Result<BTreeMap<String, Vec<crate::measure::knowledge::Chunk>>> {
    if cfg.mode != crate::measure::config::Mode::Harness {
        return Ok(BTreeMap::new());
    }
    crate::measure::knowledge::load(side.tree.as_ref(), &cfg.knowledge_bases, &cfg.file)
        .map_err(side.cfg_err())
}

/// `costgate run`: prices one tree's dataset with its own configuration.
pub fn run(side: &Side, opts: &Options) -> Result<RunReport> {
    run_with(side, opts, RunOptions::default())
}

/// `run` with progress display.
pub fn run_with(side: &Side, opts: &Options, ro: RunOptions) -> Result<RunReport> {
    let BaseInputs {
        config,
        pricing,
        dataset,
        app: routes,
        calibrated,
    } = BaseInputs::load(side, opts)?;
    let progress = harness_progress(&ro, &[&routes], dataset.len());
    let knowledge = knowledge_of(side, &config)?;
    let ctx = harness::Context {
        pricing: &pricing,
        calibrated: &calibrated,
        policy: &config,
        knowledge: &knowledge,
        progress,
        record_dir: ro.record_dir.as_deref(),
    };
    let (priced, notes) = price(side, &routes, &dataset, &ctx)?;
    progress.finish();
    let costs: Vec<f64> = priced.iter().map(|p| p.cost_usd).collect();
    let cases: Vec<RunCase> = dataset
        .cases
        .iter()
        .zip(&priced)
        .map(|(c, p)| RunCase {
            id: c.case.id.clone(),
            intent: c.case.intent.clone(),
            cost: side_with_quality(p, &c.case, &pricing),
        })
        .collect();
    let weights: f64 = dataset.cases.iter().map(|c| c.case.weight()).sum();
    let total: f64 = dataset
        .cases
        .iter()
        .zip(&priced)
        .map(|(c, p)| p.cost_usd * c.case.weight())
        .sum();
    let n = priced.len().max(1) as f64;
    Ok(RunReport {
        schema_version: SCHEMA_VERSION,
        tree: side.info(),
        summary: RunSummary {
            cases: priced.len(),
            total_usd: total,
            mean_usd: if weights > 0.0 { total / weights } else { 0.0 },
            p50_usd: verdict::nearest_rank(&costs, 50.0),
            p95_usd: verdict::nearest_rank(&costs, 95.0),
            avg_input_tokens: priced.iter().map(|p| p.input_tokens as f64).sum::<f64>() / n,
            bypass_rate: priced.iter().filter(|p| p.bypass).count() as f64 / n,
            quality: crate::gate::quality::share(
                cases.iter().filter_map(|c| c.cost.quality.as_ref()),
            ),
        },
        notes,
        cases,
    })
}
