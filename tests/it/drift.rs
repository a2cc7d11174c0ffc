//! `costgate drift` over a temporary git repository with release tags and a scripted history of
//! commits, one weekly run after each: the expected flags fire, the history grows by one entry per
//! week, the chart is valid SVG with one point per entry, the summary is markdown.

use std::path::Path;

use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::trees::example_tree;
use crate::support::*;

/// Runs `costgate drift` with a 4% week-over-week limit: the examples' timeline field adds 4.8% to
/// the mean at Haiku 4.5's prices, and the weekly tests want that one step flagged.
fn drift(repo: &Path, date: &str, summary: &Path) -> serde_json::Value {
    let (code, out, err) = run(costgate()
        .args([
            "drift",
            "--format",
            "json",
            "--branch",
            "main",
            "--wow-pct",
            "4",
            "--date",
            date,
            "--repo",
        ])
        .arg(repo)
        .arg("--summary")
        .arg(summary));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn use_app(repo: &Path, from: &Path) {
    std::fs::remove_dir_all(repo.join("app")).unwrap();
    copy_dir(&from.join("app"), &repo.join("app"));
}

fn flags(v: &serde_json::Value) -> Vec<String> {
    v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn drift_weekly_runs_flag_growth_and_baseline_drift_and_chart_the_history() {
    let dir = example_tree();
    let r = dir.path();
    let summary = tempfile::NamedTempFile::new().unwrap();
    git_init(r);
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "first", "--dir"])
        .arg(r)
        .env("COSTGATE_TODAY", "2026-10-01"));
    assert_eq!(code, 0, "{err}");
    git_commit_all(r, "baseline");
    git(r, &["tag", "v1.0.0"]);

    // Week 1: at the baseline, at the release.
    let v = drift(r, "2026-11-01", summary.path());
    assert_eq!(v["release_tag"], "v1.0.0");
    assert_eq!(
        (
            v["baseline_delta_pct"].as_f64(),
            v["release_delta_pct"].as_f64()
        ),
        (Some(0.0), Some(0.0))
    );
    assert!(v["week_over_week_pct"].is_null());
    assert!(flags(&v).is_empty());

    // Week 2: the escalation timeline field (+4.8% mean): week-over-week warns, baseline holds.
    use_app(r, &repo_root().join("examples/head-warn"));
    git_commit_all(r, "escalation timeline");
    let v = drift(r, "2026-11-08", summary.path());
    let wow = v["week_over_week_pct"].as_f64().unwrap();
    assert!(wow > 4.0 && wow < 15.0, "{v}");
    assert_eq!(flags(&v), ["wow"]);
    assert!(v["ticket"].is_null());

    // Week 3: a new release; under 15% over the baseline and under the week-over-week limit.
    use_app(r, &repo_root().join("examples/head"));
    git_commit_all(r, "brand voice");
    git(r, &["tag", "v1.1.0"]);
    git(r, &["tag", "v0.9.9"]); // older version, newer tag: version order decides
    let v = drift(r, "2026-11-15", summary.path());
    assert_eq!(v["release_tag"], "v1.1.0");
    assert_eq!(v["release_delta_pct"], 0.0);
    assert!(flags(&v).is_empty(), "{v}");

    // Week 4: chit-chat moves to Sonnet: far over the baseline, a ticket for this ISO week.
    let routes = r.join("app/routes.yaml");
    let text = std::fs::read_to_string(&routes).unwrap();
    std::fs::write(
        &routes,
        text.replace(
            "chit_chat:\n  model: amazon.nova-micro-v1:0",
            "chit_chat:\n  model: anthropic.claude-opus-4-5-20251101-v1:0",
        ),
    )
    .unwrap();
    git_commit_all(r, "chit-chat on sonnet");
    let v = drift(r, "2026-11-22", summary.path());
    assert_eq!(flags(&v), ["wow", "baseline"]);
    assert!(v["baseline_delta_pct"].as_f64().unwrap() > 15.0);
    assert!(v["release_delta_pct"].as_f64().unwrap() > 0.0);
    assert_eq!(v["ticket"]["dedup_key"], "costgate-drift-baseline-2026-W47");
    assert_eq!(v["ticket"]["priority"], "High");
    // A re-run the same day replaces the day's point and asks for the same (de-duplicated) ticket.
    let again = drift(r, "2026-11-22", summary.path());
    assert_eq!(again["ticket"]["dedup_key"], v["ticket"]["dedup_key"]);

    // Week 5: the cost owner re-baselines: the drift resets, the chart marks it.
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "second", "--dir"])
        .arg(r)
        .env("COSTGATE_TODAY", "2026-11-25"));
    assert_eq!(code, 0, "{err}");
    git_commit_all(r, "re-baseline");
    let v = drift(r, "2026-11-29", summary.path());
    assert_eq!(v["baseline_delta_pct"], 0.0);
    assert!(flags(&v).is_empty(), "{v}");

    let history = std::fs::read_to_string(r.join("costgate/drift-history.jsonl")).unwrap();
    let dates: Vec<String> = history
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["date"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        dates,
        [
            "2026-11-01",
            "2026-11-08",
            "2026-11-15",
            "2026-11-22",
            "2026-11-29"
        ]
    );

    let svg = std::fs::read_to_string(r.join("costgate/drift.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("valid XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let count = |class: &str| {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .count()
    };
    assert_eq!(count("point"), 5);
    assert_eq!(count("release"), 2, "v1.0.0 and v1.1.0 first appear");
    assert_eq!(count("baseline-reset"), 1);

    let md = std::fs::read_to_string(summary.path()).unwrap();
    assert_eq!(md.matches("## costgate drift").count(), 6);
    assert!(
        md.contains("🔴 cost is over the baseline") && md.contains("🟡 cost grew week over week"),
        "{md}"
    );
    assert!(md.contains("| vs release v1.1.0 |"), "{md}");
}

#[test]
fn drift_without_tags_or_baseline_still_records_a_point() {
    let dir = example_tree();
    git_init(dir.path());
    git_commit_all(dir.path(), "initial");
    let summary = tempfile::NamedTempFile::new().unwrap();
    let v = drift(dir.path(), "2026-11-01", summary.path());
    assert!(
        v["release_tag"].is_null()
            && v["baseline_delta_pct"].is_null()
            && v["release_delta_pct"].is_null()
    );
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("run `costgate baseline`"),
        "{v}"
    );
}

