//! Resolve once: everything a run reads from its trees (configuration, prices, dataset, routes or
//! harness, calibration) is loaded here, once per side, into [`Inputs`], which the gate, the review
//! layers and the Action share. Policy comes from the base only; application wiring from each side.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::gate::report::SideInfo;
use crate::infra::diag::Diagnostics;
use crate::infra::error::{Error, Result};
use crate::infra::tree::Tree;
use crate::measure::config::{Config, Mode};
use crate::measure::dataset::Dataset;
use crate::measure::load::load_pricing;
use crate::measure::pricing::PricingTable;
use crate::measure::routes::Routes;

/// One side of a comparison: a tree and, for git trees, its commit.
#[derive(Clone)]
pub struct Side {
    pub name: &'static str,
    pub tree: Arc<dyn Tree>,
    pub commit: Option<String>,
}

impl Side {
    /// The commit `rev` of the repository at `repo`, read from git objects (no checkout).
    pub fn git(repo: &std::path::Path, rev: &str, name: &'static str) -> Result<Side> {
        let tree = crate::infra::tree::GitTree::open(repo, rev, format!("{name} ({rev})"))
            .map_err(|source| Error::Tree {
                side: name.into(),
                source,
            })?;
        let commit = Some(tree.commit().to_string());
        Ok(Side {
            name,
            tree: Arc::new(tree),
            commit,
        })
    }

    /// A directory on disk (`--base-dir`, `run --dir`): labelled by its path, or `name (path)`
    /// for a base or head.
    pub fn dir(dir: &std::path::Path, name: &'static str) -> Side {
        let label = if name == "tree" {
            dir.display().to_string()
        } else {
            format!("{name} ({})", dir.display())
        };
        Side {
            name,
            tree: Arc::new(crate::infra::tree::DirTree::new(dir, label)),
            commit: None,
        }
    }

    pub(crate) fn info(&self) -> SideInfo {
        SideInfo {
            label: self.tree.label().to_string(),
            commit: self.commit.clone(),
        }
    }

    pub(crate) fn cfg_err(&self) -> impl Fn(Diagnostics) -> Error + '_ {
        move |d| Error::config(self.name, d)
    }
}

/// Options shared by `check` and `run`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of `costgate.yaml` inside each tree.
    pub config_path: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_path: crate::measure::config::DEFAULT_PATH.to_string(),
        }
    }
}

/// How a side's application is priced: its routes and templates, or its own code via a harness.
pub enum App {
    Render(Routes),
    Harness(crate::measure::config::Harness),
}

pub(crate) fn load_routes(side: &Side, config: &Config, pricing: &PricingTable) -> Result<App> {
    if config.mode == Mode::Harness {
        return config.harness.clone().map(App::Harness).ok_or_else(|| {
            Error::Usage(format!(
                "{}: `mode: harness` needs a `harness` section",
                config.file
            ))
        });
    }
    let spec = config
        .routes
        .as_ref()
        .ok_or_else(|| Error::Usage(format!("{}: no `routes`", config.file)))?;
    Routes::load(side.tree.as_ref(), spec, &config.file, pricing)
        .map(App::Render)
        .map_err(side.cfg_err())
}

/// Everything read from the base: its configuration (policy), prices, dataset and its own routes.
pub struct BaseInputs {
    /// Policy: thresholds, dataset location, prices, approvers (docs/configuration.md).
    pub config: Config,
    pub pricing: PricingTable,
    pub dataset: Dataset,
    pub app: App,
    /// Output length per intent from `costgate/calibration.yaml` (policy, so the base's).
    pub calibrated: BTreeMap<String, u64>,
}

impl BaseInputs {
    /// Loads one tree as the base (or as the only tree of `run`), reporting every problem in every
    /// file at once.
    pub fn load(base: &Side, opts: &Options) -> Result<BaseInputs> {
        let (config, mut problems) =
            Config::load_lenient(base.tree.as_ref(), &opts.config_path).map_err(base.cfg_err())?;
        let pricing = load_pricing(base.tree.as_ref(), &config).unwrap_or_else(|d| {
            problems.extend(d.0);
            PricingTable::builtin()
        });
        let dataset = Dataset::load(base.tree.as_ref(), &config.golden).unwrap_or_else(|d| {
            problems.extend(d.0);
            Dataset::default()
        });
        let app = match load_routes(base, &config, &pricing) {
            Ok(r) => Some(r),
            Err(Error::Config { diagnostics, .. }) => {
                problems.extend(diagnostics.0);
                None
            }
            Err(other) => return Err(other),
        };
        if problems.is_empty() && dataset.is_empty() {
            // An empty dataset would "pass" every PR: no evidence is not a pass.
            problems.push(
                crate::infra::diag::Diagnostic::new(
                    config.golden.as_str(),
                    format!(
                        "the golden dataset in {} has no cases (its files are empty or hold only comments)",
                        base.tree.label()
                    ),
                )
                .help(format!("add golden cases ({}); the gate needs at least one to compare", crate::infra::docs::page("configuration.md"))),
            );
        }
        let app = match app {
            Some(app) if problems.is_empty() => app,
            _ => return Err(Error::config(base.name, Diagnostics::sorted(problems))),
        };
        let calibrated = crate::measure::calibration::output_lengths(base.tree.as_ref())
            .map_err(base.cfg_err())?;
        Ok(BaseInputs {
            config,
            pricing,
            dataset,
            app,
            calibrated,
        })
    }
}

