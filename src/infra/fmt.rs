//! Human-readable forms of numbers, money, percentages, commit ids and id lists, shared by every
//! output (terminal, markdown, comment, tickets, notes). A leaf: it imports nothing from the crate,
//! so any module may use it. Reports keep full precision; only these display forms round.

/// Display form of a dollar amount. Per-query costs are fractions of a cent, so small amounts keep
/// seven decimals (a tenth of a micro-dollar); amounts of a dollar or more keep four.
pub fn usd(v: f64) -> String {
    if v.abs() >= 1.0 {
        format!("${v:.4}")
    } else {
        format!("${v:.7}")
    }
}

/// A per-query cost as dollars per 1,000 requests with three significant figures, the form people
/// compare (`$0.0143` rather than `$0.0000143` a query).
pub fn per_thousand(v: f64) -> String {
    sig3(v * 1000.0)
}

/// Dollars with three significant figures: `$0.444`, `$7.01`, `$1,472` stays whole from $1,000.
pub fn sig3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "$0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(2 - magnitude);
    let rounded = (x * scale).round() / scale;
    // Rounding may carry into a new digit (0.09999 → 0.100): the decimals follow the result.
    let magnitude = rounded.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    format!(
        "{}${:.decimals$}",
        if rounded < 0.0 { "-" } else { "" },
        rounded.abs()
    )
}

/// A count with thousands separators: `16384` is `16,384`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dollar amount with six decimals, for chart axes where the scale is fixed.
pub fn usd6(v: f64) -> String {
    format!("${v:.6}")
}

/// A signed percentage change with one decimal; `None` is an unbounded increase (free before).
pub fn pct(p: Option<f64>) -> String {
    match p {
        None => "+∞%".into(),
        Some(p) => format!("{p:+.1}%"),
    }
}

/// A percentage as [`pct`] shows it (to 0.1 point), as a number: what every threshold compares,
/// so that no verdict turns on a difference a reader cannot see (340.00000000000006 is 340.0).
pub fn shown_pct(p: f64) -> f64 {
    format!("{p:.1}").parse().unwrap_or(p)
}

/// A number rounded to two decimals without trailing zeros: `33.740831…` is `33.74`, `8.9` stays
/// `8.9`, `-0.001` is `0`.
pub fn two_decimals(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// A percentage change where `None` means "nothing to compare with" (a dash, not infinity).
pub fn pct_or_dash(p: Option<f64>) -> String {
    p.map_or_else(|| "–".to_string(), |p| pct(Some(p)))
}

/// A threshold as the user wrote it: "25%" rather than "25.0%", but "12.5%" keeps its decimals.
pub fn threshold(t: f64) -> String {
    if t.fract() == 0.0 {
        format!("{t:.0}%")
    } else {
        format!("{t}%")
    }
}

/// The first 12 characters of a commit sha (or any revision name).
pub fn short_sha(rev: &str) -> String {
    prefix(rev, 12).to_string()
}

/// At most the first `n` characters of `s`, cut on a character boundary: a commit or a name read
/// from a history file may hold anything, and a byte slice would panic inside a multibyte one.
pub fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `s` on one line with no control character: text from git or a PR (a commit subject, a title)
/// that costgate prints where a CI runner reads workflow commands. A `\r` there would start a
/// new line the runner obeys (`::add-mask::`, `::warning`); every control character becomes a
/// space.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The first `shown` of `items` joined by `sep`, then `{sep}and N more` for the rest: for lists
/// whose entries hold commas themselves.
pub fn first_of(items: &[String], shown: usize, sep: &str) -> String {
    let mut s = items[..items.len().min(shown)].join(sep);
    if items.len() > shown {
        s.push_str(&format!("{sep}and {} more", items.len() - shown));
    }
    s
}

/// A comma-separated list of ids, the first ten shown and the rest counted.
pub fn id_list<S: AsRef<str>>(ids: &[S]) -> String {
    const SHOWN: usize = 10;
    let mut s = ids
        .iter()
        .take(SHOWN)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_of_counts_the_rest() {
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(super::first_of(&items, 2, "; "), "a; b; and 1 more");
        assert_eq!(super::first_of(&items, 3, "; "), "a; b; c");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(2_048), "2,048");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn per_thousand_keeps_three_significant_figures() {
        assert_eq!(super::per_thousand(0.0000143), "$0.0143");
        assert_eq!(super::per_thousand(0.0070059), "$7.01");
        assert_eq!(super::per_thousand(0.4439997), "$444");
        assert_eq!(super::per_thousand(0.00009999), "$0.100");
        assert_eq!(super::per_thousand(-0.0000048), "-$0.00480");
        assert_eq!(super::per_thousand(0.0), "$0");
    }

    #[test]
    fn two_decimals_rounds_and_trims() {
        assert_eq!(super::two_decimals(33.740831295843535), "33.74");
        assert_eq!(super::two_decimals(8.9), "8.9");
        assert_eq!(super::two_decimals(-0.001), "0");
        assert_eq!(super::two_decimals(-12.5), "-12.5");
        assert_eq!(super::two_decimals(100.0), "100");
    }

    #[test]
    fn one_line_leaves_no_control_character() {
        assert_eq!(
            super::one_line("fix\r::warning::forged\u{1b}[2J\u{9b}x"),
            "fix ::warning::forged [2J x"
        );
    }

    #[test]
    fn prefix_cuts_on_character_boundaries() {
        assert_eq!(super::prefix("0123456789abcdef", 10), "0123456789");
        assert_eq!(super::prefix("012345678é9", 10), "012345678é");
        assert_eq!(super::prefix("漫画漫画", 10), "漫画漫画");
        assert_eq!(super::prefix("", 3), "");
    }

    use super::*;

    #[test]
    fn forms() {
        assert_eq!(usd(0.00012345678), "$0.0001235");
        assert_eq!(usd(12.5), "$12.5000");
        assert_eq!(pct(None), "+∞%");
        assert_eq!(pct(Some(-3.04)), "-3.0%");
        assert_eq!(pct_or_dash(None), "–");
        assert_eq!(threshold(25.0), "25%");
        assert_eq!(threshold(12.5), "12.5%");
        assert_eq!(short_sha("0123456789abcdef"), "0123456789ab");
        let ids: Vec<String> = (0..12).map(|i| format!("C{i}")).collect();
        assert_eq!(
            id_list(&ids),
            "C0, C1, C2, C3, C4, C5, C6, C7, C8, C9 and 2 more"
        );
        assert_eq!(id_list(&["a", "b"]), "a, b");
    }
}
