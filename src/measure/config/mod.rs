//! `costgate.yaml`: parsed in two phases. Phase one deserialises the raw file (unknown keys
//! rejected, with line and column); phase two validates values and cross-references and reports every
//! problem at once. The validated [`Config`] is what the rest of costgate uses.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::infra::diag::{self, Diagnostic, Diagnostics, Sink};
mod sections;

use crate::infra::tree::Tree;
use crate::measure::guardrails::{Guardrail, Guardrails};
use crate::measure::knowledge::{KnowledgeBase, KnowledgeBases};
use crate::measure::reasoning::ReasoningPolicy;
use crate::measure::routers::{Router, Routers};
use crate::measure::routes::RoutesSpec;
use crate::measure::steps::{Step, Steps};
pub use sections::{QualityPolicy, Refresh, Traffic};

pub const DEFAULT_PATH: &str = "costgate.yaml";

/// How a case is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Render,
    Harness,
}

/// The gate's thresholds (docs/configuration.md); every comparison against them is strict (`>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub fail_query_regression_pct: f64,
    pub warn_p95_regression_pct: f64,
    pub pass_band_pct: f64,
    pub min_cost_delta_usd: f64,
    pub warn_streak_fail: u32,
    pub cumulative_fail_pct: f64,
    /// Projected dollars per month added (needs `traffic`): warn above it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_monthly_delta_usd: Option<f64>,
    /// Projected dollars per month added (needs `traffic`): fail above it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_monthly_delta_usd: Option<f64>,
    /// What a call the head adds to a model the price table does not price does to the verdict.
    pub unpriced: UnpricedLevel,
}

/// `thresholds.unpriced`: an unpriced call at the head warns (default) or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnpricedLevel {
    #[default]
    Warn,
    Fail,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            fail_query_regression_pct: 25.0,
            warn_p95_regression_pct: 10.0,
            pass_band_pct: 10.0,
            min_cost_delta_usd: 0.000001,
            warn_streak_fail: 5,
            cumulative_fail_pct: 15.0,
            warn_monthly_delta_usd: None,
            fail_monthly_delta_usd: None,
            unpriced: UnpricedLevel::Warn,
        }
    }
}

impl Thresholds {
    /// `traffic` says whether the configuration has the `traffic` section the monthly
    /// thresholds need.
    fn validate(&self, file: &str, at: (usize, usize), traffic: bool, sink: &mut Sink) {
        for (key, v) in [
            ("fail_query_regression_pct", self.fail_query_regression_pct),
            ("warn_p95_regression_pct", self.warn_p95_regression_pct),
            ("pass_band_pct", self.pass_band_pct),
            ("min_cost_delta_usd", self.min_cost_delta_usd),
            ("cumulative_fail_pct", self.cumulative_fail_pct),
        ] {
            sink.non_negative(file, &format!("thresholds.{key}"), v, "", at);
        }
        for (key, v) in [
            ("warn_monthly_delta_usd", self.warn_monthly_delta_usd),
            ("fail_monthly_delta_usd", self.fail_monthly_delta_usd),
        ] {
            let Some(v) = v else { continue };
            if !v.is_finite() || v < 0.0 {
                sink.non_negative(file, &format!("thresholds.{key}"), v, " of dollars", at);
            } else if !traffic {
                sink.push(
                    Diagnostic::new(
                        file,
                        format!("`thresholds.{key}` needs `traffic` to turn per-case deltas into dollars per month"),
                    )
                    .at(at.0, at.1)
                    .help(format!("add `traffic: {{requests_per_month: N}}` ({})", crate::infra::docs::page("configuration.md"))),
                );
            }
        }
        if self.warn_streak_fail == 0 {
            sink.push(
                Diagnostic::new(file, "`thresholds.warn_streak_fail` must be at least 1")
                    .at(at.0, at.1),
            );
        }
    }
}

