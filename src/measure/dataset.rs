//! The golden dataset: `*.yaml` / `*.yml` / `*.jsonl` case files (or one file), loaded with each
//! case's location so every problem can point at its line. Duplicate ids, empty queries and malformed
//! records are all reported together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::infra::diag::{self, Diagnostic, Diagnostics, Sink};
use crate::infra::tree::Tree;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

/// One golden case (docs/configuration.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub intent: String,
    pub query: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_cost_band: Option<Band>,
    /// When the case entered the dataset (`costgate refresh` writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<chrono::NaiveDate>,
    /// Quality expectations, checked on both sides (docs/quality.md). Boxed: most cases have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Box<Expect>>,
    /// The stand-in's scripted tool use for this case in harness mode (docs/harness.md,
    /// `mock::script`); render mode ignores it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// This case's own answers of named steps (harness mode), before the base's `steps:`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub answers: BTreeMap<String, String>,
    /// `intervene`: every guardrail the case's calls apply blocks the input (harness mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<GuardrailScript>,
}

/// What the guardrails a case's calls apply do (harness mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuardrailScript {
    /// Block the input: the model call is not made, and not billed.
    Intervene,
}

/// A case's quality expectations (docs/quality.md): the levers that trade quality for cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Each string must occur verbatim in the text of a model input of the case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_includes: Vec<String>,
    /// Every model call of the case is served by this model (profiles and aliases resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Whether the case is answered without any model call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass: Option<bool>,
}

impl Expect {
    /// How many expectations this holds (each `context_includes` string is one).
    pub fn count(&self) -> usize {
        self.context_includes.len()
            + usize::from(self.model.is_some())
            + usize::from(self.bypass.is_some())
    }
}

/// Whether each expected string occurs verbatim in one of `texts` (the model inputs of a call).
pub fn found_in(expected: &[String], texts: &[&str]) -> Vec<bool> {
    expected
        .iter()
        .map(|e| texts.iter().any(|t| t.contains(e.as_str())))
        .collect()
}

/// One scripted tool call (an entry of `tool_calls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    pub name: String,
    #[serde(default)]
    pub input: serde_json::Value,
}

/// A case's `context` mapping, kept as compact JSON text: parsed into a map of values it costs
/// about ten times its text in memory, and only templates read it.
#[derive(Debug, Clone)]
pub struct Context(Box<serde_json::value::RawValue>);

impl Context {
    pub fn from_map(map: &serde_json::Map<String, serde_json::Value>) -> Context {
        // A map of JSON values always serialises.
        Context(serde_json::value::to_raw_value(map).unwrap_or_else(|_| {
            serde_json::value::RawValue::from_string("{}".into()).unwrap_or_default()
        }))
    }

    /// The mapping as templates see it.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }
}

impl PartialEq for Context {
    fn eq(&self, other: &Context) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Through the value, not the raw text: every serializer, not only serde_json's, sees a map.
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Context, D::Error> {
        serde_json::Map::<String, serde_json::Value>::deserialize(d).map(|m| Context::from_map(&m))
    }
}

impl Case {
    pub fn weight(&self) -> f64 {
        self.weight.unwrap_or(1.0)
    }

    /// The `context_includes` strings, empty for a case without them.
    pub fn expected_context(&self) -> &[String] {
        self.expect
            .as_deref()
            .map_or(&[], |e| e.context_includes.as_slice())
    }
}

/// Where a case was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocatedCase {
    pub case: Case,
    pub at: Location,
}

/// The whole dataset, in a stable order (files sorted by path, cases in file order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    pub cases: Vec<LocatedCase>,
}

impl Dataset {
    /// Loads `golden` (a directory or one file) from `tree`.
    pub fn load(tree: &dyn Tree, golden: &str) -> Result<Dataset, Diagnostics> {
        let fail = |d: Diagnostic| Err(Diagnostics(vec![d]));
        let files = match tree.is_dir(golden) {
            Ok(true) => match tree.list(golden) {
                Ok(list) => list
                    .into_iter()
                    .filter(|p| is_case_file(p))
                    .collect::<Vec<_>>(),
                Err(e) => return fail(Diagnostic::new(golden, e.to_string())),
            },
            Ok(false) => vec![golden.to_string()],
            Err(e) => return fail(Diagnostic::new(golden, e.to_string())),
        };
        if files.is_empty() {
            return fail(
                Diagnostic::new(
                    golden,
                    format!(
                        "no golden case files (*.yaml, *.yml, *.jsonl) in {}",
                        tree.label()
                    ),
                )
                .help(
                    "point `golden:` in costgate.yaml at a directory of case files or at one file",
                ),
            );
        }
        let mut sink = Sink::default();
        let mut cases = Vec::new();
        for file in &files {
            let text = match tree.read_string(file) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    sink.push(Diagnostic::new(
                        file.as_str(),
                        format!("golden file not found in {}", tree.label()),
                    ));
                    continue;
                }
                Err(e) => {
                    sink.push(Diagnostic::new(file.as_str(), e.to_string()));
                    continue;
                }
            };
            if file.ends_with(".jsonl") {
                parse_jsonl(file, &text, &mut cases, &mut sink);
            } else {
                parse_yaml(file, &text, &mut cases, &mut sink);
            }
        }
        validate(&cases, &mut sink);
        sink.finish(Dataset { cases })
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.cases.iter().map(|c| c.case.id.as_str())
    }

    pub fn get(&self, id: &str) -> Option<&LocatedCase> {
        self.cases.iter().find(|c| c.case.id == id)
    }

    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }
}

