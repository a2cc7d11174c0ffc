//! `costgate check` end to end on small fixture trees: every verdict, the policy-from-base rule,
//! configuration errors with exit code 2, and git revisions read without a checkout.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    check_dirs as check, costgate, git, git_commit_all, git_init, repo_root, report_case, run,
    write_tree,
};

// Output lengths are small so that prompt growth dominates the cost of a case, as it does for the
// short intents of real chatbots.
const CONFIG: &str = "version: 1\ngolden: golden/\nroutes: app/routes.yaml\n";
const ROUTES: &str = "\
chat:
  model: amazon.nova-lite-v1:0
  system: prompts/system.j2
  output_tokens: 10
faq:
  model: anthropic.claude-haiku-4-5-20251001-v1:0
  prompt: prompts/faq.j2
  output_tokens: 5
order_status:
  bypass: true
";
const SYSTEM: &str = "You are MangaAssist, the helpful assistant of a manga store. Answer briefly.";
const FAQ: &str =
    "Answer this shipping question for a {{ tier or 'standard' }} customer: {{ query }}";

fn golden(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let intent = ["chat", "faq", "order_status"][i % 3];
        s.push_str(&format!("- id: C-{i:03}\n  intent: {intent}\n  query: \"Question number {i} about One Piece volume {i}\"\n"));
    }
    s
}

/// A base/head pair of trees; `edit` changes the head.
fn pair(edit: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let head = dir.path().join("head");
    let g = golden(30);
    let files: Vec<(&str, &str)> = vec![
        ("costgate.yaml", CONFIG),
        ("golden/cases.yaml", &g),
        ("app/routes.yaml", ROUTES),
        ("prompts/system.j2", SYSTEM),
        ("prompts/faq.j2", FAQ),
    ];
    write_tree(&base, &files);
    write_tree(&head, &files);
    write_tree(&head, edit);
    (dir, base, head)
}

fn json(base: &Path, head: &Path) -> (i32, Value) {
    let (code, out, err) = check(base, head, "json");
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {out}\nstderr: {err}"));
    (code, v)
}

#[test]
fn identical_trees_pass_with_exit_0() {
    let (_d, base, head) = pair(&[]);
    let (code, v) = json(&base, &head);
    assert_eq!(code, 0);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["summary"]["cases"], 30);
    assert_eq!(v["summary"]["total_delta_pct"], 0.0);
    assert!(
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "unchanged")
    );
}

#[test]
fn longer_system_prompt_fails_and_names_the_segment() {
    let longer = format!(
        "{SYSTEM} Always mention our loyalty programme, our free-shipping threshold of 5,000 yen, our return policy of thirty days, and our new release calendar, and sign off with the store's motto in both Japanese and English."
    );
    let (_d, base, head) = pair(&[("prompts/system.j2", &longer)]);
    let (code, v) = json(&base, &head);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["fail_kinds"][0], "query-regression");
    let c0 = report_case(&v, "C-000");
    assert_eq!(c0["status"], "regressed");
    assert_eq!(c0["grew"], "system");
    assert!(c0["head"]["input_tokens"].as_u64() > c0["base"]["input_tokens"].as_u64());
    assert!(
        v["reasons"][0].as_str().unwrap().ends_with("> 25%"),
        "{}",
        v["reasons"]
    );
    // Bypassed cases stay free and unchanged.
    let bypass = report_case(&v, "C-002");
    assert_eq!(bypass["base"]["cost_usd"], 0.0);
    assert_eq!(bypass["status"], "unchanged");
}

#[test]
fn small_growth_warns_with_exit_0() {
    // FAQ prompt grows a little: every faq case moves more than the 10% band, none past 25%.
    let (_d, base, head) = pair(&[(
        "prompts/faq.j2",
        "Answer this shipping question briefly, politely and in one short paragraph for a {{ tier or 'standard' }} customer: {{ query }}",
    )]);
    let (code, v) = json(&base, &head);
    assert_eq!(v["verdict"], "warn", "{:#}", v["reasons"]);
    assert_eq!(code, 0);
    let max = v["summary"]["max_regression_pct"].as_f64().unwrap();
    assert!(max > 10.0 && max <= 25.0, "{max}");
}

#[test]
fn route_change_to_a_pricier_model_fails_and_is_listed() {
    let routes = ROUTES.replace(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
    );
    let (_d, base, head) = pair(&[("app/routes.yaml", &routes)]);
    let (code, v) = json(&base, &head);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("fail")));
    assert_eq!(v["routing_changes"][0]["intent"], "faq");
    assert_eq!(
        v["routing_changes"][0]["head"],
        "anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    let faq = report_case(&v, "C-001");
    assert_eq!(faq["model_changed"], true);
}

