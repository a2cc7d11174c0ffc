//! Attribution of a call to a golden case, in the order docs/harness.md gives: the Converse
//! `requestMetadata.costgate_case`, an `x-costgate-case` header, the case set through the control
//! endpoint, and last the case whose query text appears in the request (the longest such query, so
//! a case whose query contains another's wins).

use std::collections::BTreeMap;

use aho_corasick::AhoCorasick;
use serde::Serialize;

use super::request::Prompt;
use crate::measure::dataset::Case;

/// How a call was attributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    RequestMetadata,
    Header,
    Control,
    Query,
}

/// The dataset's cases, indexed for attribution.
#[derive(Debug, Clone, Default)]
pub struct CaseIndex {
    by_id: BTreeMap<String, Case>,
    /// (query, id), longest query first, then by id, for a deterministic winner.
    queries: Vec<(String, String)>,
    /// An automaton over `queries` (pattern i is `queries[i]`): one pass over a request finds every
    /// query it contains, where a `contains` per query made query attribution 4× slower than tags.
    automaton: Option<AhoCorasick>,
}

impl CaseIndex {
    pub fn new(cases: &[Case]) -> Self {
        let by_id = cases.iter().map(|c| (c.id.clone(), c.clone())).collect();
        let mut queries: Vec<(String, String)> = cases
            .iter()
            .filter(|c| !c.query.trim().is_empty())
            .map(|c| (c.query.clone(), c.id.clone()))
            .collect();
        queries.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.1.cmp(&b.1)));
        let automaton = if queries.is_empty() {
            None
        } else {
            // Building only fails past the automaton's size limits; plain scans are the fallback.
            AhoCorasick::new(queries.iter().map(|(q, _)| q.as_str())).ok()
        };
        CaseIndex {
            by_id,
            queries,
            automaton,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn get(&self, id: &str) -> Option<&Case> {
        self.by_id.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The case whose query appears in the request, if any.
    fn by_query(&self, prompt: &Prompt) -> Option<&str> {
        let best = match &self.automaton {
            Some(ac) => prompt
                .texts()
                .flat_map(|t| {
                    ac.find_overlapping_iter(t)
                        .map(|m| m.pattern().as_usize())
                        .collect::<Vec<_>>()
                })
                .min(),
            None => {
                let texts: Vec<&str> = prompt.texts().collect();
                self.queries
                    .iter()
                    .position(|(q, _)| texts.iter().any(|t| t.contains(q.as_str())))
            }
        };
        best.map(|i| self.queries[i].1.as_str())
    }

    /// Attributes a call; `None` when no method names a case.
    pub fn attribute(
        &self,
        prompt: &Prompt,
        header: Option<&str>,
        current: Option<&str>,
    ) -> Option<(String, Method)> {
        let nonempty = |s: &&str| !s.trim().is_empty();
        if let Some(id) = prompt.case_tag.as_deref().filter(nonempty) {
            return Some((id.to_string(), Method::RequestMetadata));
        }
        if let Some(id) = header.filter(nonempty) {
            return Some((id.to_string(), Method::Header));
        }
        if let Some(id) = current.filter(nonempty) {
            return Some((id.to_string(), Method::Control));
        }
        self.by_query(prompt)
            .map(|id| (id.to_string(), Method::Query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standin::request::Msg;

    fn case(id: &str, query: &str) -> Case {
        serde_json::from_value(serde_json::json!({"id": id, "intent": "chit_chat", "query": query}))
            .unwrap()
    }

    fn prompt(text: &str, tag: Option<&str>) -> Prompt {
        Prompt {
            messages: vec![Msg {
                role: "user".into(),
                parts: vec![text.into()],
                media: Vec::new(),
            }],
            case_tag: tag.map(String::from),
            ..Prompt::default()
        }
    }

    #[test]
    fn methods_apply_in_order() {
        let idx = CaseIndex::new(&[case("A", "hello"), case("B", "bye")]);
        let p = prompt("user says: hello", Some("M"));
        assert_eq!(
            idx.attribute(&p, Some("H"), Some("C")),
            Some(("M".into(), Method::RequestMetadata))
        );
        let p = prompt("user says: hello", None);
        assert_eq!(
            idx.attribute(&p, Some("H"), Some("C")),
            Some(("H".into(), Method::Header))
        );
        assert_eq!(
            idx.attribute(&p, None, Some("C")),
            Some(("C".into(), Method::Control))
        );
        assert_eq!(
            idx.attribute(&p, None, None),
            Some(("A".into(), Method::Query))
        );
        assert_eq!(idx.attribute(&prompt("nothing", None), None, None), None);
    }

    #[test]
    fn overlapping_queries_anywhere_in_any_text_are_found() {
        let idx = CaseIndex::new(&[case("a", "abc"), case("b", "bcde"), case("c", "zzz")]);
        let mut p = prompt("xxabcdexx", None);
        assert_eq!(idx.attribute(&p, None, None).unwrap().0, "b");
        p.system = vec!["zzz".into()];
        p.messages[0].parts = vec!["no".into(), "xabcx".into()];
        // "abc" (3 chars, id a) and "zzz" (3 chars, id c) tie on length: the id decides.
        assert_eq!(idx.attribute(&p, None, None).unwrap().0, "a");
    }

    #[test]
    fn longest_matching_query_wins() {
        let idx = CaseIndex::new(&[
            case("short", "One Piece"),
            case("long", "manga like One Piece"),
        ]);
        let p = prompt("Recommend a manga like One Piece please", None);
        assert_eq!(idx.attribute(&p, None, None).unwrap().0, "long");
    }
}
