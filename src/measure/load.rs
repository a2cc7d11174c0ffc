//! Loading one tree's configuration and price table: what the gate's inputs, the stand-in and the
//! commands that take a `--config` file share.

use crate::infra::diag::Diagnostics;
use crate::infra::error::{Error, Result};
use crate::infra::tree::Tree;
use crate::measure::config::Config;
use crate::measure::pricing::PricingTable;

/// Opens a `costgate.yaml` given as a file path (`tokens --config`, `mock --config`): the tree
/// is the file's directory, against which its other paths resolve.
pub fn load_config_file(path: &std::path::Path) -> Result<(crate::infra::tree::DirTree, Config)> {
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tree = crate::infra::tree::DirTree::new(root, root.display().to_string());
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cfg = Config::load(&tree, &file).map_err(|d| Error::config("config", d))?;
    Ok((tree, cfg))
}

/// The price table a side's configuration asks for.
pub fn load_pricing(
    tree: &dyn Tree,
    config: &Config,
) -> std::result::Result<PricingTable, Diagnostics> {
    // Learned `token_scale`s (`costgate calibrate`) apply on top of the price file.
    let mut table = load_price_file(tree, config)?;
    crate::measure::calibration::apply_scales(tree, &mut table)?;
    Ok(table)
}

fn load_price_file(
    tree: &dyn Tree,
    config: &Config,
) -> std::result::Result<PricingTable, Diagnostics> {
    let Some(path) = &config.pricing else {
        return Ok(PricingTable::builtin());
    };
    match tree.read_string(path) {
        Ok(Some(text)) => PricingTable::with_overrides(&text, path),
        Ok(None) => Err(Diagnostics(vec![
            crate::infra::diag::Diagnostic::new(
                config.file.as_str(),
                format!("pricing file `{path}` not found in {}", tree.label()),
            )
            .help("fix `pricing:` in costgate.yaml or remove it to use the built-in table"),
        ])),
        Err(e) => Err(Diagnostics(vec![crate::infra::diag::Diagnostic::new(
            path.as_str(),
            e.to_string(),
        )])),
    }
}
