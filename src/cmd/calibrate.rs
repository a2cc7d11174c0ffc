//! `costgate calibrate`: learns token scales, output lengths and traffic from invocation logs.

use std::path::PathBuf;

use clap::Args;

use serde::Serialize;

use super::Outcome;
use super::env::Vars;
use super::output::OutFormat;
use super::output::{json_sorted, write_file};
use crate::infra::error::{Error, Result};
use crate::infra::tree::DirTree;

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Bedrock model-invocation log files: JSON lines, plain or gzip'd (S3 delivery).
    #[arg(long, required = true, num_args = 1..)]
    pub logs: Vec<PathBuf>,
    /// The repository whose pricing (tokenizers, overheads) recounts the requests.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Path of costgate.yaml inside --dir (the built-in price table when it does not exist).
    #[arg(long, default_value = crate::measure::config::DEFAULT_PATH)]
    pub config: String,
    /// The `requestMetadata` key that names the intent.
    #[arg(long, default_value = "intent")]
    pub intent_key: String,
    /// Where to write the calibration (default: costgate/calibration.yaml in --dir).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Report only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
}

/// Reads invocation logs (plain or gzip) as `calibrate` does; `pricing` and `refresh` read them
/// the same way (`refresh` with a sink for the conversations, and without `pricing` on its second
/// pass, which needs no token counts).
pub(super) fn read_logs(
    files: &[std::path::PathBuf],
    intent_key: &str,
    pricing: Option<&crate::measure::pricing::PricingTable>,
    conversations: Option<crate::ratchet::calibrate::logs::ConversationSink>,
) -> Result<crate::ratchet::calibrate::logs::Parsed> {
    use crate::ratchet::calibrate::{self, logs};
    let mut parsed = logs::Parsed {
        conversations,
        ..Default::default()
    };
    let counter = pricing.map(calibrate::counter);
    let none = |_: &str, _: &[Vec<String>]| None;
    let count: logs::Counter<'_> = match &counter {
        Some(c) => c,
        None => &none,
    };
    for f in files {
        let name = f.display().to_string();
        let reader = logs::open(f).map_err(|e| Error::Usage(format!("--logs {name}: {e}")))?;
        logs::read(
            &name,
            reader,
            intent_key,
            count,
            logs::Limits::default(),
            &mut parsed,
        )
        .map_err(|e| Error::Usage(format!("--logs {name}: {e}")))?;
    }
    Ok(parsed)
}

pub fn calibrate(a: CalibrateArgs, env: &Vars) -> Result<Outcome> {
    use crate::ratchet::calibrate::{self, Calibration};
    let tree = DirTree::new(&a.dir, a.dir.display().to_string());
    let pricing = if a.dir.join(&a.config).is_file() {
        let cfg = crate::measure::config::Config::load(&tree, &a.config)
            .map_err(|d| Error::config("config", d))?;
        crate::measure::load::load_pricing(&tree, &cfg).map_err(|d| Error::config("config", d))?
    } else {
        crate::measure::pricing::PricingTable::builtin()
    };
    let parsed = read_logs(&a.logs, &a.intent_key, Some(&pricing), None)?;
    let out_path = a.out.clone().unwrap_or_else(|| a.dir.join(calibrate::PATH));
    let previous = match std::fs::read_to_string(&out_path) {
        Ok(text) => Some(
            Calibration::parse(&text, &out_path.display().to_string())
                .map_err(|d| Error::config("calibration", d))?,
        ),
        Err(_) => None,
    };
    let mut outcome = calibrate::calibrate(parsed, &pricing, previous.as_ref(), env.clock.today());
    outcome.cache = offline_cache_share(&a.dir, &a.config, outcome.cache.clone())?;
    if outcome.records_used == 0 {
        return Err(Error::Usage(format!(
            "no usable invocation-log records in {} file(s): {} malformed, {} skipped{}",
            a.logs.len(),
            outcome.malformed.len(),
            outcome.skipped.len(),
            outcome.malformed.first().map_or(String::new(), |p| format!(
                " (first: {}: {})",
                p.at, p.reason
            ))
        )));
    }
    if !a.dry_run {
        write_file(&out_path, &outcome.calibration.to_yaml())?;
    }
    let stdout = match a.format {
        OutFormat::Json => json_sorted(&CalibrateOutput {
            outcome: &outcome,
            calibration_file: (!a.dry_run).then(|| out_path.display().to_string()),
        }),
        OutFormat::Text => {
            let mut s = calibrate::render_text(&outcome);
            if !a.dry_run {
                s.push_str(&format!("\nwrote {}\n", out_path.display()));
            }
            s
        }
    };
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}

/// The dataset's cache shares priced in render mode at `dir` (a harness is not run for this:
/// calibration never executes application code).
fn offline_cache_share(
    dir: &std::path::Path,
    config: &str,
    mut share: crate::ratchet::calibrate::CacheShare,
) -> Result<crate::ratchet::calibrate::CacheShare> {
    if !dir.join(config).is_file() {
        return Ok(share);
    }
    let tree = DirTree::new(dir, dir.display().to_string());
    let cfg = crate::measure::config::Config::load(&tree, config)
        .map_err(|d| Error::config("config", d))?;
    if cfg.mode != crate::measure::config::Mode::Render {
        return Ok(share);
    }
    let side = crate::gate::inputs::Side::dir(dir, "tree");
    let opts = crate::gate::inputs::Options {
        config_path: config.to_string(),
    };
    let run = crate::gate::run(&side, &opts)?;
    let (read, write, total) = run.cases.iter().fold((0, 0, 0), |(r, w, t), c| {
        (
            r + c.cost.cache_read_tokens,
            w + c.cost.cache_write_tokens,
            t + c.cost.input_tokens,
        )
    });
    (share.offline_read_share, share.offline_write_share) =
        crate::ratchet::calibrate::CacheShare::shares(read, write, total);
    Ok(share)
}

/// `calibrate --format json`: the outcome and where it was written.
#[derive(Serialize)]
struct CalibrateOutput<'a> {
    #[serde(flatten)]
    outcome: &'a crate::ratchet::calibrate::Outcome,
    calibration_file: Option<String>,
}