#[test]
fn bypassed_intent_routed_to_a_model_is_an_unbounded_regression() {
    let routes = ROUTES.replace(
        "order_status:\n  bypass: true\n",
        "order_status:\n  model: amazon.nova-micro-v1:0\n",
    );
    let (_d, base, head) = pair(&[("app/routes.yaml", &routes)]);
    let (code, v) = json(&base, &head);
    assert_eq!(code, 1);
    assert!(
        v["reasons"][0].as_str().unwrap().contains("+∞%"),
        "{}",
        v["reasons"]
    );
    assert_eq!(v["summary"]["max_regression_unbounded"], true);
    let c = report_case(&v, "C-002");
    assert_eq!(c["delta_pct"], Value::Null);
}

#[test]
fn head_that_loosens_its_thresholds_and_deletes_cases_still_fails() {
    let longer = format!(
        "{SYSTEM} {}",
        "Remember to be extremely thorough and friendly. ".repeat(6)
    );
    let loosened = format!(
        "{CONFIG}thresholds:\n  fail_query_regression_pct: 900\n  pass_band_pct: 900\n  warn_p95_regression_pct: 900\n"
    );
    // The head drops every chat case (the ones that regress) from its dataset.
    let kept: String = golden(30)
        .split("- id: ")
        .filter(|c| !c.is_empty() && !c.contains("intent: chat"))
        .map(|c| format!("- id: {c}"))
        .collect();
    let (_d, base, head) = pair(&[
        ("prompts/system.j2", &longer),
        ("costgate.yaml", &loosened),
        ("golden/cases.yaml", &kept),
    ]);
    let (code, v) = json(&base, &head);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["summary"]["cases"], 30, "the base dataset is gated");
    assert_eq!(v["thresholds"]["fail_query_regression_pct"], 25.0);
    let policy = v["policy_changes"].as_array().unwrap();
    assert!(
        policy.iter().any(|p| p
            .as_str()
            .unwrap()
            .starts_with("thresholds.fail_query_regression_pct: 25.0 → 900.0")),
        "{policy:?}"
    );
    assert!(
        policy.iter().any(|p| p
            .as_str()
            .unwrap()
            .starts_with("head removes 10 golden case(s), still gated")),
        "{policy:?}"
    );
    let c0 = report_case(&v, "C-000");
    assert_eq!(c0["removed_in_head"], true);
    assert_eq!(c0["status"], "regressed");
}

#[test]
fn head_pricing_edits_are_policy_changes_without_effect() {
    let cfg = format!("{CONFIG}pricing: pricing.yaml\n");
    let cheap = "models:\n  amazon.nova-lite-v1:0:\n    input_per_mtok: 0.0001\n    output_per_mtok: 0.0001\n";
    let longer = format!("{SYSTEM} {}", "Be thorough. ".repeat(30));
    let (_d, base, head) = pair(&[
        ("costgate.yaml", &cfg),
        ("pricing.yaml", cheap),
        ("prompts/system.j2", &longer),
    ]);
    let (code, v) = json(&base, &head);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("fail")));
    let policy: Vec<&str> = v["policy_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        policy
            .iter()
            .any(|p| p.starts_with("pricing: null → \"pricing.yaml\"")),
        "{policy:?}"
    );
    assert!(
        policy
            .iter()
            .any(|p| p.starts_with("pricing for amazon.nova-lite-v1:0")),
        "{policy:?}"
    );
}

#[test]
fn added_cases_are_reported_but_not_gated() {
    let g = format!(
        "{}- id: NEW-1\n  intent: chat\n  query: \"A brand new question about Frieren that is rather long {}\"\n",
        golden(30),
        "and long ".repeat(40)
    );
    let (_d, base, head) = pair(&[("golden/cases.yaml", &g)]);
    let (code, v) = json(&base, &head);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("pass")));
    let added = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "NEW-1")
        .unwrap();
    assert_eq!(added["status"], "added");
    assert_eq!(added["base"], Value::Null);
    assert!(added["head"]["cost_usd"].as_f64().unwrap() > 0.0);
}