fn is_case_file(p: &str) -> bool {
    p.ends_with(".yaml") || p.ends_with(".yml") || p.ends_with(".jsonl")
}

fn parse_yaml(file: &str, text: &str, out: &mut Vec<LocatedCase>, sink: &mut Sink) {
    if text.trim().is_empty() {
        return;
    }
    // A golden case means what the file shows: no tag, not even YAML's own (`!!binary` would make
    // an id or a query something a reviewer cannot read).
    let tags = crate::infra::yaml::explicit_tags(text);
    if !tags.is_empty() {
        for (line, col, tag) in tags {
            sink.push(
                Diagnostic::new(
                    file,
                    format!("YAML tag `{tag}` is not allowed in golden cases"),
                )
                .at(line, col)
                .help("remove the tag; write the value as plain or quoted text"),
            );
        }
        return;
    }
    let err = match crate::infra::yaml::from_str::<Vec<Spanned<Case>>>(text) {
        Ok(list) => {
            out.extend(list.into_iter().map(|s| LocatedCase {
                at: Location {
                    file: file.to_string(),
                    line: s.referenced.line() as usize,
                },
                case: s.value,
            }));
            return;
        }
        Err(e) => e,
    };
    // serde stops at the first bad case. Its error is exact (the key's own line and column), so it
    // is kept; the file is then read again case by case so that every other bad case is reported
    // too (at the line where that case starts), and a large dataset is fixed in one round.
    sink.push(
        diag::from_yaml_error(file, &err)
            .help("a golden YAML file is a list of cases: `- id: GD-1\n  intent: …\n  query: …`"),
    );
    let Ok(items) = crate::infra::yaml::from_str::<Vec<Spanned<serde_json::Value>>>(text) else {
        return; // not even a list of mappings: the first error says why
    };
    let mut first_bad_seen = false;
    for item in items {
        let line = item.referenced.line() as usize;
        if let Err(e) = serde_json::from_value::<Case>(item.value) {
            if first_bad_seen {
                sink.push(Diagnostic::new(file, format!("case starting here: {e}")).at(line, 0));
            }
            first_bad_seen = true;
        }
    }
}

fn parse_jsonl(file: &str, text: &str, out: &mut Vec<LocatedCase>, sink: &mut Sink) {
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Case>(line) {
            Ok(case) => out.push(LocatedCase {
                case,
                at: Location {
                    file: file.to_string(),
                    line: n,
                },
            }),
            Err(e) => sink
                .push(Diagnostic::new(file, strip_json_position(&e.to_string())).at(n, e.column())),
        }
    }
}

