//! The cost-regression justification a PR author writes in the PR body: found anywhere in
//! the body, plain or inside a fenced block, its fields read and validated. The body is untrusted
//! text of any size and shape, so the parser is a single linear pass over lines (no regexes, no
//! YAML parser that could be fed anchors or deep nesting) and every value it keeps is length-capped.

use serde::Serialize;

/// Fields every justification must carry, in the order they are reported.
pub const REQUIRED: [&str; 3] = ["reason", "expected-cost-delta", "quality-delta"];

/// Longest value kept from a field; the comment shows values, and a PR body is attacker-sized.
const MAX_VALUE_CHARS: usize = 500;
/// How many unrecognised field names are listed back to the author.
const MAX_UNKNOWN: usize = 5;

/// A justification block as written, with what is missing or wrong in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Justification {
    /// 1-based line of the key in the PR body.
    pub line: usize,
    pub reason: Option<String>,
    /// The declared delta as written (`+18%`).
    pub expected_cost_delta: Option<String>,
    /// The declared delta as a number of percent, when it parses.
    pub expected_cost_delta_pct: Option<f64>,
    pub quality_delta: Option<String>,
    /// Required fields that are absent or empty, by name.
    pub missing: Vec<String>,
    /// Fields present but invalid, each with what to write instead.
    pub problems: Vec<String>,
    /// Field names that are not part of the format (ignored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_fields: Vec<String>,
}

impl Justification {
    /// Every required field present and valid.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
            && self.problems.is_empty()
            && self.expected_cost_delta_pct.is_some()
    }

    /// True when any field's text names `needle` (used for override tickets, e.g. `COST-12`).
    pub fn mentions(&self, needle: &str) -> bool {
        [&self.reason, &self.expected_cost_delta, &self.quality_delta]
            .into_iter()
            .flatten()
            .any(|v| contains_word(v, needle))
    }
}

fn contains_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-';
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Finds and reads the first justification keyed `key` in `body`; `None` when there is none.
pub fn parse(body: &str, key: &str) -> Option<Justification> {
    let lines: Vec<&str> = body.lines().collect();
    let (start, indent) = lines.iter().enumerate().find_map(|(i, l)| {
        let (ind, rest) = strip_prefixes(l);
        let rest = rest.trim_end();
        let after = rest.strip_prefix(key)?.trim_start();
        (after == ":").then_some((i, ind))
    })?;
    let mut j = Justification {
        line: start + 1,
        reason: None,
        expected_cost_delta: None,
        expected_cost_delta_pct: None,
        quality_delta: None,
        missing: Vec::new(),
        problems: Vec::new(),
        unknown_fields: Vec::new(),
    };
    for l in &lines[start + 1..] {
        let (ind, rest) = strip_prefixes(l);
        let rest = rest.trim();
        if rest.is_empty() {
            continue;
        }
        if ind <= indent || rest.starts_with("```") || rest.starts_with("~~~") {
            break;
        }
        let Some((name, value)) = rest.split_once(':') else {
            break;
        };
        let name = name
            .trim()
            .trim_start_matches("- ")
            .trim()
            .to_ascii_lowercase();
        let value = clean_value(value);
        match name.as_str() {
            "reason" => set_once(&mut j.reason, value, "reason", &mut j.problems),
            "expected-cost-delta" | "expected_cost_delta" => set_once(
                &mut j.expected_cost_delta,
                value,
                "expected-cost-delta",
                &mut j.problems,
            ),
            "quality-delta" | "quality_delta" => set_once(
                &mut j.quality_delta,
                value,
                "quality-delta",
                &mut j.problems,
            ),
            other => {
                if j.unknown_fields.len() < MAX_UNKNOWN {
                    j.unknown_fields.push(truncate(other, 40));
                }
            }
        }
    }
    for (name, v) in [
        ("reason", &j.reason),
        ("expected-cost-delta", &j.expected_cost_delta),
        ("quality-delta", &j.quality_delta),
    ] {
        if v.as_deref().is_none_or(|s| s.is_empty()) {
            j.missing.push(name.to_string());
        }
    }
    if let Some(raw) = j.expected_cost_delta.as_deref().filter(|s| !s.is_empty()) {
        match parse_pct(raw) {
            Ok(p) => j.expected_cost_delta_pct = Some(p),
            Err(why) => j.problems.push(format!(
                "expected-cost-delta `{raw}` {why}; write it as a percentage, e.g. `+18%`"
            )),
        }
    }
    Some(j)
}

