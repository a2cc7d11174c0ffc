//! A view of a directory inside a git tree, for `working-directory` in a monorepo: git reads commits
//! from the repository root, while costgate.yaml and every path in it are relative to the
//! working directory.

use std::path::Path;
use std::sync::Arc;

use crate::infra::tree::{GitSource, Tree, TreeError};

pub struct SubTree {
    inner: Arc<dyn Tree>,
    /// `dir/` (with the slash), or empty for the root.
    prefix: String,
    label: String,
}

impl SubTree {
    /// `prefix` as `git rev-parse --show-prefix` prints it (`services/chat/`).
    pub fn new(inner: Arc<dyn Tree>, prefix: &str) -> SubTree {
        let p = prefix.trim_matches('/');
        let prefix = if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        };
        let label = if prefix.is_empty() {
            inner.label().to_string()
        } else {
            format!("{} in {p}", inner.label())
        };
        SubTree {
            inner,
            prefix,
            label,
        }
    }
}

impl Tree for SubTree {
    fn label(&self) -> &str {
        &self.label
    }
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, TreeError> {
        self.inner.read(&format!("{}{path}", self.prefix))
    }
    fn is_dir(&self, path: &str) -> Result<bool, TreeError> {
        self.inner.is_dir(&format!("{}{path}", self.prefix))
    }
    fn list(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        let full = format!("{}{dir}", self.prefix);
        Ok(self
            .inner
            .list(&full)?
            .into_iter()
            .map(|p| {
                p.strip_prefix(&self.prefix)
                    .map(str::to_string)
                    .unwrap_or(p)
            })
            .collect())
    }
    fn root(&self) -> Option<&Path> {
        None
    }
    fn content_id(&self, path: &str) -> Option<&str> {
        self.inner.content_id(&format!("{}{path}", self.prefix))
    }

    fn git_source(&self) -> Option<GitSource<'_>> {
        // Only whole-repository sources nest; a subtree of a subtree is not built anywhere.
        let inner = self.inner.git_source()?;
        inner.subdir.is_empty().then_some(GitSource {
            subdir: &self.prefix,
            ..inner
        })
    }
}
