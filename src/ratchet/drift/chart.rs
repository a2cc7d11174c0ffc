//! The drift history as an SVG line chart a person can open: mean cost per 1,000 sessions over
//! time, one point per history entry, the baseline's mean as a dashed step line and the flag
//! threshold above it, each contributing merge labelled beside its point, and vertical markers
//! where a new release tag appears or the baseline was reset. Ticks fall on round values. Text
//! from git (tag names, subjects) goes only into text nodes, which the `svg` crate escapes.

use svg::Document;
use svg::node::element::{Circle, Line, Polyline, Rectangle, Text, Title};

use super::Entry;

const W: f64 = 800.0;
const H: f64 = 360.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 110.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// Renders `entries` (oldest first); `limit_pct` is the baseline flag's threshold
/// (`cumulative_fail_pct`), drawn above the baseline.
pub fn render(entries: &[Entry], limit_pct: f64) -> String {
    let doc = frame();
    if entries.is_empty() {
        return doc
            .add(Text::new("no history yet").set("x", LEFT).set("y", H / 2.0))
            .to_string();
    }
    let plot = Plot::new(entries, limit_pct);
    // Later elements paint over earlier ones: the grid lies under everything, and the mean line and
    // its points come last so markers never hide them.
    let mut doc = axes(doc, &plot, entries);
    doc = legend(doc, limit_pct);
    doc = markers(doc, &plot, entries);
    doc = contributor_markers(doc, &plot, entries);
    doc = baseline_step(doc, &plot, entries, 1.0, "baseline", "6 4");
    doc = baseline_step(
        doc,
        &plot,
        entries,
        1.0 + limit_pct / 100.0,
        "threshold",
        "2 3",
    );
    doc = mean_line(doc, &plot, entries);
    points(doc, &plot, entries).to_string()
}

/// Where a value or an entry lands in the plot area.
struct Plot {
    /// The padded value range the y axis spans.
    lo: f64,
    hi: f64,
    /// How many entries share the x axis.
    n: usize,
    /// The distance between ticks: `lo` and `hi` are multiples of it.
    step: f64,
}

impl Plot {
    fn new(entries: &[Entry], limit_pct: f64) -> Plot {
        let over = 1.0 + limit_pct / 100.0;
        let values: Vec<f64> = entries
            .iter()
            .flat_map(|e| {
                std::iter::once(e.mean_usd)
                    .chain(e.baseline_mean_usd)
                    .chain(e.baseline_mean_usd.map(|b| b * over))
            })
            .filter(|v| v.is_finite())
            .collect();
        let (mut lo, mut hi) = values.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
        // Pad the range (a flat history still gets a readable band) so no point sits on the frame.
        let pad = ((hi - lo) * 0.08).max(hi * 0.02).max(1e-9);
        lo = (lo - pad).max(0.0);
        hi += pad;
        // The axis runs between round ticks.
        let step = tick_step(hi - lo);
        lo = (lo / step).floor() * step;
        hi = (hi / step).ceil() * step;
        Plot {
            lo,
            hi,
            n: entries.len(),
            step,
        }
    }

    /// A single entry sits in the middle rather than on the y axis.
    fn x(&self, i: usize) -> f64 {
        if self.n == 1 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (W - LEFT - RIGHT) * i as f64 / (self.n - 1) as f64
        }
    }

    fn y(&self, v: f64) -> f64 {
        TOP + (H - TOP - BOTTOM) * (1.0 - (v - self.lo) / (self.hi - self.lo))
    }
}

/// A round distance between ticks (1, 2 or 5 times a power of ten) giving about four intervals.
fn tick_step(range: f64) -> f64 {
    let raw = (range / 4.0).max(1e-12);
    let power = 10f64.powf(raw.log10().floor());
    let unit = raw / power;
    let nice = if unit <= 1.0 {
        1.0
    } else if unit <= 2.0 {
        2.0
    } else if unit <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The white canvas and the title, which an empty history shows too.
fn frame() -> Document {
    Document::new()
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
            Text::new("costgate: mean cost per 1,000 sessions over time")
                .set("x", LEFT)
                .set("y", 22)
                .set("font-size", 14),
        )
}

