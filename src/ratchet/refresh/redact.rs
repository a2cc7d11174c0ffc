//! Placeholder redaction of added text: credentials (JWTs, AWS access and secret keys, GitHub and
//! other bearer tokens), e-mail addresses (internationalised ones too), card-like digit runs
//! whatever their separators, and phone numbers in international and national formats become
//! `<token>`, `<aws-access-key>`, `<aws-secret-key>`, `<email>`, `<card-number>` and `<phone>`,
//! leaving no digit group of a number behind. A floor, not a privacy guarantee: names, addresses
//! and free-form identifiers pass through (docs/ratchet.md says so).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// One kind of personal or secret text: a pattern, and a check of each match (how many digits a
/// number has, which character classes a key mixes) that a regular expression alone cannot say.
struct Rule {
    name: &'static str,
    re: Regex,
    keep: fn(&str) -> bool,
}

/// A rule as written: name, pattern, check.
type Spec = (&'static str, String, fn(&str) -> bool);

fn digits(s: &str) -> usize {
    s.chars().filter(char::is_ascii_digit).count()
        + s.chars().filter(|c| ('０'..='９').contains(c)).count()
}

/// An ISBN-13 (978/979, EAN check digit): a book a manga store's customers ask about, not a card.
fn is_isbn13(s: &str) -> bool {
    let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 13 || !(d.starts_with(&[9, 7, 8]) || d.starts_with(&[9, 7, 9])) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, x)| if i % 2 == 0 { *x } else { 3 * x })
        .sum();
    sum % 10 == 0
}

fn any(_: &str) -> bool {
    true
}

/// In the order they are applied: credentials first (a token holds digit runs a card or phone rule
/// would take), then e-mail addresses (their local part may hold digits), international phone
/// numbers (`+44 …`, `0044 …`: as many digits as a card), cards (a card number is also a long
/// digit run), national phones. Word boundaries are ASCII (`(?-u:\b)`), so a number written
/// between Japanese characters is still found.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    // Separators inside a number: spaces of any width (NBSP, the ideographic space), dashes of any
    // kind (hyphen, en and em dash, the full-width hyphen-minus), dots; up to three in a row
    // (" - ", double spaces).
    let sep = r"[\s\u{a0}\u{3000}.\-\u{2010}-\u{2015}\u{FF0D}]";
    let digit = r"[0-9\u{FF10}-\u{FF19}]";
    let rules: [Spec; 10] = [
        (
            "token",
            r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}".into(),
            any,
        ),
        (
            "token",
            r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})".into(),
            any,
        ),
        (
            "token",
            r"(?i)(?-u:\b)bearer\s+[A-Za-z0-9._~+/=-]{16,}".into(),
            any,
        ),
        ("aws-access-key", r"(?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)".into(), any),
        (
            "aws-secret-key",
            r"(?-u:\b)[A-Za-z0-9/+]{40}(?-u:\b)".into(),
            |s| {
                s.chars().any(|c| c.is_ascii_uppercase())
                    && s.chars().any(|c| c.is_ascii_lowercase())
                    && s.chars().any(|c| c.is_ascii_digit())
            },
        ),
        (
            "email",
            r"[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}".into(),
            any,
        ),
        // International: a `+` (or `00`), then 7 to 15 digits in any grouping.
        (
            "phone",
            format!(r"(?:[+\u{{FF0B}}]|(?-u:\b)00){sep}?(?:\(?{digit}{{1,4}}\)?{sep}{{0,3}}){{2,7}}{digit}"),
            |s| (7..=15).contains(&digits(s)),
        ),
        // 13 to 19 digits, grouped by any separators (payment card numbers).
        (
            "card-number",
            format!(r"{digit}(?:{sep}{{0,3}}{digit}){{12,18}}"),
            |s| (13..=19).contains(&digits(s)) && !is_isbn13(s),
        ),
        // National, in groups: 090-1234-5678, (03) 1234-5678, 03 1234 5678 and longer.
        (
            "phone",
            format!(r"(?:\({digit}{{1,4}}\){sep}{{0,3}}|(?-u:\b){digit}{{2,5}}{sep}{{1,3}}){digit}{{2,5}}(?:{sep}{{1,3}}{digit}{{2,5}}){{1,3}}(?-u:\b)"),
            |s| (9..=13).contains(&digits(s)),
        ),
        // Or ten to twelve digits in one run.
        ("phone", r"(?-u:\b)\d{10,12}(?-u:\b)".into(), any),
    ];
    rules
        .into_iter()
        .map(|(name, re, keep)| Rule {
            name,
            re: Regex::new(&re).unwrap_or_else(|e| panic!("{name}: {e}")),
            keep,
        })
        .collect()
});

/// `text` with every match replaced by its placeholder; `counts` gains one per replacement.
pub fn redact(text: &str, counts: &mut BTreeMap<String, usize>) -> String {
    let mut out = text.to_string();
    for rule in RULES.iter() {
        let mut n = 0;
        let replaced = rule.re.replace_all(&out, |m: &regex::Captures<'_>| {
            let found = &m[0];
            if (rule.keep)(found) {
                n += 1;
                format!("<{}>", rule.name)
            } else {
                found.to_string()
            }
        });
        if n > 0 {
            *counts.entry(rule.name.to_string()).or_default() += n;
            out = replaced.into_owned();
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
    fn international_numbers_leave_no_digit_group_behind() {
        for (s, want) in [
            ("call +44 7911 123456 today", "call <phone> today"),
            ("call +81-3-1234-5678", "call <phone>"),
            ("+33 1 23 45 67 89", "<phone>"),
            ("+49 (30) 901820-0", "<phone>"),
            ("(03) 1234-5678", "<phone>"),
            ("0044 20 7946 0958", "<phone>"),
            ("＋81 90 1234 5678", "<phone>"),
        ] {
            assert_eq!(r(s), want, "{s}");
        }
    }

    #[test]
    fn cards_with_any_separators_are_found() {
        for s in [
            "4111 - 1111 - 1111 - 1111",
            "4111  1111  1111  1111",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            "４１１１－１１１１－１１１１－１１１１",
            "4111　1111　1111　1111",
            "4111111111111111",
        ] {
            assert_eq!(r(&format!("card {s} ok")), "card <card-number> ok", "{s:?}");
        }
    }

    #[test]
    fn internationalised_emails_and_credentials_are_found() {
        for (s, want) in [
            ("用户@例子.广告 に送って", "<email> に送って"),
            ("josé.garcía@exämple.es", "<email>"),
            ("key AKIAIOSFODNN7EXAMPLE here", "key <aws-access-key> here"),
            (
                "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end",
                "secret <aws-secret-key> end",
            ),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U x",
                "jwt <token> x",
            ),
            (
                "ghp_1234567890abcdefghijABCDEFGHIJ123456 leaked",
                "<token> leaked",
            ),
            (
                "Authorization: Bearer abc.def-ghi_jkl~mno123",
                "Authorization: <token>",
            ),
        ] {
            assert_eq!(r(s), want, "{s}");
        }
    }

    #[test]
    fn order_numbers_dates_and_volumes_stay() {
        for s in [
            "where is order MH-2025-08638?",
            "delivered on 2026-12-03",
            "volume 107 of ONE PIECE, ¥528",
            "Is volume 14 in stock?",
            "between 2024 and 2026, volumes 1-3",
            "ISBN 978-4-08-882674-5",
        ] {
            assert_eq!(r(s), s);
        }
    }
}