/// GitHub repository role, ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Triage,
    Write,
    #[default]
    Maintain,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Approvers {
    pub users: Vec<String>,
    pub min_permission: Permission,
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Override {
    pub label: String,
    pub review_due_days: u32,
    pub max_per_30_days: u32,
}

impl Default for Override {
    fn default() -> Self {
        Override {
            label: "emergency-override".into(),
            review_due_days: 7,
            max_per_30_days: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Justification {
    pub key: String,
}

impl Default for Justification {
    fn default() -> Self {
        Justification {
            key: "cost-regression-justification".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum JiraApi {
    #[default]
    V3,
    V2,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jira {
    pub url: String,
    pub project: String,
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    #[serde(default)]
    pub api: JiraApi,
}

impl Jira {
    fn validate(&self, file: &str, (l, c): (usize, usize), sink: &mut Sink) {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            sink.push(
                Diagnostic::new(
                    file,
                    format!("`jira.url` must be an http(s) URL, got `{}`", self.url),
                )
                .at(l, c),
            );
        }
        if self.project.trim().is_empty() {
            sink.push(Diagnostic::new(file, "`jira.project` must not be empty").at(l, c));
        }
    }
}

fn default_issue_type() -> String {
    "Task".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OnPass {
    #[default]
    Silent,
    UpdateExisting,
    Always,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Comment {
    pub on_pass: OnPass,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Harness {
    pub command: Vec<String>,
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// Runs of the base side: at 2 or more, cases whose cost differs between runs are reported
    /// as nondeterministic and left out of the per-query rule (docs/false-positives.md).
    #[serde(default = "one_run", skip_serializing_if = "is_one_run")]
    pub repeat: u32,
}

fn one_run() -> u32 {
    1
}

fn is_one_run(n: &u32) -> bool {
    *n == 1
}

/// More runs than this would only multiply the time of a check.
pub const MAX_HARNESS_REPEAT: u32 = 5;

impl Harness {
    fn validate(&self, file: &str, (l, c): (usize, usize), sink: &mut Sink) {
        if self.command.is_empty() || self.command[0].trim().is_empty() {
            sink.push(Diagnostic::new(file, "`harness.command` must name a program").at(l, c));
        } else if self.timeout_s == 0 {
            sink.push(Diagnostic::new(file, "`harness.timeout_s` must be at least 1").at(l, c));
        }
        if !(1..=MAX_HARNESS_REPEAT).contains(&self.repeat) {
            sink.push(
                Diagnostic::new(
                    file,
                    format!(
                        "`harness.repeat` must be 1 to {MAX_HARNESS_REPEAT}, got {}",
                        self.repeat
                    ),
                )
                .at(l, c)
                .help("2 runs the base twice and names the cases whose cost differs"),
            );
        }
    }
}

fn default_timeout() -> u64 {
    600
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: Spanned<u32>,
    golden: Option<Spanned<String>>,
    pricing: Option<Spanned<String>>,
    #[serde(default)]
    mode: Mode,
    routes: Option<Spanned<RoutesSpec>>,
    harness: Option<Spanned<Harness>>,
    thresholds: Option<Spanned<Thresholds>>,
    #[serde(default)]
    quality: QualityPolicy,
    traffic: Option<Spanned<Traffic>>,
    #[serde(default)]
    approvers: Approvers,
    #[serde(default, rename = "override")]
    override_: Override,
    #[serde(default)]
    justification: Justification,
    jira: Option<Spanned<Jira>>,
    #[serde(default)]
    comment: Comment,
    baseline: Option<String>,
    #[serde(default)]
    refresh: Refresh,
    #[serde(default)]
    reasoning: ReasoningPolicy,
    steps: Option<Spanned<std::collections::BTreeMap<String, Step>>>,
    guardrails: Option<Spanned<std::collections::BTreeMap<String, Guardrail>>>,
    #[serde(default)]
    knowledge_bases: std::collections::BTreeMap<String, KnowledgeBase>,
    routers: Option<Spanned<std::collections::BTreeMap<String, Router>>>,
}

/// A validated `costgate.yaml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, for messages.
    pub file: String,
    pub golden: String,
    pub pricing: Option<String>,
    pub mode: Mode,
    pub routes: Option<RoutesSpec>,
    /// Line of the `routes` key, for messages about an inline mapping.
    pub routes_line: usize,
    pub harness: Option<Harness>,
    pub thresholds: Thresholds,
    pub quality: QualityPolicy,
    pub traffic: Option<Traffic>,
    /// Line of the `traffic` key, for messages about its shares.
    pub traffic_line: usize,
    pub approvers: Approvers,
    pub override_: Override,
    pub justification: Justification,
    pub jira: Option<Jira>,
    pub comment: Comment,
    pub baseline: String,
    pub refresh: Refresh,
    /// How many tokens a reasoning setting spends (docs/pricing.md#reasoning).
    pub reasoning: ReasoningPolicy,
    /// What each named step answers (harness mode, docs/harness.md#steps).
    pub steps: Steps,
    /// What each guardrail checks (harness mode, docs/harness.md).
    pub guardrails: Guardrails,
    /// Where each knowledge base's documents are (harness mode, docs/harness.md).
    pub knowledge_bases: KnowledgeBases,
    /// Each prompt router's models and rule (harness mode, docs/harness.md).
    pub routers: Routers,
}

/// The policy part of a configuration: what a PR may not change for itself (docs/verdict.md). Serialised to
/// compare base and head and list the head's edits as policy changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy<'a> {
    /// Render or harness: a head cannot make the gate run the PR's own code.
    pub mode: Mode,
    /// The harness command and timeout: which code runs, and for how long.
    pub harness: &'a Option<Harness>,
    pub golden: &'a str,
    pub pricing: &'a Option<String>,
    pub thresholds: &'a Thresholds,
    pub quality: &'a QualityPolicy,
    pub traffic: &'a Option<Traffic>,
    pub approvers: &'a Approvers,
    #[serde(rename = "override")]
    pub override_: &'a Override,
    pub justification: &'a Justification,
    pub jira: &'a Option<Jira>,
    pub comment: &'a Comment,
    pub baseline: &'a str,
    pub refresh: &'a Refresh,
    pub reasoning: &'a ReasoningPolicy,
    #[serde(skip_serializing_if = "Steps::is_empty")]
    pub steps: &'a Steps,
    #[serde(skip_serializing_if = "Guardrails::is_empty")]
    pub guardrails: &'a Guardrails,
    #[serde(skip_serializing_if = "KnowledgeBases::is_empty")]
    pub knowledge_bases: &'a KnowledgeBases,
    #[serde(skip_serializing_if = "Routers::is_empty")]
    pub routers: &'a Routers,
}

impl Config {
    /// Reads and validates `path` from `tree`.
    pub fn load(tree: &dyn Tree, path: &str) -> Result<Config, Diagnostics> {
        let (config, problems) = Self::load_lenient(tree, path)?;
        Sink::from(problems).finish(config)
    }

    /// Like [`Config::load`], but returns a usable configuration together with its value problems,
    /// so a caller can go on to check the files it names and report everything at once. Only a file
    /// that cannot be read or deserialised at all is an immediate error.
    pub fn load_lenient(
        tree: &dyn Tree,
        path: &str,
    ) -> Result<(Config, Vec<Diagnostic>), Diagnostics> {
        let text = match tree.read_string(path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(Diagnostics(vec![Diagnostic::new(
                    path,
                    format!("configuration file not found in {}", tree.label()),
                )
                .help(format!("create costgate.yaml at the repository root (see {}) or pass --config PATH", crate::infra::docs::page("configuration.md")))]));
            }
            Err(e) => return Err(Diagnostics(vec![Diagnostic::new(path, e.to_string())])),
        };
        Self::parse_lenient(&text, path)
    }

    /// Parses and validates configuration text; `file` names it in diagnostics.
    pub fn parse(text: &str, file: &str) -> Result<Config, Diagnostics> {
        let (config, problems) = Self::parse_lenient(text, file)?;
        Sink::from(problems).finish(config)
    }

    /// Phase one (deserialise) fails fast; phase two (validate) returns its problems beside the value.
    pub fn parse_lenient(text: &str, file: &str) -> Result<(Config, Vec<Diagnostic>), Diagnostics> {
        let raw: RawConfig = crate::infra::yaml::from_str(text)
            .map_err(|e| Diagnostics(vec![diag::from_yaml_error(file, &e)]))?;
        let mut sink = Sink::default();
        let at = |s: &serde_saphyr::Location| (s.line() as usize, s.column() as usize);

        if raw.version.value != 1 {
            let (l, c) = at(&raw.version.referenced);
            sink.push(
                Diagnostic::new(
                    file,
                    format!("unsupported `version: {}`", raw.version.value),
                )
                .at(l, c)
                .help("this costgate reads version 1"),
            );
        }
        let thresholds = raw
            .thresholds
            .as_ref()
            .map_or_else(Thresholds::default, |t| t.value.clone());
        let thresholds_at = raw
            .thresholds
            .as_ref()
            .map_or((0, 0), |t| at(&t.referenced));
        thresholds.validate(file, thresholds_at, raw.traffic.is_some(), &mut sink);
        raw.quality.validate(file, &mut sink);
        if let Some(tr) = &raw.traffic {
            let (l, c) = at(&tr.referenced);
            tr.value.validate(file, l, c, &mut sink);
        }
        match (raw.mode, &raw.harness) {
            (Mode::Harness, None) => sink.push(
                Diagnostic::new(file, "`mode: harness` needs a `harness` section")
                    .help("add `harness: {command: [\"python\", \"-m\", \"app.golden_harness\"]}`"),
            ),
            (Mode::Harness, Some(h)) => h.value.validate(file, at(&h.referenced), &mut sink),
            _ if raw.routes.is_none() => sink.push(
                Diagnostic::new(
                    file,
                    "render mode needs `routes`: a routes file path or an inline mapping",
                )
                .help(format!(
                    "add `routes: app/routes.yaml` (see {})",
                    crate::infra::docs::page("configuration.md")
                )),
            ),
            _ => {}
        }
        raw.reasoning.validate(file, &mut sink);
        let steps = raw.steps.map_or_else(Steps::default, |s| {
            let steps = Steps(s.value);
            steps.validate(file, s.referenced.line() as usize, &mut sink);
            steps
        });
        let routers = raw.routers.map_or_else(Routers::default, |r| {
            let routers = Routers(r.value);
            routers.validate(file, r.referenced.line() as usize, &mut sink);
            routers
        });
        let guardrails = raw.guardrails.map_or_else(Guardrails::default, |g| {
            let guardrails = Guardrails(g.value);
            guardrails.validate(file, g.referenced.line() as usize, &mut sink);
            guardrails
        });
        if let Some(j) = &raw.jira {
            j.value.validate(file, at(&j.referenced), &mut sink);
        }
        for (key, value) in [
            ("override.label", &raw.override_.label),
            ("refresh.intent_key", &raw.refresh.intent_key),
            ("justification.key", &raw.justification.key),
        ] {
            if value.trim().is_empty() {
                sink.push(Diagnostic::new(file, format!("`{key}` must not be empty")));
            }
        }
        let traffic_line = raw
            .traffic
            .as_ref()
            .map_or(0, |t| t.referenced.line() as usize);
        let routes_line = raw
            .routes
            .as_ref()
            .map_or(0, |r| r.referenced.line() as usize);
        let config = Config {
            file: file.to_string(),
            golden: raw
                .golden
                .map_or_else(|| "golden/".to_string(), |g| g.value),
            pricing: raw.pricing.map(|p| p.value),
            mode: raw.mode,
            routes: raw.routes.map(|r| r.value),
            routes_line,
            harness: raw.harness.map(|h| h.value),
            thresholds,
            quality: raw.quality,
            traffic: raw.traffic.map(|t| t.value),
            traffic_line,
            approvers: raw.approvers,
            override_: raw.override_,
            justification: raw.justification,
            jira: raw.jira.map(|j| j.value),
            comment: raw.comment,
            baseline: raw
                .baseline
                .unwrap_or_else(|| ".cost-baseline.yaml".to_string()),
            refresh: raw.refresh,
            reasoning: raw.reasoning,
            steps,
            guardrails,
            knowledge_bases: KnowledgeBases(raw.knowledge_bases),
            routers,
        };
        Ok((config, sink.into_vec()))
    }

    pub fn policy(&self) -> Policy<'_> {
        Policy {
            mode: self.mode,
            harness: &self.harness,
            golden: &self.golden,
            pricing: &self.pricing,
            thresholds: &self.thresholds,
            quality: &self.quality,
            traffic: &self.traffic,
            approvers: &self.approvers,
            override_: &self.override_,
            justification: &self.justification,
            jira: &self.jira,
            comment: &self.comment,
            baseline: &self.baseline,
            refresh: &self.refresh,
            reasoning: &self.reasoning,
            steps: &self.steps,
            guardrails: &self.guardrails,
            knowledge_bases: &self.knowledge_bases,
            routers: &self.routers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_gets_spec_defaults() {
        let c = Config::parse("version: 1\nroutes: app/routes.yaml\n", "costgate.yaml").unwrap();
        assert_eq!(c.golden, "golden/");
        assert_eq!(c.thresholds, Thresholds::default());
        assert_eq!(c.thresholds.fail_query_regression_pct, 25.0);
        assert_eq!(c.override_.label, "emergency-override");
        assert_eq!(c.comment.on_pass, OnPass::Silent);
        assert_eq!(c.baseline, ".cost-baseline.yaml");
        assert!(matches!(c.routes, Some(RoutesSpec::Path(ref p)) if p == "app/routes.yaml"));
    }

    #[test]
    fn unknown_key_is_rejected_with_its_location() {
        let err = Config::parse(
            "version: 1\nroutes: r.yaml\nthresholds:\n  fail_pct: 3\n",
            "costgate.yaml",
        )
        .unwrap_err();
        let d = &err.0[0];
        assert_eq!((d.file.as_str(), d.line), ("costgate.yaml", 4), "{err}");
        assert!(d.message.contains("fail_pct"), "{err}");
    }

    #[test]
    fn every_semantic_problem_is_reported_at_once() {
        let text =
            "version: 2\nmode: harness\nthresholds:\n  pass_band_pct: -1\n  warn_streak_fail: 0\n";
        let err = Config::parse(text, "c.yaml").unwrap_err();
        assert_eq!(err.0.len(), 4, "{err}");
    }

    #[test]
    fn inline_routes_parse() {
        let text = "version: 1\nroutes:\n  default:\n    model: amazon.nova-micro-v1:0\n";
        let c = Config::parse(text, "c.yaml").unwrap();
        match c.routes {
            Some(RoutesSpec::Inline(m)) => {
                assert_eq!(m["default"].referenced.line(), 4);
            }
            other => panic!("{other:?}"),
        }
    }
}
