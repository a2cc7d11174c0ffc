//! `costgate drift`, the weekly scheduled job (docs/ratchet.md): prices the branch (main) now,
//! compares it with the newest release tag and with the baseline, appends the result to a JSONL
//! history, and flags week-over-week growth (> 5%, warn) and baseline drift (> the gate's
//! `cumulative_fail_pct`, 15% by default: the savings claim no longer holds, a high-priority
//! ticket). The history renders as an SVG chart ([`chart`]) and a markdown summary.
//!
//! Filing the ticket is the JIRA client's job: this module returns a [`TicketRequest`] with a
//! per-week de-duplication key, and the caller files it (see `docs/ratchet.md`).

pub mod chart;
pub mod contributors;
pub mod ticket;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::gate::baseline::Baseline;
use crate::gate::report::RunReport;
use crate::gate::{self, Options, Side};
use crate::infra::error::{Error, Result};
use crate::infra::progress::Progress;
use crate::infra::tree;
use crate::measure::config::Config;

/// Week over week compares with the newest entry at least this many days old (docs/ratchet.md):
/// six, not seven, so a weekly run that comes a day early still compares with last week's point.
pub const WOW_MIN_AGE_DAYS: i64 = 6;

/// One line of the history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub date: String,
    pub commit: String,
    pub mean_usd: f64,
    pub p50_usd: f64,
    pub p95_usd: f64,
    pub release_tag: Option<String>,
    pub release_mean_usd: Option<f64>,
    pub release_delta_pct: Option<f64>,
    pub baseline_date: Option<String>,
    pub baseline_commit: Option<String>,
    pub baseline_mean_usd: Option<f64>,
    pub baseline_delta_pct: Option<f64>,
    pub week_over_week_pct: Option<f64>,
    pub flags: Vec<String>,
    /// Share of the dataset's expectations met on the branch (docs/quality.md), when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
    /// Expectations met at the release and broken on the branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_broken_expectations: Option<usize>,
    /// When a flag fired: the merges since the compared point, largest increase first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<crate::ratchet::backtest::Contributor>,
    /// Models the branch routes to past their end of life, with the date (`YYYY-MM-DD`). A PR
    /// that keeps such a route is not blamed for it: this weekly job owns main's health.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub end_of_life: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub repo: PathBuf,
    pub branch: String,
    /// The release tag; `None`: the newest `v*` tag reachable from the branch.
    pub tag: Option<String>,
    pub date: NaiveDate,
    pub wow_pct: f64,
    pub options: Options,
}

/// A ticket the caller should file (once per de-duplication key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRequest {
    /// `costgate-drift-baseline-<ISO year>-W<week>`: one ticket per week, however often the job runs.
    pub dedup_key: String,
    pub priority: String,
    pub summary: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub entry: Entry,
    /// The whole history, oldest first, with `entry` in it.
    #[serde(skip)]
    pub history: Vec<Entry>,
    pub baseline_limit_pct: f64,
    pub wow_limit_pct: f64,
    pub ticket: Option<TicketRequest>,
    pub notes: Vec<String>,
    /// The point the contributors are counted from, when a flag fired.
    pub contributors_since: Option<String>,
    pub health: contributors::Health,
    /// The branch's dollars per month at `traffic`, when it is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly: Option<BranchMonthly>,
}

/// Dollars per month on the branch at `traffic.requests_per_month`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BranchMonthly {
    pub usd: f64,
    pub requests_per_month: f64,
}

fn delta(now: f64, then: f64) -> Option<f64> {
    (then > 0.0).then(|| (now - then) / then * 100.0)
}

/// Parses a history file; a bad line is an error naming it (the file is costgate's own output).
pub fn parse_history(text: &str, file: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let e: Entry = serde_json::from_str(line).map_err(|e| {
            Error::Usage(format!(
                "{file}:{}: not a drift history entry: {e}; fix or remove the line",
                i + 1
            ))
        })?;
        out.push(e);
    }
    Ok(out)
}

/// The history as JSONL (one compact entry per line).
pub fn history_jsonl(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap_or_default() + "\n")
        .collect()
}

