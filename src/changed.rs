//! Which files a pull request changed behind a cause (SPEC 7): in render mode the template of the
//! segment that grew (or the routes file, for a model change), when base and head differ in it; in
//! harness mode the files changed under the harness's tree. Reading is bounded: a tree listing
//! stops at [`MAX_FILES`] and dependency and hidden directories are skipped.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use crate::inputs::App;
use crate::routes::Route;
use crate::tree::Tree;

/// Files listed per side before the harness-tree comparison gives up (it then names nothing).
pub const MAX_FILES: usize = 20_000;
/// Files named for one cause; more are counted.
const SHOWN: usize = 5;
/// Directories never compared: dependencies, caches, build output and costgate's own.
const SKIPPED: &[&str] = &[
    "node_modules",
    "__pycache__",
    "target",
    "venv",
    "dist",
    "build",
];

/// The files behind causes, for one comparison.
pub struct Hints<'a> {
    base: &'a dyn Tree,
    head: &'a dyn Tree,
    head_app: &'a App,
    harness: OnceLock<Vec<String>>,
}

impl<'a> Hints<'a> {
    pub fn new(base: &'a dyn Tree, head: &'a dyn Tree, head_app: &'a App) -> Self {
        Hints {
            base,
            head,
            head_app,
            harness: OnceLock::new(),
        }
    }

    /// The changed files behind `what` (a segment, `model`, or `quality`) for `intent`.
    pub fn files(&self, intent: &str, what: &str) -> Vec<String> {
        match self.head_app {
            App::Render(routes) => {
                let Some(Route::Model { system, prompt, .. }) = routes.for_intent(intent) else {
                    return Vec::new();
                };
                let candidates: Vec<&str> = match what {
                    "system" => system.iter().map(String::as_str).collect(),
                    "prompt" => prompt.iter().map(String::as_str).collect(),
                    "model" => vec![routes.file.as_str()],
                    "quality" => system
                        .iter()
                        .chain(prompt)
                        .map(String::as_str)
                        .chain([routes.file.as_str()])
                        .collect(),
                    _ => Vec::new(),
                };
                candidates
                    .into_iter()
                    .filter(|p| self.differs(p))
                    .map(String::from)
                    .collect()
            }
            App::Harness(_) => self.harness.get_or_init(|| self.tree_changes()).clone(),
        }
    }

    fn differs(&self, path: &str) -> bool {
        let read = |t: &dyn Tree| t.read(path).ok().flatten();
        read(self.base) != read(self.head)
    }

    /// Files added, removed or changed between the two trees, sorted; the first few named.
    fn tree_changes(&self) -> Vec<String> {
        let list = |t: &dyn Tree| -> Option<BTreeSet<String>> {
            let all = t.list("").ok()?;
            if all.len() > MAX_FILES {
                return None;
            }
            Some(all.into_iter().filter(|p| !skipped(p)).collect())
        };
        let (Some(b), Some(h)) = (list(self.base), list(self.head)) else {
            return Vec::new();
        };
        let changed: Vec<&String> = b
            .union(&h)
            .filter(|p| !(b.contains(*p) && h.contains(*p)) || self.differs(p))
            .collect();
        let mut out: Vec<String> = changed.iter().take(SHOWN).map(|p| p.to_string()).collect();
        if changed.len() > SHOWN {
            out.push(format!("{} more", changed.len() - SHOWN));
        }
        out
    }
}

fn skipped(path: &str) -> bool {
    path.split('/')
        .any(|c| c.starts_with('.') || SKIPPED.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_and_dependency_directories_are_skipped() {
        assert!(skipped(".git/config"));
        assert!(skipped("web/node_modules/x/index.js"));
        assert!(skipped("app/__pycache__/a.pyc"));
        assert!(!skipped("app/prompts/system.j2"));
        assert!(!skipped("mangaassist/service.js"));
    }
}
