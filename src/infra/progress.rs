//! Progress for the long-running commands (`baseline`, `drift`, `backtest`, harness runs): a bar
//! on a terminal, periodic plain lines in CI logs (a redrawn bar is noise in a log file), always
//! on stderr so stdout stays the command's result. Library code reports through [`Progress`]
//! and never looks at the terminal: the command layer's printer picks the implementation once.

use std::io::Write;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where long-running work reports its steps.
pub trait Progress: Sync {
    /// A new phase of `total` steps.
    fn start(&self, what: &str, total: u64);
    /// One step done; `detail` says which (a commit, a run number).
    fn step(&self, detail: &str);
    /// The phase is over.
    fn finish(&self);
}

/// Reports nothing (library callers and tests).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: u64) {}
    fn step(&self, _: &str) {}
    fn finish(&self) {}
}

/// Plain lines: one at the start, then at most one per `every`, and one at the end.
pub struct Lines<W: Write + Send> {
    out: Mutex<LinesState<W>>,
    every: Duration,
}

struct LinesState<W> {
    out: W,
    what: String,
    total: u64,
    done: u64,
    last: Instant,
    started: Instant,
}

impl<W: Write + Send> Lines<W> {
    pub fn new(out: W, every: Duration) -> Self {
        let now = Instant::now();
        Lines {
            out: Mutex::new(LinesState {
                out,
                what: String::new(),
                total: 0,
                done: 0,
                last: now,
                started: now,
            }),
            every,
        }
    }

    /// The writer back (tests read what was written).
    pub fn into_inner(self) -> W {
        self.out.into_inner().unwrap_or_else(|p| p.into_inner()).out
    }
}

impl<W: Write + Send> Progress for Lines<W> {
    fn start(&self, what: &str, total: u64) {
        let mut s = self.out.lock().unwrap_or_else(|p| p.into_inner());
        s.what = what.to_string();
        s.total = total;
        s.done = 0;
        s.started = Instant::now();
        s.last = s.started;
        let _ = writeln!(s.out, "costgate: {what}: 0/{total}");
    }

    fn step(&self, detail: &str) {
        let mut s = self.out.lock().unwrap_or_else(|p| p.into_inner());
        s.done += 1;
        if s.last.elapsed() >= self.every && s.done < s.total {
            s.last = Instant::now();
            let (what, done, total) = (s.what.clone(), s.done, s.total);
            let _ = writeln!(s.out, "costgate: {what}: {done}/{total} ({detail})");
        }
    }

    fn finish(&self) {
        let mut s = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let (what, done, total, secs) = (
            s.what.clone(),
            s.done,
            s.total,
            s.started.elapsed().as_secs_f64(),
        );
        let _ = writeln!(s.out, "costgate: {what}: {done}/{total} done in {secs:.1}s");
    }
}

/// An indicatif bar on stderr.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed} {prefix}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
    }

    fn step(&self, detail: &str) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            b.set_prefix(detail.to_string());
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}

/// A bar on stderr, redrawn in place (for a terminal).
pub fn bar() -> Box<dyn Progress + Send> {
    Box::new(Bar {
        bar: Mutex::new(None),
    })
}

/// Plain lines on stderr, at most one per ten seconds (for a CI log).
pub fn lines() -> Box<dyn Progress + Send> {
    Box::new(Lines::new(std::io::stderr(), Duration::from_secs(10)))
}

/// A shared handle to where a run's progress goes, handed down from the command layer; the
/// default reports nothing.
#[derive(Clone)]
pub struct Shared(pub Arc<dyn Progress + Send>);

impl Shared {
    pub fn new(p: Box<dyn Progress + Send>) -> Shared {
        Shared(Arc::from(p))
    }
}

impl Default for Shared {
    fn default() -> Shared {
        Shared(Arc::new(Silent))
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_are_throttled_but_always_start_and_finish() {
        let p = Lines::new(Vec::new(), Duration::from_secs(3600));
        p.start("backtest", 3);
        for c in ["a", "b", "c"] {
            p.step(c);
        }
        p.finish();
        let text = String::from_utf8(p.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], "costgate: backtest: 0/3");
        assert!(
            lines[1].starts_with("costgate: backtest: 3/3 done in "),
            "{text}"
        );
        let p = Lines::new(Vec::new(), Duration::ZERO);
        p.start("drift", 3);
        p.step("main");
        p.step("v1.2.0");
        p.step("last");
        p.finish();
        let text = String::from_utf8(p.into_inner()).unwrap();
        assert!(
            text.contains("costgate: drift: 1/3 (main)\ncostgate: drift: 2/3 (v1.2.0)\n"),
            "{text}"
        );
    }
}
