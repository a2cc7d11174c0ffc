//! Deterministic synthetic answers of an exact token length. The stand-in never runs a model: what
//! matters is that the text it returns has exactly the number of tokens its usage fields claim, so
//! an application that feeds an answer back into a later prompt (history, tool loops) is priced as
//! it would be in production.

use crate::measure::tokenize::Encoding;

/// Words that are one token each, with their leading space, under both `cl100k_base` and
/// `o200k_base`, and never merge with their neighbours (the pre-tokenizer splits on the space).
/// Checked by the tests below for every length up to several hundred tokens.
const WORDS: [&str; 12] = [
    " manga", " story", " volume", " series", " hero", " world", " chapter", " art", " fans",
    " page", " city", " school",
];

/// The first word has no leading space, so it must be one token on its own.
const FIRST: &str = "The";

/// The text of an answer with `tokens` tokens under `encoding` (for `claude-approx`, its base
/// `cl100k_base` count; the usage fields report `tokens` itself).
pub fn text(tokens: u64, _encoding: Encoding) -> String {
    if tokens == 0 {
        return String::new();
    }
    let mut s = String::with_capacity(tokens as usize * 7);
    s.push_str(FIRST);
    for i in 1..tokens {
        s.push_str(WORDS[(i as usize * 7 + i as usize / WORDS.len()) % WORDS.len()]);
    }
    s
}

/// The longest prefix of `text` (at a character boundary) that `count` puts at or under `tokens`:
/// a step's answer cut by the request's cap. Counts are monotone in the prefix, so a binary search
/// over the boundaries finds it in a logarithmic number of counts.
pub fn prefix_within(text: &str, tokens: u64, count: impl Fn(&str) -> u64) -> &str {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let (mut lo, mut hi) = (0, bounds.len() - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if count(&text[..bounds[mid]]) <= tokens {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    &text[..bounds[lo]]
}

/// Splits an answer into stream deltas of about `words` words each, losslessly.
pub fn chunks(text: &str, words: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if c == ' ' {
            seen += 1;
            if seen % words == 0 && i > start {
                out.push(&text[start..i]);
                start = i;
            }
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_has_exactly_the_requested_tokens_under_every_encoding() {
        for enc in Encoding::ALL {
            for n in (0..80).chain([150, 220, 399, 400, 1000]) {
                assert_eq!(enc.count(&text(n, enc)), n, "{enc} n={n}");
            }
        }
    }

    #[test]
    fn answers_are_deterministic() {
        assert_eq!(text(50, Encoding::O200kBase), text(50, Encoding::O200kBase));
    }

    #[test]
    fn a_prefix_keeps_as_many_tokens_as_allowed() {
        let enc = Encoding::O200kBase;
        let t = "Which manga is like Berserk but shorter, with a darker art style?";
        for n in 0..enc.count(t) + 2 {
            let p = prefix_within(t, n, |s| enc.count(s));
            assert!(enc.count(p) <= n);
            assert!(t.starts_with(p));
            if n < enc.count(t) {
                assert!(enc.count(&t[..p.len() + 1]) > n || p.len() + 1 > t.len());
            }
        }
        assert_eq!(
            prefix_within("héllo wörld", 100, |s| enc.count(s)),
            "héllo wörld"
        );
    }

    #[test]
    fn chunks_concatenate_back_to_the_text() {
        let t = text(37, Encoding::Cl100kBase);
        let parts = chunks(&t, 8);
        assert!(parts.len() > 3);
        assert_eq!(parts.concat(), t);
        assert!(chunks("", 8).is_empty());
    }
}
