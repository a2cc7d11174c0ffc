//! Builds the stand-in's [`Settings`] from a `costgate.yaml`: its pricing (built-in table plus the
//! repository's overrides and calibrated token scales), its calibrated answer length per intent, and
//! its golden cases (for attribution by query and per-case lengths).

use std::path::Path;

use super::Settings;
use crate::infra::error::{Error, Result};
use crate::measure::dataset::Dataset;
use crate::measure::load::{load_config_file, load_pricing};
use crate::measure::pricing::PricingTable;

/// Settings for `costgate mock --config PATH`; with no path, `./costgate.yaml` when it exists, else
/// the built-in price table and no cases.
pub fn from_config(path: Option<&Path>) -> Result<Settings> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if Path::new(crate::measure::config::DEFAULT_PATH).is_file() => {
            crate::measure::config::DEFAULT_PATH.into()
        }
        None => return Ok(Settings::new(PricingTable::builtin())),
    };
    if !path.is_file() {
        return Err(Error::Usage(format!(
            "--config {}: no such file",
            path.display()
        )));
    }
    let (tree, cfg) = load_config_file(&path)?;
    let pricing = load_pricing(&tree, &cfg).map_err(|d| Error::config("config", d))?;
    let dataset = Dataset::load(&tree, &cfg.golden).map_err(|d| Error::config("config", d))?;
    let output_by_intent = crate::measure::calibration::output_lengths(&tree)
        .map_err(|d| Error::config("config", d))?;
    let mut s = Settings::new(pricing);
    s.output_by_intent = output_by_intent;
    s.reasoning = cfg.reasoning;
    s.steps = cfg.steps;
    s.knowledge = crate::measure::knowledge::load(&tree, &cfg.knowledge_bases, &cfg.file)
        .map_err(|d| Error::config("config", d))?;
    s.guardrails = cfg.guardrails;
    s.routers = cfg.routers;
    s.cases = dataset.cases.into_iter().map(|c| c.case).collect();
    Ok(s)
}