/// serde_json appends " at line L column C"; the diagnostic carries the position itself.
fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn validate(cases: &[LocatedCase], sink: &mut Sink) {
    let mut seen: BTreeMap<&str, &Location> = BTreeMap::new();
    for c in cases {
        let at = &c.at;
        let d = |m: String| Diagnostic::new(at.file.as_str(), m).at(at.line, 0);
        if c.case.id.trim().is_empty() {
            sink.push(d("case has an empty `id`".into()));
        } else if let Some(first) = seen.insert(&c.case.id, at) {
            sink.push(
                d(format!("duplicate case id `{}`", c.case.id)).help(format!(
                    "first defined at {first}; ids must be unique across the dataset"
                )),
            );
        }
        if c.case.intent.trim().is_empty() {
            sink.push(d(format!("case `{}` has an empty `intent`", c.case.id)));
        }
        if c.case.query.trim().is_empty() {
            sink.push(
                d(format!("case `{}` has an empty `query`", c.case.id))
                    .help("a golden case needs the user's query text"),
            );
        }
        if let Some(w) = c.case.weight {
            if !w.is_finite() || w <= 0.0 {
                sink.push(d(format!(
                    "case `{}`: `weight` must be a positive number, got {w}",
                    c.case.id
                )));
            }
        }
        if let Some(e) = c.case.expect.as_deref() {
            if e.count() == 0 {
                sink.push(
                    d(format!(
                        "case `{}`: `expect` holds no expectation",
                        c.case.id
                    ))
                    .help("give it `context_includes`, `model` or `bypass`, or remove it"),
                );
            }
            if e.context_includes.iter().any(|s| s.trim().is_empty()) {
                sink.push(d(format!(
                    "case `{}`: `expect.context_includes` has an empty string, which every input contains",
                    c.case.id
                )));
            }
            if e.model.as_deref().is_some_and(|m| m.trim().is_empty()) {
                sink.push(d(format!("case `{}`: `expect.model` is empty", c.case.id)));
            }
        }
        for t in &c.case.tool_calls {
            if t.name.trim().is_empty() {
                sink.push(d(format!(
                    "case `{}`: a `tool_calls` entry has an empty `name`",
                    c.case.id
                )));
            }
        }
        if let Some(b) = c.case.expected_cost_band {
            if !(b.low.is_finite() && b.high.is_finite() && b.low <= b.high) {
                sink.push(d(format!(
                    "case `{}`: `expected_cost_band` needs low <= high",
                    c.case.id
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::tree::DirTree;

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, DirTree) {
        let dir = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let full = dir.path().join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, c).unwrap();
        }
        let t = DirTree::new(dir.path(), "test");
        (dir, t)
    }

    #[test]
    fn yaml_and_jsonl_cases_load_in_file_order_with_lines() {
        let (_d, t) = tree(&[
            (
                "golden/b.jsonl",
                "{\"id\":\"B1\",\"intent\":\"x\",\"query\":\"q\"}\n\n{\"id\":\"B2\",\"intent\":\"x\",\"query\":\"q\"}\n",
            ),
            (
                "golden/a.yaml",
                "- id: A1\n  intent: x\n  query: hello\n- id: A2\n  intent: y\n  query: こんにちは\n  history:\n    - {role: user, content: hi}\n",
            ),
            ("golden/notes.txt", "ignored"),
        ]);
        let ds = Dataset::load(&t, "golden").unwrap();
        let ids: Vec<_> = ds.ids().collect();
        assert_eq!(ids, ["A1", "A2", "B1", "B2"]);
        assert_eq!(ds.cases[1].at.line, 4);
        assert_eq!(
            ds.cases[3].at,
            Location {
                file: "golden/b.jsonl".into(),
                line: 3
            }
        );
    }

    #[test]
    fn duplicate_ids_and_empty_queries_are_all_reported() {
        let (_d, t) = tree(&[
            (
                "golden/a.yaml",
                "- id: A1\n  intent: x\n  query: hello\n- id: A1\n  intent: x\n  query: '  '\n",
            ),
            (
                "golden/b.jsonl",
                "{\"id\":\"A1\",\"intent\":\"x\",\"query\":\"q\"}\n{\"id\": 3\n",
            ),
        ]);
        let err = Dataset::load(&t, "golden").unwrap_err();
        let text = err.to_string();
        assert_eq!(err.0.len(), 4, "{text}");
        assert!(
            text.contains("golden/a.yaml:4: duplicate case id `A1`"),
            "{text}"
        );
        assert!(
            text.contains("golden/b.jsonl:1: duplicate case id `A1`"),
            "{text}"
        );
        assert!(text.contains("empty `query`"), "{text}");
        assert!(text.contains("golden/b.jsonl:2:"), "{text}");
    }

    #[test]
    fn every_bad_case_in_a_yaml_file_is_reported_not_just_the_first() {
        let (_d, t) = tree(&[(
            "g.yaml",
            "- id: A1\n  intent: x\n  query: q\n  qeury: typo\n- id: A2\n  intent: x\n  query: q\n- id: A3\n  intent: x\n  query: q\n  wieght: 2\n- id: A4\n  intent: x\n",
        )]);
        let err = Dataset::load(&t, "g.yaml").unwrap_err();
        let text = err.to_string();
        assert_eq!(err.0.len(), 3, "{text}");
        assert_eq!(
            (err.0[0].line, err.0[0].message.contains("qeury")),
            (4, true),
            "{text}"
        );
        assert!(
            text.contains("g.yaml:8: case starting here: unknown field `wieght`"),
            "{text}"
        );
        assert!(
            text.contains("g.yaml:12: case starting here: missing field `query`"),
            "{text}"
        );
    }

    #[test]
    fn unknown_case_key_is_an_error_with_line() {
        let (_d, t) = tree(&[(
            "g.yaml",
            "- id: A1\n  intent: x\n  query: q\n  qeury: typo\n",
        )]);
        let err = Dataset::load(&t, "g.yaml").unwrap_err();
        assert_eq!(err.0[0].line, 4, "{err}");
        assert!(err.0[0].message.contains("qeury"), "{err}");
    }
}