/// Axes, y grid with five labelled ticks, and up to eight date labels (more would overlap).
fn axes(mut doc: Document, plot: &Plot, entries: &[Entry]) -> Document {
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
    let step = plot.step;
    let ticks = ((plot.hi - plot.lo) / step).round() as usize;
    for t in 0..=ticks {
        let v = plot.lo + step * t as f64;
        doc = doc
            .add(
                Line::new()
                    .set("x1", LEFT)
                    .set("y1", plot.y(v))
                    .set("x2", W - RIGHT)
                    .set("y2", plot.y(v))
                    .set("stroke", "#eee"),
            )
            .add(
                Text::new(crate::infra::fmt::per_thousand(v))
                    .set("class", "tick")
                    .set("x", LEFT - 6.0)
                    .set("y", plot.y(v) + 4.0)
                    .set("text-anchor", "end"),
            );
    }
    let n = plot.n;
    let every = n.div_ceil(8).max(1);
    for (i, e) in entries.iter().enumerate() {
        if i % every == 0 || i == n - 1 {
            doc = doc.add(
                Text::new(e.date.clone())
                    .set("x", plot.x(i))
                    .set("y", H - BOTTOM + 16.0)
                    .set("text-anchor", "middle"),
            );
        }
    }
    doc
}

/// The legend, in the margin right of the plot: one entry per kind of mark.
fn legend(mut doc: Document, limit_pct: f64) -> Document {
    let lx = W - RIGHT + 12.0;
    let line = |y: f64, stroke: &str, dash: Option<&str>| {
        let l = Line::new()
            .set("x1", lx)
            .set("y1", y)
            .set("x2", lx + 18.0)
            .set("y2", y)
            .set("stroke", stroke)
            .set("stroke-width", 2);
        match dash {
            Some(d) => l.set("stroke-dasharray", d),
            None => l,
        }
    };
    let label = |y: f64, text: String| {
        Text::new(text)
            .set("class", "legend")
            .set("x", lx + 22.0)
            .set("y", y + 4.0)
            .set("font-size", 9)
    };
    doc = doc
        .add(line(TOP + 6.0, "#246", None))
        .add(label(TOP + 6.0, "mean".into()))
        .add(line(TOP + 22.0, "#c50", Some("6 4")))
        .add(label(TOP + 22.0, "baseline".into()))
        .add(line(TOP + 38.0, "#c22", Some("2 3")))
        .add(label(
            TOP + 38.0,
            format!("flag: +{}", crate::infra::fmt::threshold(limit_pct)),
        ))
        .add(
            Circle::new()
                .set("cx", lx + 9.0)
                .set("cy", TOP + 54.0)
                .set("r", 4)
                .set("fill", "#c22"),
        )
        .add(label(TOP + 54.0, "flagged week".into()))
        .add(
            Polyline::new()
                .set(
                    "points",
                    format!(
                        "{:.2},{:.2} {:.2},{:.2} {:.2},{:.2}",
                        lx + 5.0,
                        TOP + 64.0,
                        lx + 13.0,
                        TOP + 64.0,
                        lx + 9.0,
                        TOP + 70.0
                    ),
                )
                .set("fill", "#d33"),
        )
        .add(label(TOP + 68.0, "merge that moved it".into()));
    doc
}

/// Vertical markers: a release tag seen for the first time, a baseline reset. A tag marks only
/// its first entry, else every weekly point after a release would carry a line.
fn markers(mut doc: Document, plot: &Plot, entries: &[Entry]) -> Document {
    for (i, e) in entries.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &entries[p]);
        if let Some(tag) = &e.release_tag {
            if prev.is_none_or(|p| p.release_tag.as_ref() != Some(tag)) {
                doc = doc
                    .add(
                        Line::new()
                            .set("class", "release")
                            .set("x1", plot.x(i))
                            .set("y1", TOP)
                            .set("x2", plot.x(i))
                            .set("y2", H - BOTTOM)
                            .set("stroke", "#2a7")
                            .set("stroke-dasharray", "4 3"),
                    )
                    .add(
                        Text::new(tag.clone())
                            .set("x", plot.x(i) + 3.0)
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
                            .set("x1", plot.x(i))
                            .set("y1", TOP)
                            .set("x2", plot.x(i))
                            .set("y2", H - BOTTOM)
                            .set("stroke", "#c50")
                            .set("stroke-dasharray", "2 2"),
                    )
                    .add(
                        Text::new("baseline reset")
                            .set("x", plot.x(i) + 3.0)
                            .set("y", H - BOTTOM - 6.0)
                            .set("fill", "#c50"),
                    );
            }
        }
    }
    doc
}

