//! Every kind of PR comment (fail, warn, review required, accepted, overridden, quality fail,
//! regression gone) rendered from the shipped example and read back with a GFM parser, as GitHub
//! reads it: the first screen in order (verdict and rule, cause, money, what to do), each table
//! whole (every row as many cells as its header), no table text left in a paragraph, and the
//! rendered HTML free of raw markup. `scripts/preview-comment` renders the same bodies for a person.

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options};
use costgate::action::comment::{self, CommentMeta, MarkerRecord};
use costgate::gate::report::{Report, SignOff};
use costgate::gate::review::Facts;
use costgate::output::templates::Templates;

fn report(head: &str) -> Report {
    crate::sticky::example_report(head)
}

fn config() -> costgate::measure::config::Config {
    costgate::measure::config::Config::parse(
        "version: 1\nroutes: r.yaml\napprovers:\n  users: [alice]\n",
        "c.yaml",
    )
    .unwrap()
}

const JUSTIFIED: &str = "cost-regression-justification:\n  reason: brand voice\n  expected-cost-delta: +10%\n  quality-delta: brand score +12%\n";

/// The comment of each kind, with the previous verdict where it matters.
fn kinds() -> Vec<(&'static str, Report, Option<&'static str>)> {
    let fail = report("examples/head");
    let review = |facts: Facts| {
        let mut r = fail.clone();
        costgate::gate::review::apply(&mut r, &config(), &facts);
        r
    };
    let required = review(Facts {
        pr_body: Some(JUSTIFIED.into()),
        approvers: vec!["alice".into()],
        ..Default::default()
    });
    let accepted = review(Facts {
        pr_body: Some(JUSTIFIED.into()),
        approvers: vec!["alice".into()],
        sign_off: Some(SignOff {
            approver: "alice".into(),
            commit: "c".repeat(40),
            submitted_at: Some("2026-12-01T10:00:00Z".into()),
            via: "approving review".into(),
        }),
        ..Default::default()
    });
    let overridden = review(Facts {
        override_finding: Some(costgate::gate::report::OverrideFinding {
            label: "emergency-override".into(),
            applied_by: Some("lead".into()),
            applied_at: Some("2026-11-20T09:00:00Z".into()),
            authorised: true,
            why: "lead is an authorised approver".into(),
        }),
        ..Default::default()
    });
    vec![
        ("fail", fail, None),
        ("warn", report("examples/head-warn"), None),
        ("review_required", required, None),
        ("accepted", accepted, None),
        ("overridden", overridden, None),
        ("quality_fail", report("examples/head-cheap-wrong"), None),
        ("regression_gone", report("."), Some("fail")),
    ]
}

fn render(r: &Report, previous: Option<&str>) -> String {
    let meta = CommentMeta {
        base_sha: "a".repeat(40),
        head_sha: "b".repeat(40),
        pr_head_sha: "c".repeat(40),
        justification_key: "cost-regression-justification".into(),
        previous: previous.map(String::from),
        approvers: vec![
            "alice".into(),
            "anyone with maintain permission or higher".into(),
        ],
        docs_url: Some("https://github.com/acme/costgate/blob/v1/docs/verdict.md".into()),
    };
    let record = MarkerRecord {
        v: 1,
        verdict: Some(r.verdict),
        pr: Some(7),
        ..Default::default()
    };
    comment::render(r, &meta, &record, &Templates::builtin()).unwrap()
}

/// Close enough to GitHub's comment styles to judge layout: tables with borders, code, details.
const PREVIEW_CSS: &str = "body{font:14px -apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:920px;margin:24px auto;color:#1f2328}table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d1d9e0;padding:4px 10px}th{background:#f6f8fa}code,pre{background:#f6f8fa;border-radius:4px;padding:2px 4px}details{margin:8px 0}";

fn gfm() -> Options<'static> {
    let mut o = Options::default();
    o.extension.table = true;
    o.extension.strikethrough = true;
    o.extension.autolink = true;
    o
}

/// Unescaped `|` in a source line: a table row's cell separators.
fn pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    let mut in_code = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            '`' if !escaped => in_code = !in_code,
            '|' if !escaped && !in_code => n += 1,
            _ => {}
        }
        escaped = false;
    }
    n
}

fn text_of<'a>(node: &'a AstNode<'a>) -> String {
    let mut s = String::new();
    for d in node.descendants() {
        match &d.data.borrow().value {
            NodeValue::Text(t) => s.push_str(t),
            NodeValue::Code(c) => s.push_str(&c.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => s.push(' '),
            _ => {}
        }
    }
    s
}