/// The newest `v*` tag reachable from `branch`, by version order.
pub fn newest_release_tag(repo: &std::path::Path, branch: &str) -> Result<Option<String>> {
    let spec = format!("{branch}^{{commit}}");
    let out = tree::git(
        repo,
        &[
            "tag",
            "--merged",
            &spec,
            "--list",
            "v*",
            "--sort=-v:refname",
        ],
    )
    .map_err(|source| Error::Tree {
        side: "tags".into(),
        source,
    })?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .next()
        .map(str::to_string))
}

/// Runs the drift job. `history` is the current history file's contents (oldest first).
pub fn drift(req: &Request, mut history: Vec<Entry>, progress: &dyn Progress) -> Result<Outcome> {
    if req.branch.starts_with('-') {
        return Err(Error::Usage(format!(
            "--branch `{}` may not start with `-`",
            req.branch
        )));
    }
    let tag = match &req.tag {
        Some(t) => Some(t.clone()),
        None => newest_release_tag(&req.repo, &req.branch)?,
    };
    let mut notes = Vec::new();
    let priced = price(req, tag.as_deref(), progress, &mut notes)?;
    let baseline = load_baseline(req, &priced, &mut notes)?;
    let date = req.date.to_string();
    // Re-running on the same day replaces that day's point instead of adding a second one.
    history.retain(|e| e.date != date);
    let week_ago = week_ago(&history, req.date);
    let mut entry = measured_entry(req, &priced, baseline.as_ref(), tag, week_ago);
    entry.flags = raise_flags(req, &entry, &priced.cfg, &mut notes);
    // A model past its end of life is not a cost change: no merges to name for it.
    let cost_flags: Vec<String> = entry
        .flags
        .iter()
        .filter(|f| *f != "end_of_life")
        .cloned()
        .collect();
    let contributors_since = if cost_flags.is_empty() {
        None
    } else {
        let (list, since) = find_contributors(
            req,
            &cost_flags,
            baseline.as_ref().map(|b| b.commit.as_str()),
            entry.release_tag.as_deref(),
            week_ago.map(|e| e.commit.as_str()),
            &mut notes,
        );
        entry.contributors = list;
        since
    };
    let health = dataset_health(req, &priced)?;
    let limit = priced.cfg.thresholds.cumulative_fail_pct;
    let ticket = ticket_request(
        req,
        &entry,
        baseline.as_ref(),
        limit,
        contributors_since.as_deref(),
    );
    history.push(entry.clone());
    history.sort_by(|a, b| a.date.cmp(&b.date));
    let monthly = monthly(&priced);
    Ok(Outcome {
        entry,
        history,
        baseline_limit_pct: limit,
        wow_limit_pct: req.wow_pct,
        ticket,
        notes,
        contributors_since,
        health,
        monthly,
    })
}

/// Dollars per month on the branch, projected as the gate projects a PR (`traffic`'s requests,
/// its intent mix or the dataset's), every case at weight 1.
fn monthly(priced: &Priced) -> Option<BranchMonthly> {
    let traffic = priced.cfg.traffic.as_ref()?;
    let costs: Vec<crate::gate::monthly::CaseCost<'_>> = priced
        .now
        .cases
        .iter()
        .map(|c| crate::gate::monthly::CaseCost {
            intent: &c.intent,
            weight: 1.0,
            base_usd: c.cost.cost_usd,
            head_usd: c.cost.cost_usd,
        })
        .collect();
    let m = crate::gate::monthly::project(traffic, &costs);
    Some(BranchMonthly {
        usd: m.head_usd,
        requests_per_month: traffic.requests_per_month,
    })
}

/// The branch as priced now, with its configuration and the comparison with the release.
struct Priced {
    main: Side,
    cfg: Config,
    now: RunReport,
    release: Release,
    /// Models past end of life the branch uses, with the date.
    dead: BTreeMap<String, String>,
}

