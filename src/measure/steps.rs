//! Steps: calls whose answer feeds the next call (a condense step, a router, a planner). A call
//! names its step; the base's `steps:` says what the step answers, so the rest of the case runs
//! on a realistic answer instead of filler (docs/harness.md#steps).

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::infra::diag::{Diagnostic, Sink};
use crate::measure::dataset::Case;

/// Template instructions one step answer may take: an answer is a line or two of text.
const ANSWER_FUEL: u64 = 50_000;

/// Bytes of one rendered step answer (about 16,000 tokens).
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// One entry of `steps:` in `costgate.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A minijinja template over the case (`query`, `intent`, `id`, `history`, `context`): the
    /// step's answer text, counted exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Without `answer`: the length of the step's synthetic answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
}

/// What a step call answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepAnswer {
    /// This text, counted exactly.
    Text(String),
    /// Synthetic text of this many tokens.
    Tokens(u64),
}

/// The base's `steps:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Steps(pub BTreeMap<String, Step>);

impl Steps {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Checks each step declares one kind of answer and that its template parses.
    pub(crate) fn validate(&self, file: &str, line: usize, sink: &mut Sink) {
        for (name, step) in &self.0 {
            let problem = match (&step.answer, step.output_tokens) {
                (Some(_), Some(_)) => Some("gives both `answer` and `output_tokens`".to_string()),
                (None, None) => Some("gives neither `answer` nor `output_tokens`".to_string()),
                (Some(t), None) => Environment::new()
                    .template_from_str(t)
                    .err()
                    .map(|e| format!("has an answer template that does not parse: {e}")),
                (None, Some(_)) => None,
            };
            if let Some(p) = problem {
                sink.push(
                    Diagnostic::new(file, format!("step `{name}` {p}"))
                        .at(line, 0)
                        .help("write `answer: \"{{ query }}\"` (a template over the case) or `output_tokens: 40`"),
                );
            }
        }
    }

    /// What step `name` answers for `case` (`None` when the base declares no such step). The
    /// case's own `answers:` come first.
    pub fn answer(&self, name: &str, case: Option<&Case>) -> Option<Result<StepAnswer, String>> {
        if let Some(text) = case.and_then(|c| c.answers.get(name)) {
            return Some(Ok(StepAnswer::Text(text.clone())));
        }
        let step = self.0.get(name)?;
        Some(match (&step.answer, step.output_tokens) {
            (Some(t), _) => render(t, case).map(StepAnswer::Text),
            (None, n) => Ok(StepAnswer::Tokens(n.unwrap_or(0))),
        })
    }
}

/// Renders a step's answer template over `case` (an unattributed call has no case: every
/// variable is empty).
fn render(template: &str, case: Option<&Case>) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(ANSWER_FUEL));
    let ctx = match case {
        Some(c) => minijinja::context! {
            query => c.query,
            intent => c.intent,
            id => c.id,
            history => c.history,
            context => c.context.as_ref().map(|x| x.to_value()),
        },
        None => minijinja::context! {
            query => "",
            intent => "",
            id => "",
            history => Vec::<()>::new(),
        },
    };
    let text = env
        .render_str(template, ctx)
        .map_err(|e| format!("the step's answer template failed: {e}"))?;
    if text.len() > MAX_ANSWER_BYTES {
        return Err(format!(
            "the step's answer is {} bytes, more than the {MAX_ANSWER_BYTES} a step answer may have",
            text.len()
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        serde_json::from_value(serde_json::json!({
            "id": "GD-7", "intent": "recommendation", "query": "something like Berserk",
            "answers": {"route": "faq"},
            "history": [{"role": "user", "content": "hi"}],
        }))
        .unwrap()
    }

    fn steps() -> Steps {
        let mut m = BTreeMap::new();
        m.insert(
            "condense".into(),
            Step {
                answer: Some("Standalone: {{ query }} ({{ history | length }} turns)".into()),
                output_tokens: None,
            },
        );
        m.insert(
            "route".into(),
            Step {
                answer: Some("{{ intent }}".into()),
                output_tokens: None,
            },
        );
        m.insert(
            "plan".into(),
            Step {
                answer: None,
                output_tokens: Some(40),
            },
        );
        Steps(m)
    }

    #[test]
    fn answers_come_from_the_case_then_the_template_then_a_length() {
        let (s, c) = (steps(), case());
        assert_eq!(
            s.answer("condense", Some(&c)),
            Some(Ok(StepAnswer::Text(
                "Standalone: something like Berserk (1 turns)".into()
            )))
        );
        assert_eq!(
            s.answer("route", Some(&c)),
            Some(Ok(StepAnswer::Text("faq".into()))),
            "the case's own answer wins"
        );
        assert_eq!(s.answer("plan", Some(&c)), Some(Ok(StepAnswer::Tokens(40))));
        assert_eq!(s.answer("nope", Some(&c)), None);
        assert_eq!(
            s.answer("condense", None),
            Some(Ok(StepAnswer::Text("Standalone:  (0 turns)".into())))
        );
    }

    #[test]
    fn a_runaway_template_is_stopped() {
        let mut m = BTreeMap::new();
        m.insert(
            "loop".into(),
            Step {
                answer: Some("{% for i in range(100000) %}{{ query }}{% endfor %}".into()),
                output_tokens: None,
            },
        );
        let e = Steps(m).answer("loop", Some(&case())).unwrap().unwrap_err();
        assert!(e.contains("failed") || e.contains("bytes"), "{e}");
    }

    #[test]
    fn each_step_declares_one_answer() {
        let mut m = steps().0;
        m.insert(
            "both".into(),
            Step {
                answer: Some("x".into()),
                output_tokens: Some(3),
            },
        );
        m.insert(
            "broken".into(),
            Step {
                answer: Some("{{ query".into()),
                output_tokens: None,
            },
        );
        let mut sink = Sink::default();
        Steps(m).validate("costgate.yaml", 9, &mut sink);
        let found = sink.into_vec();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("`both`"));
        assert!(found[1].message.contains("does not parse"));
    }
}
