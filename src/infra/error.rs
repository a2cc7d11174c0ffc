//! The crate's error type and its mapping to the exit codes (docs/verdict.md): 2 for usage and
//! configuration problems, 3 for a run that could not produce a verdict. No error is ever a pass.

use crate::infra::diag::Diagnostics;
use crate::infra::tree::TreeError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in the user's files, all of them.
    #[error("invalid configuration in {side}: {diagnostics}")]
    Config {
        side: String,
        diagnostics: Diagnostics,
    },
    /// Bad command-line usage.
    #[error("{0}")]
    Usage(String),
    /// Reading a tree failed (git, I/O).
    #[error("cannot read the {side} tree")]
    Tree {
        side: String,
        #[source]
        source: TreeError,
    },
    /// Writing an output file failed.
    #[error("cannot write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The run could not produce a verdict (harness crash or timeout, API down…).
    #[error("{0}")]
    Run(String),
}

impl Error {
    /// The process exit code for this error (docs/verdict.md).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::Usage(_) => 2,
            Error::Tree { source, .. } => match source {
                TreeError::Git { .. } => 3,
                _ => 2,
            },
            Error::Write { .. } | Error::Run(_) => 3,
        }
    }

    /// The same error with every secret of `r` masked in its messages.
    pub fn redacted(self, r: &crate::infra::redact::Redactor) -> Self {
        match self {
            Error::Usage(s) => Error::Usage(r.redact(&s)),
            Error::Run(s) => Error::Run(r.redact(&s)),
            other => other,
        }
    }

    pub fn config(side: &str, diagnostics: Diagnostics) -> Self {
        Error::Config {
            side: side.to_string(),
            diagnostics,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
