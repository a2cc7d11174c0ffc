//! `costgate refresh` (docs/ratchet.md): keeps the golden dataset alive. A fraction of the cases,
//! the oldest first, is retired, and as many fresh production queries from Bedrock invocation logs
//! are added: de-duplicated against the dataset and each other, drawn per intent in proportion to
//! the logged traffic with the long tail (the top decile of input tokens) weighted twice, redacted,
//! with fresh ids and today's `added` date. Deterministic for the same logs and `--seed`.
//!
//! Planning is pure ([`plan`]); [`write::edits`] turns a plan into file edits that leave every other line
//! of the golden files byte-identical.

pub mod redact;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::measure::dataset::{Case, Dataset};
pub use crate::ratchet::calibrate::conversation as candidates;
use candidates::Logged;

/// What a refresh is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub size: Size,
    pub seed: u64,
    pub today: NaiveDate,
}

/// How many cases a draw adds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Size {
    /// A share of the dataset, in (0, 1], replaced (`costgate refresh`).
    Fraction(f64),
    /// A number of cases added to a dataset (`costgate init`, on an empty one).
    Cases(usize),
}

/// What a refresh does, before anything is written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Ids of the retired cases, oldest first.
    pub retired: Vec<String>,
    /// The new cases, in the order they are written.
    pub added: Vec<Case>,
    /// Added cases per intent.
    pub added_by_intent: BTreeMap<String, usize>,
    /// Logged requests that gave no candidate, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Candidates dropped as equal to a golden query or to an earlier candidate.
    pub duplicates: usize,
    /// Candidates left after de-duplication.
    pub candidates: usize,
    /// Fewer candidates than cases to retire: only as many are retired as can be replaced.
    pub shortfall: usize,
    /// Placeholders put in added text, by kind.
    pub redacted: BTreeMap<String, usize>,
    /// Intents whose existing cases carry `context` that the added ones lack (the logs hold the
    /// rendered prompt, not its variables).
    pub need_context: Vec<String>,
}

/// A candidate after de-duplication, as the first pass keeps it: where it was logged, not what it
/// says, so a refresh holds no request text but the few it adds.
struct Candidate {
    intent: String,
    tokens: u64,
    /// Index into [`Planner::files`], and the line.
    at: (usize, usize),
}

/// The most text (query and history, in bytes) a refreshed case may carry: far above any real chat
/// turn, far below the 4 MiB a rendered prompt may reach, so a case refresh adds never makes a
/// later `check` fail.
pub const MAX_CASE_TEXT_BYTES: usize = 256 * 1024;

/// Why a logged conversation cannot become a golden case, if it cannot.
fn unwritable(conv: &candidates::Conversation) -> Option<&'static str> {
    let texts = || {
        std::iter::once(conv.query.as_str()).chain(conv.history.iter().map(|m| m.content.as_str()))
    };
    if texts().map(str::len).sum::<usize>() > MAX_CASE_TEXT_BYTES {
        return Some("query and history over 256 KiB, more than a golden case may hold");
    }
    // YAML holds only printable characters (tab and line breaks aside): no C0 or C1 control
    // characters, no DEL, no noncharacters U+FFFE/U+FFFF.
    let printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{85}')
            || !(c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    if texts().any(|t| !t.chars().all(printable)) {
        return Some("characters a golden file cannot hold (control characters, U+FFFE, U+FFFF)");
    }
    None
}

/// Case text compared for duplicates: lower case, whitespace collapsed.
pub fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Plans the refresh of `dataset` from `logged` (in log order), in memory. `skipped` holds the
/// reasons the log reader already gave (bodies in S3, no text). `costgate refresh` streams the
/// logs through a [`Planner`] instead; the plan is the same.
pub fn plan(
    dataset: &Dataset,
    logged: Vec<Logged>,
    skipped: BTreeMap<String, usize>,
    req: &Request,
) -> Plan {
    let mut planner = Planner::new(dataset, skipped);
    for l in &logged {
        planner.observe(l.clone());
    }
    let wanted = planner.chosen(req);
    let mut picked = Picked::new(&wanted);
    for l in logged {
        picked.offer(l);
    }
    planner.finish(dataset, picked.into_conversations(), req)
}

/// A stable 64-bit digest of a normalised query: what the first pass keeps to find duplicates.
fn digest(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    // `DefaultHasher::new` has fixed keys: the same text gives the same digest in every run.
    let mut h = std::hash::DefaultHasher::new();
    normalise(s).hash(&mut h);
    h.finish()
}

