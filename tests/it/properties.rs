//! Properties of the invariants that matter (proptest, on stable): a verdict never depends on case
//! order; merging shards equals the unsharded run; the justification parser is total and
//! round-trips what it accepts; a run that returns a verdict had evidence (an error never passes).

use std::sync::Arc;

use proptest::prelude::*;

use costgate::gate::justification;
use costgate::gate::verdict::{Pair, decide};
use costgate::gate::{self, Inputs, Options, RunOptions, Side};
use costgate::infra::tree::DirTree;
use costgate::measure::config::Thresholds;

use crate::support::write_tree;

fn costs() -> impl Strategy<Value = Vec<(f64, f64, f64)>> {
    prop::collection::vec(
        (
            prop_oneof![Just(0.0), 1e-6..1e-2f64],
            prop_oneof![Just(0.0), 1e-6..1e-2f64],
            prop_oneof![Just(1.0), 0.1..5.0f64],
        ),
        1..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_verdict_never_depends_on_case_order(v in costs(), rot in 0usize..60) {
        let ids: Vec<String> = (0..v.len()).map(|i| format!("C-{i}")).collect();
        let pairs: Vec<Pair<'_>> = v
            .iter()
            .zip(&ids)
            .map(|(&(b, h, w), id)| Pair { id, base_usd: b, head_usd: h, weight: w })
            .collect();
        let mut shuffled = pairs.clone();
        shuffled.reverse();
        let n = shuffled.len();
        shuffled.rotate_left(rot % n);
        let t = Thresholds::default();
        let (a, b) = (decide(&pairs, &t), decide(&shuffled, &t));
        prop_assert_eq!(a.verdict, b.verdict);
        prop_assert_eq!(&a.fail_kinds, &b.fail_kinds);
        let (mut ra, mut rb) = (a.reasons.clone(), b.reasons.clone());
        ra.sort();
        rb.sort();
        prop_assert_eq!(ra, rb);
    }

    #[test]
    fn a_case_over_the_fail_threshold_never_passes(v in costs(), grow in 1.2501..10.0f64) {
        let ids: Vec<String> = (0..v.len()).map(|i| format!("C-{i}")).collect();
        let mut pairs: Vec<Pair<'_>> = v
            .iter()
            .zip(&ids)
            .map(|(&(b, h, w), id)| Pair { id, base_usd: b, head_usd: h, weight: w })
            .collect();
        pairs[0].base_usd = 0.001;
        pairs[0].head_usd = 0.001 * grow;
        let d = decide(&pairs, &Thresholds::default());
        prop_assert_eq!(d.verdict, costgate::gate::verdict::Verdict::Fail);
    }

    #[test]
    fn the_justification_parser_is_total(body in "\\PC*(\ncost-regression-justification:\n(  [a-z-]{1,20}: \\PC{0,40}\n){0,5})?\\PC*") {
        let _ = justification::parse(&body, "cost-regression-justification");
    }

    #[test]
    fn the_justification_parser_round_trips_what_it_accepts(
        reason in "[A-Za-z0-9][A-Za-z0-9 ,.;()/-]{0,60}[A-Za-z0-9.)]",
        pct in 1u32..500,
        quality in "[A-Za-z0-9][A-Za-z0-9 ,.%-]{0,40}[A-Za-z0-9%]",
        before in "[A-Za-z ]{0,40}",
        fenced in any::<bool>(),
    ) {
        let block = format!(
            "cost-regression-justification:\n  reason: {reason}\n  expected-cost-delta: +{pct}%\n  quality-delta: {quality}\n"
        );
        let block = if fenced { format!("```\n{block}```\n") } else { block };
        let body = format!("{before}\n\n{block}\nThanks!\n");
        let j = justification::parse(&body, "cost-regression-justification").expect("found");
        prop_assert!(j.is_complete(), "{:?}", j);
        prop_assert_eq!(j.reason.as_deref(), Some(reason.as_str()));
        prop_assert_eq!(j.quality_delta.as_deref(), Some(quality.as_str()));
        prop_assert_eq!(j.expected_cost_delta_pct, Some(f64::from(pct)));
    }
}

// Claude 3 Haiku is past its end of life (2026-09-10): a note, since both sides use it.
const ROUTES: &str = "a:\n  model: anthropic.claude-3-haiku-20240307-v1:0\n  system: s.j2\n  output_tokens: 20\nb:\n  model: amazon.nova-micro-v1:0\n  output_tokens: 7\nc:\n  bypass: true\n";

fn golden(queries: &[(u8, String)]) -> String {
    queries
        .iter()
        .enumerate()
        .map(|(i, (intent, q))| {
            let intent = ["a", "b", "c"][*intent as usize % 3];
            format!("- id: C-{i:03}\n  intent: {intent}\n  query: {q:?}\n")
        })
        .collect()
}

fn side(dir: &std::path::Path, name: &'static str) -> Side {
    Side {
        name,
        tree: Arc::new(DirTree::new(dir, name.to_string())),
        commit: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn merging_shards_equals_the_unsharded_run(
        queries in prop::collection::vec((0u8..3, "[a-z][a-z ]{0,29}"), 1..25),
        count in 1usize..6,
        longer in "[a-z ]{0,80}",
    ) {
        prop_assume!(queries.iter().any(|(i, _)| i % 3 != 2));
        let dir = tempfile::tempdir().unwrap();
        let (b, h) = (dir.path().join("b"), dir.path().join("h"));
        let g = golden(&queries);
        let files = [
            ("costgate.yaml", "version: 1\ngolden: golden.yaml\nroutes: routes.yaml\n"),
            ("golden.yaml", g.as_str()),
            ("routes.yaml", ROUTES),
            ("s.j2", "You help with {{ query }}."),
        ];
        write_tree(&b, &files);
        write_tree(&h, &files);
        let head_system = format!("You help with {{{{ query }}}}. {longer}");
        // The head moves intent b to Claude 3.5 Haiku, past its end of life (2026-06-19): a warn
        // reason the PR introduces, which the merge must keep.
        let head_routes = ROUTES.replace("amazon.nova-micro-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0");
        write_tree(&h, &[("s.j2", head_system.as_str()), ("routes.yaml", head_routes.as_str())]);
        let inputs = Inputs::load(&side(&b, "base"), &side(&h, "head"), &Options::default()).unwrap();
        let whole = gate::check_inputs(&inputs, &RunOptions::default()).unwrap();
        let mut parts = Vec::new();
        for i in 1..=count {
            let shard: costgate::gate::shard::Shard = format!("{i}/{count}").parse().unwrap();
            let p = gate::check_partial(&inputs, RunOptions::default(), shard).unwrap();
            // Through JSON, as `costgate merge` reads them.
            let p = serde_json::from_str(&p.to_json()).unwrap();
            parts.push((format!("part-{i}"), p));
        }
        let today = costgate::infra::clock::Clock::system().today();
        let merged = costgate::gate::shard::merge(parts, today).unwrap();
        prop_assert_eq!(merged.verdict, whole.verdict);
        prop_assert_eq!(&merged.summary, &whole.summary);
        prop_assert_eq!(&merged.cases, &whole.cases);
        let (mut a, mut bb) = (merged.reasons.clone(), whole.reasons.clone());
        a.sort();
        bb.sort();
        prop_assert_eq!(a, bb);
        // The end-of-life note for intent a (both sides use Claude 3 Haiku) survives the merge.
        let eol = |notes: &[String]| -> Vec<String> {
            notes.iter().filter(|n| n.contains("end of life")).cloned().collect()
        };
        prop_assert_eq!(eol(&merged.notes), eol(&whole.notes));
    }

    #[test]
    fn a_verdict_comes_only_with_evidence(golden in "(- id: [A-C]\n  intent: [abc]\n  query: [a-z]{1,8}\n|# [a-z ]*\n|\n){0,6}") {
        verdict_only_with_evidence(&golden)?;
    }
}

/// A dataset either gets a verdict backed by priced calls on both sides or a configuration error
/// (exit 2) naming the golden file, or the routes file when no case makes a model call: no other
/// failure is acceptable. Returns whether it got a verdict.
fn verdict_only_with_evidence(golden: &str) -> Result<bool, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "costgate.yaml",
            "version: 1\ngolden: golden.yaml\nroutes: routes.yaml\n",
        ),
        ("golden.yaml", golden),
        ("routes.yaml", ROUTES),
        ("s.j2", "You help."),
    ];
    write_tree(dir.path(), &files);
    let s = side(dir.path(), "base");
    match gate::check(&s, &side(dir.path(), "head"), &Options::default()) {
        Ok(r) => {
            prop_assert!(r.summary.cases > 0);
            for c in &r.cases {
                prop_assert!(c.base.is_some() && c.head.is_some());
            }
            prop_assert!(
                r.cases
                    .iter()
                    .any(|c| c.base.as_ref().is_some_and(|b| b.calls > 0))
            );
            Ok(true)
        }
        Err(e) => {
            let msg = e.to_string();
            // A dataset that does not load, or only bypassed cases (no call, so no cost to
            // gate): a configuration error naming the file to fix.
            prop_assert_eq!(e.exit_code(), 2, "{}", msg);
            prop_assert!(
                msg.contains("golden.yaml")
                    || (msg.contains("no model call") && msg.contains("routes.yaml")),
                "{}",
                msg
            );
            Ok(false)
        }
    }
}

