//! Which files a pull request changed behind a cause: in render mode the template of the
//! segment that grew (or the routes file, for a model change), when base and head differ in it; in
//! harness mode the files changed under the harness's tree. Reading is bounded: a tree listing
//! stops at [`MAX_FILES`] and dependency and hidden directories are skipped.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use crate::gate::inputs::App;
use crate::infra::tree::Tree;
use crate::measure::routes::Route;

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
    base_app: &'a App,
    head_app: &'a App,
    harness: OnceLock<Vec<String>>,
}

impl<'a> Hints<'a> {
    pub fn new(base: &'a dyn Tree, head: &'a dyn Tree, apps: (&'a App, &'a App)) -> Self {
        Hints {
            base,
            head,
            base_app: apps.0,
            head_app: apps.1,
            harness: OnceLock::new(),
        }
    }

    /// The changed files behind `what` for `intent`: a segment, `model`, or a quality cause
    /// (`quality:context_includes`, `quality:model`, `quality:bypass`).
    pub fn files(&self, intent: &str, what: &str) -> Vec<String> {
        let App::Render(routes) = self.head_app else {
            return self.harness.get_or_init(|| self.tree_changes()).clone();
        };
        let head_route = routes.for_intent(intent);
        // The routes file is behind a cause only when this intent's route changed in it.
        let route_changed = match self.base_app {
            App::Render(base) => base.for_intent(intent) != head_route,
            App::Harness(_) => false,
        };
        let routes_file = route_changed.then_some(routes.file.as_str());
        let (system, prompt) = match head_route {
            Some(Route::Model { system, prompt, .. }) => (system.as_deref(), prompt.as_deref()),
            _ => (None, None),
        };
        let candidates: Vec<&str> = match what {
            "system" => system.into_iter().collect(),
            "prompt" => prompt.into_iter().collect(),
            "quality:context_includes" => system.into_iter().chain(prompt).collect(),
            "model" | "calls" | "output" | "reasoning" | "guardrail" | "rerank" | "embedding"
            | "quality:model" | "quality:bypass" => {
                return routes_file.map(String::from).into_iter().collect();
            }
            _ => Vec::new(),
        };
        candidates
            .into_iter()
            .filter(|p| self.differs(p))
            .map(String::from)
            .collect()
    }

    fn differs(&self, path: &str) -> bool {
        // Two git trees say it from their listings; only directory trees are read.
        if let (Some(b), Some(h)) = (self.base.content_id(path), self.head.content_id(path)) {
            return b != h;
        }
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
    fn git_trees_are_compared_by_blob_id_and_name_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .current_dir(repo)
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", repo)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@e")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@e")
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("app.py"), "TOP_K = 3\n").unwrap();
        std::fs::write(repo.join("README.md"), "same\n").unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-qm", "base"]);
        std::fs::write(repo.join("app.py"), "TOP_K = 8\n").unwrap();
        git(&["commit", "-qam", "head"]);
        let base = crate::infra::tree::GitTree::open(repo, "HEAD~1", "base").unwrap();
        let head = crate::infra::tree::GitTree::open(repo, "HEAD", "head").unwrap();
        assert!(base.content_id("app.py").is_some());
        let app = App::Harness(crate::measure::config::Harness {
            command: vec!["python3".into()],
            timeout_s: 1,
            repeat: 1,
        });
        let hints = Hints::new(&base, &head, (&app, &app));
        assert_eq!(hints.files("any", "prompt"), ["app.py"]);
    }

    #[test]
    fn hidden_and_dependency_directories_are_skipped() {
        assert!(skipped(".git/config"));
        assert!(skipped("web/node_modules/x/index.js"));
        assert!(skipped("app/__pycache__/a.pyc"));
        assert!(!skipped("app/prompts/system.j2"));
        assert!(!skipped("mangaassist/service.js"));
    }
}
