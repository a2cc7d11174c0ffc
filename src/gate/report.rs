//! `report.json`: the one result structure every output is rendered from (terminal table,
//! markdown, PR comment, step outputs). Field names are a contract other tools rely on.

use serde::{Deserialize, Serialize};

use crate::gate::justification::Justification;
use crate::gate::verdict::{FailKind, Summary, Verdict};
use crate::measure::render::Segments;

pub const SCHEMA_VERSION: u32 = 1;

/// One side of one case: which expectations held, and the metrics reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SideQuality {
    pub met: u32,
    pub of: u32,
    /// The expectations not met, each as `context_includes "…"`, `model …` or `bypass …`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metrics: std::collections::BTreeMap<String, crate::measure::render::Metric>,
}

impl SideQuality {
    pub fn is_empty(&self) -> bool {
        self.of == 0 && self.metrics.is_empty()
    }
}

/// A metric over the dataset: the mean of each side over the cases that report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    pub name: String,
    pub higher_is_better: bool,
    pub base_mean: Option<f64>,
    pub head_mean: Option<f64>,
    pub base_cases: usize,
    pub head_cases: usize,
    /// Relative move of the mean, `null` when a side has no mean or the base mean is 0.
    pub delta_pct: Option<f64>,
    /// Moved in its bad direction by more than `metric_drop_pct`, or stopped being reported.
    pub regressed: bool,
}

/// One cause: cases that broke the same rule, in the same intent, for the same reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// `query-regression` (over `fail_query_regression_pct`), `pass-band` (over `pass_band_pct`)
    /// or `quality-regression` (an expectation broken).
    pub rule: String,
    pub intent: String,
    /// What changed: a prompt segment (`system`, `history`, `prompt`, `overhead`), `model`,
    /// `calls`, `output`; for quality, the kind of expectation (`context_includes`, `model`,
    /// `bypass`).
    pub what: String,
    pub cases: usize,
    pub ids: Vec<String>,
    /// Range of the cases' cost deltas in percent (`null` = unbounded: free before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_min_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_max_pct: Option<f64>,
    /// Range of the token growth of `what` over the cases, for a prompt segment or the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_max: Option<i64>,
    /// The files behind it that the PR changed: the segment's template in render mode, the files
    /// changed under the harness's tree in harness mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The cause in one line, as the comment, summary and terminal show it.
    pub line: String,
    /// What changed, with the file: `system prompt +138 tokens (app/prompts/system.j2)`.
    #[serde(default)]
    pub because: String,
}

/// A case's status. There is no `removed` (docs/verdict.md), because a case the head
/// deletes is still gated with the base's version and keeps its cost status (with
/// `removed_in_head: true`), so a regression cannot hide behind a dataset edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Unchanged,
    Regressed,
    Improved,
    Added,
}

/// One side of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideCost {
    pub model: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Reasoning tokens, part of `output_tokens`.
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// The reasoning settings the side's calls were billed at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasoning: Vec<String>,
    /// Calls to models the price table does not price, counted at $0: `cost_usd` is a floor.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unpriced_calls: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpriced_models: Vec<String>,
    /// Embeddings, rerank and guardrails: what the side paid besides model tokens.
    #[serde(default, flatten)]
    pub extras: crate::measure::render::Extras,
    pub cost_usd: f64,
    pub segments: Segments,
    pub calls: u64,
    /// Input tokens billed as prompt-cache reads and writes, part of `input_tokens`.
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Expectations and harness metrics of this side (docs/quality.md), for a case that has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<SideQuality>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    pub id: String,
    pub intent: String,
    pub status: Status,
    pub base: Option<SideCost>,
    pub head: Option<SideCost>,
    /// `null` for an unbounded regression (free before) and for added cases.
    pub delta_pct: Option<f64>,
    pub delta_usd: f64,
    /// The prompt segment whose token count grew most, if any grew.
    pub grew: Option<String>,
    pub model_changed: bool,
    /// The head's dataset dropped or edited this case; it is still gated with the base's version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed_in_head: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub changed_in_head: bool,
    /// Head cost outside the case's `expected_cost_band`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_band: bool,
    /// Expectations met at the base and not at the head (docs/quality.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quality_broken: Vec<String>,
    /// The case cost differently on repeated runs of the base's harness (`harness.repeat`): it is
    /// reported but not held to the per-query rule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nondeterministic: bool,
}

/// Cases that read a shared prompt-cache prefix at the base and write an unshared one at the
/// head, by what the prefix holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheLost {
    /// `system prompt`, `system prompt and history`, or `cached prefix` (harness mode).
    pub segment: String,
    pub cases: Vec<String>,
}

/// Where each side came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideInfo {
    pub label: String,
    pub commit: Option<String>,
}

/// An intent whose route changed between base and head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingChange {
    pub intent: String,
    pub base: Option<String>,
    pub head: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    /// Each reason's level and rule, in the same order (absent in reports of earlier versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reason_labels: Vec<crate::gate::verdict::Label>,
    pub fail_kinds: Vec<FailKind>,
    pub summary: Summary,
    pub base: SideInfo,
    pub head: SideInfo,
    pub thresholds: crate::measure::config::Thresholds,
    pub routing_changes: Vec<RoutingChange>,
    /// Edits the head made to policy inputs, which had no effect on this verdict.
    pub policy_changes: Vec<String>,
    /// Notes for the reader that do not change the verdict.
    pub notes: Vec<String>,
    /// Cases whose cached prefix was shared at the base and is not at the head (docs/pricing.md):
    /// the comment says so in a sentence of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache_lost: Vec<CacheLost>,
    /// The reasons grouped by cause: what a reviewer reads first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    /// Harness metrics over the dataset (docs/quality.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quality_metrics: Vec<MetricSummary>,
    pub cases: Vec<CaseReport>,
    /// Justification, sign-off, override, warn streak and ticket, when they apply.
    /// Not read back by `costgate merge`: partial reports carry none (`check --shard` and `merge`
    /// give the cost verdict only).
    #[serde(flatten, skip_deserializing)]
    pub review: ReviewFields,
}

