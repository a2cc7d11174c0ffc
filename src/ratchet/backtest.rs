//! `costgate backtest`: replays the gate over the last N first-parent merges of a branch, each
//! merge commit against its first parent, read from git objects (no checkout). It reports how
//! often the gate would have fired and on which cases, and suggests the per-PR thresholds that
//! would have kept the fire rate at or under a target: the gate's own false-positive calibration
//! (docs/ratchet.md: a gate that fires on more than ~20% of PRs gets ignored).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::gate::report::{Report, Status};
use crate::gate::verdict::Verdict;
use crate::gate::{self, Options, Side};
use crate::infra::error::{Error, Result};
use crate::infra::progress::Progress;
use crate::infra::tree::{self, GitTree};

/// How many fired cases a merge lists.
const FIRED_SHOWN: usize = 20;

#[derive(Debug, Clone)]
pub struct Request {
    pub repo: PathBuf,
    pub branch: String,
    pub last: usize,
    /// Also replay first-parent commits that are not merges (squash-merge workflows).
    pub all_commits: bool,
    pub target_fire_rate: f64,
    pub options: Options,
    /// "Today" for the date rules of each replayed check.
    pub clock: crate::infra::clock::Clock,
}

#[derive(Debug, Clone, Serialize)]
pub struct MergeResult {
    pub commit: String,
    pub subject: String,
    /// `pass`, `warn`, `fail`, or `error` when the gate could not run at that commit.
    pub verdict: String,
    pub max_regression_pct: Option<f64>,
    pub p95_delta_pct: Option<f64>,
    pub total_delta_pct: Option<f64>,
    pub reasons: Vec<String>,
    pub fired_cases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The largest case regression was free-to-paid (no percentage).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unbounded: bool,
    /// The merge failed the cumulative rule (over the baseline): per-PR thresholds cannot help.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cumulative: bool,
    /// The merge broke quality expectations: no cost threshold suppresses it either.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub quality: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggested {
    pub fail_query_regression_pct: Option<f64>,
    pub warn_p95_regression_pct: Option<f64>,
    pub pass_band_pct: Option<f64>,
    /// The fire rate the suggested values would have had on these merges.
    pub fire_rate: f64,
    pub target_reachable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Merges the gate ran on (errors excluded).
    pub merges: usize,
    pub fail: usize,
    /// Of the fails, those that broke quality expectations.
    pub quality_fail: usize,
    pub warn: usize,
    pub errors: usize,
    pub fire_rate: f64,
    pub target_fire_rate: f64,
    /// Newest merge first.
    pub by_merge: Vec<MergeResult>,
    pub current_thresholds: Option<crate::measure::config::Thresholds>,
    pub suggested_thresholds: Suggested,
}

fn git_lines(repo: &Path, args: &[&str]) -> Result<Vec<String>> {
    let out = tree::git(repo, args).map_err(|source| Error::Tree {
        side: "history".into(),
        source,
    })?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect())
}

fn replay(
    repo: &Path,
    commit: &str,
    opts: &Options,
    clock: crate::infra::clock::Clock,
) -> Result<Report> {
    let open = |rev: String, name: &'static str| -> Result<Side> {
        let t = GitTree::open(
            repo,
            &rev,
            format!("{name} ({})", crate::infra::fmt::prefix(commit, 12)),
        )
        .map_err(|source| Error::Tree {
            side: name.into(),
            source,
        })?;
        let c = Some(t.commit().to_string());
        Ok(Side {
            name,
            tree: Arc::new(t),
            commit: c,
        })
    };
    let base = open(format!("{commit}^1"), "base")?;
    let head = open(commit.to_string(), "head")?;
    let ro = gate::RunOptions {
        clock,
        ..Default::default()
    };
    gate::check_with(&base, &head, opts, ro)
}

/// A commit's subject, on one line without control characters: a squash-merged PR's title is the
/// author's text, and it is printed on the runner.
fn subject(repo: &Path, commit: &str) -> Result<String> {
    let lines = git_lines(repo, &["log", "-1", "--format=%s", commit])?;
    Ok(crate::infra::fmt::one_line(
        lines.first().map_or("", String::as_str),
    ))
}

