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

use crate::tokenize::Encoding;

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
            let mut v = Some(ctx);
            for part in var.split('.') {
                v = v.and_then(|x| x.get(part));
            }
            match v {
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
    let mut vars: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    vars.sort();
    PathMemo::On {
        vars,
        entries: HashMap::new(),
    }
}
