//! The hardening probes (issue 13) re-run as tests: a pull request's template cannot hang or
//! exhaust the gate, no evidence never passes, YAML tags are not silently accepted, and secrets
//! echoed by an API never reach what costgate prints or publishes.

use std::path::{Path, PathBuf};

use crate::support::{check_dirs, costgate, run, write_tree};

const CONFIG: &str = "version: 1\ngolden: golden/\nroutes: app/routes.yaml\n";
const ROUTES: &str = "chat:\n  model: anthropic.claude-3-haiku-20240307-v1:0\n  system: prompts/system.j2\n  output_tokens: 10\n";
const GOLDEN: &str = "- id: C-1\n  intent: chat\n  query: \"hello\"\n- id: C-2\n  intent: chat\n  query: \"hi there\"\n";

/// Base and head trees; the head's system template is `head_system`.
fn trees(head_system: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let files = [
        ("costgate.yaml", CONFIG),
        ("golden/cases.yaml", GOLDEN),
        ("app/routes.yaml", ROUTES),
        ("prompts/system.j2", "You are a helpful assistant."),
    ];
    write_tree(&base, &files);
    write_tree(&head, &files);
    write_tree(&head, &[("prompts/system.j2", head_system)]);
    (dir, base, head)
}

fn check_text(base: &Path, head: &Path) -> (i32, String, String) {
    check_dirs(base, head, "text")
}

#[test]
fn nested_range_loops_run_out_of_fuel_naming_template_and_case() {
    let (_d, base, head) = trees(
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
    );
    let (code, out, err) = check_text(&base, &head);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("prompts/system.j2"), "{err}");
    assert!(err.contains("ran out of fuel"), "{err}");
    assert!(
        err.contains("case `C-1`") || err.contains("case `C-2`"),
        "{err}"
    );
}

#[test]
fn a_huge_rendered_prompt_is_refused_at_the_output_cap() {
    // 3 MiB per iteration, 2 iterations: over the 4 MiB cap, within fuel.
    let (_d, base, head) = trees("{% for i in range(2) %}{{ 'x' * 3000000 }}{% endfor %}");
    let (code, _, err) = check_text(&base, &head);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exceeds 4 MiB"), "{err}");
    assert!(err.contains("prompts/system.j2"), "{err}");
}

#[test]
fn a_string_doubled_in_a_namespace_hits_the_memory_ceiling_with_a_named_error() {
    let (_d, base, head) = trees(
        "{% set ns = namespace(s='0123456789abcdef') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    );
    // With the default process ceiling (4 GiB), the render's own allowance stops it.
    let out = costgate()
        .args(["check", "--base-dir"])
        .arg(&base)
        .arg("--head-dir")
        .arg(&head)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("more than 256 MiB"), "{err}");
    assert!(
        err.contains("template prompts/system.j2 for case `C-"),
        "{err}"
    );
    // The peak of every child this test process has waited for (others are far smaller): a
    // hostile template keeps costgate under 1 GiB.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the zeroed struct it is given.
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    assert!(
        usage.ru_maxrss < 1 << 20,
        "peak RSS {} KiB",
        usage.ru_maxrss
    );
}

#[test]
fn an_empty_golden_file_is_an_error_not_a_pass() {
    for golden in ["", "# only a comment\n", "[]\n"] {
        let (_d, base, head) = trees("You are a helpful assistant.");
        for t in [&base, &head] {
            write_tree(t, &[("golden/cases.yaml", golden)]);
        }
        let (code, out, err) = check_text(&base, &head);
        assert_eq!(code, 2, "golden {golden:?}: {out}\n{err}");
        assert!(err.contains("has no cases"), "{err}");
        assert!(!out.contains("PASS"), "{out}");
    }
}

#[test]
fn a_side_that_makes_no_model_call_is_an_error_not_a_pass() {
    let (_d, base, head) = trees("You are a helpful assistant.");
    write_tree(&head, &[("app/routes.yaml", "chat:\n  bypass: true\n")]);
    let (code, out, err) = check_text(&base, &head);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("no model call on the head side"), "{err}");
    // Both sides bypassed: still no evidence.
    write_tree(&base, &[("app/routes.yaml", "chat:\n  bypass: true\n")]);
    let (code, _, err) = check_text(&base, &head);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no model call on the base side"), "{err}");
}