fn result_of(
    commit: String,
    subject: String,
    r: std::result::Result<Report, Error>,
) -> (MergeResult, Option<crate::measure::config::Thresholds>) {
    match r {
        Ok(rep) => {
            let band = rep.thresholds.pass_band_pct;
            let fired: Vec<String> = if rep.verdict == Verdict::Pass {
                Vec::new()
            } else {
                rep.regressions()
                    .into_iter()
                    .filter(|c| {
                        c.status == Status::Regressed && c.delta_pct.is_none_or(|d| d > band)
                    })
                    .take(FIRED_SHOWN)
                    .map(|c| c.id.clone())
                    .collect()
            };
            let verdict = match rep.verdict {
                Verdict::Fail | Verdict::ReviewRequired => "fail",
                Verdict::Warn => "warn",
                _ => "pass",
            };
            let s = &rep.summary;
            (
                MergeResult {
                    commit,
                    subject,
                    verdict: verdict.into(),
                    max_regression_pct: s.max_regression_pct,
                    p95_delta_pct: s.p95_delta_pct,
                    total_delta_pct: s.total_delta_pct,
                    reasons: rep.reasons.clone(),
                    fired_cases: fired,
                    error: None,
                    unbounded: s.max_regression_unbounded,
                    cumulative: rep
                        .fail_kinds
                        .contains(&crate::gate::verdict::FailKind::CumulativeDrift),
                    quality: rep
                        .fail_kinds
                        .contains(&crate::gate::verdict::FailKind::QualityRegression),
                },
                Some(rep.thresholds.clone()),
            )
        }
        Err(e) => (
            MergeResult {
                commit,
                subject,
                verdict: "error".into(),
                max_regression_pct: None,
                p95_delta_pct: None,
                total_delta_pct: None,
                reasons: Vec::new(),
                fired_cases: Vec::new(),
                error: Some(chain(&e)),
                unbounded: false,
                cumulative: false,
                quality: false,
            },
            None,
        ),
    }
}

/// A first-parent merge since a compared point, priced against its first parent: what a drift
/// flag names as the merges that moved the cost (`contributors` in `drift --format json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contributor {
    pub commit: String,
    pub subject: String,
    /// Change of the dataset's total cost at this merge; `null` with `unbounded` (free before).
    pub delta_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unbounded: bool,
    pub verdict: String,
}

/// The merges of `branch` after `since` (exclusive), newest at most `limit`, each replayed as
/// `backtest` does (one implementation), largest increase first. A history without merge commits
/// (squash merges) gives its first-parent commits instead. Returns them and the number that could
/// not be replayed.
pub fn contributors(
    repo: &Path,
    branch: &str,
    since: &str,
    opts: &Options,
    clock: crate::infra::clock::Clock,
    limit: usize,
) -> Result<(Vec<Contributor>, usize)> {
    if branch.starts_with('-') || since.starts_with('-') {
        return Err(Error::Usage(format!(
            "revisions may not start with `-`: `{since}..{branch}`"
        )));
    }
    let range = format!("{since}..{branch}");
    let n = limit.to_string();
    let list = |merges: bool| {
        let mut args = vec!["rev-list", "--first-parent", "--max-count", n.as_str()];
        if merges {
            args.push("--merges");
        }
        args.extend(["--end-of-options", range.as_str()]);
        git_lines(repo, &args)
    };
    let mut commits = list(true)?;
    if commits.is_empty() {
        commits = list(false)?;
    }
    let mut out = Vec::new();
    let mut failed = 0;
    for c in commits {
        let subject = subject(repo, &c)?;
        match replay(repo, &c, opts, clock) {
            Ok(r) => out.push(Contributor {
                commit: c,
                subject,
                delta_pct: r.summary.total_delta_pct,
                unbounded: r.summary.total_delta_pct.is_none(),
                verdict: r.verdict.as_str().to_string(),
            }),
            Err(_) => failed += 1,
        }
    }
    let key = |c: &Contributor| c.delta_pct.unwrap_or(f64::INFINITY);
    out.sort_by(|a, b| {
        key(b)
            .total_cmp(&key(a))
            .then_with(|| a.commit.cmp(&b.commit))
    });
    Ok((out, failed))
}

