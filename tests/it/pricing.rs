//! `costgate pricing` and what the table carries into a check: `--check` on stale entries and
//! end-of-life routes, the gate's warn for a head that routes to a retired model, aliases for
//! application inference profile ARNs, and the offer-file generator script on its fixture.

use serde_json::Value;

use crate::support::*;

const ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3";

fn repo(root: &std::path::Path, routes: &str, pricing: &str) {
    write_tree(
        root,
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nroutes: routes.yaml\npricing: pricing.yaml\n",
            ),
            (
                "golden.yaml",
                "- {id: P-1, intent: chat, query: manga like Frieren}\n- {id: P-2, intent: faq, query: shipping to Osaka?}\n",
            ),
            ("routes.yaml", routes),
            ("pricing.yaml", pricing),
        ],
    );
}

const PRICING: &str = "\
models:
  acme.retired-v1:
    input_per_mtok: 1
    output_per_mtok: 2
    as_of: \"2026-01-10\"
    end_of_life: \"2026-10-01\"
  acme.current-v1:
    input_per_mtok: 1
    output_per_mtok: 2
    as_of: \"2026-11-20\"
aliases:
  \"ARN\": us.anthropic.claude-3-haiku-20240307-v1:0
";

fn pricing_file() -> String {
    PRICING.replace("ARN", ARN)
}

#[test]
fn check_flags_stale_entries_and_routes_past_end_of_life() {
    let dir = tempfile::tempdir().unwrap();
    repo(
        dir.path(),
        "chat:\n  model: acme.retired-v1\nfaq:\n  model: acme.current-v1\n",
        &pricing_file(),
    );
    let config = dir.path().join("costgate.yaml");
    let (code, out, err) = run(costgate()
        .args(["pricing", "--check", "--config"])
        .arg(&config)
        .env("COSTGATE_TODAY", "2026-12-02"));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("check: 2 problem(s)"), "{out}");
    assert!(
        out.contains("acme.retired-v1: price read on 2026-01-10, 326 days ago"),
        "{out}"
    );
    assert!(
        out.contains("acme.retired-v1 reached end of life on 2026-10-01 and Bedrock no longer serves it; used by routes.yaml: intent `chat`"),
        "{out}"
    );
    // Only what the repository uses or sets is aged: the built-in Claude 3 Haiku is not listed.
    assert!(
        !out.contains("anthropic.claude-3-haiku-20240307-v1:0: price read"),
        "{out}"
    );
    // The listing shows every entry with its source and date, and the alias.
    assert!(
        out.contains(&format!("alias {ARN} -> us.anthropic.claude-3-haiku")),
        "{out}"
    );

    let (code, out, _) = run(costgate()
        .args(["pricing", "--check", "--format", "json", "--config"])
        .arg(&config)
        .env("COSTGATE_TODAY", "2026-12-02"));
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["problems"][1]["kind"], "end_of_life");
    assert_eq!(v["models"]["acme.retired-v1"]["end_of_life"], "2026-10-01");
    let builtin = &v["models"]["anthropic.claude-sonnet-4-5-20250929-v1:0"];
    assert!(
        builtin["source"].as_str().unwrap().starts_with("http"),
        "{builtin}"
    );
    assert!(
        builtin["profiles"]["global"]["input_per_mtok"].is_number(),
        "{builtin}"
    );

    // Fresh and alive: exit 0 (the repository's own entries are aged too, so drop the old one).
    let fresh = "models:\n  acme.current-v1: {input_per_mtok: 1, output_per_mtok: 2, as_of: \"2026-11-20\"}\n";
    repo(dir.path(), "chat:\n  model: acme.current-v1\n", fresh);
    let (code, out, _) = run(costgate()
        .args(["pricing", "--check", "--config"])
        .arg(&config)
        .env("COSTGATE_TODAY", "2026-12-02"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no entry older than 180 days"), "{out}");
}

#[test]
fn check_knows_the_builtin_lifecycle_through_a_profile() {
    // Claude Sonnet 4's end of life (AWS's model-lifecycle page) is 2026-10-14; no pricing file
    // entry says so, the built-in table does, and the `us.` profile resolves to it.
    let dir = tempfile::tempdir().unwrap();
    repo(
        dir.path(),
        "chat:\n  model: us.anthropic.claude-sonnet-4-20250514-v1:0\nfaq:\n  model: anthropic.claude-haiku-4-5-20251001-v1:0\n",
        "",
    );
    let config = dir.path().join("costgate.yaml");
    let check = |today: &str| {
        run(costgate()
            .args(["pricing", "--check", "--max-age", "100000", "--config"])
            .arg(&config)
            .env("COSTGATE_TODAY", today))
    };
    let (code, out, err) = check("2026-12-04");
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("check: 1 problem(s)"), "{out}");
    assert!(
        out.contains("reached end of life on 2026-10-14 and Bedrock no longer serves it; used by routes.yaml: intent `chat`"),
        "{out}"
    );
    // The listing names each profile's own tier prices after the entry's.
    assert!(
        out.contains("amazon.nova-2-lite-v1:0 | 0.33 | 2.75 | 0.0825 | 0.33 / - | - | global | priority, flex, batch; global: priority, flex, batch |"),
        "{out}"
    );
    // The day before, the same route is legacy and still served: no problem.
    let (code, out, _) = check("2026-10-13");
    assert_eq!(code, 0, "{out}");
}

