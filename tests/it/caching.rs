//! Prompt caching (docs/pricing.md), exact to the bit: render mode's `cache`/`cache_ttl` routes and
//! harness mode's own cache points through boto3, priced by the steady-state rule, with the note
//! and the comment sentence when a PR makes a shared prefix unique.

use serde_json::Value;

use crate::support::*;
use crate::support::{check_json as check, report_case as case};

/// Exact tokenizer and round prices, so every expected cost is a plain formula.
const PRICING: &str = "\
models:
  acme.cache-m:
    input_per_mtok: 1
    output_per_mtok: 2
    cache_read_per_mtok: 0.1
    cache_write_per_mtok: 1.25
    cache_write_1h_per_mtok: 2
    min_cache_tokens: MIN
    tokenizer: cl100k_base
  acme.nocache-m:
    input_per_mtok: 1
    output_per_mtok: 2
    tokenizer: cl100k_base
";

const SYSTEM: &str = "You are MangaAssist, the helpful assistant of a manga store. Answer briefly and kindly, and recommend series in print.";

fn config(min: u64) -> String {
    format!(
        "version: 1\ngolden: golden/\nroutes: app/routes.yaml\npricing: pricing.yaml\n# min {min}\n"
    )
}

const GOLDEN: &str = "\
- {id: K-1, intent: chat, query: manga like Frieren}
- {id: K-2, intent: chat, query: something like Berserk}
- {id: K-3, intent: chat, query: a short comedy}
- {id: K-4, intent: follow, query: and the next one?, history: [{role: user, content: hello there}, {role: assistant, content: \"hi, how can I help?\"}]}
- {id: K-5, intent: follow, query: anything else?, history: [{role: user, content: hello there}, {role: assistant, content: \"hi, how can I help?\"}]}
- {id: K-6, intent: follow, query: thanks, history: [{role: user, content: a different opening line}, {role: assistant, content: sure}]}
";

fn routes(chat_cache: &str, ttl: &str) -> String {
    format!(
        "chat:\n  model: acme.cache-m\n  system: prompts/system.j2\n  output_tokens: 10\n  cache: {chat_cache}\n  cache_ttl: {ttl}\nfollow:\n  model: acme.cache-m\n  system: prompts/system.j2\n  output_tokens: 10\n  cache: history\n"
    )
}

fn tree(root: &std::path::Path, min: u64, routes: &str, system: &str) {
    write_tree(
        root,
        &[
            ("costgate.yaml", &config(min)),
            ("pricing.yaml", &PRICING.replace("MIN", &min.to_string())),
            ("golden/cases.yaml", GOLDEN),
            ("app/routes.yaml", routes),
            ("prompts/system.j2", system),
        ],
    );
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

/// The formula of docs/pricing.md with the test prices (input 1, output 2, read 0.1, write `w`).
fn cost(input: u64, read: u64, write: u64, w: f64, output: u64) -> f64 {
    ((input - read - write) as f64 * 1.0
        + read as f64 * 0.1
        + write as f64 * w
        + output as f64 * 2.0)
        / 1e6
}

#[test]
fn a_shared_system_prompt_is_read_and_a_unique_history_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    tree(&base, 10, &routes("system", "5m"), SYSTEM);
    tree(&head, 10, &routes("system", "5m"), SYSTEM);
    let (code, r, err) = check(&base, &head);
    assert_eq!(code, 0, "{err}");
    let system = costgate::measure::tokenize::Encoding::Cl100kBase.count(SYSTEM);
    for id in ["K-1", "K-2", "K-3"] {
        let b = &case(&r, id)["base"];
        assert_eq!(
            (u(&b["cache_read_tokens"]), u(&b["cache_write_tokens"])),
            (system, 0)
        );
        assert_eq!(
            b["cost_usd"].as_f64().unwrap(),
            cost(u(&b["input_tokens"]), system, 0, 1.25, 10),
            "{id}"
        );
    }
    // `cache: history`: K-4 and K-5 share system + the same two history turns, K-6 does not.
    let k4 = &case(&r, "K-4")["base"];
    let prefix = system
        + costgate::measure::tokenize::Encoding::Cl100kBase.count("hello there")
        + costgate::measure::tokenize::Encoding::Cl100kBase.count("hi, how can I help?");
    assert_eq!(
        (u(&k4["cache_read_tokens"]), u(&k4["cache_write_tokens"])),
        (prefix, 0)
    );
    assert_eq!(u(&case(&r, "K-5")["base"]["cache_read_tokens"]), prefix);
    let k6 = &case(&r, "K-6")["base"];
    let k6_prefix = system
        + costgate::measure::tokenize::Encoding::Cl100kBase.count("a different opening line")
        + costgate::measure::tokenize::Encoding::Cl100kBase.count("sure");
    assert_eq!(
        (u(&k6["cache_read_tokens"]), u(&k6["cache_write_tokens"])),
        (0, k6_prefix)
    );
    assert_eq!(
        k6["cost_usd"].as_f64().unwrap(),
        cost(u(&k6["input_tokens"]), 0, k6_prefix, 1.25, 10)
    );
    // input_tokens keeps meaning all input.
    assert_eq!(
        u(&k6["input_tokens"]),
        k6_prefix + costgate::measure::tokenize::Encoding::Cl100kBase.count("thanks")
    );
}

#[test]
fn a_per_query_value_in_front_of_the_cache_point_fails_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    tree(&base, 10, &routes("system", "5m"), SYSTEM);
    tree(
        &head,
        10,
        &routes("system", "5m"),
        &format!("Query: {{{{ query }}}}. {SYSTEM}"),
    );
    let (code, r, err) = check(&base, &head);
    assert_eq!(code, 1, "{err}");
    assert_eq!(r["verdict"], "fail");
    let k1 = &case(&r, "K-1")["head"];
    let written = u(&k1["cache_write_tokens"]);
    assert_eq!(u(&k1["cache_read_tokens"]), 0);
    assert!(written > 0);
    assert_eq!(
        k1["cost_usd"].as_f64().unwrap(),
        cost(u(&k1["input_tokens"]), 0, written, 1.25, 10)
    );
    assert_eq!(r["cache_lost"][0]["segment"], "system prompt");
    let lost: Vec<&str> = r["cache_lost"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(lost, ["K-1", "K-2", "K-3"]);
    let notes = r["notes"].to_string();
    assert!(notes.contains("prompt cache lost: 3 case(s)"), "{notes}");
    let (_, md, _) = check_dirs(&base, &head, "markdown");
    assert!(
        md.contains("**Prompt cache lost:** 3 case(s) shared their cached system prompt"),
        "{md}"
    );
}

#[test]
fn below_the_minimum_or_without_cache_prices_nothing_is_cached_and_a_note_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    tree(&base, 100_000, &routes("system", "5m"), SYSTEM);
    tree(&head, 100_000, &routes("system", "5m"), SYSTEM);
    let (code, r, err) = check(&base, &head);
    assert_eq!(code, 0, "{err}");
    let b = &case(&r, "K-1")["base"];
    assert_eq!(
        (u(&b["cache_read_tokens"]), u(&b["cache_write_tokens"])),
        (0, 0)
    );
    assert_eq!(
        b["cost_usd"].as_f64().unwrap(),
        cost(u(&b["input_tokens"]), 0, 0, 1.25, 10)
    );
    let notes = r["notes"].to_string();
    assert!(notes.contains("fewer than 100000 tokens"), "{notes}");
    // One note per model and reason, not one per case.
    assert_eq!(
        notes.matches("minimum cacheable prefix").count(),
        1,
        "{notes}"
    );

    let no_prices = routes("system", "5m").replace(
        "model: acme.cache-m\n  system: prompts/system.j2\n  output_tokens: 10\n  cache: system",
        "model: acme.nocache-m\n  system: prompts/system.j2\n  output_tokens: 10\n  cache: system",
    );
    tree(&base, 10, &no_prices, SYSTEM);
    tree(&head, 10, &no_prices, SYSTEM);
    let (_, r, _) = check(&base, &head);
    assert!(
        r["notes"].to_string().contains("no 5-minute cache prices"),
        "{}",
        r["notes"]
    );
    assert_eq!(u(&case(&r, "K-1")["base"]["cache_read_tokens"]), 0);
}

#[test]
fn a_one_hour_ttl_writes_at_the_one_hour_price() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    // One chat case alone: its prefix is unique, so it is written.
    let golden = "- {id: K-1, intent: chat, query: manga like Frieren}\n";
    for root in [&base, &head] {
        tree(root, 10, &routes("system", "1h"), SYSTEM);
        write_tree(root, &[("golden/cases.yaml", golden)]);
    }
    let (_, r, err) = check(&base, &head);
    let b = &case(&r, "K-1")["base"];
    let system = costgate::measure::tokenize::Encoding::Cl100kBase.count(SYSTEM);
    assert_eq!(u(&b["cache_write_tokens"]), system, "{err}");
    assert_eq!(
        b["cost_usd"].as_f64().unwrap(),
        cost(u(&b["input_tokens"]), 0, system, 2.0, 10)
    );
}

#[test]
fn route_cache_mistakes_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let bad = "chat:\n  model: acme.cache-m\n  cache: system\n  service_tier: flex\nfollow:\n  model: acme.cache-m\n  cache: sometimes\n";
    tree(&base, 10, bad, SYSTEM);
    tree(&head, 10, bad, SYSTEM);
    let (code, _, err) = check_dirs(&base, &head, "json");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("sometimes"), "{err}");
    let bad = "chat:\n  model: acme.cache-m\n  cache: system\n  service_tier: flex\n";
    tree(&base, 10, bad, SYSTEM);
    let (code, _, err) = check_dirs(&base, &head, "json");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("has `cache: system` but no `system` template"),
        "{err}"
    );
    assert!(err.contains("no `flex` tier prices"), "{err}");
}

/// A boto3 application with two cache points per call (after the system prompt, after the
/// history), as an application that caches its conversation does.
const APP: &str = r#"
import json, os, boto3
client = boto3.client("bedrock-runtime")
SYSTEM = open("system.txt").read()
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    history = [{"role": m["role"], "content": [{"text": m["content"]}]} for m in case.get("history", [])]
    if history:
        history[-1]["content"].append({"cachePoint": {"type": "default"}})
    r = client.converse(
        modelId="acme.cache-m",
        system=[{"text": SYSTEM}, {"cachePoint": {"type": "default"}}],
        messages=history + [{"role": "user", "content": [{"text": case["query"]}]}],
        inferenceConfig={"maxTokens": 10},
        requestMetadata={"costgate_case": case["id"]},
    )
    u = r["usage"]
    with open("usage-out.jsonl", "a") as f:
        f.write(json.dumps({"id": case["id"], **u}) + "\n")
"#;

#[test]
fn boto3_cache_points_are_priced_by_the_steady_state_and_served_sequentially() {
    require_python(&["boto3"]);
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let cfg = "version: 1\ngolden: golden/\nmode: harness\npricing: pricing.yaml\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 120\n";
    for root in [&base, &head] {
        write_tree(
            root,
            &[
                ("costgate.yaml", cfg),
                ("pricing.yaml", &PRICING.replace("MIN", "10")),
                ("golden/cases.yaml", GOLDEN),
                ("app.py", APP),
                ("system.txt", SYSTEM),
            ],
        );
    }
    // The harness runs in each side's directory and appends the usage it was served there.
    let usage = base.join("usage-out.jsonl");
    let (code, r, err) = check(&base, &head);
    assert_eq!(code, 0, "{err}");
    let enc = costgate::measure::tokenize::Encoding::Cl100kBase;
    let system = enc.count(SYSTEM);
    let shared_history = system + enc.count("hello there") + enc.count("hi, how can I help?");
    let k4 = &case(&r, "K-4")["base"];
    // Both points of K-4 are shared with K-5: the longer is read, nothing written.
    assert_eq!(
        (u(&k4["cache_read_tokens"]), u(&k4["cache_write_tokens"])),
        (shared_history, 0)
    );
    // K-6 shares only the system prompt: read that, write its own history up to the last point.
    let k6 = &case(&r, "K-6")["base"];
    let k6_last = system + enc.count("a different opening line") + enc.count("sure");
    assert_eq!(
        (u(&k6["cache_read_tokens"]), u(&k6["cache_write_tokens"])),
        (system, k6_last - system)
    );
    assert_eq!(
        k6["cost_usd"].as_f64().unwrap(),
        cost(u(&k6["input_tokens"]), system, k6_last - system, 1.25, 10)
    );
    // What the application saw: the first call with the system prompt wrote it, later ones read.
    {
        let seen: Vec<Value> = std::fs::read_to_string(&usage)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let first = &seen[0];
        assert_eq!(first["id"], "K-1");
        assert_eq!(u(&first["cacheWriteInputTokens"]), system);
        assert_eq!(u(&first["cacheReadInputTokens"]), 0);
        let second = &seen[1];
        assert_eq!(u(&second["cacheReadInputTokens"]), system);
        assert_eq!(
            u(&second["inputTokens"]),
            u(&case(&r, "K-2")["base"]["input_tokens"]) - system
        );
    }
}

/// Two calls per case, each with a cache point after its system prompt: a classifier whose prompt
/// stays shared, and an answer call. The head puts the case's query in front of the answer's cache
/// point, so that prefix is no longer shared while the classifier's still is: the case reads less
/// and writes more, and the report names it as render mode does.
const TWO_CALLS: &str = r#"
import json, os, urllib.request
URL = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]
SYSTEM = open("system.txt").read()
PER_QUERY = open("per_query.txt").read() == "yes"

