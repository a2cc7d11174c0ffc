//! The services costgate talks to on a runner: GitHub's REST API and JIRA.

pub mod github;
pub mod jira;