fn set_once(slot: &mut Option<String>, value: String, name: &str, problems: &mut Vec<String>) {
    if slot.is_some() {
        problems.push(format!("{name} is given more than once; keep one"));
    } else {
        *slot = Some(value);
    }
}

/// Leading indentation (tabs count as 4) after removing markdown quote markers (`> `), which
/// authors use when pasting the block.
fn strip_prefixes(line: &str) -> (usize, &str) {
    let mut rest = line;
    loop {
        let t = rest.trim_start_matches([' ', '\t']);
        match t.strip_prefix('>') {
            Some(after) => rest = after,
            None => break,
        }
    }
    let ind = rest
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum();
    (ind, rest.trim_start_matches([' ', '\t']))
}

fn clean_value(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v)
        .trim();
    let v: String = v.chars().filter(|c| !c.is_control()).collect();
    truncate(&v, MAX_VALUE_CHARS)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

/// `+18%`, `18 %`, `+18.5%`, `18` → 18.0; `-12%` (or `−12%`) → -12.0. Usually an increase, but a
/// PR that trades quality for cost (docs/quality.md) declares the drop it buys, and a zero is a
/// declaration too.
fn parse_pct(raw: &str) -> Result<f64, &'static str> {
    let s = raw.trim();
    let s = s.strip_suffix('%').unwrap_or(s).trim();
    let (sign, s) = match s.chars().next() {
        Some('+') => (1.0, &s[1..]),
        Some('-') => (-1.0, &s[1..]),
        Some('\u{2212}') => (-1.0, &s['\u{2212}'.len_utf8()..]),
        _ => (1.0, s),
    };
    let s = s.trim();
    if s.is_empty() || s.len() > 20 || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err("is not a percentage");
    }
    let v: f64 = s.parse().map_err(|_| "is not a percentage")?;
    if !v.is_finite() {
        return Err("is not a percentage");
    }
    Ok(sign * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "cost-regression-justification";

    #[test]
    fn plain_block_is_read() {
        let body = "Adds history.\n\ncost-regression-justification:\n  reason: Adds order history\n  expected-cost-delta: +18%\n  quality-delta: hallucination rate -30% on the eval set\n\nThanks!";
        let j = parse(body, KEY).unwrap();
        assert!(j.is_complete(), "{j:?}");
        assert_eq!(j.line, 3);
        assert_eq!(j.expected_cost_delta_pct, Some(18.0));
        assert_eq!(j.reason.as_deref(), Some("Adds order history"));
        assert_eq!(
            j.quality_delta.as_deref(),
            Some("hallucination rate -30% on the eval set")
        );
    }

    #[test]
    fn fenced_block_with_crlf_and_quotes_is_read() {
        let body = "Intro\r\n```yaml\r\ncost-regression-justification:\r\n  reason: \"quoted: with colon\"\r\n  expected-cost-delta: 12.5 %\r\n  quality-delta: better\r\n```\r\nafter: x\r\n";
        let j = parse(body, KEY).unwrap();
        assert!(j.is_complete(), "{j:?}");
        assert_eq!(j.reason.as_deref(), Some("quoted: with colon"));
        assert_eq!(j.expected_cost_delta_pct, Some(12.5));
        assert!(
            j.unknown_fields.is_empty(),
            "fence must end the block: {j:?}"
        );
    }

    #[test]
    fn missing_fields_are_named() {
        let j = parse("cost-regression-justification:\n  reason: because\n", KEY).unwrap();
        assert!(!j.is_complete());
        assert_eq!(j.missing, ["expected-cost-delta", "quality-delta"]);
        let j = parse("cost-regression-justification:\n  reason:\n  quality-delta: same\n  expected-cost-delta: +5%", KEY).unwrap();
        assert_eq!(j.missing, ["reason"]);
    }

    #[test]
    fn bad_delta_is_a_problem_not_a_crash() {
        for bad in ["lots", "--5%", "+-5%", "1e400", "NaN", "+∞%"] {
            let body = format!(
                "cost-regression-justification:\n  reason: r\n  expected-cost-delta: {bad}\n  quality-delta: q\n"
            );
            let j = parse(&body, KEY).unwrap();
            assert!(!j.is_complete(), "{bad} accepted");
            assert_eq!(j.problems.len(), 1, "{bad}: {j:?}");
        }
    }

    #[test]
    fn no_block_or_key_in_prose_is_none() {
        assert!(parse("", KEY).is_none());
        assert!(
            parse(
                "We discussed the cost-regression-justification: process.",
                KEY
            )
            .is_none()
        );
    }

    #[test]
    fn block_ends_at_dedent_and_quote_markers_are_accepted() {
        let body = "> cost-regression-justification:\n>   reason: r\n>   expected-cost-delta: 3%\n>   quality-delta: q\nreason: not part of it\n";
        let j = parse(body, KEY).unwrap();
        assert!(j.is_complete(), "{j:?}");
        assert_eq!(j.reason.as_deref(), Some("r"));
    }

    #[test]
    fn hostile_input_is_bounded() {
        let long = "x".repeat(100_000);
        let body = format!(
            "cost-regression-justification:\n  reason: {long}\n  expected-cost-delta: {long}\n  quality-delta: q\n  reason: again\n{}",
            "  a: b\n".repeat(10_000)
        );
        let j = parse(&body, KEY).unwrap();
        assert!(j.reason.as_ref().unwrap().chars().count() <= MAX_VALUE_CHARS + 1);
        assert!(j.problems.iter().all(|p| p.len() < 700), "{:?}", j.problems);
        assert!(j.unknown_fields.len() <= MAX_UNKNOWN);
        assert!(!j.is_complete());
        // Deep quote nesting and control characters.
        let weird = format!(
            "{}cost-regression-justification:\n  reason: a\u{0}b\u{202e}c",
            ">".repeat(50_000)
        );
        let j = parse(&weird, KEY).unwrap();
        assert_eq!(j.reason.as_deref(), Some("ab\u{202e}c"));
    }

    #[test]
    fn random_bodies_never_panic() {
        // A deterministic xorshift over pieces that stress the scanner: keys, colons, fences,
        // quotes, tabs, CRLF, multi-byte and right-to-left characters.
        let pieces = [
            "cost-regression-justification:",
            "  reason:",
            "expected-cost-delta: +",
            "quality-delta:",
            "```",
            "~~~",
            ">",
            "\t",
            "\r\n",
            "\n",
            ":",
            "\"",
            "'",
            "%",
            "+1e9%",
            "ワンピース",
            "\u{202e}",
            "\u{0}",
            "   ",
            "-",
            "é",
            "💸",
            "x",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut body = String::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                body.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            if let Some(j) = parse(&body, KEY) {
                assert!(j.line >= 1);
                assert!(
                    j.reason
                        .as_ref()
                        .is_none_or(|r| r.chars().count() <= MAX_VALUE_CHARS + 1)
                );
                let _ = j.is_complete();
            }
        }
    }

    #[test]
    fn mentions_matches_whole_ticket_keys() {
        let j = parse(
            "cost-regression-justification:\n  reason: follow-up of COST-12\n",
            KEY,
        )
        .unwrap();
        assert!(j.mentions("COST-12"));
        assert!(!j.mentions("COST-1"));
    }

    #[test]
    fn a_declared_drop_or_zero_is_a_declaration() {
        assert_eq!(parse_pct("-12%"), Ok(-12.0));
        assert_eq!(parse_pct("\u{2212}12.5 %"), Ok(-12.5));
        assert_eq!(parse_pct("+0%"), Ok(0.0));
        assert_eq!(parse_pct("18"), Ok(18.0));
        assert!(parse_pct("--3%").is_err());
        assert!(parse_pct("about 10%").is_err());
    }
}