#[test]
fn yaml_tags_on_golden_fields_are_not_accepted_silently() {
    let (_d, base, head) = trees("You are a helpful assistant.");
    let custom = "- id: C-1\n  intent: !custom chat\n  query: \"hello\"\n";
    for t in [&base, &head] {
        write_tree(t, &[("golden/cases.yaml", custom)]);
    }
    let (code, _, err) = check_text(&base, &head);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("golden/cases.yaml"), "{err}");
    // YAML's own tags too: `!!binary` on an id is refused, naming the file and the line.
    let binary = "- id: C-0\n  intent: chat\n  query: \"hi\"\n- id: !!binary aGVsbG8=\n  intent: chat\n  query: \"hello\"\n";
    for t in [&base, &head] {
        write_tree(t, &[("golden/cases.yaml", binary)]);
    }
    let (code, out, err) = check_dirs(&base, &head, "json");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("golden/cases.yaml:4:7: YAML tag `tag:yaml.org,2002:binary` is not allowed"),
        "{err}"
    );
}

/// A harness that looks for a token planted in costgate's environment everywhere a process of
/// the same machine can: its own environment, every `/proc/*/environ` and `cmdline` it can see
/// (costgate's, its parent's, the test runner's), and the files costgate wrote (its `TMPDIR`).
/// The needle is assembled at run time so that the script's own text never matches it.
const SNOOP: &str = r#"found=""
n="PLANTED"; n="$n-SECRET"
env | grep -q "$n" && found="$found env"
for f in /proc/[0-9]*/environ /proc/[0-9]*/task/[0-9]*/environ /proc/[0-9]*/cmdline; do
  if tr '\0' '\n' < "$f" 2>/dev/null | grep -q "$n"; then found="$found $f"; fi
done
for p in "$PPID" 1; do
  tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -q "$n" && found="$found ppid:$p"
done
grep -rqs "$n" "$TMPDIR" 2>/dev/null && found="$found tmpfiles"
echo "visible:$(ls -d /proc/[0-9]* | wc -l) found:$found" > "$OUT_DIR/snoop-$COSTGATE_SIDE.txt"
"#;

fn snoop_trees(out: &Path) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    let script = SNOOP.replace("$OUT_DIR", &out.display().to_string());
    let cfg = format!(
        "version: 1\ngolden: golden/\nmode: harness\nharness:\n  command: [\"sh\", \"-c\", {}]\n  timeout_s: 60\n",
        serde_json::to_string(&script).unwrap()
    );
    for t in [&base, &head] {
        write_tree(
            t,
            &[
                ("costgate.yaml", cfg.as_str()),
                ("golden/cases.yaml", GOLDEN),
            ],
        );
    }
    (dir, base, head)
}

fn snoop(isolation: Option<&str>) -> String {
    let out = tempfile::tempdir().unwrap();
    let (_d, base, head) = snoop_trees(out.path());
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = costgate();
    cmd.env("TMPDIR", tmp.path())
        .args(["check", "--base-dir"])
        .arg(&base)
        .arg("--head-dir")
        .arg(&head)
        .env("INPUT_GITHUB-TOKEN", "ghp_PLANTED-SECRET-0123456789")
        .env("JIRA_TOKEN", "jira-PLANTED-SECRET-0123456789")
        .env("AWS_SECRET_ACCESS_KEY", "aws-PLANTED-SECRET-0123456789");
    if let Some(v) = isolation {
        cmd.env("COSTGATE_HARNESS_ISOLATION", v);
    }
    let (code, _, err) = run(&mut cmd);
    // The harness makes no Bedrock call, so there is no verdict: that is not what is tested.
    assert_eq!(code, 3, "{err}");
    std::fs::read_to_string(out.path().join("snoop-head.txt"))
        .unwrap_or_else(|e| panic!("the harness did not run ({e}): {err}"))
}

#[test]
fn the_harness_cannot_find_a_token_planted_in_costgates_environment() {
    let seen = snoop(None);
    assert!(
        seen.ends_with("found:\n"),
        "the harness found the token: {seen}"
    );
    // It sees only its own processes (sh, and the few it starts), not the machine's.
    let visible: usize = seen
        .split_whitespace()
        .find_map(|w| w.strip_prefix("visible:"))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(visible <= 6, "{seen}");
}

#[test]
fn without_isolation_the_same_harness_finds_the_token() {
    // The control: the probe works, so the test above can fail.
    let seen = snoop(Some("off"));
    assert!(seen.contains("/proc/"), "{seen}");
}