/// No pass without evidence (docs/security.md): the first side, `"base"` or `"head"`, on which no
/// gated case made a model call. Such a side priced nothing, so comparing with it would say
/// nothing. `check` asks this of an unsharded run, `merge` of the merged cases.
pub fn side_without_calls(cases: &[CaseReport]) -> Option<&'static str> {
    let called = |side: fn(&CaseReport) -> Option<&SideCost>| {
        cases.iter().any(|c| side(c).is_some_and(|s| s.calls > 0))
    };
    if !called(|c| c.base.as_ref()) {
        Some("base")
    } else if !called(|c| c.head.as_ref()) {
        Some("head")
    } else {
        None
    }
}

/// Pretty JSON with a final newline: the form of every JSON document costgate prints or writes.
pub fn pretty_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising plain data with finite floats cannot fail.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

impl Report {
    pub fn to_json(&self) -> String {
        pretty_json(self)
    }

    /// Cases that regressed, worst first (unbounded first, then by percentage, then id).
    pub fn regressions(&self) -> Vec<&CaseReport> {
        let mut v: Vec<&CaseReport> = self
            .cases
            .iter()
            .filter(|c| c.status == Status::Regressed)
            .collect();
        v.sort_by(|a, b| match (a.delta_pct, b.delta_pct) {
            (None, None) => a.id.cmp(&b.id),
            (None, _) => std::cmp::Ordering::Less,
            (_, None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.id.cmp(&b.id)),
        });
        v
    }

    /// The regressed cases ranked by the dollars each adds per request (ties by id): how every
    /// output that a person reads lists them, the percentage beside it.
    pub fn regressions_by_dollars(&self) -> Vec<&CaseReport> {
        let mut v = self.regressions();
        v.sort_by(|a, b| {
            b.delta_usd
                .total_cmp(&a.delta_usd)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }
}

/// Report of `costgate run`: one tree priced, no comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub tree: SideInfo,
    pub summary: RunSummary,
    /// What the run found besides the costs: unattributed calls, operations the stand-in does
    /// not serve, cases answered without a model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub cases: Vec<RunCase>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub cases: usize,
    pub total_usd: f64,
    pub mean_usd: f64,
    pub p50_usd: f64,
    pub p95_usd: f64,
    pub avg_input_tokens: f64,
    pub bypass_rate: f64,
    /// Share of the dataset's expectations met on this tree (docs/quality.md), when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunCase {
    pub id: String,
    pub intent: String,
    #[serde(flatten)]
    pub cost: SideCost,
}

impl RunReport {
    pub fn to_json(&self) -> String {
        pretty_json(self)
    }
}

// The review layers' findings, written by `review::apply` and `costgate action`.

/// An approving review by an authorised approver on the head commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignOff {
    pub approver: String,
    pub commit: String,
    pub submitted_at: Option<String>,
    /// Which approver rule the person satisfies (`users list`, `permission admin`, `team org/x`).
    pub via: String,
}

/// The override label as found on the PR.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverrideFinding {
    pub label: String,
    /// Who applied it (latest `labeled` event with no later `unlabeled`), when known.
    pub applied_by: Option<String>,
    pub applied_at: Option<String>,
    pub authorised: bool,
    /// Why the label was or was not honoured, for the comment.
    pub why: String,
}

/// The last merged PRs into the same base, newest first, as read from their comment markers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Streak {
    /// Verdicts of the previous merged PRs considered (newest first).
    pub previous: Vec<StreakEntry>,
}

/// An open override follow-up ticket whose recorded paths this PR touches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenTicket {
    pub key: String,
    /// The PR that was overridden.
    pub pr: u64,
    /// The paths both PRs touch.
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreakEntry {
    pub pr: u64,
    pub verdict: Verdict,
}

/// The justification as judged against the measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JustificationReport {
    #[serde(flatten)]
    pub parsed: Justification,
    pub complete: bool,
    /// The measured total delta the declared one must cover (`null` = unbounded).
    pub measured_total_delta_pct: Option<f64>,
    /// Declared ≥ measured.
    pub covers: bool,
    /// Whether the verdict consulted it (only when it would fail).
    pub consulted: bool,
}

/// Optional report fields written by the layers and by `costgate action`. Flattened into
/// `report.json`; each is omitted when absent.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ReviewFields {
    /// The verdict of the cost rules alone, before these layers changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<JustificationReport>,
    /// Approvers who may sign off (shown when review is required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_off: Option<SignOff>,
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_: Option<OverrideFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_streak: Option<Streak>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketRecord>,
    /// Open override tickets this PR touches.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub open_tickets: Vec<OpenTicket>,
    /// Warnings about the process (too many overrides, open override tickets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub process_warnings: Vec<String>,
}

/// The JIRA ticket of an honoured override.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRecord {
    pub key: Option<String>,
    pub url: Option<String>,
    /// Set when creating it failed; the run then exits 3 so a re-run creates it.
    pub error: Option<String>,
}

/// A side's cost per 1,000 requests as people read it: `no model call` for a side answered
/// without one, `-` for a side the case does not have.
pub fn cost_per_thousand(side: Option<&SideCost>) -> String {
    match side {
        Some(s) if s.calls == 0 => "no model call".into(),
        Some(s) => crate::infra::fmt::per_thousand(s.cost_usd),
        None => "-".into(),
    }
}
