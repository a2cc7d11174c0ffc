//! The human report for a terminal: a headline verdict, the totals, and a table of the worst
//! regressions. Colour is added with ANSI styles; `anstream` strips them when stdout is not a TTY.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use unicode_width::UnicodeWidthStr;

use crate::gate::causes::Story;
use crate::gate::report::{CaseReport, Report, RunReport, Status, cost_per_thousand};
use crate::gate::verdict::Verdict;

/// How many regressed cases the table shows.
pub const TOP: usize = 15;

use crate::infra::fmt::{pct, per_thousand, sig3};

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

fn verdict_style(v: Verdict) -> Style {
    let c = match v {
        Verdict::Pass | Verdict::Accepted => AnsiColor::Green,
        Verdict::Warn | Verdict::ReviewRequired | Verdict::Overridden => AnsiColor::Yellow,
        Verdict::Fail => AnsiColor::Red,
    };
    Style::new().fg_color(Some(c.into())).bold()
}

/// Pads with spaces to a display width (CJK characters count double).
fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| UnicodeWidthStr::width(r[i].as_str()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
    }
    out
}

/// The `check` report for humans.
pub fn check(report: &Report, color: bool) -> String {
    let mut out = String::new();
    headline(&mut out, report, color);
    let story = crate::gate::causes::story(report);
    totals(&mut out, report, &story);
    why(&mut out, &story.why);
    let regressions = report.regressions_by_dollars();
    regressions_table(&mut out, report, &regressions);
    counts(&mut out, report, regressions.len());
    change_lists(&mut out, report);
    out
}

/// The verdict, coloured, and what was compared with what.
fn headline(out: &mut String, report: &Report, color: bool) {
    let head = format!("costgate: {}", report.verdict.as_str().to_uppercase());
    let _ = writeln!(
        out,
        "{}  ({} vs {}, {} cases)",
        paint(color, verdict_style(report.verdict), &head),
        report.head.label,
        report.base.label,
        report.summary.cases
    );
}

/// The first screen (the deciding rule, the cause, the money), then base against head for the
/// totals and the lines the story adds when they apply (quality needs expectations in the dataset).
fn totals(out: &mut String, report: &Report, story: &Story) {
    let s = &report.summary;
    let first = &story.first;
    if let Some(rule) = &first.rule {
        let _ = writeln!(out, "  rule   {rule}");
    }
    if let Some(cause) = &first.cause {
        let _ = writeln!(out, "  cause  {cause}");
    }
    let _ = writeln!(out, "  money  {}", first.money);
    let _ = writeln!(
        out,
        "  total  {} → {}  {}  ({} cases, one request each)",
        sig3(s.base_total_usd),
        sig3(s.head_total_usd),
        pct(s.total_delta_pct),
        s.cases
    );
    let _ = writeln!(
        out,
        "  p95    {} → {} per 1,000 requests  {}",
        per_thousand(s.base_p95_usd),
        per_thousand(s.head_p95_usd),
        pct(s.p95_delta_pct)
    );
    if let Some(q) = &story.quality {
        let _ = writeln!(
            out,
            "  quality  {} → {} of expectations met ({} broken)",
            q.base, q.head, q.broken
        );
    }
    if let Some(p) = &story.pairing {
        let _ = writeln!(out, "  {p}");
    }
}

/// The causes, at most [`TOP`] of them; the rest are in the JSON report.
fn why(out: &mut String, reasons: &[String]) {
    if reasons.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nWhy:");
    for r in reasons.iter().take(TOP) {
        let _ = writeln!(out, "  - {r}");
    }
    if reasons.len() > TOP {
        let _ = writeln!(
            out,
            "  … and {} more (see --format json)",
            reasons.len() - TOP
        );
    }
}

/// The [`TOP`] regressions that add the most dollars, one row each.
fn regressions_table(out: &mut String, report: &Report, regressions: &[&CaseReport]) {
    if regressions.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nTop regressions by dollars added ({} of {} dearer; costs per 1,000 requests):",
        regressions.len().min(TOP),
        regressions.len()
    );
    let mut rows = vec![
        [
            "case",
            "intent",
            "input tokens",
            "cost",
            "added",
            "delta",
            "grew",
            "model",
        ]
        .map(String::from)
        .to_vec(),
    ];
    // Several model calls per case happen only in harness mode (retries, routing, tool
    // loops); the column is shown then, so render-mode tables stay narrow.
    let show_calls = report
        .cases
        .iter()
        .flat_map(|c| [c.base.as_ref(), c.head.as_ref()])
        .flatten()
        .any(|s| s.calls > 1);
    if show_calls {
        rows[0].push("calls".into());
    }
    for c in regressions.iter().take(TOP) {
        rows.push(regression_row(c, show_calls));
    }
    out.push_str(&table(&rows));
}

