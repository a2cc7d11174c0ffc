//! Reasoning tokens: the output a call bills and nobody reads (docs/pricing.md#reasoning). A call's
//! reasoning setting (a thinking budget, or an effort level) becomes a number of output tokens by
//! the base's `reasoning:` policy; render mode reads the setting from a route, the stand-in from
//! each model family's own request field.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::infra::diag::Sink;

/// An effort level, in the names Bedrock's `outputConfig.effort` and the model families use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    Low,
    Medium,
    High,
    Xhigh,
    Max,
}

impl Effort {
    pub const ALL: [Effort; 5] = [
        Effort::Low,
        Effort::Medium,
        Effort::High,
        Effort::Xhigh,
        Effort::Max,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::Xhigh => "xhigh",
            Effort::Max => "max",
        }
    }

    /// The level called `s`, if it is one.
    pub fn named(s: &str) -> Option<Effort> {
        Effort::ALL.into_iter().find(|e| e.name() == s)
    }
}

impl fmt::Display for Effort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a call asks for reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// A thinking budget in tokens (Anthropic `thinking: {type: enabled, budget_tokens}`).
    Budget(u64),
    /// An effort level (Converse `outputConfig.effort`, Anthropic adaptive thinking, Nova 2
    /// `reasoningConfig`, OpenAI `reasoning_effort`).
    Effort(Effort),
}

impl fmt::Display for Setting {
    /// As a cause names it: "thinking budget 2,048", "effort high".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Budget(b) => write!(f, "thinking budget {}", crate::infra::fmt::count(*b)),
            Setting::Effort(e) => write!(f, "effort {e}"),
        }
    }
}

/// A render-mode route's `reasoning:` key: `{budget_tokens: B}` or `{effort: high}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteReasoning {
    budget_tokens: Option<u64>,
    effort: Option<Effort>,
}

impl RouteReasoning {
    /// The setting, checked against what `base_id` accepts and the route's output cap; the error
    /// says what to write instead.
    pub fn setting(&self, base_id: &str, cap: Option<u64>) -> Result<Setting, String> {
        let s = support(base_id);
        match (self.budget_tokens, self.effort) {
            (Some(_), Some(_)) | (None, None) => {
                Err("`reasoning` takes one of `budget_tokens: N` or `effort: low|medium|high|xhigh|max`".into())
            }
            (Some(_), None) if !s.budget => Err(if s.adaptive {
                format!("`{base_id}` thinks adaptively only: write `reasoning: {{effort: high}}` instead of a budget")
            } else {
                format!("`{base_id}` does not take a thinking budget")
            }),
            (Some(b), None) if b < MIN_BUDGET_TOKENS => Err(format!(
                "`reasoning.budget_tokens` must be at least {MIN_BUDGET_TOKENS}, got {b}"
            )),
            (Some(b), None) if cap.is_some_and(|c| b >= c) => Err(format!(
                "`reasoning.budget_tokens` ({b}) must be below the route's `max_output_tokens` ({})",
                cap.unwrap_or_default()
            )),
            (Some(b), None) => Ok(Setting::Budget(b)),
            (None, Some(e)) if !s.accepts(e) => Err(if s.efforts.is_empty() {
                format!("`{base_id}` takes no effort setting")
            } else {
                let named: Vec<&str> = s.efforts.iter().map(|e| e.name()).collect();
                format!(
                    "`{base_id}` does not accept effort `{e}`: use one of {}",
                    named.join(", ")
                )
            }),
            (None, Some(e)) => Ok(Setting::Effort(e)),
        }
    }
}

/// Reasoning tokens per effort level (`reasoning.effort_tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EffortTokens {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub xhigh: u64,
    pub max: u64,
}

impl Default for EffortTokens {
    fn default() -> Self {
        EffortTokens {
            low: 1_024,
            medium: 4_096,
            high: 16_384,
            xhigh: 32_768,
            max: 65_536,
        }
    }
}

impl EffortTokens {
    pub fn of(&self, e: Effort) -> u64 {
        match e {
            Effort::Low => self.low,
            Effort::Medium => self.medium,
            Effort::High => self.high,
            Effort::Xhigh => self.xhigh,
            Effort::Max => self.max,
        }
    }
}

/// The `reasoning:` section of `costgate.yaml`: how many tokens a reasoning setting spends. Policy:
/// always the base's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReasoningPolicy {
    /// Share of a thinking budget a call spends.
    pub budget_share: f64,
    pub effort_tokens: EffortTokens,
}

impl Default for ReasoningPolicy {
    fn default() -> Self {
        ReasoningPolicy {
            budget_share: 0.5,
            effort_tokens: EffortTokens::default(),
        }
    }
}

impl ReasoningPolicy {
    /// Reasoning tokens a call with `setting` spends (before the call's output cap).
    pub fn tokens(&self, setting: Setting) -> u64 {
        match setting {
            // Shares are in [0, 1] and budgets below 2^53: exact enough, and never negative.
            Setting::Budget(b) => (self.budget_share * b as f64).round() as u64,
            Setting::Effort(e) => self.effort_tokens.of(e),
        }
    }

