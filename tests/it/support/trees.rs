//! Trees the ratchet tests start from.

use super::{copy_dir, repo_root};

/// The example repository (config, golden dataset, app) copied into a temp dir.
pub fn example_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    std::fs::copy(root.join("costgate.yaml"), dir.path().join("costgate.yaml")).unwrap();
    copy_dir(&root.join("golden"), &dir.path().join("golden"));
    copy_dir(&root.join("app"), &dir.path().join("app"));
    dir
}
