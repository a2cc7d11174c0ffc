//! Markdown reports rendered from `templates/` with minijinja. The built-in templates are compiled
//! into the binary; a repository can override one by placing a file of the same name under
//! `costgate/templates/` on its base branch. Every string that may come from a pull request goes
//! through the `md` filter, which makes it inert (no HTML, no mentions, no table breaks).

use minijinja::{Environment, UndefinedBehavior, Value};

use crate::report::Report;
use crate::fmt::{pct, usd};

/// The built-in templates, by name.
pub const BUILTIN: &[(&str, &str)] = &[("report.md.j2", include_str!("../templates/report.md.j2"))];

/// Where a repository may override a built-in template.
pub const OVERRIDE_DIR: &str = "costgate/templates";

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

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("md", |s: String| escape(&s));
    env.add_filter("usd", |v: f64| usd(v));
    env.add_filter("pct", |v: Option<f64>| pct(v));
    env
}

/// Renders a report with the named template (`override_source` replaces the built-in one).
pub fn render(
    name: &str,
    report: &Report,
    override_source: Option<&str>,
) -> Result<String, minijinja::Error> {
    let mut env = environment();
    let builtin = BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
    let source = override_source.or(builtin).ok_or_else(|| {
        minijinja::Error::new(minijinja::ErrorKind::TemplateNotFound, name.to_string())
    })?;
    env.add_template_owned(name.to_string(), source.to_string())?;
    let regressions: Vec<&crate::report::CaseReport> = report.regressions();
    let ctx = minijinja::context! {
        report => Value::from_serialize(report),
        verdict => report.verdict.as_str(),
        regressions => Value::from_serialize(&regressions),
        top => Value::from_serialize(regressions.iter().take(crate::terminal::TOP).collect::<Vec<_>>()),
    };
    env.get_template(name)?.render(ctx)
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
