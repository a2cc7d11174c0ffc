//! What users read: the terminal report, the built-in and repository templates (PR comment, job
//! summary, JIRA text) and markdown escaping, all rendered from one report value.

pub mod markdown;
pub mod templates;
pub mod terminal;
