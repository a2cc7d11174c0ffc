//! Placeholder redaction of added text: e-mail addresses, card-like digit runs and
//! phone numbers become `<email>`, `<card-number>` and `<phone>`. A floor, not a privacy
//! guarantee: names, addresses and free-form identifiers pass through (docs/ratchet.md says so).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// In the order they are applied: a card number is also a long digit run a phone pattern would
/// take. Word boundaries are ASCII (`(?-u:\b)`), so a number written between Japanese characters
/// is still found.
static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
        // 13 to 19 digits, optionally grouped by spaces or dashes (payment card numbers).
        ("card-number", r"(?-u:\b)\d(?:[ -]?\d){12,18}(?-u:\b)"),
        // International or national numbers in three groups (090-1234-5678, +1 415 555 0134,
        // (03) 1234-5678), or ten to twelve digits in one run.
        (
            "phone",
            r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?|(?-u:\b)\d{2,4}[ .-])\d{2,4}[ .-]\d{3,4}(?-u:\b)|(?-u:\b)\d{10,12}(?-u:\b)",
        ),
    ]
    .into_iter()
    .map(|(name, re)| (name, Regex::new(re).unwrap_or_else(|e| panic!("{name}: {e}"))))
    .collect()
});

/// `text` with every match replaced by its placeholder; `counts` gains one per replacement.
pub fn redact(text: &str, counts: &mut BTreeMap<String, usize>) -> String {
    let mut out = text.to_string();
    for (name, re) in PATTERNS.iter() {
        let n = re.find_iter(&out).count();
        if n > 0 {
            *counts.entry((*name).to_string()).or_default() += n;
            out = re.replace_all(&out, format!("<{name}>")).into_owned();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(s, &mut BTreeMap::new())
    }

    #[test]
    fn emails_cards_and_phones_become_placeholders() {
        assert_eq!(
            r("mail me at taro.yamada+manga@example.co.jp please"),
            "mail me at <email> please"
        );
        assert_eq!(r("card 4111 1111 1111 1111 ok"), "card <card-number> ok");
        assert_eq!(r("card 4111-1111-1111-1111"), "card <card-number>");
        assert_eq!(r("call 090-1234-5678"), "call <phone>");
        assert_eq!(r("call +1 415 555 0134 now"), "call <phone> now");
        assert_eq!(r("電話は09012345678です"), "電話は<phone>です");
        let mut counts = BTreeMap::new();
        redact("a@b.io and c@d.io", &mut counts);
        assert_eq!(counts["email"], 2);
    }

    #[test]
    fn order_numbers_dates_and_volumes_stay() {
        for s in [
            "where is order MH-2025-08638?",
            "delivered on 2026-12-03",
            "volume 107 of ONE PIECE, ¥528",
            "Is volume 14 in stock?",
        ] {
            assert_eq!(r(s), s);
        }
    }
}
