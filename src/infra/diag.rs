//! Located diagnostics: every problem found while loading user files, with the file, line and column
//! at fault and what to do about it. Loaders collect all of them before failing, so a user fixes a
//! broken configuration in one round trip instead of one error at a time.

use std::fmt;

/// One problem in one user file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Path of the file, as the user would type it (relative to the tree root when possible).
    pub file: String,
    /// 1-based line; 0 when the problem is about the file as a whole.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.file, self.message)?,
            (l, 0) => write!(f, "{}:{}: {}", self.file, l, self.message)?,
            (l, c) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n    help: {help}")?;
        }
        Ok(())
    }
}

/// A non-empty set of diagnostics, sorted by file and position for stable output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn sorted(mut list: Vec<Diagnostic>) -> Self {
        list.sort();
        list.dedup();
        Diagnostics(list)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} problem{} found:", if n == 1 { "" } else { "s" })?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {d}")?;
        }
        Ok(())
    }
}

/// Accumulates diagnostics while a loader keeps going after the first problem.
#[derive(Debug, Default)]
pub struct Sink {
    list: Vec<Diagnostic>,
}

impl Sink {
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn extend(&mut self, other: Sink) {
        self.list.extend(other.list);
    }

    /// `Ok(value)` when nothing was reported, otherwise every problem at once.
    pub fn finish<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(Diagnostics::sorted(self.list))
        }
    }

    /// Reports `key` at `(line, column)` unless `v` is a finite, non-negative number; `unit`
    /// follows "number" in the message (" of dollars").
    pub fn non_negative(&mut self, file: &str, key: &str, v: f64, unit: &str, at: (usize, usize)) {
        if !v.is_finite() || v < 0.0 {
            self.push(
                Diagnostic::new(
                    file,
                    format!("`{key}` must be a non-negative number{unit}, got {v}"),
                )
                .at(at.0, at.1),
            );
        }
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }
}

impl From<Vec<Diagnostic>> for Sink {
    fn from(list: Vec<Diagnostic>) -> Self {
        Sink { list }
    }
}

/// Converts a serde-saphyr error into a located diagnostic.
pub fn from_yaml_error(file: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let (line, column) = match err.location() {
        Some(loc) => (loc.line() as usize, loc.column() as usize),
        None => (0, 0),
    };
    // serde-saphyr prefixes messages with its own location rendering; keep only the reason.
    let message = err.to_string();
    Diagnostic::new(file, clean_yaml_message(&message)).at(line, column)
}

fn clean_yaml_message(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg);
    first.trim().to_string()
}
