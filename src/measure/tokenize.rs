//! Token counting: the one implementation every mode uses (render pricing, the Bedrock stand-in,
//! `costgate tokens`, calibration).
//!
//! Exact encodings are counted with `bpe-openai`, whose pre-tokenizer and byte-pair encoder give the
//! same counts as OpenAI's reference tiktoken `encode_ordinary` in linear time, even on megabytes of
//! text without whitespace where tiktoken's merge loop is quadratic. `claude-approx` stands for
//! tokenizers that are not public (Anthropic, Amazon, Meta, Mistral): a `cl100k_base` count scaled by
//! the model's `token_scale`, which `costgate calibrate` learns from production logs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A tokenizer named in a pricing entry or on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Encoding {
    #[serde(rename = "cl100k_base")]
    Cl100kBase,
    #[serde(rename = "o200k_base")]
    O200kBase,
    /// gpt-oss's encoding: `o200k_base` plus special tokens, which `encode_ordinary` never emits,
    /// so ordinary text counts exactly as under `o200k_base`.
    #[serde(rename = "o200k_harmony")]
    O200kHarmony,
    /// Approximation for non-public tokenizers: `cl100k_base` × `token_scale`.
    #[serde(rename = "claude-approx")]
    ClaudeApprox,
}

impl Encoding {
    pub const ALL: [Encoding; 4] = [
        Encoding::Cl100kBase,
        Encoding::O200kBase,
        Encoding::O200kHarmony,
        Encoding::ClaudeApprox,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Cl100kBase => "cl100k_base",
            Encoding::O200kBase => "o200k_base",
            Encoding::O200kHarmony => "o200k_harmony",
            Encoding::ClaudeApprox => "claude-approx",
        }
    }

    /// Whether counts equal a published tokenizer's (and so need no `token_scale`).
    pub fn is_exact(self) -> bool {
        !matches!(self, Encoding::ClaudeApprox)
    }

    /// Exact token count of `text` under this encoding's base vocabulary (unscaled).
    pub fn count(self, text: &str) -> u64 {
        if text.is_empty() {
            return 0;
        }
        let tokenizer = match self {
            Encoding::Cl100kBase | Encoding::ClaudeApprox => bpe_openai::cl100k_base(),
            Encoding::O200kBase | Encoding::O200kHarmony => bpe_openai::o200k_base(),
        };
        // bpe-openai's cl100k/o200k tokenizers do not normalise (nfc = false), so the count is of
        // the raw string, as tiktoken's is.
        tokenizer.count(text) as u64
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an encoding name that is not one of [`Encoding::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown encoding `{0}`; expected one of cl100k_base, o200k_base, o200k_harmony, claude-approx"
)]
pub struct UnknownEncoding(pub String);

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownEncoding(s.to_string()))
    }
}

/// Applies a model's `token_scale` to an unscaled count, rounding half away from zero once, at the
/// end: rounding per message would compound.
pub fn scale(raw: u64, token_scale: f64) -> u64 {
    if token_scale == 1.0 {
        return raw;
    }
    (raw as f64 * token_scale).round().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_string_is_zero_tokens() {
        for e in Encoding::ALL {
            assert_eq!(e.count(""), 0);
        }
    }

    #[test]
    fn known_small_counts() {
        // Values from OpenAI's tiktoken 0.14 encode_ordinary.
        assert_eq!(Encoding::Cl100kBase.count("hello world"), 2);
        assert_eq!(Encoding::O200kBase.count("hello world"), 2);
        assert_eq!(Encoding::Cl100kBase.count("tiktoken is great!"), 6);
    }

    #[test]
    fn names_round_trip() {
        for e in Encoding::ALL {
            assert_eq!(e.name().parse::<Encoding>().unwrap(), e);
        }
        assert!("gpt2".parse::<Encoding>().is_err());
    }

    #[test]
    fn scale_rounds_half_away_from_zero_once() {
        assert_eq!(scale(10, 1.0), 10);
        assert_eq!(scale(10, 1.15), 12); // 11.5 -> 12
        assert_eq!(scale(3, 0.5), 2); // 1.5 -> 2
    }
}
