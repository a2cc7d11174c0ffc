//! The one integration-test binary: each topic is a module (see `tests/it/*.rs`).

mod support;
mod tokens;
