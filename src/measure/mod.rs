//! The pricing core: what one tree (config, prices, calibration, dataset, routes, templates) costs,
//! case by case. Both sides of a gate run, the stand-in and the ratchet commands build on it.

pub mod cache;
pub mod calibration;
pub mod config;
pub mod dataset;
pub mod guardrails;
pub mod knowledge;
pub mod load;
pub mod pricing;
pub mod reasoning;
pub mod render;
pub mod routers;
pub mod routes;
pub mod steps;
pub mod tokenize;