    pub(crate) fn validate(&self, file: &str, sink: &mut Sink) {
        if !(0.0..=1.0).contains(&self.budget_share) {
            sink.push(
                crate::infra::diag::Diagnostic::new(
                    file,
                    format!(
                        "`reasoning.budget_share` must be between 0 and 1, got {}",
                        self.budget_share
                    ),
                )
                .help("it is the share of a thinking budget a call spends: 0.5 spends half"),
            );
        }
        let t = &self.effort_tokens;
        let levels = [t.low, t.medium, t.high, t.xhigh, t.max];
        if levels.windows(2).any(|w| w[0] > w[1]) {
            sink.push(
                crate::infra::diag::Diagnostic::new(
                    file,
                    format!(
                        "`reasoning.effort_tokens` must not decrease from low to max, got {}",
                        levels.map(|n| n.to_string()).join(", ")
                    ),
                )
                .help("a higher effort never spends fewer tokens"),
            );
        }
    }
}

/// The reasoning split of a call's output: `output = min(cap, reasoning + answer)`, reasoning
/// first, so a tight cap cuts the answer before the reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Split {
    pub reasoning: u64,
    pub answer: u64,
    /// The cap cut the output short.
    pub capped: bool,
}

impl Split {
    pub fn new(reasoning: u64, answer: u64, cap: Option<u64>) -> Split {
        match cap {
            Some(cap) if reasoning + answer > cap => {
                let reasoning = reasoning.min(cap);
                Split {
                    reasoning,
                    answer: cap - reasoning,
                    capped: true,
                }
            }
            _ => Split {
                reasoning,
                answer,
                capped: false,
            },
        }
    }

    pub fn output(&self) -> u64 {
        self.reasoning + self.answer
    }
}

/// What a model accepts of the reasoning settings, by family and generation
/// (docs/prices-research.md#reasoning lists the sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    /// Anthropic's budget style (`thinking: {type: enabled}`).
    pub budget: bool,
    /// Anthropic's adaptive thinking (`thinking: {type: adaptive}`).
    pub adaptive: bool,
    /// The effort levels the model accepts (none: it takes no effort setting).
    pub efforts: &'static [Effort],
    /// The level a call without a setting reasons at, for models that always reason.
    pub always: Option<Effort>,
}

const THREE: &[Effort] = &[Effort::Low, Effort::Medium, Effort::High];
const NO_XHIGH: &[Effort] = &[Effort::Low, Effort::Medium, Effort::High, Effort::Max];

impl Support {
    const NONE: Support = Support {
        budget: false,
        adaptive: false,
        efforts: &[],
        always: None,
    };

    pub fn accepts(&self, e: Effort) -> bool {
        self.efforts.contains(&e)
    }
}

/// Smallest thinking budget Anthropic accepts.
pub const MIN_BUDGET_TOKENS: u64 = 1_024;

/// The level adaptive thinking uses when the request names none (Anthropic: `high`).
pub const ADAPTIVE_DEFAULT: Effort = Effort::High;

/// The reasoning settings `base_id` (a resolved base model id) accepts.
pub fn support(base_id: &str) -> Support {
    let id = base_id;
    if let Some(claude) = id.strip_prefix("anthropic.claude-") {
        return claude_support(claude);
    }
    if id.starts_with("amazon.nova-2") {
        return Support {
            efforts: THREE,
            ..Support::NONE
        };
    }
    if id.starts_with("openai.") {
        // gpt-oss reasons on every call; `medium` is OpenAI's documented default.
        return Support {
            efforts: THREE,
            always: Some(Effort::Medium),
            ..Support::NONE
        };
    }
    if id.starts_with("deepseek.r1") {
        // R1 always reasons and has no setting: priced at the middle level.
        return Support {
            always: Some(Effort::Medium),
            ..Support::NONE
        };
    }
    Support::NONE
}

/// A Claude id's generation: `sonnet-4-5-20250929-v1:0` is (4, 5), `3-7-sonnet-…` is (3, 7),
/// `opus-5` is (5, 0). A third number is a date or a version, not a minor release.
fn claude_generation(rest: &str) -> (u32, u32) {
    let mut parts = rest.split(['-', ':']).peekable();
    if parts
        .peek()
        .is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic()))
    {
        parts.next();
    }
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts
        .next()
        .and_then(|p| p.parse::<u32>().ok())
        .filter(|m| *m < 100)
        .unwrap_or(0);
    (major, minor)
}