/// A marker per large contributor of a flagged entry: a triangle above the point, the merge and
/// its change in its tooltip (subjects come from git: text nodes only).
fn contributor_markers(mut doc: Document, plot: &Plot, entries: &[Entry]) -> Document {
    for (i, e) in entries.iter().enumerate() {
        let large = e.contributors.iter().filter(|c| {
            c.delta_pct
                .is_none_or(|d| d >= super::contributors::LARGE_PCT)
        });
        for (k, c) in large.take(5).enumerate() {
            let (cx, cy) = (plot.x(i) - 8.0 * k as f64, plot.y(e.mean_usd) - 12.0);
            let label = format!(
                "{} {} {}",
                crate::infra::fmt::prefix(&c.commit, 10),
                crate::infra::fmt::pct(c.delta_pct),
                c.subject
            );
            // The label on the chart itself: the merge and its change, stacked above the point.
            doc = doc.add(
                Text::new(format!(
                    "{} {}",
                    crate::infra::fmt::prefix(&c.commit, 7),
                    crate::infra::fmt::pct(c.delta_pct)
                ))
                .set("class", "contributor-label")
                .set("x", format!("{:.2}", plot.x(i) + 6.0))
                .set("y", format!("{:.2}", cy - 10.0 - 11.0 * k as f64))
                .set("fill", "#d33")
                .set("font-size", 9),
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
    doc
}

/// The baseline mean times `factor` as a step line (it changes only when the baseline is reset,
/// so a sloped segment would suggest a drift that never happened): the baseline at 1, the flag
/// threshold above it.
fn baseline_step(
    mut doc: Document,
    plot: &Plot,
    entries: &[Entry],
    factor: f64,
    class: &str,
    dash: &str,
) -> Document {
    let mut step: Vec<String> = Vec::new();
    let mut last: Option<f64> = None;
    for (i, e) in entries.iter().enumerate() {
        if let Some(b) = e.baseline_mean_usd.map(|b| b * factor) {
            if let Some(prev) = last.filter(|p| *p != b) {
                step.push(format!("{:.2},{:.2}", plot.x(i), plot.y(prev)));
            }
            step.push(format!("{:.2},{:.2}", plot.x(i), plot.y(b)));
            last = Some(b);
        }
    }
    // One entry still gets its line, across the plot's width.
    if step.len() == 1 {
        if let Some(b) = last {
            step = vec![
                format!("{:.2},{:.2}", LEFT, plot.y(b)),
                format!("{:.2},{:.2}", W - RIGHT, plot.y(b)),
            ];
        }
    }
    if step.len() > 1 {
        doc = doc.add(
            Polyline::new()
                .set("class", class)
                .set("points", step.join(" "))
                .set("fill", "none")
                .set("stroke", if class == "threshold" { "#c22" } else { "#c50" })
                .set("stroke-dasharray", dash),
        );
    }
    doc
}

/// The mean per session, one vertex per entry.
fn mean_line(doc: Document, plot: &Plot, entries: &[Entry]) -> Document {
    let points: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{:.2},{:.2}", plot.x(i), plot.y(e.mean_usd)))
        .collect();
    doc.add(
        Polyline::new()
            .set("class", "mean")
            .set("points", points.join(" "))
            .set("fill", "none")
            .set("stroke", "#246")
            .set("stroke-width", 2),
    )
}

/// A dot per entry, red when it raised a flag, with the entry's numbers in its tooltip.
fn points(mut doc: Document, plot: &Plot, entries: &[Entry]) -> Document {
    for (i, e) in entries.iter().enumerate() {
        let flagged = !e.flags.is_empty();
        let label = format!(
            "{} {}: {} per 1,000 sessions{}",
            e.date,
            crate::infra::fmt::prefix(&e.commit, 10),
            crate::infra::fmt::per_thousand(e.mean_usd),
            if flagged {
                format!(" (flags: {})", e.flags.join(", "))
            } else {
                String::new()
            }
        );
        doc = doc.add(
            Circle::new()
                .set("class", "point")
                .set("cx", format!("{:.2}", plot.x(i)))
                .set("cy", format!("{:.2}", plot.y(e.mean_usd)))
                .set("r", 4)
                .set("fill", if flagged { "#c22" } else { "#246" })
                .add(Title::new(label)),
        );
    }
    doc
}