#[test]
fn every_comment_kind_reads_as_github_renders_it() {
    let titles = [
        ("fail", "FAIL · per-query limit 25%: 42 chit_chat queries"),
        (
            "warn",
            "WARN · pass band 10%: 21 escalation queries +12.6%…+13.2%",
        ),
        ("review_required", "REVIEW REQUIRED · per-query limit 25%"),
        ("accepted", "ACCEPTED · per-query limit 25%"),
        ("overridden", "OVERRIDDEN · per-query limit 25%"),
        ("quality_fail", "FAIL · quality: 380 expectation(s)"),
        ("regression_gone", "PASS"),
    ];
    for (kind, r, previous) in kinds() {
        let body = render(&r, previous);
        crate::support::snapshots::settings(&[]).bind(|| {
            insta::assert_snapshot!(format!("comment_{kind}"), body);
        });
        let arena = Arena::new();
        let root = comrak::parse_document(&arena, &body, &gfm());
        let lines: Vec<&str> = body.lines().collect();

        // The first heading is the verdict with its deciding rule.
        let heading = root
            .descendants()
            .find(|n| matches!(n.data.borrow().value, NodeValue::Heading(_)))
            .map(text_of)
            .unwrap_or_default();
        let want = titles.iter().find(|(k, _)| *k == kind).unwrap().1;
        assert!(heading.contains(want), "{kind}: heading {heading:?}");

        // The first screen, in order, before any table.
        let first_table = lines.iter().position(|l| l.starts_with('|')).unwrap();
        let screen = lines[..first_table].join("\n");
        if kind != "regression_gone" {
            let money = screen.find("**Money:**").expect(kind);
            let reproduce = screen
                .find("**Reproduce:** `costgate check --base")
                .expect(kind);
            assert!(money < reproduce, "{kind}: {screen}");
            if let Some(cause) = screen.find("**Cause:**") {
                assert!(cause < money, "{kind}");
            }
        } else {
            assert!(screen.contains("is gone"), "{kind}: {screen}");
        }
        if kind == "quality_fail" {
            assert!(
                !heading.contains('$'),
                "a saving never leads a quality fail: {heading}"
            );
        }

        // Every table whole: each source row has as many cells as its header.
        let mut tables = 0;
        for t in root.descendants() {
            if !matches!(t.data.borrow().value, NodeValue::Table(_)) {
                continue;
            }
            tables += 1;
            let pos = t.data.borrow().sourcepos;
            let rows = &lines[pos.start.line - 1..pos.end.line];
            let header = pipes(rows[0]);
            for (i, row) in rows.iter().enumerate() {
                assert_eq!(pipes(row), header, "{kind}: table row {i}: {row}");
            }
            let first = t.children().next().expect("a header row");
            assert!(
                matches!(first.data.borrow().value, NodeValue::TableRow(true)),
                "{kind}: the first row is the header"
            );
        }
        let separators = lines.iter().filter(|l| l.starts_with("|---")).count();
        assert_eq!(tables, separators, "{kind}: a table did not parse as one");
        assert!(
            body.contains("### Where the money went") || kind == "regression_gone",
            "{kind}"
        );

        // No table text stranded in a paragraph, no raw HTML but the marker and <details>.
        for n in root.descendants() {
            match &n.data.borrow().value {
                NodeValue::Paragraph => {
                    let t = text_of(n);
                    assert!(!t.contains("|---"), "{kind}: {t}");
                }
                NodeValue::HtmlInline(h) => assert!(
                    h.starts_with("<details")
                        || h.starts_with("</details")
                        || h.starts_with("<summary")
                        || h.starts_with("</summary"),
                    "{kind}: inline HTML {h}"
                ),
                _ => {}
            }
        }
        let html = comrak::markdown_to_html(&body, &gfm());
        assert!(!html.contains("<script"), "{kind}");
        assert!(!html.contains("mermaid"), "{kind}: the chart is gone");
        // `scripts/preview-comment` asks for the pages, for a person to look at.
        if let Some(dir) = std::env::var_os("COSTGATE_PREVIEW_DIR") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            let page = format!(
                "<!doctype html><meta charset=utf-8><title>costgate comment: {kind}</title>\n<style>{PREVIEW_CSS}</style>\n<article>{html}</article>\n"
            );
            std::fs::write(dir.join(format!("{kind}.html")), page).unwrap();
        }
    }
}

#[test]
fn top_regressions_are_ranked_by_the_dollars_they_add() {
    // examples/head: the chit_chat cases lead by percentage (+33.7%) but add the least dollars.
    let body = render(&report("examples/head"), None);
    let top: Vec<&str> = body
        .lines()
        .skip_while(|l| !l.starts_with("### Top regressions"))
        .skip(1)
        .take_while(|l| !l.starts_with('#') && !l.starts_with("<details"))
        .filter(|l| l.starts_with("| GD-"))
        .collect();
    assert!(!top.is_empty(), "{body}");
    // The "added per 1k" column (5th cell) never increases down the table.
    let added: Vec<f64> = top
        .iter()
        .map(|l| {
            let cell = l.split('|').nth(5).unwrap().trim();
            cell.trim_start_matches('$').parse::<f64>().unwrap()
        })
        .collect();
    assert!(added.windows(2).all(|w| w[0] >= w[1]), "{added:?}");
    assert!(
        !top[0].contains("chit\\_chat"),
        "ranked by percentage: {}",
        top[0]
    );
}