def call(case, system, text):
    body = json.dumps({"system": [{"text": system}, {"cachePoint": {"type": "default"}}],
                       "messages": [{"role": "user", "content": [{"text": text}]}],
                       "inferenceConfig": {"maxTokens": 10}}).encode()
    req = urllib.request.Request(URL + "/model/acme.cache-m/converse", data=body,
                                 headers={"content-type": "application/json", "x-costgate-case": case})
    urllib.request.urlopen(req).read()

for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    call(case["id"], "Classify the request into an intent. " + SYSTEM, case["query"])
    answer_system = ("Query: " + case["query"] + ". " + SYSTEM) if PER_QUERY else SYSTEM
    call(case["id"], answer_system, case["query"])
"#;

#[test]
fn a_harness_case_that_stops_sharing_one_of_its_prefixes_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let cfg = "version: 1\ngolden: golden/\nmode: harness\npricing: pricing.yaml\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 120\n";
    for (root, per_query) in [(&base, "no"), (&head, "yes")] {
        write_tree(
            root,
            &[
                ("costgate.yaml", cfg),
                ("pricing.yaml", &PRICING.replace("MIN", "10")),
                ("golden/cases.yaml", GOLDEN),
                ("app.py", TWO_CALLS),
                ("system.txt", SYSTEM),
                ("per_query.txt", per_query),
            ],
        );
    }
    let (_, r, err) = check(&base, &head);
    let k2 = case(&r, "K-2");
    // The classifier's prefix is still read at the head: the old all-or-nothing test missed it.
    assert!(u(&k2["head"]["cache_read_tokens"]) > 0, "{err}{k2:#}");
    let lost: Vec<&str> = r["cache_lost"][0]["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{r:#}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(lost.contains(&"K-2") && lost.contains(&"K-6"), "{lost:?}");
    assert!(
        r["notes"].to_string().contains("prompt cache lost:"),
        "{}",
        r["notes"]
    );
}
