//! The one integration-test binary: each topic is a module (see `tests/it/*.rs`).

mod action_e2e;
mod action_jira;
mod action_review;
mod backtest;
mod baseline;
mod calibrate;
mod check;
mod cumulative;
mod drift;
mod fake_github;
mod jira_client;
mod justification;
mod ratchet_snapshots;
mod snapshots;
mod sticky;
mod support;
mod tokens;