/// The release tag as the base of a PR into the branch; all `None` without a tag, or when the
/// tag could not be priced.
#[derive(Default)]
struct Release {
    mean: Option<f64>,
    delta: Option<f64>,
    broken: Option<usize>,
}

/// Prices the branch, then the release tag against it when there is one.
fn price(
    req: &Request,
    tag: Option<&str>,
    progress: &dyn Progress,
    notes: &mut Vec<String>,
) -> Result<Priced> {
    progress.start("drift", if tag.is_some() { 2 } else { 1 });
    let main = Side::git(&req.repo, &req.branch, "main")?;
    let cfg = Config::load(main.tree.as_ref(), &req.options.config_path)
        .map_err(|d| Error::config("main", d))?;
    let now = gate::run(&main, &req.options)?;
    let dead = past_end_of_life(&main, &cfg, &now, req.date);
    progress.step(&req.branch);
    let mut release = Release::default();
    if let Some(t) = tag {
        release = price_release(req, t, &main, notes)?;
        progress.step(t);
    }
    progress.finish();
    Ok(Priced {
        main,
        cfg,
        now,
        release,
        dead,
    })
}

/// The models the branch's cases were priced with that are past their end of life today.
fn past_end_of_life(
    main: &Side,
    cfg: &Config,
    now: &RunReport,
    date: NaiveDate,
) -> BTreeMap<String, String> {
    let Ok(table) = crate::measure::load::load_pricing(main.tree.as_ref(), cfg) else {
        return BTreeMap::new();
    };
    let models: std::collections::BTreeSet<&str> = now
        .cases
        .iter()
        .filter_map(|c| c.cost.model.as_deref())
        .flat_map(|m| m.split(" + "))
        .collect();
    crate::measure::pricing::audit::past_end_of_life(&table, models, date)
        .into_iter()
        .map(|(m, d)| (m, d.to_string()))
        .collect()
}

/// A PR from the tag to main, on the tag's dataset (what merging main would show). A release that
/// cannot be priced is a note, not an error: the baseline and week-over-week numbers still stand.
fn price_release(req: &Request, t: &str, main: &Side, notes: &mut Vec<String>) -> Result<Release> {
    let base = Side::git(&req.repo, t, "release")?;
    let ro = gate::RunOptions {
        clock: crate::infra::clock::Clock::on(req.date),
        ..Default::default()
    };
    let mut release = Release::default();
    match gate::check_with(&base, main, &req.options, ro) {
        Ok(r) => {
            release.mean = Some(r.summary.base_mean_usd);
            release.delta = delta(r.summary.head_mean_usd, r.summary.base_mean_usd);
            release.broken = r.summary.broken_expectations;
        }
        Err(e) => notes.push(format!(
            "release {t} could not be priced against {}: {e}",
            req.branch
        )),
    }
    Ok(release)
}

/// The branch's baseline. Without one the point is still recorded, with a note on how to start.
fn load_baseline(
    req: &Request,
    priced: &Priced,
    notes: &mut Vec<String>,
) -> Result<Option<Baseline>> {
    let baseline = Baseline::load(priced.main.tree.as_ref(), &priced.cfg.baseline)
        .map_err(|d| Error::config("main", d))?;
    if baseline.is_none() {
        notes.push(format!(
            "no baseline `{}` on {}: run `costgate baseline` to start the ratchet",
            priced.cfg.baseline, req.branch
        ));
    }
    Ok(baseline)
}

/// The entry week over week compares with: the newest one at least [`WOW_MIN_AGE_DAYS`] old.
fn week_ago(history: &[Entry], today: NaiveDate) -> Option<&Entry> {
    let cutoff = today - chrono::Duration::days(WOW_MIN_AGE_DAYS);
    history
        .iter()
        .filter(|e| NaiveDate::parse_from_str(&e.date, "%Y-%m-%d").is_ok_and(|d| d <= cutoff))
        .max_by(|a, b| a.date.cmp(&b.date))
}

