//! The one way costgate writes a file it produces (reports, the comment artifact, calibration,
//! golden edits, history, charts) or appends to one the runner reads back (`$GITHUB_OUTPUT`,
//! `$GITHUB_STEP_SUMMARY`): parent directories are created and every error names the path.

use std::io::Write;
use std::path::Path;

use crate::infra::error::{Error, Result};

fn error_at(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.display().to_string();
    move |source| Error::Write { path, source }
}

/// Writes `text` to `path` (replacing it), creating its parent directories.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(error_at(parent))?;
    }
    std::fs::write(path, text).map_err(error_at(path))
}

/// Appends `text` to `path`, creating the file (not its directory: the runner made that).
pub fn append_file(path: &Path, text: &str) -> Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(error_at(path))
}
