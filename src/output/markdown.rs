//! Markdown escaping, behind the templates' `md` filter: every string that may come from a pull
//! request goes through it, which makes it inert (no HTML, no mentions, no table breaks). A leaf.

/// Escapes text for markdown and HTML so that it renders literally: `<tag>` stays text, `@user`
/// does not notify, `|` does not split a table cell, and `<!--` cannot open a fake marker.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("\\|"),
            '@' => out.push_str("@\u{200b}"),
            '`' | '*' | '_' | '[' | ']' | '\\' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_defuses_markup_mentions_and_markers() {
        let e = escape("<!-- costgate --> @alice | <img src=x> `x`\nnext");
        assert!(!e.contains('<') && !e.contains('>'));
        assert!(!e.contains("@alice"));
        assert!(e.contains("\\|"));
        assert!(!e.contains('\n'));
    }
}