/// Today's point, with its numbers and comparisons; the flags and contributors come after.
fn measured_entry(
    req: &Request,
    priced: &Priced,
    baseline: Option<&Baseline>,
    tag: Option<String>,
    week_ago: Option<&Entry>,
) -> Entry {
    let mean = priced.now.summary.mean_usd;
    Entry {
        date: req.date.to_string(),
        commit: priced.main.commit.clone().unwrap_or_default(),
        mean_usd: mean,
        p50_usd: priced.now.summary.p50_usd,
        p95_usd: priced.now.summary.p95_usd,
        release_tag: tag,
        release_mean_usd: priced.release.mean,
        release_delta_pct: priced.release.delta,
        baseline_date: baseline.map(|b| b.date.to_string()),
        baseline_commit: baseline.map(|b| b.commit.clone()),
        baseline_mean_usd: baseline.map(|b| b.metrics.dollars_per_session_mean),
        baseline_delta_pct: baseline.and_then(|b| delta(mean, b.metrics.dollars_per_session_mean)),
        week_over_week_pct: week_ago.and_then(|e| delta(mean, e.mean_usd)),
        flags: Vec::new(),
        quality: priced.now.summary.quality,
        release_broken_expectations: priced.release.broken,
        contributors: Vec::new(),
        end_of_life: priced.dead.clone(),
    }
}

/// The flags `e` raises: growth in a week, drift over the baseline, and broken quality.
fn raise_flags(req: &Request, e: &Entry, cfg: &Config, notes: &mut Vec<String>) -> Vec<String> {
    let mut flags = Vec::new();
    if !e.end_of_life.is_empty() {
        flags.push("end_of_life".to_string());
        for (model, date) in &e.end_of_life {
            notes.push(format!(
                "{} routes to {model}, past its end of life ({date}): Bedrock no longer serves it; move the route in a PR of its own",
                req.branch
            ));
        }
    }
    if e.week_over_week_pct.is_some_and(|w| w > req.wow_pct) {
        flags.push("wow".to_string());
    }
    let limit = cfg.thresholds.cumulative_fail_pct;
    if e.baseline_delta_pct.is_some_and(|d| d > limit) {
        flags.push("baseline".to_string());
    }
    // Quality counts too: the branch broke expectations the release met.
    let release_broken = e.release_broken_expectations;
    if release_broken.is_some_and(|n| n > cfg.quality.max_broken_expectations as usize) {
        flags.push("quality".to_string());
        notes.push(format!(
            "{} expectation(s) met at {} are broken on {}: a cheaper branch that lost quality ({})",
            release_broken.unwrap_or(0),
            e.release_tag.as_deref().unwrap_or("the release"),
            req.branch,
            crate::infra::docs::page("quality.md")
        ));
    }
    flags
}

/// How alive the branch's dataset is; the calibrated intents stand for production traffic.
fn dataset_health(req: &Request, priced: &Priced) -> Result<contributors::Health> {
    let tree = priced.main.tree.as_ref();
    let calibrated: Vec<String> = crate::measure::calibration::Calibration::load(tree)
        .ok()
        .flatten()
        .map(|c| c.intents.keys().cloned().collect())
        .unwrap_or_default();
    let dataset = crate::measure::dataset::Dataset::load(tree, &priced.cfg.golden)
        .map_err(|d| Error::config("main", d))?;
    Ok(contributors::health(&dataset, &calibrated, req.date))
}

/// The high-priority ticket a baseline flag asks for. The key names the ISO week, so however
/// often the job runs in a week, one ticket is filed.
fn ticket_request(
    req: &Request,
    entry: &Entry,
    baseline: Option<&Baseline>,
    limit: f64,
    contributors_since: Option<&str>,
) -> Option<TicketRequest> {
    let week = req.date.iso_week();
    if !entry.flags.iter().any(|f| f == "baseline") {
        // Models past end of life alone: a ticket of their own, once a week too.
        if entry.end_of_life.is_empty() {
            return None;
        }
        return Some(TicketRequest {
            dedup_key: format!(
                "costgate-drift-end-of-life-{}-W{:02}",
                week.year(),
                week.week()
            ),
            priority: "High".into(),
            summary: format!(
                "{} routes to {} model(s) past end of life",
                req.branch,
                entry.end_of_life.len()
            ),
            description: end_of_life_section(req, entry),
        });
    }
    Some(TicketRequest {
        dedup_key: format!(
            "costgate-drift-baseline-{}-W{:02}",
            week.year(),
            week.week()
        ),
        priority: "High".into(),
        summary: format!(
            "Cost drift: mean $/session {} over the baseline (> {limit}%)",
            crate::infra::fmt::pct(entry.baseline_delta_pct)
        ),
        description: ticket_description(req, entry, baseline, contributors_since),
    })
}

