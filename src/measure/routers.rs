//! Prompt routers: a call whose model id is a prompt-router ARN is served by one of the router's
//! models. Bedrock's routing cannot be known offline, so the base's `routers:` says which models a
//! router has and the rule that picks one: policy, like every other estimate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::infra::diag::{Diagnostic, Sink};

/// Input tokens up to which `shortest` routes to the first model, unless the router says.
pub const DEFAULT_SHORTEST_TOKENS: u64 = 1_000;

/// How a router picks its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Short prompts (at most `shortest_tokens` input tokens) to the first model, the rest to the
    /// last: a router's usual trade of a cheap model for easy requests.
    #[default]
    Shortest,
    /// Always the first model.
    First,
    /// Always the last model.
    Last,
}

/// One entry of `routers:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Router {
    pub models: Vec<String>,
    #[serde(default)]
    pub rule: Rule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortest_tokens: Option<u64>,
}

impl Router {
    /// The model a request of `input_tokens` (counted for the first model) is routed to.
    pub fn pick(&self, input_tokens: u64) -> &str {
        let (first, last) = match (self.models.first(), self.models.last()) {
            (Some(f), Some(l)) => (f.as_str(), l.as_str()),
            _ => return "",
        };
        match self.rule {
            Rule::First => first,
            Rule::Last => last,
            Rule::Shortest => {
                if input_tokens <= self.shortest_tokens.unwrap_or(DEFAULT_SHORTEST_TOKENS) {
                    first
                } else {
                    last
                }
            }
        }
    }
}

/// The base's `routers:`, by router ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Routers(pub BTreeMap<String, Router>);

impl Routers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `model` is a prompt-router ARN.
    pub fn is_router(model: &str) -> bool {
        model.starts_with("arn:")
            && (model.contains(":prompt-router/") || model.contains(":default-prompt-router/"))
    }

    pub(crate) fn validate(&self, file: &str, line: usize, sink: &mut Sink) {
        for (arn, r) in &self.0 {
            if !Self::is_router(arn) {
                sink.push(
                    Diagnostic::new(file, format!("router `{arn}` is not a prompt-router ARN"))
                        .at(line, 0)
                        .help("use the router's ARN: arn:aws:bedrock:REGION:ACCOUNT:default-prompt-router/anthropic.claude:1"),
                );
            }
            if r.models.is_empty() {
                sink.push(
                    Diagnostic::new(file, format!("router `{arn}` lists no models"))
                        .at(line, 0)
                        .help("list the models it routes between, cheapest first"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_sends_short_prompts_to_the_first_model() {
        let r = Router {
            models: vec!["haiku".into(), "sonnet".into()],
            rule: Rule::Shortest,
            shortest_tokens: Some(100),
        };
        assert_eq!(r.pick(100), "haiku");
        assert_eq!(r.pick(101), "sonnet");
        assert_eq!(
            Router {
                rule: Rule::Last,
                ..r.clone()
            }
            .pick(1),
            "sonnet"
        );
        assert!(Routers::is_router(
            "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1"
        ));
        assert!(!Routers::is_router(
            "anthropic.claude-3-haiku-20240307-v1:0"
        ));
    }
}
