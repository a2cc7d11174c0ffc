//! costgate: a cost-regression gate for LLM applications on AWS Bedrock.
//!
//! The library prices a golden dataset of user queries at a pull request's base and head, compares
//! them case by case and gives a verdict (SPEC sections 3 and 5). It never prints and never exits;
//! `main.rs` maps [`Error`] to the exit codes of the spec.

pub mod action;
pub mod clients;
pub mod cmd;
pub mod gate;
pub mod harness;
pub mod infra;
pub mod measure;
pub mod output;
pub mod ratchet;
pub mod standin;

pub use infra::error::{Error, Result};
