//! What production's output says about the output half of the bill: the share of a thinking
//! budget calls spend (`reasoning.budget_share`), and each named step's answer length (`steps:`),
//! both as proposals for costgate.yaml.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::logs::Record;
use crate::gate::verdict::nearest_rank;
use crate::measure::calibration::round4;
use crate::measure::pricing::PricingTable;
use crate::measure::tokenize;

/// The share of its budget one group of calls spent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// Median of reasoning ÷ budget.
    pub share: f64,
    pub samples: u64,
}

/// `reasoning.budget_share` as production spent it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasoningProposal {
    /// Records whose request carried a thinking budget.
    pub with_budget: u64,
    /// Of those, records whose logged output shows the answer, so reasoning = output − answer.
    pub separable: u64,
    /// All separable records; `None` when none is.
    pub overall: Option<Share>,
    pub by_intent: BTreeMap<String, Share>,
}

/// A named step's logged answer length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepLength {
    /// Median output tokens: the proposal's `output_tokens`.
    pub output_tokens: u64,
    pub samples: u64,
}

fn share(xs: Vec<f64>) -> Option<Share> {
    if xs.is_empty() {
        return None;
    }
    Some(Share {
        share: round4(nearest_rank(&xs, 50.0)),
        samples: xs.len() as u64,
    })
}

/// The budget share of every record that carries a budget and whose answer is in its log:
/// reasoning is its output tokens less the answer's, in the model's tokens: `scale_of` gives this
/// calibration's `token_scale` of a model, else the table's applies.
pub fn reasoning(
    records: &[Record],
    pricing: &PricingTable,
    scale_of: &dyn Fn(&str) -> Option<f64>,
) -> Option<ReasoningProposal> {
    let with_budget: Vec<&Record> = records
        .iter()
        .filter(|r| r.thinking_budget.is_some_and(|b| b > 0))
        .collect();
    if with_budget.is_empty() {
        return None;
    }
    let mut all = Vec::new();
    let mut by_intent: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &with_budget {
        let (Some(budget), Some(out), Some(answer)) =
            (r.thinking_budget, r.output_tokens, r.answer_text_tokens)
        else {
            continue;
        };
        let Ok(resolved) = pricing.resolve(&r.model_id) else {
            continue;
        };
        let scale = scale_of(&resolved.base_id).unwrap_or(resolved.price.token_scale);
        let answer = tokenize::scale(answer, scale);
        let spent = (out.saturating_sub(answer) as f64 / budget as f64).min(1.0);
        all.push(spent);
        if let Some(i) = &r.intent {
            by_intent.entry(i.clone()).or_default().push(spent);
        }
    }
    Some(ReasoningProposal {
        with_budget: with_budget.len() as u64,
        separable: all.len() as u64,
        overall: share(all),
        by_intent: by_intent
            .into_iter()
            .filter_map(|(k, v)| share(v).map(|s| (k, s)))
            .collect(),
    })
}

/// The median output length of each named step.
pub fn steps(records: &[Record]) -> BTreeMap<String, StepLength> {
    let mut by_step: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for r in records {
        if let (Some(s), Some(out)) = (&r.step, r.output_tokens) {
            by_step.entry(s).or_default().push(out as f64);
        }
    }
    by_step
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                StepLength {
                    output_tokens: nearest_rank(&v, 50.0).round() as u64,
                    samples: v.len() as u64,
                },
            )
        })
        .collect()
}

/// The proposals in the human report.
pub fn render(
    s: &mut String,
    reasoning: Option<&ReasoningProposal>,
    steps: &BTreeMap<String, StepLength>,
) {
    if let Some(r) = reasoning {
        match &r.overall {
            Some(all) => {
                let _ = writeln!(
                    s,
                    "\nreasoning: {} of {} record(s) with a thinking budget show their answer, so reasoning = output − answer; they spent a median {:.1}% of their budget (a proposal for costgate.yaml):\n  reasoning: {{budget_share: {}}}",
                    r.separable,
                    r.with_budget,
                    all.share * 100.0,
                    all.share
                );
                for (intent, sh) in &r.by_intent {
                    let _ = writeln!(s, "  # {intent}: {} ({} record(s))", sh.share, sh.samples);
                }
            }
            None => {
                let _ = writeln!(
                    s,
                    "\nreasoning: {} record(s) carry a thinking budget, but none logs its output body inline, so reasoning cannot be told apart from the answer: no `budget_share` proposal (turn on text output in Bedrock's invocation logging, or keep the default)",
                    r.with_budget
                );
            }
        }
    }
    if !steps.is_empty() {
        let _ = writeln!(
            s,
            "\nsteps (median answer length of the calls that name their step; a proposal for costgate.yaml):\n  steps:"
        );
        for (name, st) in steps {
            let _ = writeln!(
                s,
                "    {name}: {{output_tokens: {}}}  # {} record(s)",
                st.output_tokens, st.samples
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        intent: &str,
        budget: Option<u64>,
        out: u64,
        answer: Option<u64>,
        step: Option<&str>,
    ) -> Record {
        Record {
            file: "l.jsonl".into(),
            line: 1,
            model_id: "openai.gpt-oss-20b-1:0".into(),
            intent: Some(intent.into()),
            message_count: 1,
            text_tokens: Some(10),
            input_tokens: 10,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            output_tokens: Some(out),
            thinking_budget: budget,
            step: step.map(str::to_string),
            answer_text_tokens: answer,
        }
    }

    #[test]
    fn reasoning_is_output_less_answer_over_budget() {
        let t = PricingTable::builtin();
        let records = [
            rec("a", Some(4000), 1200, Some(200), None),
            rec("a", Some(4000), 2200, Some(200), None),
            rec("b", Some(2000), 300, Some(100), None),
            rec("b", Some(2000), 300, None, None),
            rec("c", None, 50, Some(50), None),
        ];
        let p = reasoning(&records, &t, &|_| None).unwrap();
        assert_eq!((p.with_budget, p.separable), (4, 3));
        assert_eq!(
            p.by_intent["a"].share, 0.25,
            "nearest-rank median of 0.25, 0.5"
        );
        assert_eq!(p.by_intent["b"].share, 0.1);
        assert_eq!(p.overall.unwrap().share, 0.25);
        assert!(reasoning(&records[4..], &t, &|_| None).is_none());
        let blind = reasoning(&records[3..4], &t, &|_| None).unwrap();
        assert!(blind.overall.is_none());
        let mut s = String::new();
        render(&mut s, Some(&blind), &BTreeMap::new());
        assert!(s.contains("cannot be told apart"), "{s}");
    }

    #[test]
    fn step_lengths_are_medians() {
        let records = [
            rec("a", None, 12, None, Some("condense")),
            rec("a", None, 20, None, Some("condense")),
            rec("a", None, 16, None, Some("condense")),
            rec("a", None, 3, None, Some("route")),
            rec("a", None, 300, None, None),
        ];
        let s = steps(&records);
        assert_eq!(s["condense"].output_tokens, 16);
        assert_eq!(s["route"].samples, 1);
        assert_eq!(s.len(), 2);
    }
}
