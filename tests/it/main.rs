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
mod harness;
mod harness_example;
mod jira_client;
mod justification;
mod mock_boto3;
mod mock_cli;
mod mock_http;
mod mock_sdk;
mod mock_support;
mod mock_wire;
mod ratchet_snapshots;
mod shard;
mod snapshots;
mod sticky;
mod support;
mod tokens;
