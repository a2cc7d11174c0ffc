//! costgate: a cost-regression gate for LLM applications on AWS Bedrock.
//!
//! The library prices a golden dataset of user queries at a pull request's base and head, compares
//! them case by case and gives a verdict (SPEC sections 3 and 5). It never prints and never exits;
//! `main.rs` maps [`Error`] to the exit codes of the spec.

pub mod action;
pub mod backtest;
pub mod baseline;
pub mod cache;
pub mod calibrate;
pub mod causes;
pub mod changed;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod cumulative;
pub mod dataset;
pub mod diag;
pub mod diff;
pub mod drift;
pub mod error;
pub mod files;
pub mod fmt;
pub mod gate;
pub mod github;
pub mod harness;
pub mod http;
pub mod inputs;
pub mod jira;
pub mod justification;
pub mod markdown;
pub mod memory;
pub mod mock;
pub mod monthly;
pub mod pricing;
pub mod progress;
pub mod quality;
pub mod rebaseline;
pub mod redact;
pub mod refresh;
pub mod render;
pub mod report;
pub mod review;
pub mod routes;
pub mod rules;
pub mod shard;
pub mod templates;
pub mod terminal;
pub mod tokenize;
pub mod tree;
pub mod verdict;
pub mod yaml;

pub use error::{Error, Result};
