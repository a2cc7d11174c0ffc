//! The one output helper: a report rendered in the requested format for stdout and written to
//! `--out`, and the JSON forms commands print. Files are written by [`crate::infra::files`].

use std::path::Path;

use chrono::NaiveDate;
use clap::ValueEnum;
use serde::Serialize;

use super::Format;
use crate::gate::report::Report;
use crate::infra::error::{Error, Result};
pub use crate::infra::files::write_file;
use crate::output::templates::Templates;
use crate::output::terminal;

/// Pretty JSON with a final newline, the form of every JSON document costgate prints or writes.
pub fn json<T: Serialize>(value: &T) -> String {
    crate::gate::report::pretty_json(value)
}

/// Pretty JSON with every object's keys sorted (through `serde_json::Value`), the form the
/// ratchet commands have always printed; reports keep their field order.
pub fn json_sorted<T: Serialize>(value: &T) -> String {
    json(&serde_json::to_value(value).unwrap_or_default())
}

/// A gate report's outputs: `--out DIR` gets `report.json` (`json_doc`, which may carry more than
/// the report, as a partial report does) and `report.md`; stdout gets the requested format, with
/// `text` standing for the terminal form. The JSON document is built only when it is written or
/// printed: for 100,000 cases it is 100 MB.
/// `--out` names a directory (made when missing), never an existing file: said before any work.
pub fn check_out_dir(out: Option<&Path>) -> Result<()> {
    match out {
        Some(dir) if dir.exists() && !dir.is_dir() => Err(Error::Usage(format!(
            "--out {}: is a file; --out names a directory for report.json and report.md (created if missing)",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

pub fn emit_report(
    report: &Report,
    json_doc: impl Fn() -> String,
    text: impl FnOnce() -> String,
    format: Format,
    out: Option<&Path>,
    templates: &Templates,
) -> Result<String> {
    let md = || {
        crate::output::templates::render_report(templates, report)
            .map_err(|e| Error::Usage(format!("cannot render the markdown report: {e}")))
    };
    let mut doc = None;
    if let Some(dir) = out {
        let d = json_doc();
        write_file(&dir.join("report.json"), &d)?;
        write_file(&dir.join("report.md"), &md()?)?;
        doc = Some(d);
    }
    Ok(match format {
        Format::Json => doc.unwrap_or_else(json_doc),
        Format::Markdown => md()?,
        Format::Text => text(),
    })
}

/// The terminal form of a gate report, coloured (anstream strips it off a terminal).
pub fn terminal_text(report: &Report) -> impl FnOnce() -> String + '_ {
    || terminal::check(report, true)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    Text,
    Json,
}

pub fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}