/// The ticket's body: the numbers, what to do, and the merges that moved the cost when known.
fn ticket_description(
    req: &Request,
    entry: &Entry,
    b: Option<&Baseline>,
    contributors_since: Option<&str>,
) -> String {
    let mut d = format!(
        "The weekly drift job measured {} per 1,000 sessions on {} ({}), against {} in the baseline of {} ({}). The savings claim no longer holds: bring the cost back, or re-baseline with a justification ({}).",
        crate::infra::fmt::per_thousand(entry.mean_usd),
        req.branch,
        entry.commit,
        b.map_or("-".into(), |b| crate::infra::fmt::per_thousand(
            b.metrics.dollars_per_session_mean
        )),
        b.map_or("-".into(), |b| b.date.to_string()),
        b.map_or("-".into(), |b| b.commit.clone()),
        crate::infra::docs::page("ratchet.md"),
    );
    if !entry.end_of_life.is_empty() {
        d.push_str("\n\n");
        d.push_str(&end_of_life_section(req, entry));
    }
    if !entry.contributors.is_empty() {
        d.push_str(&format!(
            "\n\nMerges since {} by their change of the dataset's total cost, largest increase first:\n",
            contributors_since.unwrap_or("-")
        ));
        for l in contributors::lines(&entry.contributors, 10) {
            d.push_str(&format!("- {l}\n"));
        }
    }
    d
}

/// The part of a ticket about models past end of life on the branch.
fn end_of_life_section(req: &Request, entry: &Entry) -> String {
    let mut d = format!(
        "{} ({}) routes to models Bedrock no longer serves; requests to them fail in production. Move each route to a current model in a PR of its own:\n",
        req.branch, entry.commit
    );
    for (model, date) in &entry.end_of_life {
        d.push_str(&format!("- {model}: end of life {date}\n"));
    }
    d
}

/// The contributors since the first compared point of the fired flags that git can resolve.
fn find_contributors(
    req: &Request,
    flags: &[String],
    baseline_commit: Option<&str>,
    tag: Option<&str>,
    week_ago_commit: Option<&str>,
    notes: &mut Vec<String>,
) -> (Vec<crate::ratchet::backtest::Contributor>, Option<String>) {
    let points = contributors::compared_point(flags, baseline_commit, tag, week_ago_commit);
    for since in &points {
        let found = crate::ratchet::backtest::contributors(
            &req.repo,
            &req.branch,
            since,
            &req.options,
            crate::infra::clock::Clock::on(req.date),
            contributors::MAX_REPLAYED,
        );
        if let Ok((list, failed)) = found {
            if failed > 0 {
                notes.push(format!(
                    "{failed} merge(s) since {since} could not be replayed and are not among the contributors"
                ));
            }
            return (list, Some(since.to_string()));
        }
    }
    notes.push(format!(
        "no merge named: none of the compared points ({}) is a commit of this repository",
        if points.is_empty() {
            "none".to_string()
        } else {
            points.join(", ")
        }
    ));
    (Vec::new(), None)
}

/// `, $1,602/month at 1.2M requests` when `traffic` is set.
fn monthly_text(o: &Outcome) -> String {
    o.monthly.map_or(String::new(), |m| {
        format!(
            ", {}/month at {} requests",
            crate::gate::monthly::people_usd(m.usd),
            crate::gate::monthly::requests(m.requests_per_month)
        )
    })
}