/// The first pass over the logs: traffic per intent, duplicates, and each candidate's intent,
/// input tokens and place, never its text.
pub struct Planner {
    cases: usize,
    /// Logged requests seen, usable or not.
    observed: usize,
    seen: std::collections::HashSet<u64>,
    traffic: BTreeMap<String, u64>,
    pool: Vec<Candidate>,
    duplicates: usize,
    skipped: BTreeMap<String, usize>,
    files: Vec<String>,
}

impl Planner {
    pub fn new(dataset: &Dataset, skipped: BTreeMap<String, usize>) -> Planner {
        Planner {
            cases: dataset.len(),
            observed: 0,
            seen: dataset
                .cases
                .iter()
                .map(|c| digest(&c.case.query))
                .collect(),
            traffic: BTreeMap::new(),
            pool: Vec::new(),
            duplicates: 0,
            skipped,
            files: Vec::new(),
        }
    }

    /// Logged requests seen so far, usable or not.
    pub fn observed(&self) -> usize {
        self.observed
    }

    /// A request the log reader already skipped, by reason (a body in S3, no text).
    pub fn skip(&mut self, reason: String) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    /// One logged request, in log order.
    pub fn observe(&mut self, l: Logged) {
        self.observed += 1;
        let conv = match l.conversation {
            Ok(c) => c,
            Err(why) => {
                *self.skipped.entry(why.to_string()).or_default() += 1;
                return;
            }
        };
        let Some(intent) = l.intent.filter(|i| !i.trim().is_empty()) else {
            *self
                .skipped
                .entry("no intent in the request metadata".into())
                .or_default() += 1;
            return;
        };
        *self.traffic.entry(intent.clone()).or_default() += 1;
        // Real traffic, counted above; but a case the golden files cannot hold, or that every
        // later `check` would refuse, is never written.
        if let Some(why) = unwritable(&conv) {
            *self.skipped.entry(why.to_string()).or_default() += 1;
            return;
        }
        if !self.seen.insert(digest(&conv.query)) {
            self.duplicates += 1;
            return;
        }
        let file = match self.files.iter().position(|f| *f == l.file) {
            Some(i) => i,
            None => {
                self.files.push(l.file);
                self.files.len() - 1
            }
        };
        self.pool.push(Candidate {
            intent,
            tokens: l.input_tokens,
            at: (file, l.line),
        });
    }

    /// The candidates drawn, as (file, line) in the order they are added.
    pub fn chosen(&self, req: &Request) -> Vec<(String, usize)> {
        let n = self.wanted(req).min(self.pool.len());
        draw(&self.pool, &self.traffic, n, req.seed)
            .into_iter()
            .map(|i| {
                let (f, line) = self.pool[i].at;
                (self.files[f].clone(), line)
            })
            .collect()
    }

    fn wanted(&self, req: &Request) -> usize {
        match req.size {
            Size::Fraction(f) => (f * self.cases as f64).round() as usize,
            Size::Cases(n) => n,
        }
    }

    /// The plan, given the conversations of [`Planner::chosen`] in its order.
    /// The plan for `dataset` (the one the planner was made with).
    pub fn finish(
        self,
        dataset: &Dataset,
        chosen: Vec<(String, candidates::Conversation)>,
        req: &Request,
    ) -> Plan {
        let wanted = self.wanted(req);
        let skipped = self.skipped;
        let duplicates = self.duplicates;
        let pool_len = self.pool.len();
        // A refresh replaces as many cases as it adds; a draw of a number of cases only adds.
        let retired = match req.size {
            Size::Fraction(_) => oldest(dataset, chosen.len()),
            Size::Cases(_) => Vec::new(),
        };
        let mut redacted: BTreeMap<String, usize> = BTreeMap::new();
        let ids = fresh_ids(dataset, &retired, req.today, chosen.len());
        let added: Vec<Case> = chosen
            .iter()
            .zip(ids)
            .map(|((intent, conv), id)| {
                let mut clean = |t: &str| redact::redact(t, &mut redacted);
                let history = conv
                    .history
                    .iter()
                    .map(|m| crate::measure::dataset::Message {
                        role: m.role,
                        content: clean(&m.content),
                    })
                    .collect();
                Case {
                    id,
                    intent: intent.clone(),
                    query: clean(&conv.query),
                    history,
                    added: Some(req.today),
                    ..Case::default()
                }
            })
            .collect();
        let mut added_by_intent: BTreeMap<String, usize> = BTreeMap::new();
        for c in &added {
            *added_by_intent.entry(c.intent.clone()).or_default() += 1;
        }
        let need_context = added_by_intent
            .keys()
            .filter(|i| {
                dataset
                    .cases
                    .iter()
                    .any(|c| &c.case.intent == *i && c.case.context.is_some())
            })
            .cloned()
            .collect();
        Plan {
            retired,
            added,
            added_by_intent,
            skipped,
            duplicates,
            candidates: pool_len,
            shortfall: wanted - chosen.len(),
            redacted,
            need_context,
        }
    }
}

