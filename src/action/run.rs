//! The action's run: gate the PR, layer in GitHub facts (sign-off, override, warn streak), open the
//! override ticket, then report through the sticky comment, annotations, job summary, step outputs
//! and report.json. A failure to talk to GitHub or JIRA never loses the verdict: it is still written
//! to the summary and outputs, and the exit code follows the verdict (3 when an honoured override's
//! ticket could not be created, so that a re-run creates it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;

use super::comment::{self, CommentMeta, MarkerRecord};
use super::env::{self, Inputs, RunnerEnv};
use super::facts::{self, Authoriser};
use super::subtree::SubTree;
use super::ticket::{jira_client, open_ticket, open_tickets};
use super::{git, sticky};
use crate::cli::Outcome;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::gate::{self, Options, Side};
use crate::github::{Event, GitHub, PrFile, PullRequest};
use crate::markdown;
use crate::review::{self, Facts, TicketRecord};
use crate::routes::{Route, Routes};
use crate::tree::GitTree;
use crate::verdict::Verdict;

/// Log lines for the runner (workflow commands and plain text), printed by `main.rs`.
#[derive(Default)]
pub(super) struct Log(pub(super) String);

impl Log {
    pub(super) fn line(&mut self, s: impl AsRef<str>) {
        self.0.push_str(s.as_ref());
        self.0.push('\n');
    }
    fn notice(&mut self, s: &str) {
        self.line(format!(
            "::notice title=costgate::{}",
            s.replace('%', "%25").replace('\n', "%0A")
        ));
    }
    pub(super) fn warning(&mut self, s: &str) {
        self.line(format!(
            "::warning title=costgate::{}",
            s.replace('%', "%25").replace('\n', "%0A")
        ));
    }
}

/// Entry point of `costgate action`.
pub fn main(env: &RunnerEnv) -> Result<Outcome> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Run(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(run(env))
}

