//! Renders each distinct template rendering once per run and counts its tokens once per encoding.
//!
//! Most of render mode's work used to be re-rendering and re-counting identical text: a system
//! prompt that depends on `tier` alone has a handful of distinct renderings across thousands of
//! cases. A template's output is a function of the variables it reads (minijinja's
//! `undeclared_variables`), so the values of those variables are the memo key. Templates that pull
//! in other templates (`include`, `import`, `from`, `extends`) read variables this cannot see and
//! are never memoized; a template whose key turns out to differ for nearly every case (it reads
//! the query) stops being memoized after [`MAX_ENTRIES`] renderings, so memory stays bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::Environment;

use crate::measure::tokenize::Encoding;

/// Distinct renderings kept per template before memoizing it is given up.
pub const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub(super) struct Memo {
    by_path: Mutex<HashMap<String, PathMemo>>,
}

enum PathMemo {
    Off,
    On {
        /// The variable paths the template reads (`tier`, `context.docs`), sorted.
        vars: Vec<String>,
        entries: HashMap<String, Entry>,
    },
}

#[derive(Clone)]
pub(super) struct Entry {
    pub text: Arc<str>,
    counts: Vec<(Encoding, u64)>,
}

impl Entry {
    pub fn count(&self, enc: Encoding) -> Option<u64> {
        self.counts.iter().find(|(e, _)| *e == enc).map(|(_, n)| *n)
    }
}

impl Memo {
    /// The memo key of rendering `path` with `ctx`, or `None` when `path` is not memoized.
    pub fn key(
        &self,
        env: &Environment<'_>,
        path: &str,
        ctx: &serde_json::Value,
    ) -> Option<String> {
        let mut map = lock(&self.by_path);
        let memo = map
            .entry(path.to_string())
            .or_insert_with(|| classify(env, path));
        let PathMemo::On { vars, .. } = memo else {
            return None;
        };
        let mut key = String::new();
        for var in vars.iter() {
            match lookup(ctx, var) {
                Some(v) => key.push_str(&v.to_string()),
                None => key.push('\u{0}'),
            }
            key.push('\u{1}');
        }
        Some(key)
    }

    pub fn get(&self, path: &str, key: &str) -> Option<Entry> {
        match lock(&self.by_path).get(path) {
            Some(PathMemo::On { entries, .. }) => entries.get(key).cloned(),
            _ => None,
        }
    }

    /// Records a rendering and its count; gives up on `path` past [`MAX_ENTRIES`].
    pub fn put(&self, path: &str, key: String, text: &Arc<str>, enc: Encoding, count: u64) {
        let mut map = lock(&self.by_path);
        let Some(memo) = map.get_mut(path) else {
            return;
        };
        let PathMemo::On { entries, .. } = memo else {
            return;
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            *memo = PathMemo::Off;
            return;
        }
        let entry = entries.entry(key).or_insert_with(|| Entry {
            text: text.clone(),
            counts: Vec::new(),
        });
        if entry.count(enc).is_none() {
            entry.counts.push((enc, count));
        }
    }
}

/// The value a reported variable path stands for. minijinja reports a method call as a path
/// (`context.items()` as `context.items`): a map method, or any part the value does not have,
/// stands for the value it is called on, so the key holds everything the call can read.
fn lookup<'a>(ctx: &'a serde_json::Value, var: &str) -> Option<&'a serde_json::Value> {
    const MAP_METHODS: &[&str] = &["items", "keys", "values", "get"];
    let mut parts: Vec<&str> = var.split('.').collect();
    if parts.len() > 1 && parts.last().is_some_and(|p| MAP_METHODS.contains(p)) {
        parts.pop();
    }
    let mut v = ctx.get(parts[0])?;
    for part in &parts[1..] {
        match v.get(part) {
            Some(next) => v = next,
            None => return Some(v),
        }
    }
    Some(v)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map stays consistent across a panic elsewhere: every update is one insert.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn classify(env: &Environment<'_>, path: &str) -> PathMemo {
    let Ok(tmpl) = env.get_template(path) else {
        return PathMemo::Off;
    };
    let source = tmpl.source();
    let pulls_in = ["include", "import", "from", "extends"].iter().any(|tag| {
        source.match_indices("{%").any(|(i, _)| {
            source[i + 2..]
                .trim_start_matches(['-', '+', ' ', '\t', '\n', '\r'])
                .starts_with(tag)
        })
    });
    if pulls_in {
        return PathMemo::Off;
    }
    // minijinja 2.24's variable tracking does not see through a slice: `context.docs[:1]`
    // reports no variable at all, so two cases differing only in `context` would share a
    // rendering. A template with a slice is never memoized.
    if has_slice(source) {
        return PathMemo::Off;
    }
    let mut vars: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    vars.sort();
    PathMemo::On {
        vars,
        entries: HashMap::new(),
    }
}

/// Whether an expression of the template slices (`x[1:]`, `x[:n]`, `x[::2]`).
fn has_slice(source: &str) -> bool {
    let mut rest = source;
    while let Some(open) = rest.find(['{']) {
        let after = &rest[open + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let Some(end) = after.find(close) else {
            return false;
        };
        let tag = &after[1..end];
        let mut depth = Vec::new();
        for ch in tag.chars() {
            match ch {
                '[' => depth.push(false),
                ']' if depth.pop() == Some(true) => return true,
                ':' => {
                    if let Some(top) = depth.last_mut() {
                        *top = true;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(source: &str, ctx: serde_json::Value) -> Option<String> {
        let mut env = Environment::new();
        env.add_template_owned("t".to_string(), source.to_string())
            .unwrap();
        Memo::default().key(&env, "t", &ctx)
    }

    #[test]
    fn a_template_that_slices_is_never_memoized() {
        // minijinja reports no variable for `context.docs[:1]`: keyed by `query` alone, these two
        // cases would share one rendering.
        let t = "{% for d in context.docs[:1] %}{{ d.title }}{% endfor %}{{ query }}";
        let a = serde_json::json!({"query": "q", "context": {"docs": [{"title": "A"}]}});
        assert_eq!(key_of(t, a), None);
    }

    #[test]
    fn a_method_call_is_keyed_by_the_value_it_is_called_on() {
        let t = "{% for k, v in context.items() %}{{ k }}={{ v }}{% endfor %}";
        let a = serde_json::json!({"context": {"a": 1}});
        let b = serde_json::json!({"context": {"a": 2}});
        assert_ne!(key_of(t, a), key_of(t, b));
    }

    #[test]
    fn slices_are_found_in_expressions_and_statements_only() {
        assert!(has_slice("{% for d in docs[:1] %}{% endfor %}"));
        assert!(has_slice("{{ x[1:] }}"));
        assert!(has_slice("{{ x[::2] | join }}"));
        assert!(!has_slice("{{ x[0] }} [1:2] {{ y }}"));
        assert!(!has_slice("{{ {'a': 1}['a'] }}"));
    }

    #[test]
    fn a_template_reading_one_variable_is_keyed_by_it_alone() {
        let t = "Tier: {{ tier }}";
        let a = serde_json::json!({"tier": "prime", "query": "x"});
        let b = serde_json::json!({"tier": "prime", "query": "y"});
        assert_eq!(key_of(t, a), key_of(t, b));
    }
}