/// An error with its causes ("cannot read the base tree: git rev-parse … failed: …").
fn chain(e: &Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
}

/// Runs the backtest.
pub fn backtest(req: &Request, progress: &dyn Progress) -> Result<Outcome> {
    if req.last == 0 {
        return Err(Error::Usage("--last must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&req.target_fire_rate) {
        return Err(Error::Usage(format!(
            "--target-fire-rate must be between 0 and 1, got {}",
            req.target_fire_rate
        )));
    }
    let n = req.last.to_string();
    let mut args = vec!["rev-list", "--first-parent", "--max-count", n.as_str()];
    if !req.all_commits {
        args.push("--merges");
    }
    let branch = format!("{}^{{commit}}", req.branch);
    if req.branch.starts_with('-') {
        return Err(Error::Usage(format!(
            "--branch `{}` may not start with `-`",
            req.branch
        )));
    }
    args.extend(["--end-of-options", branch.as_str()]);
    let commits = git_lines(&req.repo, &args)?;
    if commits.is_empty() {
        return Err(Error::Usage(format!(
            "no first-parent merges on `{}`{}",
            req.branch,
            if req.all_commits {
                ""
            } else {
                "; if the team squash-merges, pass --all-commits"
            }
        )));
    }
    progress.start("backtest", commits.len() as u64);
    let mut by_merge = Vec::with_capacity(commits.len());
    let mut current = None;
    for c in commits {
        let subject = subject(&req.repo, &c)?;
        let (m, t) = result_of(
            c.clone(),
            subject,
            replay(&req.repo, &c, &req.options, req.clock),
        );
        // The newest merge's thresholds are the ones in force now.
        if current.is_none() {
            current = t;
        }
        progress.step(crate::infra::fmt::prefix(&c, 12));
        by_merge.push(m);
    }
    progress.finish();
    let ran: Vec<&MergeResult> = by_merge.iter().filter(|m| m.verdict != "error").collect();
    let (fail, warn) = (
        ran.iter().filter(|m| m.verdict == "fail").count(),
        ran.iter().filter(|m| m.verdict == "warn").count(),
    );
    let merges = ran.len();
    let fire_rate = if merges > 0 {
        (fail + warn) as f64 / merges as f64
    } else {
        0.0
    };
    let suggested = suggest(
        &ran,
        req.target_fire_rate,
        current
            .as_ref()
            .map_or(25.0, |t| t.fail_query_regression_pct),
    );
    Ok(Outcome {
        merges,
        fail,
        quality_fail: ran.iter().filter(|m| m.quality).count(),
        warn,
        errors: by_merge.len() - merges,
        fire_rate,
        target_fire_rate: req.target_fire_rate,
        by_merge,
        current_thresholds: current,
        suggested_thresholds: suggested,
    })
}

/// The (j+1)-th largest finite value, or 0 when there are not that many (never negative: a
/// threshold below 0 would fire on improvements).
fn nth_largest(values: &[f64], j: usize) -> f64 {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    v.get(j).copied().unwrap_or(0.0).max(0.0)
}

/// Per-PR thresholds that would have fired on at most `target × merges` merges. A merge fires
/// when its largest case regression exceeds `pass_band_pct` (which also covers the total, never
/// larger than the largest case) or its p95 exceeds `warn_p95_regression_pct`; the fail threshold
/// is kept at or above the band so fails stay a subset of fires. Unbounded (free-to-paid)
/// regressions and cumulative-drift fails fire at any threshold.
pub fn suggest(merges: &[&MergeResult], target: f64, current_fail: f64) -> Suggested {
    let n = merges.len();
    if n == 0 {
        return Suggested {
            fail_query_regression_pct: None,
            warn_p95_regression_pct: None,
            pass_band_pct: None,
            fire_rate: 0.0,
            target_reachable: true,
        };
    }
    let k = (target * n as f64 + 1e-9).floor() as usize;
    let val = |p: Option<f64>, unbounded: bool| {
        if unbounded || p.is_none() {
            f64::INFINITY
        } else {
            p.unwrap_or(0.0)
        }
    };
    // A cumulative-drift or quality fail fires whatever the per-PR cost thresholds: like an
    // unbounded regression.
    let case: Vec<f64> = merges
        .iter()
        .map(|m| {
            val(
                m.max_regression_pct,
                m.unbounded || m.cumulative || m.quality,
            )
        })
        .collect();
    let p95: Vec<f64> = merges.iter().map(|m| val(m.p95_delta_pct, false)).collect();
    let finite = |v: &[f64]| {
        v.iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect::<Vec<_>>()
    };
    let (case_f, p95_f) = (finite(&case), finite(&p95));
    let fires = |band: f64, w: f64| (0..n).filter(|&i| case[i] > band || p95[i] > w).count();
    for j in (0..=k).rev() {
        let (band, w) = (nth_largest(&case_f, j), nth_largest(&p95_f, j));
        let f = fires(band, w);
        if f <= k {
            return Suggested {
                fail_query_regression_pct: Some(current_fail.max(band)),
                warn_p95_regression_pct: Some(w),
                pass_band_pct: Some(band),
                fire_rate: f as f64 / n as f64,
                target_reachable: true,
            };
        }
    }
    // Unbounded regressions alone exceed the target: the tightest suggestion still fires on them.
    let (band, w) = (nth_largest(&case_f, 0), nth_largest(&p95_f, 0));
    Suggested {
        fail_query_regression_pct: Some(current_fail.max(band)),
        warn_p95_regression_pct: Some(w),
        pass_band_pct: Some(band),
        fire_rate: fires(band, w) as f64 / n as f64,
        target_reachable: false,
    }
}

/// The human report.
pub fn render_text(o: &Outcome) -> String {
    use std::fmt::Write;
    let pct = crate::infra::fmt::pct;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} merge(s) replayed: {} fail{}, {} warn, fire rate {:.1}% (target {:.1}%){}",
        o.merges,
        o.fail,
        if o.quality_fail > 0 {
            format!(" ({} on quality)", o.quality_fail)
        } else {
            String::new()
        },
        o.warn,
        o.fire_rate * 100.0,
        o.target_fire_rate * 100.0,
        if o.errors > 0 {
            format!("; {} could not be replayed", o.errors)
        } else {
            String::new()
        }
    );
    for m in &o.by_merge {
        let short = crate::infra::fmt::prefix(&m.commit, 10);
        let (max, p95) = if m.error.is_some() {
            ("-".to_string(), "-".to_string())
        } else {
            (pct(m.max_regression_pct), pct(m.p95_delta_pct))
        };
        let _ = writeln!(
            s,
            "  {short}  {:<5} max {max:>8}  p95 {p95:>8}  {}",
            m.verdict, m.subject
        );
        if !m.fired_cases.is_empty() {
            let _ = writeln!(s, "              fired: {}", m.fired_cases.join(", "));
        }
        if m.cumulative {
            let _ = writeln!(
                s,
                "              over the baseline (cumulative rule): no per-PR threshold suppresses this"
            );
        }
        if m.quality {
            let _ = writeln!(
                s,
                "              broke quality expectations: no cost threshold suppresses this"
            );
        }
        if let Some(e) = &m.error {
            let _ = writeln!(s, "              error: {e}");
        }
    }
    let g = &o.suggested_thresholds;
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let _ = writeln!(
        s,
        "suggested thresholds for a fire rate <= {:.1}%: fail_query_regression_pct {}, warn_p95_regression_pct {}, pass_band_pct {} (fire rate {:.1}%{})",
        o.target_fire_rate * 100.0,
        show(g.fail_query_regression_pct),
        show(g.warn_p95_regression_pct),
        show(g.pass_band_pct),
        g.fire_rate * 100.0,
        if g.target_reachable {
            ""
        } else {
            "; not reachable: free-to-paid regressions, cumulative-drift and quality fails fire at any threshold"
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(max: Option<f64>, p95: Option<f64>) -> MergeResult {
        MergeResult {
            commit: "c".into(),
            subject: String::new(),
            verdict: "pass".into(),
            max_regression_pct: max,
            p95_delta_pct: p95,
            total_delta_pct: None,
            reasons: vec![],
            fired_cases: vec![],
            error: None,
            unbounded: max.is_none(),
            cumulative: false,
            quality: false,
        }
    }

    #[test]
    fn quality_fails_fire_at_any_cost_threshold() {
        let mut q = m(Some(-30.0), Some(-20.0));
        q.quality = true;
        let ms = [m(Some(5.0), Some(1.0)), q];
        let refs: Vec<&MergeResult> = ms.iter().collect();
        let s = suggest(&refs, 0.0, 25.0);
        assert!(!s.target_reachable, "{s:?}");
        assert_eq!(s.fire_rate, 0.5);
    }

    #[test]
    fn suggestion_allows_floor_target_times_n_fires() {
        let ms: Vec<MergeResult> = (0..20)
            .map(|i| m(Some(i as f64), Some(i as f64 / 2.0)))
            .collect();
        let refs: Vec<&MergeResult> = ms.iter().collect();
        let s = suggest(&refs, 0.05, 25.0);
        // One of twenty may fire: band just below the largest (19), p95 likewise.
        assert_eq!(
            (s.pass_band_pct, s.warn_p95_regression_pct),
            (Some(18.0), Some(9.0))
        );
        assert_eq!(s.fire_rate, 0.05);
        assert_eq!(s.fail_query_regression_pct, Some(25.0));
        let s = suggest(&refs, 0.0, 10.0);
        assert_eq!(
            (s.pass_band_pct, s.fail_query_regression_pct, s.fire_rate),
            (Some(19.0), Some(19.0), 0.0)
        );
    }

    #[test]
    fn different_merges_firing_on_band_and_p95_share_the_budget() {
        // Merge A has the largest case, merge B the largest p95: both cannot fire under k = 1.
        let ms = [
            m(Some(50.0), Some(1.0)),
            m(Some(5.0), Some(30.0)),
            m(Some(2.0), Some(2.0)),
            m(Some(1.0), Some(1.0)),
        ];
        let refs: Vec<&MergeResult> = ms.iter().collect();
        let s = suggest(&refs, 0.25, 25.0);
        assert!(s.fire_rate <= 0.25, "{s:?}");
        assert_eq!(
            (s.pass_band_pct, s.warn_p95_regression_pct),
            (Some(50.0), Some(30.0))
        );
    }

    #[test]
    fn cumulative_fails_fire_at_any_threshold() {
        let mut over = m(Some(1.0), Some(1.0));
        over.cumulative = true;
        let ms = [over, m(Some(3.0), Some(2.0)), m(Some(2.0), Some(1.0))];
        let refs: Vec<&MergeResult> = ms.iter().collect();
        let s = suggest(&refs, 0.34, 25.0);
        // One fire allowed and the cumulative one takes it: the band must cover the 3% merge.
        assert_eq!(
            (s.pass_band_pct, s.fire_rate, s.target_reachable),
            (Some(3.0), 1.0 / 3.0, true)
        );
    }

    #[test]
    fn unbounded_regressions_make_a_low_target_unreachable() {
        let ms = [m(None, Some(1.0)), m(Some(3.0), Some(1.0))];
        let refs: Vec<&MergeResult> = ms.iter().collect();
        let s = suggest(&refs, 0.0, 25.0);
        assert!(!s.target_reachable);
        assert_eq!(s.fire_rate, 0.5);
    }
}