/// The second pass over the logs: the conversations of the drawn candidates, in draw order.
pub struct Picked {
    order: BTreeMap<(String, usize), usize>,
    found: Vec<Option<(String, candidates::Conversation)>>,
}

impl Picked {
    pub fn new(wanted: &[(String, usize)]) -> Picked {
        Picked {
            order: wanted
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, at)| (at, i))
                .collect(),
            found: vec![None; wanted.len()],
        }
    }

    /// One logged request, in log order: kept when it is one of the drawn.
    pub fn offer(&mut self, l: Logged) {
        let Some(&i) = self.order.get(&(l.file, l.line)) else {
            return;
        };
        if let (Ok(conv), Some(intent)) = (l.conversation, l.intent) {
            self.found[i] = Some((intent, conv));
        }
    }

    /// The conversations in draw order (a log that changed between the passes loses its entry).
    pub fn into_conversations(self) -> Vec<(String, candidates::Conversation)> {
        self.found.into_iter().flatten().collect()
    }
}

/// The summary of a plan: what was retired, added per intent, skipped and why.
pub fn render_text(p: &Plan, malformed: usize) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "refresh: {} case(s) retired, {} added ({} candidate(s) after {} duplicate(s) dropped)",
        p.retired.len(),
        p.added.len(),
        p.candidates,
        p.duplicates
    );
    if !p.retired.is_empty() {
        let _ = writeln!(
            s,
            "  retired (oldest first): {}",
            crate::infra::fmt::id_list(&p.retired)
        );
    }
    for (intent, n) in &p.added_by_intent {
        let _ = writeln!(s, "  added {n} {intent}");
    }
    if p.shortfall > 0 {
        let _ = writeln!(
            s,
            "  {} fewer than asked: the logs hold too few new queries, so only as many cases were retired",
            p.shortfall
        );
    }
    for (why, n) in &p.skipped {
        let _ = writeln!(s, "  skipped {n} logged request(s): {why}");
    }
    if malformed > 0 {
        let _ = writeln!(s, "  {malformed} malformed log line(s) ignored");
    }
    for (kind, n) in &p.redacted {
        let _ = writeln!(s, "  redacted {n} {kind}(s) in added text");
    }
    if !p.need_context.is_empty() {
        let _ = writeln!(
            s,
            "  note: the existing cases of {} carry `context` and the added ones do not (logs hold the rendered prompt, not its variables): fill it in before committing, or the templates cannot render them",
            p.need_context.join(", ")
        );
    }
    s
}

/// The `n` cases to retire: oldest `added` first, cases without `added` oldest of all, then by id.
fn oldest(dataset: &Dataset, n: usize) -> Vec<String> {
    let mut order: Vec<&Case> = dataset.cases.iter().map(|c| &c.case).collect();
    order.sort_by(|a, b| (a.added, &a.id).cmp(&(b.added, &b.id)));
    order.into_iter().take(n).map(|c| c.id.clone()).collect()
}

/// Indices into `pool` of `n` candidates: per intent in proportion to `traffic` (largest
/// remainder), within an intent by weighted sampling without replacement (Efraimidis–Spirakis),
/// the top decile of input tokens at weight 2. An intent with too few candidates leaves its quota
/// to the others, again by weight.
fn draw(pool: &[Candidate], traffic: &BTreeMap<String, u64>, n: usize, seed: u64) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    // The long tail: the tenth of the candidates with the most input tokens (ties in log order).
    let mut by_tokens: Vec<usize> = (0..pool.len()).collect();
    by_tokens.sort_by(|a, b| pool[*b].tokens.cmp(&pool[*a].tokens).then(a.cmp(b)));
    let tail: BTreeSet<usize> = by_tokens
        .into_iter()
        .take(pool.len().div_ceil(10))
        .collect();
    // One key per candidate, drawn in log order: the same seed and logs give the same keys.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let keys: Vec<f64> = (0..pool.len())
        .map(|i| {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            let w = if tail.contains(&i) { 2.0 } else { 1.0 };
            u.powf(1.0 / w)
        })
        .collect();
    let by_key = |idx: &mut Vec<usize>| {
        idx.sort_by(|a, b| keys[*b].total_cmp(&keys[*a]).then(a.cmp(b)));
    };
    let quotas = quotas(traffic, n);
    let mut chosen = Vec::new();
    let mut left: Vec<usize> = Vec::new();
    for (intent, q) in &quotas {
        let mut idx: Vec<usize> = (0..pool.len())
            .filter(|i| &pool[*i].intent == intent)
            .collect();
        by_key(&mut idx);
        let take = (*q).min(idx.len());
        chosen.extend(idx.drain(..take));
        left.extend(idx);
    }
    if chosen.len() < n {
        by_key(&mut left);
        chosen.extend(left.into_iter().take(n - chosen.len()));
    }
    // Written in log order, so a re-run's file reads like the logs.
    chosen.sort_unstable();
    chosen
}

