//! The one insta configuration: temporary directories and the repository's own path are filtered,
//! so snapshots are stable across machines; tests add the filters their output needs (commits,
//! timings).

use super::repo_root;

/// Settings with the shared filters plus `extra` (pattern, replacement) pairs.
pub fn settings(extra: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s.add_filter(&regex::escape(&repo_root().display().to_string()), "[REPO]");
    for (pattern, replacement) in extra {
        s.add_filter(pattern, *replacement);
    }
    s.set_prepend_module_to_snapshot(false);
    s
}
