//! The drift history as an SVG line chart a person can open: mean dollars per session over time,
//! one point per history entry, the baseline's mean as a dashed step line, and vertical markers
//! where a new release tag appears or the baseline was reset. Text from git (tag names) goes only
//! into text nodes, which the `svg` crate escapes.

use svg::Document;
use svg::node::element::{Circle, Line, Polyline, Rectangle, Text, Title};

use super::Entry;

const W: f64 = 800.0;
const H: f64 = 360.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 110.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// Renders `entries` (oldest first).
pub fn render(entries: &[Entry]) -> String {
    let mut doc = Document::new()
        .set("viewBox", (0, 0, W, H))
        .set("width", W)
        .set("height", H)
        .set("font-family", "sans-serif")
        .set("font-size", 11)
        .add(
            Rectangle::new()
                .set("width", W)
                .set("height", H)
                .set("fill", "white"),
        )
        .add(
            Text::new("costgate: mean $ per session over time")
                .set("x", LEFT)
                .set("y", 22)
                .set("font-size", 14),
        );
    if entries.is_empty() {
        return doc
            .add(Text::new("no history yet").set("x", LEFT).set("y", H / 2.0))
            .to_string();
    }
    let values: Vec<f64> = entries
        .iter()
        .flat_map(|e| std::iter::once(e.mean_usd).chain(e.baseline_mean_usd))
        .filter(|v| v.is_finite())
        .collect();
    let (mut lo, mut hi) = values.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    // Pad the range (a flat history still gets a readable band) so no point sits on the frame.
    let pad = ((hi - lo) * 0.08).max(hi * 0.02).max(1e-9);
    lo = (lo - pad).max(0.0);
    hi += pad;
    let n = entries.len();
    let x = |i: usize| {
        if n == 1 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - lo) / (hi - lo));

    // Axes, y grid with five labelled ticks, and up to eight date labels.
    doc = doc
        .add(
            Line::new()
                .set("x1", LEFT)
                .set("y1", TOP)
                .set("x2", LEFT)
                .set("y2", H - BOTTOM)
                .set("stroke", "#333"),
        )
        .add(
            Line::new()
                .set("x1", LEFT)
                .set("y1", H - BOTTOM)
                .set("x2", W - RIGHT)
                .set("y2", H - BOTTOM)
                .set("stroke", "#333"),
        );
    for t in 0..=4 {
        let v = lo + (hi - lo) * t as f64 / 4.0;
        doc = doc
            .add(
                Line::new()
                    .set("x1", LEFT)
                    .set("y1", y(v))
                    .set("x2", W - RIGHT)
                    .set("y2", y(v))
                    .set("stroke", "#eee"),
            )
            .add(
                Text::new(crate::infra::fmt::usd6(v))
                    .set("x", LEFT - 6.0)
                    .set("y", y(v) + 4.0)
                    .set("text-anchor", "end"),
            );
    }
    let every = n.div_ceil(8).max(1);
    for (i, e) in entries.iter().enumerate() {
        if i % every == 0 || i == n - 1 {
            doc = doc.add(
                Text::new(e.date.clone())
                    .set("x", x(i))
                    .set("y", H - BOTTOM + 16.0)
                    .set("text-anchor", "middle"),
            );
        }
    }
    // Legend, right of the plot.
    let lx = W - RIGHT + 12.0;
    doc = doc
        .add(
            Line::new()
                .set("x1", lx)
                .set("y1", TOP + 6.0)
                .set("x2", lx + 18.0)
                .set("y2", TOP + 6.0)
                .set("stroke", "#246")
                .set("stroke-width", 2),
        )
        .add(
            Text::new("mean $/session")
                .set("x", lx + 22.0)
                .set("y", TOP + 10.0)
                .set("font-size", 9),
        )
        .add(
            Line::new()
                .set("x1", lx)
                .set("y1", TOP + 22.0)
                .set("x2", lx + 18.0)
                .set("y2", TOP + 22.0)
                .set("stroke", "#c50")
                .set("stroke-dasharray", "6 4"),
        )
        .add(
            Text::new("baseline")
                .set("x", lx + 22.0)
                .set("y", TOP + 26.0)
                .set("font-size", 9),
        )
        .add(
            Circle::new()
                .set("cx", lx + 9.0)
                .set("cy", TOP + 38.0)
                .set("r", 4)
                .set("fill", "#c22"),
        )
        .add(
            Text::new("flagged")
                .set("x", lx + 22.0)
                .set("y", TOP + 42.0)
                .set("font-size", 9),
        );

    // Markers: a release tag seen for the first time, a baseline reset.
    for (i, e) in entries.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &entries[p]);
        if let Some(tag) = &e.release_tag {
            if prev.is_none_or(|p| p.release_tag.as_ref() != Some(tag)) {
                doc = doc
                    .add(
                        Line::new()
                            .set("class", "release")
                            .set("x1", x(i))
                            .set("y1", TOP)
                            .set("x2", x(i))
                            .set("y2", H - BOTTOM)
                            .set("stroke", "#2a7")
                            .set("stroke-dasharray", "4 3"),
                    )
                    .add(
                        Text::new(tag.clone())
                            .set("x", x(i) + 3.0)
                            .set("y", TOP + 10.0)
                            .set("fill", "#2a7"),
                    );
            }
        }
        if let Some(p) = prev {
            if p.baseline_commit != e.baseline_commit || p.baseline_date != e.baseline_date {
                doc = doc
                    .add(
                        Line::new()
                            .set("class", "baseline-reset")
                            .set("x1", x(i))
                            .set("y1", TOP)
                            .set("x2", x(i))
                            .set("y2", H - BOTTOM)
                            .set("stroke", "#c50")
                            .set("stroke-dasharray", "2 2"),
                    )
                    .add(
                        Text::new("baseline reset")
                            .set("x", x(i) + 3.0)
                            .set("y", H - BOTTOM - 6.0)
                            .set("fill", "#c50"),
                    );
            }
        }
    }

    // A marker per large contributor of a flagged entry: a triangle above the point, the merge and
    // its change in its tooltip (subjects come from git: text nodes only).
    for (i, e) in entries.iter().enumerate() {
        let large = e.contributors.iter().filter(|c| {
            c.delta_pct
                .is_none_or(|d| d >= super::contributors::LARGE_PCT)
        });
        for (k, c) in large.take(5).enumerate() {
            let (cx, cy) = (x(i) - 8.0 * k as f64, y(e.mean_usd) - 12.0);
            let label = format!(
                "{} {} {}",
                &c.commit[..c.commit.len().min(10)],
                crate::infra::fmt::pct(c.delta_pct),
                c.subject
            );
            doc = doc.add(
                Polyline::new()
                    .set("class", "contributor")
                    .set(
                        "points",
                        format!(
                            "{:.2},{:.2} {:.2},{:.2} {:.2},{:.2}",
                            cx - 4.0,
                            cy - 6.0,
                            cx + 4.0,
                            cy - 6.0,
                            cx,
                            cy
                        ),
                    )
                    .set("fill", "#d33")
                    .add(Title::new(label)),
            );
        }
    }

    // The baseline mean as a dashed step line (it changes only when the baseline is reset).
    let mut step: Vec<String> = Vec::new();
    let mut last: Option<f64> = None;
    for (i, e) in entries.iter().enumerate() {
        if let Some(b) = e.baseline_mean_usd {
            if let Some(prev) = last.filter(|p| *p != b) {
                step.push(format!("{:.2},{:.2}", x(i), y(prev)));
            }
            step.push(format!("{:.2},{:.2}", x(i), y(b)));
            last = Some(b);
        }
    }
    if step.len() > 1 {
        doc = doc.add(
            Polyline::new()
                .set("class", "baseline")
                .set("points", step.join(" "))
                .set("fill", "none")
                .set("stroke", "#c50")
                .set("stroke-dasharray", "6 4"),
        );
    }
    let points: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{:.2},{:.2}", x(i), y(e.mean_usd)))
        .collect();
    doc = doc.add(
        Polyline::new()
            .set("class", "mean")
            .set("points", points.join(" "))
            .set("fill", "none")
            .set("stroke", "#246")
            .set("stroke-width", 2),
    );
    for (i, e) in entries.iter().enumerate() {
        let flagged = !e.flags.is_empty();
        let label = format!(
            "{} {}: {} per session{}",
            e.date,
            &e.commit[..e.commit.len().min(10)],
            crate::infra::fmt::usd6(e.mean_usd),
            if flagged {
                format!(" (flags: {})", e.flags.join(", "))
            } else {
                String::new()
            }
        );
        doc = doc.add(
            Circle::new()
                .set("class", "point")
                .set("cx", format!("{:.2}", x(i)))
                .set("cy", format!("{:.2}", y(e.mean_usd)))
                .set("r", 4)
                .set("fill", if flagged { "#c22" } else { "#246" })
                .add(Title::new(label)),
        );
    }
    doc.to_string()
}