/// `n` split across intents in proportion to their traffic: floors, then the largest remainders
/// (ties by intent name).
fn quotas(traffic: &BTreeMap<String, u64>, n: usize) -> BTreeMap<String, usize> {
    let total: u64 = traffic.values().sum();
    if total == 0 {
        return BTreeMap::new();
    }
    let exact: Vec<(&String, f64)> = traffic
        .iter()
        .map(|(k, c)| (k, n as f64 * *c as f64 / total as f64))
        .collect();
    let mut out: BTreeMap<String, usize> = exact
        .iter()
        .map(|(k, e)| ((*k).clone(), e.floor() as usize))
        .collect();
    let mut rest = n - out.values().sum::<usize>();
    let mut by_remainder = exact.clone();
    by_remainder.sort_by(|a, b| {
        (b.1 - b.1.floor())
            .total_cmp(&(a.1 - a.1.floor()))
            .then_with(|| a.0.cmp(b.0))
    });
    for (k, _) in by_remainder {
        if rest == 0 {
            break;
        }
        *out.entry(k.clone()).or_default() += 1;
        rest -= 1;
    }
    out
}

/// `RF<yyyymmdd>-<nnn>` ids not used by any case that stays (a retired id may be reused).
fn fresh_ids(dataset: &Dataset, retired: &[String], today: NaiveDate, n: usize) -> Vec<String> {
    let gone: BTreeSet<&str> = retired.iter().map(String::as_str).collect();
    let taken: BTreeSet<&str> = dataset.ids().filter(|id| !gone.contains(id)).collect();
    let day = today.format("%Y%m%d");
    (1..)
        .map(|i| format!("RF{day}-{i:03}"))
        .filter(|id| !taken.contains(id.as_str()))
        .take(n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_follow_the_traffic_by_largest_remainder() {
        let t: BTreeMap<String, u64> = [
            ("a".to_string(), 90),
            ("b".to_string(), 9),
            ("c".to_string(), 1),
        ]
        .into_iter()
        .collect();
        let q = quotas(&t, 10);
        assert_eq!((q["a"], q["b"], q["c"]), (9, 1, 0));
        assert_eq!(quotas(&t, 10).values().sum::<usize>(), 10);
    }

    fn pool(n: usize, tail_every: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                intent: "faq".into(),
                tokens: if i % tail_every == 0 { 5000 } else { 100 },
                at: (0, i),
            })
            .collect()
    }

    #[test]
    fn the_long_tail_is_drawn_about_twice_as_often() {
        // A tenth of the pool is the tail; at weight 2 it makes about 2/11 of the draws.
        let p = pool(1000, 10);
        let traffic: BTreeMap<String, u64> = [("faq".to_string(), 1000)].into_iter().collect();
        let (mut tail, mut all) = (0, 0);
        for seed in 0..200 {
            for i in draw(&p, &traffic, 10, seed) {
                all += 1;
                tail += usize::from(p[i].tokens == 5000);
            }
        }
        let share = tail as f64 / all as f64;
        assert!((0.15..0.22).contains(&share), "tail share {share}");
    }

    #[test]
    fn the_same_seed_draws_the_same_cases() {
        let p = pool(100, 10);
        let traffic: BTreeMap<String, u64> = [("faq".to_string(), 100)].into_iter().collect();
        assert_eq!(draw(&p, &traffic, 7, 42), draw(&p, &traffic, 7, 42));
        assert_ne!(draw(&p, &traffic, 7, 42), draw(&p, &traffic, 7, 43));
    }

    #[test]
    fn normalising_ignores_case_and_spacing() {
        assert_eq!(normalise("  Hello   World\n"), normalise("hello world"));
    }
}
