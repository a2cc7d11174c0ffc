//! costgate: a cost-regression gate for LLM applications on AWS Bedrock.
//!
//! The library prices a golden dataset of user queries at a pull request's base and head, compares
//! them case by case and gives a verdict (docs/verdict.md). It never writes to stdout or stderr
//! (progress goes through the [`infra::progress::Progress`] the command layer hands down) and never
//! exits; `main.rs` maps [`Error`] to the exit codes.
//!
//! Each folder is a layer and imports only from the layers below it (docs/architecture.md):
//! `cmd` → `action`, `ratchet` → `clients` → `output` → `gate` → `harness` → `standin` → `measure`
//! → `infra`.

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