/// One regressed case: base → head for tokens, cost, model (when it changed) and calls.
fn regression_row(c: &CaseReport, show_calls: bool) -> Vec<String> {
    let (b, h) = (c.base.as_ref(), c.head.as_ref());
    let mut row = vec![
        c.id.clone(),
        c.intent.clone(),
        format!(
            "{} → {}",
            b.map_or(0, |x| x.input_tokens),
            h.map_or(0, |x| x.input_tokens)
        ),
        format!("{} → {}", cost_per_thousand(b), cost_per_thousand(h)),
        per_thousand(c.delta_usd),
        pct(c.delta_pct),
        c.grew.clone().unwrap_or_else(|| "-".into()),
        if c.model_changed {
            format!(
                "{} → {}",
                b.and_then(|x| x.model.clone())
                    .unwrap_or_else(|| "bypass".into()),
                h.and_then(|x| x.model.clone())
                    .unwrap_or_else(|| "bypass".into())
            )
        } else {
            "-".into()
        },
    ];
    if show_calls {
        row.push(format!(
            "{} → {}",
            b.map_or(0, |x| x.calls),
            h.map_or(0, |x| x.calls)
        ));
    }
    row
}

/// How many cases regressed, improved and were added.
fn counts(out: &mut String, report: &Report, regressed: usize) {
    let improved = report
        .cases
        .iter()
        .filter(|c| c.status == Status::Improved)
        .count();
    let added = report
        .cases
        .iter()
        .filter(|c| c.status == Status::Added)
        .count();
    let beyond = report
        .cases
        .iter()
        .filter(|c| {
            c.status == Status::Regressed
                && c.delta_pct.is_none_or(|d| {
                    crate::infra::fmt::shown_pct(d) > report.thresholds.pass_band_pct
                })
        })
        .count();
    let _ = writeln!(
        out,
        "\n  {regressed} dearer ({beyond} beyond the {} pass band), {improved} cheaper, {added} added",
        crate::infra::fmt::threshold(report.thresholds.pass_band_pct)
    );
}

/// Routing changes, policy changes and notes, each list under its title when it has items.
fn change_lists(out: &mut String, report: &Report) {
    for (title, items) in [
        (
            "Routing changes",
            report
                .routing_changes
                .iter()
                .map(|r| {
                    format!(
                        "{}: {} → {}",
                        r.intent,
                        r.base.as_deref().unwrap_or("(none)"),
                        r.head.as_deref().unwrap_or("(none)")
                    )
                })
                .collect::<Vec<_>>(),
        ),
        (
            "Policy changes (no effect on this verdict)",
            report.policy_changes.clone(),
        ),
        ("Notes", report.notes.clone()),
    ] {
        if !items.is_empty() {
            let _ = writeln!(out, "\n{title}:");
            for i in items {
                let _ = writeln!(out, "  - {i}");
            }
        }
    }
}

/// The `run` report for humans.
pub fn run(report: &RunReport) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "costgate run: {} ({} cases)",
        report.tree.label, s.cases
    );
    let _ = writeln!(
        out,
        "  total {} ({} cases, one request each); per 1,000 requests: mean {}  p50 {}  p95 {}",
        sig3(s.total_usd),
        s.cases,
        per_thousand(s.mean_usd),
        per_thousand(s.p50_usd),
        per_thousand(s.p95_usd)
    );
    let _ = writeln!(
        out,
        "  average input tokens {:.1}, bypass rate {:.1}%",
        s.avg_input_tokens,
        s.bypass_rate * 100.0
    );
    if let Some(q) = s.quality {
        let _ = writeln!(out, "  quality {:.1}% of expectations met", q * 100.0);
    }
    let mut by_cost: Vec<_> = report.cases.iter().collect();
    by_cost.sort_by(|a, b| {
        b.cost
            .cost_usd
            .total_cmp(&a.cost.cost_usd)
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut rows = vec![
        ["case", "intent", "model", "input", "output", "cost per 1k"]
            .map(String::from)
            .to_vec(),
    ];
    for c in by_cost.iter().take(TOP) {
        rows.push(vec![
            c.id.clone(),
            c.intent.clone(),
            c.cost.model.clone().unwrap_or_else(|| "bypass".into()),
            c.cost.input_tokens.to_string(),
            c.cost.output_tokens.to_string(),
            cost_per_thousand(Some(&c.cost)),
        ]);
    }
    let _ = writeln!(out, "\nMost expensive cases:");
    out.push_str(&table(&rows));
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for n in &report.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}