/// The property's two branches are both reached: a valid dataset gets its verdict, an empty one
/// the configuration error.
#[test]
fn the_evidence_property_reaches_both_branches() {
    let valid = "- id: A\n  intent: a\n  query: hello\n";
    let duplicate = "- id: A\n  intent: a\n  query: x\n- id: A\n  intent: b\n  query: y\n";
    let bypassed = "- id: A\n  intent: c\n  query: x\n";
    for (golden, verdict) in [
        (valid, true),
        ("# nothing\n", false),
        (duplicate, false),
        (bypassed, false),
    ] {
        match verdict_only_with_evidence(golden) {
            Ok(v) => assert_eq!(v, verdict, "{golden}"),
            Err(e) => panic!("{golden}: {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Policy comes from the base: whatever a head does to thresholds, quality, the mode, the
    /// harness command or the output estimates, the verdict and every case's cost are those of the
    /// same head without those edits.
    #[test]
    fn a_head_change_to_a_policy_input_never_changes_the_verdict(
        queries in prop::collection::vec((0u8..3, "[a-z][a-z ]{0,29}"), 1..12),
        longer in "[a-z ]{0,120}",
        fail_pct in 0u32..1000,
        estimate in 1u64..20,
        harness in any::<bool>(),
    ) {
        prop_assume!(queries.iter().any(|(i, _)| i % 3 != 2));
        let dir = tempfile::tempdir().unwrap();
        let (b, h, hp) = (dir.path().join("b"), dir.path().join("h"), dir.path().join("hp"));
        let g = golden(&queries);
        let config = "version: 1\ngolden: golden.yaml\nroutes: routes.yaml\n";
        let head_system = format!("You help with {{{{ query }}}}. {longer}");
        for t in [&b, &h, &hp] {
            write_tree(t, &[
                ("costgate.yaml", config),
                ("golden.yaml", g.as_str()),
                ("routes.yaml", ROUTES),
                ("s.j2", "You help with {{ query }}."),
            ]);
        }
        for t in [&h, &hp] {
            write_tree(t, &[("s.j2", head_system.as_str())]);
        }
        // The same head, plus edits to every policy input it could reach.
        let mut edited = format!(
            "{config}thresholds:\n  fail_query_regression_pct: {fail_pct}\n  pass_band_pct: 99\nquality:\n  max_broken_expectations: 7\n"
        );
        if harness {
            edited.push_str("mode: harness\nharness:\n  command: [\"sh\", \"-c\", \"exit 0\"]\n");
        }
        let routes = ROUTES
            .replace("output_tokens: 20", &format!("output_tokens: {estimate}"))
            .replace("output_tokens: 7", "output_tokens: 1");
        write_tree(&hp, &[("costgate.yaml", edited.as_str()), ("routes.yaml", routes.as_str())]);
        let plain = gate::check(&side(&b, "base"), &side(&h, "head"), &Options::default()).unwrap();
        let policy = gate::check(&side(&b, "base"), &side(&hp, "head"), &Options::default()).unwrap();
        prop_assert_eq!(policy.verdict, plain.verdict);
        prop_assert_eq!(&policy.reasons, &plain.reasons);
        prop_assert_eq!(&policy.summary, &plain.summary);
        prop_assert_eq!(&policy.cases, &plain.cases);
        prop_assert!(!policy.policy_changes.is_empty());
    }

    /// What was already true at the base is a note: a route both sides keep on a model past its
    /// end of life decides nothing, against the same route on a live model at the same prices.
    #[test]
    fn a_note_never_changes_the_verdict(
        queries in prop::collection::vec((0u8..2, "[a-z][a-z ]{0,29}"), 1..12),
        longer in "[a-z ]{0,120}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let g = golden(&queries);
        let pricing = "models:\n  acme.live-v1: {input_per_mtok: 1.0, output_per_mtok: 5.0, tokenizer: o200k_base}\n  acme.dead-v1: {input_per_mtok: 1.0, output_per_mtok: 5.0, tokenizer: o200k_base, end_of_life: \"2020-01-01\"}\n";
        let mut reports = Vec::new();
        for model in ["acme.live-v1", "acme.dead-v1"] {
            let (b, h) = (dir.path().join(format!("{model}-b")), dir.path().join(format!("{model}-h")));
            let routes = format!("a:\n  model: {model}\n  system: s.j2\n  output_tokens: 20\nb:\n  model: acme.live-v1\n  output_tokens: 7\n");
            for t in [&b, &h] {
                write_tree(t, &[
                    ("costgate.yaml", "version: 1\ngolden: golden.yaml\nroutes: routes.yaml\npricing: prices.yaml\n"),
                    ("golden.yaml", g.as_str()),
                    ("routes.yaml", routes.as_str()),
                    ("prices.yaml", pricing),
                    ("s.j2", "You help with {{ query }}."),
                ]);
            }
            let head_system = format!("You help with {{{{ query }}}}. {longer}");
            write_tree(&h, &[("s.j2", head_system.as_str())]);
            reports.push(gate::check(&side(&b, "base"), &side(&h, "head"), &Options::default()).unwrap());
        }
        let (live, dead) = (&reports[0], &reports[1]);
        prop_assert_eq!(dead.verdict, live.verdict);
        prop_assert_eq!(&dead.reasons, &live.reasons);
        prop_assert!(dead.notes.iter().any(|n| n.contains("acme.dead-v1, past its end of life")));
    }

    /// A secret an API echoes, redacted where it is caught, survives no output transformation:
    /// markdown (the comment), HTML inside it, workflow commands, the ticket's ADF and wiki text.
    #[test]
    fn redaction_holds_after_every_output_transformation(
        secret in "[A-Za-z0-9][A-Za-z0-9_*|%~#@<>&\\[\\]{}-]{11,30}",
        before in "[ -~]{0,20}",
        after in "[ -~]{0,20}",
    ) {
        use costgate::action::log::{escape_data, escape_property};
        use costgate::clients::jira::ticket::{to_adf, to_wiki};
        use costgate::output::markdown::escape;
        let r = costgate::infra::redact::Redactor::new([secret.as_str()], &[]);
        let raw = format!("{before} JIRA 401: token {secret} rejected {after}");
        let clean = r.redact(&raw);
        let forms: [Transform; 5] = [
            ("markdown", escape),
            ("workflow data", escape_data),
            ("workflow property", escape_property),
            ("wiki", to_wiki),
            ("adf", |s| to_adf(&format!("- {s}")).to_string()),
        ];
        for (what, t) in forms {
            let out = t(&clean);
            prop_assert!(!out.contains(secret.as_str()), "{}: {}", what, out);
            let escaped_secret = t(&secret);
            prop_assert!(
                escaped_secret.len() < 8 || !out.contains(escaped_secret.trim()),
                "{}: {}",
                what,
                out
            );
        }
    }
}

/// An output transformation of text, by name.
type Transform = (&'static str, fn(&str) -> String);