/// `check --format json` on 2026-12-02, which must exit 0: the report and its text.
fn check_on_dec_2(base: &std::path::Path, head: &std::path::Path) -> (Value, String) {
    let (code, out, err) = run(costgate()
        .args(["check", "--format", "json", "--base-dir"])
        .arg(base)
        .arg("--head-dir")
        .arg(head)
        .env("COSTGATE_TODAY", "2026-12-02"));
    assert_eq!(code, 0, "{err}");
    (serde_json::from_str(&out).unwrap(), out)
}

/// A model the base already routes to past its end of life is not the PR's doing: a note, never a
/// reason, so an unchanged PR passes (and cannot build a warn streak it did not earn).
#[test]
fn a_retired_model_the_base_already_used_is_a_note_not_a_warn() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let routes = "chat:\n  model: acme.current-v1\n  output_tokens: 10\nfaq:\n  model: acme.retired-v1\n  output_tokens: 10\n";
    repo(&base, routes, &pricing_file());
    repo(&head, routes, &pricing_file());
    let (r, out) = check_on_dec_2(&base, &head);
    assert_eq!(r["verdict"], "pass", "{out}");
    assert_eq!(r["reasons"], serde_json::json!([]), "{out}");
    assert!(
        r["notes"].to_string().contains(
            "intent faq uses acme.retired-v1, past its end of life (2026-10-01), as the base already did"
        ),
        "{}",
        r["notes"]
    );
}

#[test]
fn a_head_routing_to_a_retired_model_warns_and_an_alias_prices_like_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let routes = format!(
        "chat:\n  model: \"{ARN}\"\n  output_tokens: 10\nfaq:\n  model: acme.current-v1\n  output_tokens: 10\n"
    );
    repo(&base, &routes, &pricing_file());
    repo(
        &head,
        &routes.replace("acme.current-v1", "acme.retired-v1"),
        &pricing_file(),
    );
    let (r, out) = check_on_dec_2(&base, &head);
    assert_eq!(r["verdict"], "warn", "{out}");
    assert!(
        r["reasons"]
            .to_string()
            .contains("intent faq uses acme.retired-v1, past its end of life (2026-10-01)"),
        "{}",
        r["reasons"]
    );
    // The alias resolves to Claude 3 Haiku's price.
    let p1 = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "P-1")
        .unwrap();
    let input = p1["base"]["input_tokens"].as_u64().unwrap() as f64;
    assert_eq!(
        p1["base"]["cost_usd"].as_f64().unwrap(),
        (input * 0.25 + 10.0 * 1.25) / 1e6
    );

    // Unmapped, the ARN is an error that names it, the route and the fix.
    repo(&base, &routes, "models: {}\n");
    let (code, _, err) = run(costgate()
        .args(["check", "--base-dir"])
        .arg(&base)
        .arg("--head-dir")
        .arg(&base));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("route `chat`"), "{err}");
    assert!(err.contains(ARN), "{err}");
    assert!(err.contains("aliases:"), "{err}");
}

#[test]
fn the_generator_script_rebuilds_its_fixture_and_the_output_loads() {
    let fixtures = repo_root().join("tests/fixtures/pricing");
    let out = std::process::Command::new("python3")
        .arg(repo_root().join("scripts/pricing_from_offer.py"))
        .args(["--region", "us-east-1"])
        .arg(fixtures.join("offer-sample.json"))
        .arg(fixtures.join("offer-sample-foundation-models.json"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).unwrap();
    let expected = std::fs::read_to_string(fixtures.join("offer-sample.expected.yaml")).unwrap();
    assert_eq!(generated, expected);
    // What it writes is a pricing file costgate accepts.
    let table =
        costgate::measure::pricing::PricingTable::with_overrides(&generated, "generated.yaml")
            .unwrap_or_else(|d| panic!("{d}"));
    let sonnet = table
        .resolve("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
        .unwrap();
    assert_eq!(sonnet.price.standard.rates.input_per_mtok, 3.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not in MODEL_IDS"), "{stderr}");
}