/// The text report.
pub fn render_text(o: &Outcome) -> String {
    let e = &o.entry;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {}: {} per 1,000 sessions{}",
        e.date,
        crate::infra::fmt::prefix(&e.commit, 12),
        crate::infra::fmt::per_thousand(e.mean_usd),
        monthly_text(o)
    );
    let _ = writeln!(
        s,
        "  vs release {}: {}",
        e.release_tag.as_deref().unwrap_or("(no v* tag)"),
        crate::infra::fmt::pct_or_dash(e.release_delta_pct)
    );
    let _ = writeln!(
        s,
        "  vs baseline {}: {} (flag above {}%)",
        e.baseline_date.as_deref().unwrap_or("(none)"),
        crate::infra::fmt::pct_or_dash(e.baseline_delta_pct),
        o.baseline_limit_pct
    );
    let _ = writeln!(
        s,
        "  week over week: {} (flag above {}%)",
        crate::infra::fmt::pct_or_dash(e.week_over_week_pct),
        o.wow_limit_pct
    );
    if let Some(q) = e.quality {
        let _ = writeln!(s, "  quality: {:.1}% of expectations met", q * 100.0);
    }
    if e.flags.is_empty() {
        let _ = writeln!(s, "no flags");
    }
    for f in &e.flags {
        let _ = match f.as_str() {
            "wow" => writeln!(
                s,
                "WARN: cost grew more than {}% in a week: find the PRs with `costgate backtest --last N`",
                o.wow_limit_pct
            ),
            "end_of_life" => writeln!(
                s,
                "FLAG: routes to {} model(s) past end of life: {}",
                e.end_of_life.len(),
                e.end_of_life
                    .iter()
                    .map(|(m, d)| format!("{m} ({d})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "quality" => writeln!(
                s,
                "FLAG: {} expectation(s) met at the release are broken on the branch",
                e.release_broken_expectations.unwrap_or(0)
            ),
            _ => writeln!(
                s,
                "FLAG: cost is more than {}% over the baseline: the savings claim no longer holds",
                o.baseline_limit_pct
            ),
        };
    }
    if let Some(since) = &o.contributors_since {
        let _ = writeln!(s, "merges since {since}, largest increase first:");
        for l in contributors::lines(&e.contributors, 10) {
            let _ = writeln!(s, "  {l}");
        }
    }
    if let Some(t) = &o.ticket {
        let _ = writeln!(
            s,
            "high-priority ticket requested (de-duplicated as {}): {}",
            t.dedup_key, t.summary
        );
    }
    for l in contributors::health_lines(&o.health) {
        let _ = writeln!(s, "dataset: {l}");
    }
    for n in &o.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// The markdown summary for `$GITHUB_STEP_SUMMARY`: the latest numbers and the recent history.
pub fn render_markdown(o: &Outcome) -> String {
    use crate::output::markdown::escape;
    let e = &o.entry;
    let mut s = String::new();
    let head = if e.flags.iter().any(|f| f == "end_of_life") {
        "🔴 the branch routes to a model past its end of life"
    } else if e.flags.iter().any(|f| f == "baseline") {
        "🔴 cost is over the baseline"
    } else if e.flags.iter().any(|f| f == "quality") {
        "🔴 the branch broke quality expectations the release met"
    } else if e.flags.is_empty() {
        "🟢 no drift flags"
    } else {
        "🟡 cost grew week over week"
    };
    let _ = writeln!(s, "## costgate drift: {head}\n");
    let _ = writeln!(s, "| measure | value |\n|---|---|");
    let _ = writeln!(
        s,
        "| mean cost per 1,000 sessions ({}) | {} |",
        escape(crate::infra::fmt::prefix(&e.commit, 12)),
        crate::infra::fmt::per_thousand(e.mean_usd)
    );
    if let Some(m) = o.monthly {
        let _ = writeln!(
            s,
            "| per month at {} requests | {} |",
            crate::gate::monthly::requests(m.requests_per_month),
            crate::gate::monthly::people_usd(m.usd)
        );
    }
    let _ = writeln!(
        s,
        "| vs release {} | {} |",
        escape(e.release_tag.as_deref().unwrap_or("(no v* tag)")),
        crate::infra::fmt::pct_or_dash(e.release_delta_pct)
    );
    let _ = writeln!(
        s,
        "| vs baseline of {} | {} (flag > {}%) |",
        escape(e.baseline_date.as_deref().unwrap_or("(none)")),
        crate::infra::fmt::pct_or_dash(e.baseline_delta_pct),
        o.baseline_limit_pct
    );
    let _ = writeln!(
        s,
        "| week over week | {} (warn > {}%) |",
        crate::infra::fmt::pct_or_dash(e.week_over_week_pct),
        o.wow_limit_pct
    );
    if let Some(t) = &o.ticket {
        let _ = writeln!(
            s,
            "\nA high-priority ticket is due: **{}** (`{}`)",
            escape(&t.summary),
            escape(&t.dedup_key)
        );
    }
    if let Some(since) = &o.contributors_since {
        s.push_str(&contributors::markdown(since, &e.contributors));
    }
    let _ = writeln!(s, "\n### Dataset health\n");
    for l in contributors::health_lines(&o.health) {
        let _ = writeln!(s, "- {}", escape(&l));
    }
    for n in &o.notes {
        let _ = writeln!(s, "\n> {}", escape(n));
    }
    let _ = writeln!(
        s,
        "\n<details><summary>history ({} entries)</summary>\n",
        o.history.len()
    );
    let _ = writeln!(
        s,
        "| date | commit | mean $/session | vs release | vs baseline | wow | flags |\n|---|---|---|---|---|---|---|"
    );
    for h in o.history.iter().rev().take(26) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            escape(&h.date),
            escape(crate::infra::fmt::prefix(&h.commit, 10)),
            crate::infra::fmt::usd(h.mean_usd),
            crate::infra::fmt::pct_or_dash(h.release_delta_pct),
            crate::infra::fmt::pct_or_dash(h.baseline_delta_pct),
            crate::infra::fmt::pct_or_dash(h.week_over_week_pct),
            escape(&h.flags.join(", "))
        );
    }
    let _ = writeln!(s, "\n</details>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(date: &str, mean: f64, tag: Option<&str>, baseline: &str, flags: &[&str]) -> Entry {
        Entry {
            date: date.into(),
            commit: "0123456789abcdef".into(),
            mean_usd: mean,
            p50_usd: mean,
            p95_usd: mean,
            release_tag: tag.map(str::to_string),
            release_mean_usd: None,
            release_delta_pct: None,
            baseline_date: Some(baseline.into()),
            baseline_commit: Some("b".into()),
            baseline_mean_usd: Some(0.001),
            baseline_delta_pct: None,
            week_over_week_pct: None,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            quality: None,
            release_broken_expectations: None,
            contributors: Vec::new(),
            end_of_life: BTreeMap::new(),
        }
    }

    #[test]
    fn history_round_trips_and_a_bad_line_is_named() {
        let h = vec![
            entry("2026-11-01", 0.001, Some("v1.0.0"), "2026-10-01", &[]),
            entry("2026-11-08", 0.0012, None, "2026-10-01", &["wow"]),
        ];
        assert_eq!(parse_history(&history_jsonl(&h), "h.jsonl").unwrap(), h);
        let err = parse_history("\n{\"date\": 1}\n", "h.jsonl")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("h.jsonl:2: not a drift history entry"),
            "{err}"
        );
    }

    #[test]
    fn chart_is_valid_svg_with_one_point_per_entry_and_escaped_tags() {
        let h = vec![
            entry("2026-11-01", 0.001, Some("v1.0.0"), "2026-10-01", &[]),
            entry("2026-11-08", 0.0012, Some("v1.0.0"), "2026-10-01", &["wow"]),
            entry(
                "2026-11-15",
                0.0011,
                Some("v1.1.0<script>"),
                "2026-11-10",
                &[],
            ),
        ];
        let svg = chart::render(&h, 15.0);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let count = |class: &str| {
            doc.descendants()
                .filter(|n| n.attribute("class") == Some(class))
                .count()
        };
        assert_eq!(count("point"), 3);
        assert_eq!(count("release"), 2);
        assert_eq!(count("baseline-reset"), 1);
        assert!(!svg.contains("<script>"));
        let one = chart::render(&h[..1], 15.0);
        assert_eq!(
            roxmltree::Document::parse(&one)
                .unwrap()
                .descendants()
                .filter(|n| n.attribute("class") == Some("point"))
                .count(),
            1
        );
        assert!(roxmltree::Document::parse(&chart::render(&[], 15.0)).is_ok());
    }

    #[test]
    fn chart_draws_the_threshold_labels_contributors_and_ticks_round_values() {
        let mut flagged = entry("2026-11-08", 0.00124, None, "2026-10-01", &["baseline"]);
        flagged.contributors = vec![crate::ratchet::backtest::Contributor {
            commit: "abcdef0123456789".into(),
            subject: "Add brand voice".into(),
            delta_pct: Some(8.9),
            unbounded: false,
            verdict: "fail".into(),
        }];
        let h = vec![entry("2026-11-01", 0.001, None, "2026-10-01", &[]), flagged];
        let svg = chart::render(&h, 15.0);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let of = |class: &str| -> Vec<roxmltree::Node<'_, '_>> {
            doc.descendants()
                .filter(|n| n.attribute("class") == Some(class))
                .collect()
        };
        // The threshold runs 15% above the baseline: higher on the page (smaller y).
        let y = |class: &str| -> f64 {
            let points = of(class)[0].attribute("points").unwrap();
            let first = points.split(' ').next().unwrap();
            first.split(',').nth(1).unwrap().parse().unwrap()
        };
        assert!(y("threshold") < y("baseline"), "{svg}");
        // The contributor is labelled on the chart, not only in a tooltip.
        let labels: Vec<&str> = of("contributor-label")
            .iter()
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        assert_eq!(labels, ["abcdef0 +8.9%"]);
        let legend: Vec<&str> = of("legend")
            .iter()
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        assert_eq!(
            legend,
            [
                "mean",
                "baseline",
                "flag: +15%",
                "flagged week",
                "merge that moved it"
            ]
        );
        // Ticks fall on round values per 1,000 sessions: $0.90, $1.00, … (one step apart).
        let ticks: Vec<f64> = of("tick")
            .iter()
            .filter_map(|n| n.text())
            .map(|t| t.trim().trim_start_matches('$').parse().unwrap())
            .collect();
        assert!(ticks.len() >= 3, "{ticks:?}");
        let step = ticks[1] - ticks[0];
        for t in &ticks {
            let k = t / step;
            assert!(
                (k - k.round()).abs() < 1e-6,
                "{t} is not a multiple of {step}: {ticks:?}"
            );
        }
    }

    /// A history line is text anyone can edit: a commit with a multibyte character where the
    /// short form cuts it must not panic the chart, the summary or the text.
    #[test]
    fn a_multibyte_commit_is_shortened_on_a_character_boundary() {
        let mut e = entry("2026-11-01", 0.001, None, "2026-10-01", &["wow"]);
        e.commit = "012345678é漫画".into();
        let o = Outcome {
            entry: e.clone(),
            history: vec![e.clone(), e],
            baseline_limit_pct: 15.0,
            wow_limit_pct: 5.0,
            ticket: None,
            notes: Vec::new(),
            contributors_since: Some("漫画漫画漫画漫画漫画漫画漫画".into()),
            health: contributors::Health {
                cases: 1,
                older_than_a_year: 0,
                without_added: 0,
                days_since_refresh: None,
                missing_intents: Vec::new(),
            },
            monthly: Some(BranchMonthly {
                usd: 1602.4,
                requests_per_month: 1_200_000.0,
            }),
        };
        assert!(chart::render(&o.history, o.baseline_limit_pct).contains("012345678é"));
        assert!(
            render_text(&o).contains("$1,602/month at 1.2M requests"),
            "{}",
            render_text(&o)
        );
        assert!(render_markdown(&o).contains("012345678é"));
        assert!(render_text(&o).contains("012345678é"));
    }
}