/// What is read from the head: its configuration (application wiring, and the policy diff) and its
/// routes or harness; its dataset and prices only to list the policy edits the PR makes.
pub struct HeadInputs {
    pub config: Config,
    pub app: App,
    /// The head's golden dataset, or why it does not load (the base's is gated either way).
    pub dataset: std::result::Result<HeadDataset, Diagnostics>,
    /// The head's price table, or why it does not load (the base's prices apply either way).
    pub pricing: std::result::Result<PricingTable, Diagnostics>,
    /// The head's output estimates replaced by the base's (policy changes) and its caps that cut
    /// the base's estimated answer (applied, and noted).
    pub estimates: crate::measure::routes::Estimates,
}

impl HeadInputs {
    /// Loads the head; routes validate against the base's `pricing` (prices are policy).
    pub fn load(head: &Side, opts: &Options, base: &BaseInputs) -> Result<HeadInputs> {
        let pricing = &base.pricing;
        let (config, mut problems) =
            Config::load_lenient(head.tree.as_ref(), &opts.config_path).map_err(head.cfg_err())?;
        // The mode and the harness are policy: the head's application is loaded the way the base
        // says, so a PR cannot make a render-mode gate run its own code, or pick its own command.
        let wiring = Config {
            mode: base.config.mode,
            harness: base.config.harness.clone(),
            ..config.clone()
        };
        let app = match load_routes(head, &wiring, pricing) {
            Ok(app) if problems.is_empty() => app,
            Ok(_) => return Err(Error::config(head.name, Diagnostics::sorted(problems))),
            Err(Error::Config { diagnostics, .. }) => {
                problems.extend(diagnostics.0);
                return Err(Error::config(head.name, Diagnostics::sorted(problems)));
            }
            Err(other) => return Err(other),
        };
        let mut app = app;
        let estimates = match (&mut app, &base.app) {
            (App::Render(head_routes), App::Render(base_routes)) => {
                let fallback = |intent: &str| {
                    base.calibrated
                        .get(intent)
                        .copied()
                        .unwrap_or(crate::measure::render::DEFAULT_OUTPUT_TOKENS)
                };
                head_routes.hold_estimates(base_routes, &fallback)
            }
            _ => Default::default(),
        };
        let dataset = Dataset::load(head.tree.as_ref(), &config.golden)
            .map(|d| HeadDataset::split(d, &base.dataset));
        let pricing = load_pricing(head.tree.as_ref(), &config);
        Ok(HeadInputs {
            config,
            app,
            dataset,
            pricing,
            estimates,
        })
    }

    /// The head's routes file, in render mode.
    pub fn routes(&self) -> Option<&Routes> {
        match &self.app {
            App::Render(r) => Some(r),
            App::Harness(_) => None,
        }
    }
}

/// The head's dataset as the gate needs it: only the cases it edits or adds are kept, the rest are
/// ids, so a 100,000-case dataset is not held twice.
pub struct HeadDataset {
    /// Head cases that differ from the base's case of the same id, or that the base lacks.
    pub edited: Dataset,
    /// Ids of head cases identical to the base's.
    pub unchanged: std::collections::HashSet<String>,
}

impl HeadDataset {
    pub fn split(head: Dataset, base: &Dataset) -> HeadDataset {
        let by_id: std::collections::HashMap<&str, &crate::measure::dataset::Case> = base
            .cases
            .iter()
            .map(|c| (c.case.id.as_str(), &c.case))
            .collect();
        let mut unchanged = std::collections::HashSet::new();
        let mut edited = Vec::new();
        for c in head.cases {
            if by_id.get(c.case.id.as_str()) == Some(&&c.case) {
                unchanged.insert(c.case.id);
            } else {
                edited.push(c);
            }
        }
        HeadDataset {
            edited: Dataset { cases: edited },
            unchanged,
        }
    }
}

/// Both sides of a `check`, loaded once.
pub struct Inputs {
    pub base_side: Side,
    pub head_side: Side,
    pub base: BaseInputs,
    pub head: HeadInputs,
}

impl Inputs {
    /// Loads base then head; every problem of the base is reported before the head is read.
    pub fn load(base: &Side, head: &Side, opts: &Options) -> Result<Inputs> {
        let b = BaseInputs::load(base, opts)?;
        let h = HeadInputs::load(head, opts, &b)?;
        Ok(Inputs {
            base_side: base.clone(),
            head_side: head.clone(),
            base: b,
            head: h,
        })
    }
}