/// What a table-driven error test edits and expects: (what, side, files, wanted substrings).
type Row<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a [&'a str]);

/// Each configuration problem exits 2 before any report is printed, with an error that names the
/// side, the file, the line and what is wrong. Rows: which side is edited, the files written into
/// it, and what the error must say.
#[test]
fn configuration_problems_exit_2_naming_the_file_line_and_problem() {
    let no_order_route = ROUTES.replace("order_status:\n  bypass: true\n", "");
    let rows: [Row<'_>; 4] = [
        (
            "malformed YAML",
            "base",
            vec![(
                "golden/cases.yaml",
                "- id: A\n  intent: chat\n  query: [unclosed\n",
            )],
            &["invalid configuration in base", "golden/cases.yaml:"],
        ),
        (
            "an intent with no route and no default",
            "head",
            vec![("app/routes.yaml", &no_order_route)],
            &[
                "invalid configuration in head",
                "golden/cases.yaml:7: case `C-002`: intent `order_status` has no route",
            ],
        ),
        (
            "an undefined template variable",
            "head",
            vec![(
                "prompts/faq.j2",
                "Docs: {% for d in context.docs %}{{ d }}{% endfor %} {{ query }}",
            )],
            &[
                "prompts/faq.j2:1: undefined variable `context.docs` while rendering case `C-001`",
                "golden/cases.yaml:4",
            ],
        ),
        (
            "an unknown configuration key",
            "base",
            vec![(
                "costgate.yaml",
                "version: 1\nroutes: app/routes.yaml\nthreshold:\n  x: 1\n",
            )],
            &["costgate.yaml:3:1:", "threshold"],
        ),
    ];
    for (what, side, files, wanted) in rows {
        let (_d, base, head) = pair(&[]);
        let dir = if side == "base" { &base } else { &head };
        write_tree(dir, &files);
        let (code, out, err) = check(&base, &head, "text");
        assert_eq!(code, 2, "{what}: {out}{err}");
        assert!(
            out.is_empty(),
            "{what}: an error must not print a report: {out}"
        );
        for w in wanted {
            assert!(err.contains(w), "{what}: missing `{w}` in {err}");
        }
    }
}

#[test]
fn every_configuration_problem_is_reported_at_once() {
    let (_d, base, head) = pair(&[]);
    let routes = "chat:\n  model: anthropic.claude-9-imaginary\n  system: prompts/missing.j2\nfaq:\n  prompt: prompts/faq.j2\n";
    write_tree(&base, &[("app/routes.yaml", routes)]);
    let (code, _, err) = check(&base, &head, "text");
    assert_eq!(code, 2);
    assert!(err.contains("3 problems found"), "{err}");
    assert!(
        err.contains(
            "app/routes.yaml:2:10: route `chat`: unknown model `anthropic.claude-9-imaginary`"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "app/routes.yaml:3:11: route `chat`: template `prompts/missing.j2` does not exist"
        ),
        "{err}"
    );
    assert!(err.contains("route `faq` has no `model`"), "{err}");
}

#[test]
fn missing_directory_is_a_usage_error() {
    let (code, _, err) = run(costgate().args([
        "check",
        "--base-dir",
        "/nonexistent/base",
        "--head-dir",
        "/nonexistent/head",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn git_revisions_are_read_without_touching_the_working_tree() {
    let (_d, base, _head) = pair(&[]);
    git_init(&base);
    let c1 = git_commit_all(&base, "base");
    let longer = format!(
        "{SYSTEM} {}",
        "Always upsell the deluxe box set. ".repeat(8)
    );
    std::fs::write(base.join("prompts/system.j2"), &longer).unwrap();
    let c2 = git_commit_all(&base, "head");
    // Dirty the working tree: it must not influence either side.
    std::fs::write(base.join("prompts/system.j2"), "tiny").unwrap();
    std::fs::write(base.join("costgate.yaml"), "garbage: [").unwrap();
    let (code, out, err) = run(costgate()
        .current_dir(&base)
        .args(["check", "--format", "json", "--base", &c1, "--head", "HEAD"]));
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["base"]["commit"], c1.as_str());
    assert_eq!(v["head"]["commit"], c2.as_str());
    assert_eq!(
        std::fs::read_to_string(base.join("prompts/system.j2")).unwrap(),
        "tiny"
    );
    assert_eq!(git(&base, &["status", "--porcelain"]).lines().count(), 2);
}

#[test]
fn unknown_git_revision_is_exit_3() {
    let (_d, base, _head) = pair(&[]);
    git_init(&base);
    git_commit_all(&base, "base");
    let (code, _, err) = run(costgate().current_dir(&base).args([
        "check",
        "--base",
        "no-such-branch",
        "--head",
        "HEAD",
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no-such-branch"), "{err}");
}

#[test]
fn out_dir_gets_json_and_markdown_and_output_is_byte_identical_across_runs() {
    let (_d, base, head) = pair(&[("prompts/system.j2", &format!("{SYSTEM} Be nice."))]);
    let out1 = base.parent().unwrap().join("out1");
    let out2 = base.parent().unwrap().join("out2");
    for out in [&out1, &out2] {
        let (code, _, err) = run(costgate()
            .args(["check", "--base-dir"])
            .arg(&base)
            .arg("--head-dir")
            .arg(&head)
            .arg("--out")
            .arg(out));
        assert!(code == 0 || code == 1, "{err}");
    }
    for f in ["report.json", "report.md"] {
        let a = std::fs::read(out1.join(f)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(
            a,
            std::fs::read(out2.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
}

#[test]
fn git_symlinked_golden_directory_reads_like_a_checkout() {
    // The shipped examples link `golden` to the base's dataset; a git revision must read the same
    // as a directory. Here the root's `golden` is a link to `data/golden`.
    let (_d, base, _head) = pair(&[]);
    git_init(&base);
    std::fs::create_dir_all(base.join("data")).unwrap();
    std::fs::rename(base.join("golden"), base.join("data/golden")).unwrap();
    std::os::unix::fs::symlink("data/golden", base.join("golden")).unwrap();
    git_commit_all(&base, "golden behind a link");
    let (code, out, err) = run(costgate()
        .current_dir(&base)
        .args(["run", "--rev", "HEAD", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["cases"], 30);
    let (code, dir_out, err) = run(costgate()
        .current_dir(&base)
        .args(["run", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let d: Value = serde_json::from_str(&dir_out).unwrap();
    assert_eq!(d["cases"], v["cases"]);
}

/// A reader that closes the pipe early (`| head -c 100`) must not turn the verdict into "no
/// verdict": the shipped FAIL example still exits 1.
#[test]
fn a_closed_pipe_on_stdout_keeps_the_verdict() {
    use std::io::Read;
    let root = repo_root();
    let mut child = costgate()
        .args(["check", "--format", "json", "--base-dir"])
        .arg(&root)
        .arg("--head-dir")
        .arg(root.join("examples/head"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert!(
        first.starts_with(b"{"),
        "{}",
        String::from_utf8_lossy(&first)
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The mode and the harness are policy: a head `costgate.yaml` that switches a render-mode
/// repository to harness mode with its own command does not get its code run; the head is priced
/// from its routes, and the switch is listed as a policy change.
#[test]
fn a_head_cannot_switch_the_gate_to_harness_mode() {
    let marker = tempfile::tempdir().unwrap();
    let ran = marker.path().join("ran");
    let harness = format!(
        "version: 1\ngolden: golden/\nroutes: app/routes.yaml\nmode: harness\nharness:\n  command: [\"sh\", \"-c\", \"touch {}\"]\n",
        ran.display()
    );
    let longer = format!(
        "{SYSTEM} {}",
        "Always upsell the deluxe box set. ".repeat(8)
    );
    let (_d, base, head) = pair(&[("costgate.yaml", &harness), ("prompts/system.j2", &longer)]);
    let (code, v) = json(&base, &head);
    assert!(!ran.exists(), "the head's harness command ran");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "fail", "the head's render-mode cost decides");
    let policy = v["policy_changes"].to_string();
    assert!(
        policy.contains("mode: \\\"render\\\" → \\\"harness\\\""),
        "{policy}"
    );
    assert!(policy.contains("harness.command"), "{policy}");
}

/// Output length estimates are policy: a head route that prices its answer at one token is priced
/// at the base's estimate, and the attempt is listed.
#[test]
fn a_head_cannot_lower_the_output_estimates() {
    let longer = format!(
        "{SYSTEM} {}",
        "Always upsell the deluxe box set. ".repeat(8)
    );
    let cheap = ROUTES.replace("output_tokens: 10", "output_tokens: 1");
    let (_d, base, head) = pair(&[("app/routes.yaml", &cheap), ("prompts/system.j2", &longer)]);
    let (code, v) = json(&base, &head);
    assert_eq!(code, 1, "{v:#}");
    let chat = report_case(&v, "C-000");
    assert_eq!(chat["head"]["output_tokens"], 10, "{chat:#}");
    let policy = v["policy_changes"].to_string();
    assert!(
        policy.contains(
            "route `chat` output_tokens: 10 → 1 (ignored: output estimates come from the base)"
        ),
        "{policy}"
    );
}

/// `max_output_tokens` is the application's own cap, so a head's cap applies; when it cuts the
/// base's estimated answer the report says so, since the cost moves without a prompt changing.
#[test]
fn a_head_cap_below_the_estimate_applies_and_is_named() {
    let capped = ROUTES.replace(
        "  output_tokens: 10\nfaq:",
        "  output_tokens: 10\n  max_output_tokens: 2\nfaq:",
    );
    let (_d, base, head) = pair(&[("app/routes.yaml", &capped)]);
    let (_, v) = json(&base, &head);
    let chat = report_case(&v, "C-000");
    assert_eq!(chat["head"]["output_tokens"], 2, "{chat:#}");
    assert!(
        v["notes"].to_string().contains(
            "route `chat` max_output_tokens 2 cuts the base's estimated answer of 10 tokens"
        ),
        "{}",
        v["notes"]
    );
}

/// A head golden file that does not load is ignored (the base's dataset is gated), and the policy
/// change says where and why, so the author can fix it.
#[test]
fn a_head_dataset_that_does_not_load_is_named_with_file_and_line() {
    let broken = "- id: C-000\n  query: no intent here\n";
    let (_d, base, head) = pair(&[("golden/cases.yaml", broken)]);
    let (_, v) = json(&base, &head);
    let policy = v["policy_changes"].to_string();
    assert!(
        policy.contains("head's golden dataset does not load (1 problem: golden/cases.yaml:2:3:"),
        "{policy}"
    );
    assert!(policy.contains("intent"), "{policy}");
}

/// A dataset intent a side's routes do not name is served by its `default` route: said, since a
/// misspelt intent would otherwise be priced as something else without a word.
#[test]
fn an_intent_served_by_the_default_route_is_named() {
    let with_default =
        format!("{ROUTES}default:\n  model: amazon.nova-lite-v1:0\n  output_tokens: 10\n");
    let renamed = with_default.replace("order_status:\n", "order_statuses:\n");
    let (_d, base, head) = pair(&[("app/routes.yaml", &renamed)]);
    write_tree(&base, &[("app/routes.yaml", &with_default)]);
    let (_, v) = json(&base, &head);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("10 case(s) of intent `order_status`, which the base's routes name and the head's no longer do, are served by the `default` route of app/routes.yaml"),
        "{notes}"
    );
    // A case the head adds with an intent no route names (a typo) is said too.
    let (_d, base, head) = pair(&[
        ("app/routes.yaml", &with_default),
        (
            "golden/new.yaml",
            "- id: NEW-1\n  intent: return\n  query: can I send it back?\n",
        ),
    ]);
    write_tree(&base, &[("app/routes.yaml", &with_default)]);
    let (_, v) = json(&base, &head);
    assert!(
        v["notes"]
            .to_string()
            .contains("1 case(s) the head adds with intent `return`, which no route names,"),
        "{}",
        v["notes"]
    );
    // A default the base already relies on is not the PR's doing: no note.
    let (_d, base, head) = pair(&[("app/routes.yaml", &renamed)]);
    write_tree(&base, &[("app/routes.yaml", &renamed)]);
    let (_, v) = json(&base, &head);
    assert!(
        !v["notes"].to_string().contains("`default` route"),
        "{}",
        v["notes"]
    );
}

/// The errors a new user hits first say what to do, with exit 2 (usage), never a raw git line.
#[test]
fn first_errors_name_the_flag_or_key_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    // Outside a git repository.
    let (code, _, err) = run(costgate()
        .args(["check", "--base", "main", "--head", "HEAD"])
        .current_dir(tmp.path()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not inside a git repository"), "{err}");
    assert!(err.contains("--base-dir DIR --head-dir DIR"), "{err}");

    // --out on a file, before any work.
    let file = tmp.path().join("report.txt");
    std::fs::write(&file, "mine\n").unwrap();
    let (code, _, err) = run(costgate()
        .args(["run", "--dir"])
        .arg(repo_root().join("examples/head"))
        .arg("--out")
        .arg(&file));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is a file; --out names a directory"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");

    // A misspelt harness program is named by its key.
    let harness = tmp.path().join("harness");
    write_tree(
        &harness,
        &[
            (
                "costgate.yaml",
                "version: 1\ngolden: golden.yaml\nmode: harness\nharness:\n  command: [\"pyhton3\", \"h.py\"]\n",
            ),
            ("golden.yaml", "- {id: A, intent: faq, query: hi}\n"),
        ],
    );
    let (code, _, err) = run(costgate().args(["run", "--dir"]).arg(&harness));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`harness.command` in costgate.yaml starts with `pyhton3`: not found on PATH"),
        "{err}"
    );

    // The action's entry point outside a workflow run.
    git_init(tmp.path());
    let (code, _, err) = run(costgate()
        .arg("action")
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .current_dir(tmp.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("outside a workflow run `costgate check --base REF --head REF`"),
        "{err}"
    );
}
