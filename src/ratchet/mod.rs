//! The ratchet: commands that move the baseline and watch the main branch over time (baseline
//! edits, rebaseline, backtest, drift, calibrate, refresh).

pub mod backtest;
pub mod calibrate;
pub mod drift;
pub mod edit;
pub mod init;
pub mod rebaseline;
pub mod refresh;
