//! `costgate refresh` (docs/ratchet.md): retire the oldest fraction of the golden dataset and add as many
//! fresh production queries from invocation logs; `--dry-run` shows the diff.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use clap::Args;
use serde::Serialize;

use super::Outcome;
use super::calibrate::read_logs;
use super::env::Vars;
use super::output::OutFormat;
use super::output::{json_sorted, write_file};
use crate::infra::error::{Error, Result};
use crate::infra::tree::{DirTree, Tree};
use crate::measure::config::Config;
use crate::measure::dataset::Dataset;
use crate::measure::pricing::PricingTable;
use crate::ratchet::calibrate::logs::ConversationSink;
use crate::ratchet::calibrate::logs::Invocation;
use crate::ratchet::refresh::{self, Plan, Request, Size};

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Bedrock model-invocation log files: JSON lines, plain or gzip'd (as `calibrate` reads them).
    #[arg(long, required = true, num_args = 1..)]
    pub logs: Vec<PathBuf>,
    /// Share of the dataset to replace.
    #[arg(long, default_value_t = 0.1)]
    pub fraction: f64,
    /// Seed of the sampling: the same logs and seed add the same cases.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The repository (its costgate.yaml names the golden dataset).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    #[arg(long, default_value = crate::measure::config::DEFAULT_PATH)]
    pub config: String,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
}

#[derive(Serialize)]
struct RefreshOutput<'a> {
    dry_run: bool,
    #[serde(flatten)]
    plan: &'a Plan,
    files_changed: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<Vec<String>>,
}

pub fn refresh(a: RefreshArgs, env: &Vars) -> Result<Outcome> {
    if !(a.fraction > 0.0 && a.fraction <= 1.0) {
        return Err(Error::Usage(format!(
            "--fraction must be in (0, 1], got {}",
            a.fraction
        )));
    }
    let tree = Arc::new(DirTree::new(&a.dir, a.dir.display().to_string()));
    let cfg = Config::load(tree.as_ref(), &a.config).map_err(|d| Error::config("tree", d))?;
    let dataset =
        Dataset::load(tree.as_ref(), &cfg.golden).map_err(|d| Error::config("tree", d))?;
    let pricing = crate::measure::load::load_pricing(tree.as_ref(), &cfg)
        .map_err(|d| Error::config("tree", d))?;
    let today = env.clock.today();
    let req = Request {
        size: Size::Fraction(a.fraction),
        seed: a.seed,
        today,
    };
    let drawn = draw(
        &a.logs,
        &cfg.refresh.intent_key,
        &pricing,
        &dataset,
        &req,
        false,
    )?;
    let plan = drawn.plan;
    let files = refresh::write::edits(
        tree.as_ref() as &dyn Tree,
        &cfg.golden,
        &dataset,
        &plan,
        today,
    )
    .map_err(|d| Error::config("tree", crate::infra::diag::Diagnostics(vec![d])))?;
    if !a.dry_run {
        for f in &files {
            write_file(&a.dir.join(&f.path), &f.new)?;
        }
    }
    let stdout = match a.format {
        OutFormat::Json => json_sorted(&RefreshOutput {
            dry_run: a.dry_run,
            plan: &plan,
            files_changed: files.iter().map(|f| f.path.as_str()).collect(),
            diff: a.dry_run.then(|| files.iter().map(|f| f.diff()).collect()),
        }),
        OutFormat::Text => {
            let mut s = refresh::render_text(&plan, drawn.malformed);
            if a.dry_run {
                s.push_str("\n--dry-run: nothing written; the change would be:\n");
                for f in &files {
                    s.push_str(&f.diff());
                }
            } else {
                let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
                s.push_str(&format!(
                    "wrote {} file(s): {}\nnext: `costgate baseline` on the refreshed dataset, then one PR with both diffs ({})\n",
                    paths.len(),
                    paths.join(", "),
                    crate::infra::docs::page("ratchet.md")
                ));
            }
            s
        }
    };
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}

/// A draw from invocation logs: the plan, and what the reader saw besides.
pub(super) struct Drawn {
    pub plan: Plan,
    /// Lines that were not a readable record.
    pub malformed: usize,
    /// Every invocation with a model id, when asked for (`init` proposes traffic and routes from
    /// them; `refresh` lets them go, since they grow with the logs).
    pub invocations: Vec<Invocation>,
}

/// Draws cases from `logs` for `dataset` as `refresh` draws them: `refresh` and `init` share it.
/// Two passes, so that memory does not grow with the logs' text: the first keeps each candidate's
/// intent, tokens and place, the second reads the drawn ones' text.
pub(super) fn draw(
    logs: &[PathBuf],
    intent_key: &str,
    pricing: &PricingTable,
    dataset: &Dataset,
    req: &Request,
    keep_invocations: bool,
) -> Result<Drawn> {
    let planner = Rc::new(RefCell::new(refresh::Planner::new(
        dataset,
        Default::default(),
    )));
    let sink = {
        let planner = planner.clone();
        ConversationSink(Box::new(move |l| planner.borrow_mut().observe(l)))
    };
    let mut parsed = read_logs(logs, intent_key, Some(pricing), Some(sink))?;
    // The sink holds the planner: let go of it. The records are calibration's, not needed here.
    parsed.conversations = None;
    parsed.records = Vec::new();
    let invocations = std::mem::take(&mut parsed.invocations);
    let invocations = if keep_invocations {
        invocations
    } else {
        Vec::new()
    };
    if planner.borrow().observed() == 0 {
        let mut skipped: std::collections::BTreeMap<String, usize> = Default::default();
        for s in &parsed.skipped {
            *skipped.entry(s.reason_kind()).or_default() += 1;
        }
        let skipped: Vec<String> = skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
        return Err(Error::Usage(format!(
            "no request with text in {} log file(s) ({} malformed, {} skipped{}): costgate needs model-invocation logs with text data delivery{}",
            logs.len(),
            parsed.malformed.len(),
            parsed.skipped.len(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!(": {}", skipped.join(", "))
            },
            parsed.malformed.first().map_or(String::new(), |p| format!(
                " (first malformed: {}:{}: {})",
                p.file, p.line, p.reason
            ))
        )));
    }
    let mut planner = Rc::try_unwrap(planner)
        .map_err(|_| Error::Run("the log reader kept the planner".into()))?
        .into_inner();
    for s in &parsed.skipped {
        planner.skip(s.reason_kind());
    }
    let picked = Rc::new(RefCell::new(refresh::Picked::new(&planner.chosen(req))));
    let sink = {
        let picked = picked.clone();
        ConversationSink(Box::new(move |l| picked.borrow_mut().offer(l)))
    };
    read_logs(logs, intent_key, None, Some(sink))?;
    let picked = Rc::try_unwrap(picked)
        .map_err(|_| Error::Run("the log reader kept the draw".into()))?
        .into_inner();
    Ok(Drawn {
        plan: planner.finish(dataset, picked.into_conversations(), req),
        malformed: parsed.malformed.len(),
        invocations,
    })
}
