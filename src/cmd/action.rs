//! `costgate action`: the GitHub Action entry point. The runner's environment was read once by
//! [`super::env`]; the run itself lives in [`crate::action`].

use super::Outcome;
use super::env::Vars;
use crate::infra::error::Result;

pub fn action(env: &Vars) -> Result<Outcome> {
    let done = crate::action::run::main(&env.runner, env.clock)?;
    Ok(Outcome {
        stdout: done.log.into(),
        exit_code: done.exit_code,
    })
}
