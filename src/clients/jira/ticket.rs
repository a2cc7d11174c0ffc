//! The override follow-up ticket's content: rendered from `templates/jira-summary.j2` and
//! `templates/jira-description.j2` (overridable from the base branch) into a small line syntax,
//! then converted to Atlassian Document Format (Cloud, v3) or wiki text (Data Center, v2). Text from
//! the PR is inserted literally: ADF text nodes are inert, and wiki markup characters are escaped.

use serde::Serialize;
use serde_json::{Value, json};

use crate::gate::report::Report;
use crate::infra::fmt::{pct, per_thousand, sig3};
use crate::measure::config::JiraApi;
use crate::output::templates::{TemplateError, Templates};

const MAX_ROWS: usize = 10;
/// Causes and intents the ticket lists: the ones that carry the money.
const MAX_CAUSES: usize = 5;
const MAX_INTENTS: usize = 5;
const MAX_PATHS: usize = 50;

/// What the ticket is about.
#[derive(Debug, Clone, Serialize)]
pub struct TicketInput {
    pub repository: String,
    pub pr_number: u64,
    pub pr_title: String,
    pub pr_url: String,
    pub applied_by: String,
    pub applied_at: Option<String>,
    pub paths: Vec<String>,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// The label that finds this PR's ticket again (`costgate-pr-owner-repo-42`).
pub fn pr_label(repository: &str, pr: u64) -> String {
    let slug: String = repository
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("costgate-pr-{slug}-{pr}")
}

/// Renders summary and line-syntax description. `overrides` are the repository's templates.
pub fn render(
    report: &Report,
    t: &TicketInput,
    templates: &Templates,
) -> Result<(String, String), TemplateError> {
    let regressions = report.regressions_by_dollars();
    let cost = |side: &Option<crate::gate::report::SideCost>| {
        crate::gate::report::cost_per_thousand(side.as_ref())
    };
    let rows: Vec<Value> = regressions
        .iter()
        .take(MAX_ROWS)
        .map(|c| {
            json!({
                "id": one_line(&c.id), "intent": one_line(&c.intent),
                "base": cost(&c.base), "head": cost(&c.head), "added": per_thousand(c.delta_usd),
                "delta": pct(c.delta_pct), "grew": c.grew.clone().unwrap_or_else(|| "-".into()),
            })
        })
        .collect();
    let story = crate::gate::causes::story(report);
    let intents: Vec<Value> = story
        .by_intent
        .iter()
        .take(MAX_INTENTS)
        .map(|r| {
            json!({
                "intent": one_line(&r.intent), "cases": r.cases, "base": r.base, "head": r.head,
                "change": r.change, "change_pct": r.change_pct, "cause": one_line(&r.cause),
            })
        })
        .collect();
    let s = &report.summary;
    let ctx = minijinja::context! {
        repository => t.repository,
        pr => json!({"number": t.pr_number, "title": one_line(&t.pr_title), "url": t.pr_url}),
        override => json!({"applied_by": t.applied_by, "applied_at": t.applied_at}),
        cost_verdict => report.review.cost_verdict.unwrap_or(report.verdict).as_str(),
        due => t.due,
        rule => story.first.rule.as_deref().map(one_line),
        money => one_line(&story.first.money),
        causes => story.why.iter().take(MAX_CAUSES).map(|w| one_line(w)).collect::<Vec<_>>(),
        intents => intents,
        intents_monthly => story.by_intent_monthly,
        summary => json!({
            "base_total": sig3(s.base_total_usd), "head_total": sig3(s.head_total_usd),
            "total_delta": pct(s.total_delta_pct), "p95_delta": pct(s.p95_delta_pct),
            "max_case": s.max_regression_case.clone().unwrap_or_else(|| "-".into()), "max_delta": pct(s.max_regression_pct),
        }),
        regressions => rows,
        regressions_total => regressions.len(),
        // A file name is the PR's text and may hold line breaks: each path stays one bullet, so
        // it cannot start a heading, a link or a table row of its own.
        paths => t.paths.iter().take(MAX_PATHS).map(|p| one_line(p)).collect::<Vec<_>>(),
        paths_total => t.paths.len(),
    };
    let summary = one_line(&templates.render(crate::output::templates::JIRA_SUMMARY, ctx.clone())?);
    // JIRA caps summaries at 255 characters.
    let summary: String = summary.chars().take(255).collect();
    let description = templates.render(crate::output::templates::JIRA_DESCRIPTION, ctx)?;
    Ok((summary, description))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

enum Block<'a> {
    Heading(&'a str),
    Bullet(&'a str),
    Row(Vec<&'a str>),
    Link(&'a str, &'a str),
    Para(&'a str),
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            if let Some(h) = l.strip_prefix("# ") {
                Block::Heading(h)
            } else if let Some(b) = l.strip_prefix("- ") {
                Block::Bullet(b)
            } else if l.starts_with('|') && l.ends_with('|') && l.len() > 1 {
                Block::Row(l[1..l.len() - 1].split('|').map(str::trim).collect())
            } else if let Some(rest) = l.strip_prefix("=> ") {
                let (url, label) = rest.split_once(' ').unwrap_or((rest, rest));
                Block::Link(url, label)
            } else {
                Block::Para(l)
            }
        })
        .collect()
}

fn text(t: &str) -> Value {
    json!({"type": "text", "text": t})
}

fn para(t: &str) -> Value {
    json!({"type": "paragraph", "content": if t.is_empty() { vec![] } else { vec![text(t)] }})
}

/// Line syntax → an ADF document.
pub fn to_adf(description: &str) -> Value {
    let mut content: Vec<Value> = Vec::new();
    let mut list: Vec<Value> = Vec::new();
    let mut rows: Vec<Value> = Vec::new();
    let flush = |content: &mut Vec<Value>, list: &mut Vec<Value>, rows: &mut Vec<Value>| {
        if !list.is_empty() {
            content.push(json!({"type": "bulletList", "content": std::mem::take(list)}));
        }
        if !rows.is_empty() {
            content.push(
                json!({"type": "table", "attrs": {"isNumberColumnEnabled": false, "layout": "default"}, "content": std::mem::take(rows)}),
            );
        }
    };
    for b in blocks(description) {
        match b {
            Block::Bullet(t) => {
                if !rows.is_empty() {
                    flush(&mut content, &mut Vec::new(), &mut rows);
                }
                list.push(json!({"type": "listItem", "content": [para(t)]}));
            }
            Block::Row(cells) => {
                if !list.is_empty() {
                    flush(&mut content, &mut list, &mut Vec::new());
                }
                let kind = if rows.is_empty() {
                    "tableHeader"
                } else {
                    "tableCell"
                };
                rows.push(json!({"type": "tableRow", "content": cells.iter().map(|c| json!({"type": kind, "content": [para(c)]})).collect::<Vec<_>>()}));
            }
            other => {
                flush(&mut content, &mut list, &mut rows);
                content.push(match other {
                    Block::Heading(t) => json!({"type": "heading", "attrs": {"level": 3}, "content": [text(t)]}),
                    Block::Link(url, label) => {
                        json!({"type": "paragraph", "content": [{"type": "text", "text": label, "marks": [{"type": "link", "attrs": {"href": url}}]}]})
                    }
                    Block::Para(t) => para(t),
                    _ => unreachable!("handled above"),
                });
            }
        }
    }
    flush(&mut content, &mut list, &mut rows);
    json!({"type": "doc", "version": 1, "content": content})
}

/// Escapes wiki markup so text renders literally.
fn wiki_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "*_-+^~{}[]|!#?\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Line syntax → Jira wiki text.
pub fn to_wiki(description: &str) -> String {
    let mut out = Vec::new();
    let mut header_done = false;
    for b in blocks(description) {
        let is_row = matches!(b, Block::Row(_));
        match b {
            Block::Heading(t) => out.push(format!("h3. {}", wiki_escape(t))),
            Block::Bullet(t) => out.push(format!("* {}", wiki_escape(t))),
            Block::Row(cells) => {
                let sep = if header_done { "|" } else { "||" };
                header_done = true;
                out.push(format!(
                    "{sep}{}{sep}",
                    cells
                        .iter()
                        .map(|c| wiki_escape(c))
                        .collect::<Vec<_>>()
                        .join(sep)
                ));
            }
            Block::Link(url, label) => out.push(format!(
                "[{}|{}]",
                wiki_escape(label),
                url.replace(['|', ']', ' '], "")
            )),
            Block::Para(t) => out.push(wiki_escape(t)),
        }
        if !is_row {
            header_done = false;
        }
    }
    out.join("\n")
}

/// The create-issue request body for `api`.
pub fn create_body(
    api: JiraApi,
    project: &str,
    issue_type: &str,
    summary: &str,
    description: &str,
    labels: &[String],
    due: &str,
) -> Value {
    let description = match api {
        JiraApi::V3 => to_adf(description),
        JiraApi::V2 => Value::String(to_wiki(description)),
    };
    json!({"fields": {
        "project": {"key": project},
        "summary": summary,
        "issuetype": {"name": issue_type},
        "labels": labels,
        "duedate": due,
        "description": description,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_with_line_breaks_stays_one_bullet() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let report = crate::gate::check(
            &crate::gate::Side::dir(root, "base"),
            &crate::gate::Side::dir(&root.join("examples/head"), "head"),
            &crate::gate::Options::default(),
        )
        .unwrap();
        let input = TicketInput {
            repository: "octo/shop".into(),
            pr_number: 7,
            pr_title: "t".into(),
            pr_url: "https://github.example/octo/shop/pull/7".into(),
            applied_by: "lead".into(),
            applied_at: None,
            paths: vec!["app/a.txt\n# Pwned\n=> https://evil.example click here\n| x | y |".into()],
            due: "2026-12-13".into(),
        };
        let templates = crate::output::templates::Templates::builtin();
        let (_, description) = render(&report, &input, &templates).unwrap();
        assert!(
            description
                .contains("- app/a.txt # Pwned => https://evil.example click here | x | y |"),
            "{description}"
        );
        for line in description.lines() {
            assert!(
                !line.starts_with("# Pwned") && !line.starts_with("=> https://evil"),
                "{line}"
            );
        }
        let wiki = to_wiki(&description);
        assert!(!wiki.contains("h3. Pwned"), "{wiki}");
        assert!(
            !wiki.contains("[click here|https://evil.example]"),
            "{wiki}"
        );
    }

    #[test]
    fn wiki_text_from_the_pr_is_inert() {
        let w = to_wiki("- {code}x[link|http://evil]*bold*\n| a | b |\n| c|d | e |");
        assert_eq!(
            w,
            "* \\{code\\}x\\[link\\|http://evil\\]\\*bold\\*\n||a||b||\n|c|d|e|"
        );
    }

    #[test]
    fn adf_groups_bullets_and_tables() {
        let d = to_adf("# H\n- a\n- b\n| x | y |\n| 1 | 2 |\ntext");
        let kinds: Vec<&str> = d["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["heading", "bulletList", "table", "paragraph"]);
        assert_eq!(
            d["content"][2]["content"][0]["content"][0]["type"],
            "tableHeader"
        );
        assert_eq!(
            d["content"][2]["content"][1]["content"][1]["type"],
            "tableCell"
        );
    }

    #[test]
    fn pr_label_is_a_single_token() {
        assert_eq!(
            pr_label("Acme/Manga.Assist", 42),
            "costgate-pr-acme-manga-assist-42"
        );
    }
}