/// Claude by generation: 3.7 Sonnet and the 4.x models think with a budget; Opus 4.5 also takes
/// an effort (three levels); the 4.6 models think adaptively too (effort up to `max`, no `xhigh`);
/// Opus 4.7 and later, and the Claude 5 family, think adaptively only, at any level. Opus 5 and
/// Sonnet 5 think adaptively when the request says nothing.
fn claude_support(rest: &str) -> Support {
    let generation = claude_generation(rest);
    let opus = rest.starts_with("opus");
    if generation >= (5, 0) || (opus && generation >= (4, 7)) {
        let thinks_unasked =
            generation.0 == 5 && (rest.starts_with("opus") || rest.starts_with("sonnet"));
        return Support {
            adaptive: true,
            efforts: &Effort::ALL,
            always: thinks_unasked.then_some(ADAPTIVE_DEFAULT),
            ..Support::NONE
        };
    }
    if generation >= (4, 6) {
        return Support {
            budget: true,
            adaptive: true,
            efforts: NO_XHIGH,
            ..Support::NONE
        };
    }
    Support {
        budget: generation >= (3, 7),
        efforts: if opus && generation >= (4, 5) {
            THREE
        } else {
            &[]
        },
        ..Support::NONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_share_rounds_and_efforts_are_looked_up() {
        let p = ReasoningPolicy::default();
        assert_eq!(p.tokens(Setting::Budget(2_048)), 1_024);
        assert_eq!(
            p.tokens(Setting::Budget(16_385)),
            8_193,
            "half rounds away from zero"
        );
        assert_eq!(p.tokens(Setting::Effort(Effort::High)), 16_384);
        let q = ReasoningPolicy {
            budget_share: 0.3,
            ..p
        };
        assert_eq!(q.tokens(Setting::Budget(10_000)), 3_000);
    }

    #[test]
    fn a_cap_cuts_the_answer_before_the_reasoning() {
        assert_eq!(
            Split::new(1_000, 150, Some(1_100)),
            Split {
                reasoning: 1_000,
                answer: 100,
                capped: true
            }
        );
        assert_eq!(Split::new(5_000, 150, Some(4_000)).output(), 4_000);
        assert_eq!(Split::new(5_000, 150, Some(4_000)).answer, 0);
        assert!(!Split::new(10, 10, None).capped);
    }

    #[test]
    fn settings_read_as_causes_name_them() {
        assert_eq!(
            Setting::Budget(16_384).to_string(),
            "thinking budget 16,384"
        );
        assert_eq!(Setting::Effort(Effort::Xhigh).to_string(), "effort xhigh");
    }

    #[test]
    fn support_follows_the_model_generation() {
        let s = support("anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert!(s.budget && !s.adaptive && s.efforts.is_empty());
        assert!(!support("anthropic.claude-3-5-haiku-20241022-v1:0").budget);
        let s = support("anthropic.claude-opus-4-7");
        assert!(!s.budget && s.adaptive && s.accepts(Effort::Xhigh));
        let s = support("anthropic.claude-sonnet-4-6");
        assert!(s.budget && s.adaptive && s.accepts(Effort::Max) && !s.accepts(Effort::Xhigh));
        let s = support("anthropic.claude-opus-4-5-20251101-v1:0");
        assert!(s.budget && !s.adaptive && !s.accepts(Effort::Max) && s.accepts(Effort::High));
        assert_eq!(
            support("anthropic.claude-sonnet-5").always,
            Some(Effort::High)
        );
        assert_eq!(support("anthropic.claude-fable-5").always, None);
        assert!(!support("anthropic.claude-sonnet-5-5").budget);
        assert!(support("anthropic.claude-3-7-sonnet-20250219-v1:0").budget);
        assert!(support("anthropic.claude-opus-4-6-v1").adaptive);
        assert_eq!(claude_generation("fable-5"), (5, 0));
        assert_eq!(
            support("openai.gpt-oss-120b-1:0").always,
            Some(Effort::Medium)
        );
        assert!(support("amazon.nova-2-lite-v1:0").accepts(Effort::High));
        assert!(support("amazon.nova-pro-v1:0").efforts.is_empty());
    }

    #[test]
    fn a_route_names_one_setting_the_model_takes() {
        let r = |b: Option<u64>, e: Option<Effort>| RouteReasoning {
            budget_tokens: b,
            effort: e,
        };
        let sonnet = "anthropic.claude-sonnet-4-5-20250929-v1:0";
        assert_eq!(
            r(Some(2048), None).setting(sonnet, Some(4096)),
            Ok(Setting::Budget(2048))
        );
        for (route, model, cap, says) in [
            (r(Some(2048), Some(Effort::Low)), sonnet, None, "one of"),
            (r(None, None), sonnet, None, "one of"),
            (r(Some(512), None), sonnet, None, "at least 1024"),
            (r(Some(4096), None), sonnet, Some(4096), "below the route's"),
            (
                r(Some(4096), None),
                "anthropic.claude-opus-4-7",
                None,
                "adaptively only",
            ),
            (r(None, Some(Effort::High)), sonnet, None, "takes no effort"),
            (
                r(None, Some(Effort::Max)),
                "openai.gpt-oss-120b-1:0",
                None,
                "low, medium, high",
            ),
        ] {
            let e = route.setting(model, cap).unwrap_err();
            assert!(e.contains(says), "{route:?}: {e}");
        }
    }

    #[test]
    fn policy_values_are_checked() {
        let mut sink = Sink::default();
        ReasoningPolicy {
            budget_share: 1.5,
            effort_tokens: EffortTokens {
                low: 10,
                medium: 5,
                ..EffortTokens::default()
            },
        }
        .validate("costgate.yaml", &mut sink);
        assert_eq!(sink.into_vec().len(), 2);
    }
}
