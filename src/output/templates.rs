//! The one template service: the built-in report, comment and ticket templates, a repository's
//! overrides of them (read from `costgate/templates/` on the base branch, which is policy: a PR
//! cannot restyle its own verdict), one minijinja environment with one undefined policy and one set
//! of filters, and one error type, so a broken override reads the same in `check` and the Action.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior, Value};

use crate::gate::report::Report;
use crate::infra::fmt::{pct, usd};
use crate::infra::tree::Tree;

/// Where a repository may override a built-in template.
pub const OVERRIDE_DIR: &str = "costgate/templates";

/// The markdown report (`report.md`, the job summary outside pull requests).
pub const REPORT: &str = "report.md.j2";
/// The sticky PR comment (and the job summary on pull requests).
pub const COMMENT: &str = "comment.md.j2";
/// The override ticket's one-line summary.
pub const JIRA_SUMMARY: &str = "jira-summary.j2";
/// The override ticket's description (line syntax, converted per JIRA API version).
pub const JIRA_DESCRIPTION: &str = "jira-description.j2";

/// The built-in templates, compiled into the binary.
const BUILTIN: [(&str, &str); 4] = [
    (REPORT, include_str!("../../templates/report.md.j2")),
    (COMMENT, include_str!("../../templates/comment.md.j2")),
    (
        JIRA_SUMMARY,
        include_str!("../../templates/jira-summary.j2"),
    ),
    (
        JIRA_DESCRIPTION,
        include_str!("../../templates/jira-description.j2"),
    ),
];

/// A template that could not be read, compiled or rendered, named by where it came from.
#[derive(Debug, thiserror::Error)]
#[error("template {origin}: {detail}")]
pub struct TemplateError {
    /// `costgate/templates/NAME` for an override, `built-in NAME` otherwise.
    pub origin: String,
    pub detail: String,
}

/// The templates one run renders with.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    overrides: BTreeMap<&'static str, String>,
}

impl Templates {
    /// The built-in templates only.
    pub fn builtin() -> Templates {
        Templates::default()
    }

    /// The built-ins with the overrides the (base) tree holds. A file that exists but cannot be
    /// read is an error, never silently replaced by the built-in.
    pub fn from_tree(tree: &dyn Tree) -> Result<Templates, TemplateError> {
        let mut overrides = BTreeMap::new();
        for (name, _) in BUILTIN {
            let path = format!("{OVERRIDE_DIR}/{name}");
            match tree.read_string(&path) {
                Ok(Some(text)) => {
                    overrides.insert(name, text);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(TemplateError {
                        origin: format!("{path} in {}", tree.label()),
                        detail: e.to_string(),
                    });
                }
            }
        }
        Ok(Templates { overrides })
    }

    fn origin(&self, name: &str) -> String {
        if self.overrides.contains_key(name) {
            format!("{OVERRIDE_DIR}/{name}")
        } else {
            format!("built-in {name}")
        }
    }

    /// Renders `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, TemplateError> {
        let wrap = |e: minijinja::Error| TemplateError {
            origin: self.origin(name),
            detail: e.to_string(),
        };
        let env = self.environment(name).map_err(wrap)?;
        env.get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(wrap)
    }

    /// Renders `name` once per context, compiling it once (the comment shrinks its table by
    /// re-rendering until it fits).
    pub fn renderer(&self, name: &str) -> Result<Renderer, TemplateError> {
        let env = self.environment(name).map_err(|e| TemplateError {
            origin: self.origin(name),
            detail: e.to_string(),
        })?;
        Ok(Renderer {
            env,
            name: name.to_string(),
            origin: self.origin(name),
        })
    }

    /// The environment every template renders in, holding template `name`.
    fn environment(&self, name: &str) -> Result<Environment<'static>, minijinja::Error> {
        let mut env = Environment::new();
        // Semi-strict: `{% if report.ticket %}` works on an absent field, but printing or
        // iterating one is an error, so a typo in an override is caught, not rendered as "".
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("md", |s: Option<String>| {
            crate::output::markdown::escape(&s.unwrap_or_default())
        });
        env.add_filter("usd", |v: f64| usd(v));
        env.add_filter("per_k", |v: f64| crate::infra::fmt::per_thousand(v));
        env.add_filter("sig3", |v: f64| crate::infra::fmt::sig3(v));
        env.add_filter("pct", |v: Option<f64>| pct(v));
        let source = match self.overrides.get(name) {
            Some(s) => s.as_str(),
            None => BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| *s)
                .ok_or_else(|| {
                    minijinja::Error::new(minijinja::ErrorKind::TemplateNotFound, name.to_string())
                })?,
        };
        env.add_template_owned(name.to_string(), source.to_string())?;
        Ok(env)
    }
}

/// Renders the markdown report (`report.md`, the job summary outside pull requests).
pub fn render_report(templates: &Templates, report: &Report) -> Result<String, TemplateError> {
    let regressions = report.regressions_by_dollars();
    let ctx = minijinja::context! {
        report => Value::from_serialize(report),
        verdict => report.verdict.as_str(),
        regressions => Value::from_serialize(&regressions),
        top => Value::from_serialize(regressions.iter().take(crate::output::terminal::TOP).collect::<Vec<_>>()),
        story => Value::from_serialize(crate::gate::causes::story(report)),
    };
    templates.render(REPORT, ctx)
}

/// A compiled template, rendered any number of times.
pub struct Renderer {
    env: Environment<'static>,
    name: String,
    origin: String,
}

impl Renderer {
    pub fn render(&self, ctx: Value) -> Result<String, TemplateError> {
        self.env
            .get_template(&self.name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| TemplateError {
                origin: self.origin.clone(),
                detail: e.to_string(),
            })
    }
}
