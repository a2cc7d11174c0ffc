//! The leaves: small pieces every layer uses and that import nothing above them.

pub mod clock;
pub mod diag;
pub mod docs;
pub mod error;
pub mod files;
pub mod fmt;
pub mod http;
pub mod memory;
pub mod progress;
pub mod redact;
pub mod tree;
pub mod yaml;
