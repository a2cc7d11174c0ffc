//! `costgate tokens`: counts tokens in files or stdin exactly as the gate does.

use std::path::PathBuf;

use clap::Args;

use super::Outcome;
use crate::infra::error::{Error, Result};
use crate::measure::pricing::PricingTable;
use crate::measure::tokenize::{self, Encoding};

#[derive(Debug, Args)]
pub struct TokensArgs {
    /// Encoding: cl100k_base, o200k_base, o200k_harmony, claude-approx.
    #[arg(long, conflicts_with = "model")]
    pub encoding: Option<String>,
    /// A Bedrock model id: counts with its tokenizer and token_scale from the price table.
    #[arg(long)]
    pub model: Option<String>,
    /// costgate.yaml whose pricing file adds to the built-in table (for --model).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Files to count; stdin when none.
    pub files: Vec<PathBuf>,
}

pub fn tokens(a: TokensArgs, stdin: &mut dyn std::io::Read) -> Result<Outcome> {
    let (encoding, token_scale) = match (&a.encoding, &a.model) {
        (Some(name), None) => (
            name.parse::<Encoding>()
                .map_err(|e| Error::Usage(e.to_string()))?,
            1.0,
        ),
        (None, Some(model)) => {
            let table = match &a.config {
                None => PricingTable::builtin(),
                Some(path) => {
                    let (tree, cfg) = crate::measure::load::load_config_file(path)?;
                    crate::measure::load::load_pricing(&tree, &cfg)
                        .map_err(|d| Error::config("config", d))?
                }
            };
            let r = table.resolve(model).map_err(|e| {
                Error::Usage(format!(
                    "{e}; see {}",
                    crate::infra::docs::page("pricing.md")
                ))
            })?;
            (r.price.tokenizer, r.price.token_scale)
        }
        (None, None) => (Encoding::O200kBase, 1.0),
        (Some(_), Some(_)) => {
            return Err(Error::Usage("give --encoding or --model, not both".into()));
        }
    };
    let count = |text: &str| tokenize::scale(encoding.count(text), token_scale);
    let read_text = |name: String, bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|e| {
            Error::Usage(format!(
                "{name}: not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })
    };
    let mut stdout = String::new();
    if a.files.is_empty() {
        let mut buf = Vec::new();
        stdin
            .read_to_end(&mut buf)
            .map_err(|e| Error::Usage(format!("cannot read stdin: {e}")))?;
        stdout = format!("{}\n", count(&read_text("<stdin>".into(), buf)?));
    } else {
        let several = a.files.len() > 1;
        for f in &a.files {
            let bytes =
                std::fs::read(f).map_err(|e| Error::Usage(format!("{}: {e}", f.display())))?;
            let n = count(&read_text(f.display().to_string(), bytes)?);
            if several {
                stdout.push_str(&format!("{n}\t{}\n", f.display()));
            } else {
                stdout.push_str(&format!("{n}\n"));
            }
        }
    }
    Ok(Outcome {
        stdout: stdout.into(),
        exit_code: 0,
    })
}