async fn run(env: &RunnerEnv) -> Result<Outcome> {
    let inputs = Inputs::read(env)?;
    let mut log = Log::default();
    for s in inputs.secrets() {
        log.line(format!("::add-mask::{s}"));
    }
    let event_name = env.var("GITHUB_EVENT_NAME").unwrap_or_default();
    let event: Option<Event> = match env.var("GITHUB_EVENT_PATH") {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| Error::Usage(format!("GITHUB_EVENT_PATH {p}: {e}")))?;
            Some(serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!("GITHUB_EVENT_PATH {p}: not a webhook event: {e}"))
            })?)
        }
        None => None,
    };
    if event_name == "workflow_run" {
        return super::companion::run(env, &inputs, event.as_ref(), log).await;
    }
    let pr = event.as_ref().and_then(|e| e.pull_request.clone());
    let dir = env::working_dir(env, &inputs)?;
    // git checks the owner of the repository root, which is the workspace unless a nested
    // repository is the working directory.
    if let Some(ws) = env.var("GITHUB_WORKSPACE") {
        git::trust(Path::new(&ws))?;
    }
    git::trust(&dir)?;
    let prefix = git::prefix(&dir)?;

    let base_rev = inputs.base_ref.clone().or_else(|| pr.as_ref().map(|p| p.base.sha.clone())).ok_or_else(|| {
        Error::Usage(format!("event `{event_name}` has no pull request: set the `base-ref` input (for example the target branch's sha)"))
    })?;
    let head_rev = inputs
        .head_ref
        .clone()
        .or_else(|| env.var("GITHUB_SHA"))
        .or_else(|| pr.as_ref().map(|p| p.head.sha.clone()))
        .ok_or_else(|| Error::Usage("no head: set the `head-ref` input".into()))?;
    for (rev, what) in [(&base_rev, "base"), (&head_rev, "head")] {
        if let Some(note) = git::ensure_commit(&dir, rev, what)? {
            log.line(note);
        }
    }
    let side = |rev: &str, name: &'static str| -> Result<Side> {
        let t = GitTree::open(&dir, rev, format!("{name} ({})", crate::fmt::short_sha(rev))).map_err(|source| {
            Error::Tree {
                side: name.into(),
                source,
            }
        })?;
        let commit = Some(t.commit().to_string());
        Ok(Side {
            name,
            tree: Arc::new(SubTree::new(Arc::new(t), &prefix)),
            commit,
        })
    };
    let (base, head) = (side(&base_rev, "base")?, side(&head_rev, "head")?);
    let opts = Options {
        config_path: inputs.config.clone(),
    };
    let out_dir = inputs
        .out_dir
        .as_ref()
        .map_or_else(|| dir.join(".costgate-out"), |o| dir.join(o));

    let mut report = match gate::check(&base, &head, &opts) {
        Ok(r) => r,
        Err(e) => {
            // No verdict: say so where the reader looks, then fail with the error's exit code.
            let text = format!(
                "## ❗ costgate: no verdict\n\n{}\n",
                markdown::escape(&e.to_string())
            );
            if let Some(p) = env.var("GITHUB_STEP_SUMMARY") {
                env::append(Path::new(&p), &text)?;
            }
            if let Some(p) = env.var("GITHUB_OUTPUT") {
                env::write_outputs(Path::new(&p), &[("verdict", "error".into())])?;
            }
            return Err(e);
        }
    };
    let config = Config::load(base.tree.as_ref(), &opts.config_path)
        .map_err(|d| Error::config("base", d))?;
    let mut exit_override = None;
    // Several costgate steps on one repository (a monorepo) keep one comment each.
    let scope = match (&inputs.working_directory, inputs.config.as_str()) {
        (None, crate::config::DEFAULT_PATH) => None,
        (wd, cfg) => Some(format!("{}:{cfg}", wd.as_deref().unwrap_or("."))),
    };
    let mut record = MarkerRecord {
        v: 1,
        scope: scope.clone(),
        base_sha: base.commit.clone(),
        head_sha: head.commit.clone(),
        ..Default::default()
    };
    let mut comment_url = None;

    let gh = match (&pr, env.var("GITHUB_REPOSITORY")) {
        (Some(_), Some(repo)) => {
            let api = env
                .var("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".into());
            Some(GitHub::new(&api, inputs.github_token.as_deref(), &repo).map_err(Error::Usage)?)
        }
        _ => None,
    };
    let approver_gh = match (&gh, &inputs.approver_token) {
        (Some(_), Some(t)) => {
            let api = env
                .var("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".into());
            Some(
                GitHub::new(
                    &api,
                    Some(t),
                    &env.var("GITHUB_REPOSITORY").unwrap_or_default(),
                )
                .map_err(Error::Usage)?,
            )
        }
        _ => None,
    };

    if let (Some(gh), Some(event_pr)) = (&gh, &pr) {
        // The PR as it is now: a re-run or a review event may carry a stale body or labels.
        let current: PullRequest = match gh
            .get(&gh.repo_path(&format!("/pulls/{}", event_pr.number)))
            .await
        {
            Ok(p) => p,
            Err(e) => {
                log.warning(&format!("{e}; using the event's copy of the PR"));
                event_pr.clone()
            }
        };
        record.pr = Some(current.number);
        let identity = sticky::identity(gh, inputs.comment_author.as_deref()).await;
        let auth = Authoriser {
            gh,
            approver: approver_gh.as_ref(),
            rules: &config.approvers,
        };
        let mut f = Facts {
            pr_body: current.body.clone(),
            labels: current.labels.iter().map(|l| l.name.clone()).collect(),
            approvers: super::approver_rules(&config),
            ..Default::default()
        };
        let mut merged = None;
        if report.verdict == Verdict::Warn {
            let need = config.thresholds.warn_streak_fail.saturating_sub(1) as usize;
            match facts::merged_records(
                gh,
                &identity,
                scope.as_deref(),
                &current.base.ref_,
                current.number,
                need.max(1),
                None,
            )
            .await
            {
                Ok(m) => {
                    f.streak = Some(facts::streak(&m));
                    merged = Some(m);
                }
                Err(e) => log.warning(&format!("warn streak not checked: {e}")),
            }
        }
        // Files this PR touches: for the override ticket and open-ticket obligations.
        let need_files =
            jira_client(&inputs, &config).is_ok() || f.labels.contains(&config.override_.label);
        let files: Vec<String> = if !need_files {
            Vec::new()
        } else {
            match gh
                .get_all::<PrFile>(
                    &gh.repo_path(&format!("/pulls/{}/files", current.number)),
                    30,
                )
                .await
            {
                Ok(fs) => fs.into_iter().map(|f| f.filename).collect(),
                Err(e) => {
                    log.warning(&format!("changed files not read: {e}"));
                    Vec::new()
                }
            }
        };
        if let (Ok((client, _)), false) = (jira_client(&inputs, &config), files.is_empty()) {
            match facts::merged_records(
                gh,
                &identity,
                scope.as_deref(),
                &current.base.ref_,
                current.number,
                30,
                None,
            )
            .await
            {
                Ok(m) => f.open_tickets = open_tickets(&client, &m, &files, &mut log).await,
                Err(e) => log.warning(&format!("open override tickets not checked: {e}")),
            }
        }
        let justified = current
            .body
            .as_deref()
            .and_then(|b| crate::justification::parse(b, &config.justification.key))
            .is_some_and(|j| j.is_complete());
        let may_fail = report.verdict == Verdict::Fail || f.streak.is_some();
        if justified && may_fail {
            match facts::sign_off(gh, &auth, current.number, &current.head.sha).await {
                Ok((s, notes)) => {
                    f.sign_off = s;
                    report.notes.extend(notes);
                }
                Err(e) => log.warning(&format!("reviews not read: {e}")),
            }
        }
        if f.labels.contains(&config.override_.label) {
            match facts::override_finding(gh, &auth, current.number, &config.override_.label).await
            {
                Ok(o) => f.override_finding = Some(o),
                Err(e) => {
                    let why = format!(
                        "who applied it could not be read from the PR timeline ({e}), so it is not honoured; re-run the job"
                    );
                    log.warning(&why);
                    f.override_finding = Some(review::OverrideFinding {
                        label: config.override_.label.clone(),
                        applied_by: None,
                        applied_at: None,
                        authorised: false,
                        why,
                    });
                }
            }
        }
        review::apply(&mut report, &config, &f);
        record.verdict = Some(report.verdict);
        record.cost_verdict = report.review.cost_verdict;

        let existing = sticky::find(gh, current.number, &identity, scope.as_deref()).await;
        let previous = existing
            .as_ref()
            .ok()
            .and_then(|c| c.as_ref())
            .and_then(|c| c.body.as_deref())
            .and_then(MarkerRecord::from_body);
        if report.verdict == Verdict::Overridden {
            let o = report.review.override_.clone();
            record.override_by = o.as_ref().and_then(|o| o.applied_by.clone());
            record.override_at = o.as_ref().and_then(|o| o.applied_at.clone());
            record.paths = files.iter().take(100).cloned().collect();
            // Process warning: too many honoured overrides in 30 days.
            let since = Utc::now() - chrono::Duration::days(30);
            let m = match merged.take() {
                Some(m) => Ok(m),
                None => {
                    facts::merged_records(
                        gh,
                        &identity,
                        scope.as_deref(),
                        &current.base.ref_,
                        current.number,
                        30,
                        Some(since),
                    )
                    .await
                }
            };
            match m {
                Ok(m) => {
                    let n = facts::overrides_in_30_days(&m, Utc::now()) + 1;
                    if n > config.override_.max_per_30_days as usize {
                        report.review.process_warnings.push(format!(
                            "{n} emergency overrides in the last 30 days (this one included), more than override.max_per_30_days {}: review why the gate is being bypassed",
                            config.override_.max_per_30_days
                        ));
                    }
                }
                Err(e) => log.warning(&format!("override count not checked: {e}")),
            }
            let t = open_ticket(
                env,
                &inputs,
                &config,
                &report,
                &base,
                &current,
                &files,
                previous.as_ref().and_then(|p| p.ticket.as_deref()),
            )
            .await;
            match &t {
                TicketRecord { key: Some(k), .. } => record.ticket = Some(k.clone()),
                TicketRecord { error: Some(e), .. } => {
                    log.line(format!(
                        "::error title=costgate::the override ticket could not be created: {}",
                        e.replace('\n', " ")
                    ));
                    exit_override = Some(3);
                }
                _ => {}
            }
            report.review.ticket = Some(t);
        } else if let Some(k) = previous.as_ref().and_then(|p| p.ticket.clone()) {
            // Keep the ticket key across runs so a later override on this PR finds it.
            record.ticket = Some(k);
        }

        // Annotations on the templates that grew.
        if let Ok(routes) = head_routes(&head, &opts.config_path, &base) {
            let lookup = |intent: &str, segment: &str| match routes.for_intent(intent) {
                Some(Route::Model { system, prompt, .. }) => match segment {
                    "system" => system.clone(),
                    "prompt" => prompt.clone(),
                    _ => None,
                },
                _ => None,
            };
            let prefix = inputs
                .working_directory
                .as_deref()
                .map(|w| format!("{}/", w.trim_end_matches('/')))
                .unwrap_or_default();
            for a in comment::annotations(&report, &|i, s| {
                lookup(i, s).map(|p| format!("{prefix}{p}"))
            }) {
                log.line(a);
            }
        }

        let meta = CommentMeta {
            base_sha: base.commit.clone().unwrap_or_default(),
            head_sha: head.commit.clone().unwrap_or_default(),
            pr_head_sha: current.head.sha.clone(),
            justification_key: config.justification.key.clone(),
            previous: None,
        };
        let template = base
            .tree
            .read_string(&format!("{}/{}", markdown::OVERRIDE_DIR, comment::TEMPLATE))
            .ok()
            .flatten();
        let render = |prev: Option<&MarkerRecord>| {
            let m = CommentMeta {
                previous: prev.and_then(|p| p.verdict).map(|v| v.as_str().to_string()),
                ..meta.clone()
            };
            comment::render(&report, &m, &record, template.as_deref()).unwrap_or_else(|e| {
                format!(
                    "{}\ncostgate: the comment template failed: {e}",
                    record.to_marker()
                )
            })
        };
        let body = render(previous.as_ref());
        write_file(
            &out_dir,
            "costgate-comment.json",
            &serde_json::json!({"pr": current.number, "head_sha": current.head.sha, "body": body})
                .to_string(),
        )?;
        if inputs.comment {
            // An override label on a passing PR gets an answer (SPEC 6: "not needed").
            let on_pass = if report.review.override_.is_some() {
                crate::config::OnPass::Always
            } else {
                config.comment.on_pass
            };
            let published = match existing {
                Ok(c) => {
                    sticky::publish_found(
                        gh,
                        current.number,
                        &identity,
                        scope.as_deref(),
                        c,
                        report.verdict,
                        on_pass,
                        render,
                    )
                    .await
                }
                Err(_) => {
                    sticky::publish(
                        gh,
                        current.number,
                        &identity,
                        scope.as_deref(),
                        report.verdict,
                        on_pass,
                        render,
                    )
                    .await
                }
            };
            match published {
                Ok((o, _)) => {
                    log.line(format!("comment: {}", serde_json::to_string(&o).unwrap_or_default()));
                    comment_url = o.url().map(str::to_string);
                }
                Err(e) if e.is_forbidden() => log.notice(&format!(
                    "cannot comment on the PR ({e}): the token is read-only, as on pull requests from forks. The verdict, summary and outputs are still written; \
                     to comment on fork PRs add the workflow_run companion (docs/action.md#fork-pull-requests), which posts costgate-comment.json from the uploaded artifact."
                )),
                Err(e) => log.warning(&format!("the PR comment could not be written: {e}")),
            }
        }
        if let Some(p) = env.var("GITHUB_STEP_SUMMARY") {
            let without_marker: String = body.lines().skip(1).collect::<Vec<_>>().join("\n");
            env::append(Path::new(&p), &format!("{without_marker}\n"))?;
        }
    } else {
        // No PR (push, schedule, dispatch with base-ref): report only.
        review::apply(&mut report, &config, &Facts::default());
        if let Some(p) = env.var("GITHUB_STEP_SUMMARY") {
            let md = markdown::render("report.md.j2", &report, None)
                .map_err(|e| Error::Usage(format!("cannot render the summary: {e}")))?;
            env::append(Path::new(&p), &md)?;
        }
    }

    let json_path = out_dir.join("report.json");
    write_file(&out_dir, "report.json", &report.to_json())?;
    if let Some(p) = env.var("GITHUB_OUTPUT") {
        let num = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
        env::write_outputs(
            Path::new(&p),
            &[
                ("verdict", report.verdict.as_str().to_string()),
                // Relative to the workspace: the container's /github/workspace is another path on
                // the runner, where later steps read it.
                ("report-json", workspace_relative(env, &json_path)),
                ("comment-url", comment_url.unwrap_or_default()),
                (
                    "jira-key",
                    report
                        .review
                        .ticket
                        .as_ref()
                        .and_then(|t| t.key.clone())
                        .unwrap_or_default(),
                ),
                (
                    "max-regression-pct",
                    if report.summary.max_regression_unbounded {
                        "inf".into()
                    } else {
                        num(report.summary.max_regression_pct)
                    },
                ),
                ("p95-delta-pct", num(report.summary.p95_delta_pct)),
                ("total-delta-pct", num(report.summary.total_delta_pct)),
            ],
        )?;
    }
    log.line(crate::terminal::check(&report, false));
    Ok(Outcome {
        stdout: log.0,
        exit_code: exit_override.unwrap_or_else(|| report.verdict.exit_code()),
    })
}

fn workspace_relative(env: &RunnerEnv, path: &Path) -> String {
    env.var("GITHUB_WORKSPACE")
        .and_then(|ws| path.strip_prefix(&ws).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}


fn write_file(dir: &Path, name: &str, text: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&path, text))
        .map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        })?;
    Ok(path)
}

fn head_routes(head: &Side, config_path: &str, base: &Side) -> Result<Routes> {
    let base_cfg =
        Config::load(base.tree.as_ref(), config_path).map_err(|d| Error::config("base", d))?;
    let head_cfg =
        Config::load(head.tree.as_ref(), config_path).map_err(|d| Error::config("head", d))?;
    let pricing =
        gate::load_pricing(base.tree.as_ref(), &base_cfg).map_err(|d| Error::config("base", d))?;
    let spec = head_cfg
        .routes
        .as_ref()
        .ok_or_else(|| Error::Usage("no routes".into()))?;
    Routes::load(head.tree.as_ref(), spec, &head_cfg.file, &pricing)
        .map_err(|d| Error::config("head", d))
}