#[test]
fn drift_refuses_a_corrupt_history_line_naming_it() {
    let dir = example_tree();
    git_init(dir.path());
    git_commit_all(dir.path(), "initial");
    write_tree(
        dir.path(),
        &[(
            "costgate/drift-history.jsonl",
            "{\"date\":\"2026-11-01\"}\n",
        )],
    );
    let (code, _, err) = run(costgate().args(["drift", "--repo"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("drift-history.jsonl:1: not a drift history entry"),
        "{err}"
    );
}

/// A repository whose main is far over its baseline (chit-chat moved to Sonnet), so drift raises
/// the `baseline` flag and asks for a ticket.
fn over_baseline_repo() -> tempfile::TempDir {
    let dir = example_tree();
    let r = dir.path();
    git_init(r);
    let (code, _, err) = run(costgate()
        .args(["baseline", "--commit", "first", "--dir"])
        .arg(r)
        .env("COSTGATE_TODAY", "2026-10-01"));
    assert_eq!(code, 0, "{err}");
    let routes = r.join("app/routes.yaml");
    let text = std::fs::read_to_string(&routes).unwrap();
    std::fs::write(
        &routes,
        text.replace(
            "chit_chat:\n  model: amazon.nova-micro-v1:0",
            "chit_chat:\n  model: anthropic.claude-opus-4-5-20251101-v1:0",
        ),
    )
    .unwrap();
    git_commit_all(r, "over the baseline");
    dir
}

/// Runs `costgate drift` (a blocking process) with JIRA credentials pointing at `jira`.
async fn drift_with_jira(repo: &Path, jira: &MockServer) -> (i32, String, String) {
    let (repo, uri) = (repo.to_path_buf(), jira.uri());
    tokio::task::spawn_blocking(move || {
        let summary = repo.join("summary.md");
        run(costgate()
            .args([
                "drift",
                "--format",
                "json",
                "--branch",
                "main",
                "--date",
                "2026-11-22",
                "--repo",
            ])
            .arg(&repo)
            .arg("--summary")
            .arg(&summary)
            .env("JIRA_URL", uri)
            .env("JIRA_USER", "bot@example.com")
            .env("JIRA_TOKEN", "secret-token-value"))
    })
    .await
    .unwrap()
}

/// Answers `POST path` with `status` and `body`, at most `times` times when given.
async fn answer(
    jira: &MockServer,
    p: &str,
    status: u16,
    body: serde_json::Value,
    times: Option<u64>,
) {
    let mock = Mock::given(method("POST"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(status).set_body_json(body));
    let mock = match times {
        Some(n) => mock.up_to_n_times(n),
        None => mock,
    };
    mock.mount(jira).await;
}

const SEARCH: &str = "/rest/api/3/search/jql";
const CREATE: &str = "/rest/api/3/issue";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_files_one_high_priority_ticket_per_week_in_jira() {
    let dir = over_baseline_repo();
    let jira = MockServer::start().await;
    // First run: no ticket with this week's label yet; later runs find the one it created.
    answer(
        &jira,
        SEARCH,
        200,
        json!({"issues": [], "isLast": true}),
        Some(1),
    )
    .await;
    answer(
        &jira,
        SEARCH,
        200,
        json!({
            "issues": [{"id": "10042", "key": "COST-17", "fields": {"status": {"statusCategory": {"key": "new"}}}}],
            "isLast": true
        }),
        None,
    )
    .await;
    answer(
        &jira,
        CREATE,
        201,
        json!({"id": "10042", "key": "COST-17"}),
        None,
    )
    .await;

    let (code, out, err) = drift_with_jira(dir.path(), &jira).await;
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("secret-token-value") && !out.contains("secret-token-value"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ticket_filed"]["key"], "COST-17");
    assert_eq!(v["ticket_filed"]["created"], true);

    let (code, out, err) = drift_with_jira(dir.path(), &jira).await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["ticket_filed"]["created"], false,
        "the week's ticket is reused"
    );

    let creates: Vec<serde_json::Value> = jira
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == CREATE)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(creates.len(), 1, "exactly one ticket over two runs");
    let f = &creates[0]["fields"];
    assert_eq!(f["priority"]["name"], "High");
    assert_eq!(f["project"]["key"], "COST");
    assert_eq!(f["duedate"], "2026-11-29");
    assert!(
        f["labels"]
            .as_array()
            .unwrap()
            .contains(&json!("costgate-drift-baseline-2026-W47"))
    );
    assert_eq!(
        f["description"]["type"], "doc",
        "Cloud gets an ADF description"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_ticket_failure_keeps_the_history_and_exits_3() {
    let dir = over_baseline_repo();
    let jira = MockServer::start().await;
    answer(&jira, SEARCH, 200, json!({"issues": []}), None).await;
    let refused = json!({"errorMessages": [], "errors": {"project": "valid project is required"}});
    answer(&jira, CREATE, 400, refused, None).await;
    let (code, _, err) = drift_with_jira(dir.path(), &jira).await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("valid project is required"), "{err}");
    let history = std::fs::read_to_string(dir.path().join("costgate/drift-history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 1, "the measurement is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_ticket_is_filed_without_priority_when_the_project_refuses_the_field() {
    let dir = over_baseline_repo();
    let jira = MockServer::start().await;
    answer(&jira, SEARCH, 200, json!({"issues": []}), None).await;
    // Mounted first, so it wins for a body that still carries `priority`.
    Mock::given(method("POST"))
        .and(path(CREATE))
        .and(body_string_contains("\"priority\""))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errorMessages": [], "errors": {"priority": "Field 'priority' cannot be set. It is not on the appropriate screen, or unknown."}
        })))
        .mount(&jira)
        .await;
    answer(
        &jira,
        CREATE,
        201,
        json!({"id": "1", "key": "COST-18"}),
        None,
    )
    .await;
    let (code, out, err) = drift_with_jira(dir.path(), &jira).await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ticket_filed"]["key"], "COST-18");
}

#[test]
fn drift_flags_a_branch_that_broke_what_the_release_met() {
    let dir = example_tree();
    let r = dir.path();
    git_init(r);
    git_commit_all(r, "initial");
    git(r, &["tag", "v1.0.0"]);
    use_app(r, &repo_root().join("examples/head-cheap-wrong"));
    git_commit_all(r, "top-1 retrieval, escalations on Haiku");
    let summary = tempfile::NamedTempFile::new().unwrap();
    let v = drift(r, "2026-11-01", summary.path());
    assert_eq!(flags(&v), ["quality"], "{v}");
    assert!(
        v["release_delta_pct"].as_f64().unwrap() < 0.0,
        "cheaper: {v}"
    );
    assert!(v["entry"]["quality"].as_f64().unwrap() < 0.5, "{v}");
    assert!(v["entry"]["release_broken_expectations"].as_u64().unwrap() > 0);
}

#[test]
fn a_drift_flag_names_the_merges_that_moved_the_cost_largest_first() {
    let dir = example_tree();
    let r = dir.path();
    let root = repo_root();
    git_init(r);
    git_commit_all(r, "initial");
    let summary = tempfile::NamedTempFile::new().unwrap();
    let v = drift(r, "2026-11-01", summary.path());
    assert_eq!(flags(&v), Vec::<String>::new());
    assert!(v["contributors"].as_array().unwrap().is_empty());
    // A week of merges: two add cost, one does not.
    let timeline = crate::backtest::merge(r, "timeline-field", |r| {
        use_app(r, &root.join("examples/head-warn"))
    });
    let docs = crate::backtest::merge(r, "docs", |r| {
        std::fs::write(r.join("NOTES.md"), "notes\n").unwrap()
    });
    let brand = crate::backtest::merge(r, "brand-voice", |r| {
        std::fs::copy(
            root.join("examples/head/app/prompts/system.j2"),
            r.join("app/prompts/system.j2"),
        )
        .unwrap();
    });
    let v = drift(r, "2026-11-08", summary.path());
    assert_eq!(flags(&v), ["wow"], "{v}");
    let got: Vec<(&str, f64)> = v["contributors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["commit"].as_str().unwrap(),
                c["delta_pct"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [brand.as_str(), timeline.as_str(), docs.as_str()],
        "{got:?}"
    );
    assert!(
        got[0].1 > 5.0 && got[1].1 > 3.0 && got[2].1 == 0.0,
        "{got:?}"
    );
    assert_eq!(v["contributors"][0]["subject"], "Merge brand-voice");
    // The summary and the chart name them too.
    let md = std::fs::read_to_string(summary.path()).unwrap();
    assert!(md.contains("that moved the cost"), "{md}");
    assert!(md.contains(&brand[..10]), "{md}");
    let svg = std::fs::read_to_string(r.join("costgate/drift.svg")).unwrap();
    assert_eq!(
        svg.matches("class=\"contributor\"").count(),
        2,
        "two large contributors"
    );
    // Dataset health: no case has an `added` date yet.
    assert_eq!(v["health"]["without_added"], 328);
    assert!(md.contains("never refreshed"), "{md}");
}

/// A route already past its end of life is not a PR's doing, so the weekly job raises it: flag
/// `end_of_life`, a note naming the model and the date, and a ticket of its own.
#[test]
fn drift_flags_a_route_to_a_model_past_its_end_of_life() {
    let dir = example_tree();
    let r = dir.path();
    let routes = std::fs::read_to_string(r.join("app/routes.yaml")).unwrap();
    let dead = routes.replacen(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0",
        1,
    );
    assert_ne!(dead, routes);
    std::fs::write(r.join("app/routes.yaml"), dead).unwrap();
    git_init(r);
    git_commit_all(r, "main on a dead model");
    let summary = tempfile::NamedTempFile::new().unwrap();
    let v = drift(r, "2026-12-07", summary.path());
    assert_eq!(flags(&v), ["end_of_life"], "{v:#}");
    assert_eq!(
        v["entry"]["end_of_life"]["anthropic.claude-3-haiku-20240307-v1:0"],
        "2026-09-10"
    );
    assert!(
        v["notes"].to_string().contains(
            "main routes to anthropic.claude-3-haiku-20240307-v1:0, past its end of life (2026-09-10)"
        ),
        "{}",
        v["notes"]
    );
    assert_eq!(
        v["ticket"]["dedup_key"], "costgate-drift-end-of-life-2026-W50",
        "{:#}",
        v["ticket"]
    );
    let md = std::fs::read_to_string(summary.path()).unwrap();
    assert!(md.contains("past its end of life"), "{md}");
    // The summary says what became of the ticket: here, no JIRA credentials.
    assert!(
        md.contains(
            "**Ticket** costgate-drift-end-of-life-2026-W50: **not filed**: set `JIRA_TOKEN`"
        ),
        "{md}"
    );
    // With --fail-on-flag the scheduled job shows red.
    let (code, _, err) = run(costgate()
        .args([
            "drift",
            "--branch",
            "main",
            "--date",
            "2026-12-07",
            "--fail-on-flag",
            "--repo",
        ])
        .arg(r)
        .arg("--summary")
        .arg(summary.path()));
    assert_eq!(code, 1, "{err}");
}
