//! Where a command's progress goes, decided once at the top (`cmd::run`) and handed down: library
//! code reports through what it is given and never looks at the terminal itself.

use std::io::IsTerminal;

use crate::infra::progress::{self, Shared};

/// The destinations of everything a command shows besides its result on stdout.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// A bar redrawn in place; otherwise plain, throttled lines (a CI log).
    stderr_is_terminal: bool,
}

impl Printer {
    /// The printer for this process, from what stderr is.
    pub fn detect() -> Printer {
        Printer {
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Progress of long-running work, on stderr.
    pub fn progress(&self) -> Shared {
        Shared::new(if self.stderr_is_terminal {
            progress::bar()
        } else {
            progress::lines()
        })
    }
}
