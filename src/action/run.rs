//! The action's run, in phases: read the runner's facts and resolve the two sides, load both sides
//! once and price them (both in `sides`), gather the PR's facts from GitHub
//! (`gather_facts`), apply the review layers, open the override ticket (`tickets`), and publish
//! through the sticky comment, annotations and job summary (`publish`), then report.json and the
//! step outputs (`write_outputs`). A failure to talk to GitHub or JIRA never loses the verdict:
//! it is still written to the summary and outputs, and the exit code follows the verdict (3 when an
//! honoured override's ticket could not be created, so that a re-run creates it).

use std::path::Path;

use super::comment::{self, CommentMeta, MarkerRecord};
use super::env::{self, Inputs, RunnerEnv};
use super::facts::{self, Authoriser, MergedRecord};
use super::log::Log;
use super::sides::{prepare, price, read_event};
use super::ticket::{TicketContext, jira_client, open_ticket, open_tickets};
use super::{Finished, sticky};
use crate::clients::github::{GitHub, PrFile, PullRequest};
use crate::gate::Inputs as Loaded;
use crate::gate::report::{OverrideFinding, Report, TicketRecord};
use crate::gate::review::{self, Facts};
use crate::gate::verdict::Verdict;
use crate::infra::clock::Clock;
use crate::infra::error::{Error, Result};
use crate::measure::routes::Route;
use crate::output::templates::Templates;

/// Entry point of `costgate action`.
pub fn main(env: &RunnerEnv, clock: Clock) -> Result<Finished> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Run(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(run(env, clock))
}

async fn run(env: &RunnerEnv, clock: Clock) -> Result<Finished> {
    let inputs = Inputs::read(env)?;
    let mut log = Log::default();
    for s in inputs.secrets() {
        log.add_mask(s);
    }
    let (event_name, event) = read_event(env)?;
    if event_name == "workflow_run" {
        return super::companion::run(env, &inputs, event.as_ref(), log).await;
    }
    let pr = event.as_ref().and_then(|e| e.pull_request.clone());
    let prepared = prepare(env, &inputs, pr.as_ref(), &event_name, &mut log)?;
    let (loaded, templates, report) = price(env, &inputs, &prepared)?;
    let mut run = Run {
        env,
        inputs: &inputs,
        clock,
        record: MarkerRecord {
            v: 1,
            scope: prepared.scope.clone(),
            base_sha: loaded.base_side.commit.clone(),
            head_sha: loaded.head_side.commit.clone(),
            ..Default::default()
        },
        loaded,
        templates,
        report,
        scope: prepared.scope,
        out_dir: prepared.out_dir,
        log,
        comment_url: None,
        exit_override: None,
        redactor: inputs.redactor(),
    };
    match connect(env, &inputs, pr.as_ref(), &mut run.log).await? {
        Some(thread) => {
            run.record.pr = Some(thread.pr.number);
            let gathered = gather_facts(&mut run, &thread).await;
            let config = &run.loaded.base.config;
            review::apply(&mut run.report, config, &gathered.facts);
            run.record.verdict = Some(run.report.verdict);
            run.record.cost_verdict = run.report.review.cost_verdict;
            let existing = sticky::find(thread.sticky(run.scope.as_deref())).await;
            let previous = existing.as_ref().ok().and_then(previous_record);
            tickets(&mut run, &thread, gathered, previous.as_ref()).await;
            redact_texts(&mut run.report, &run.redactor);
            publish(&mut run, &thread, existing, previous.as_ref()).await?;
        }
        None => {
            // No PR (push, schedule, dispatch with base-ref): report only.
            review::apply(&mut run.report, &run.loaded.base.config, &Facts::default());
            if let Some(p) = env.var("GITHUB_STEP_SUMMARY") {
                let md = crate::output::templates::render_report(&run.templates, &run.report)
                    .map_err(|e| Error::Usage(format!("cannot render the summary: {e}")))?;
                crate::infra::files::append_file(Path::new(&p), &run.redactor.redact(&md))?;
            }
        }
    }
    write_outputs(run)
}

/// The state of one run, passed from phase to phase.
struct Run<'a> {
    env: &'a RunnerEnv,
    inputs: &'a Inputs,
    clock: Clock,
    /// Both sides, loaded once: the gate, the review layers and the annotations share them.
    loaded: Loaded,
    templates: Templates,
    report: Report,
    /// What the comment's marker records for later runs.
    record: MarkerRecord,
    /// Several costgate steps on one repository (a monorepo) keep one comment each.
    scope: Option<String>,
    out_dir: super::sides::OutDir,
    log: Log,
    comment_url: Option<String>,
    /// Exit 3 instead of the verdict's code (an honoured override whose ticket failed).
    exit_override: Option<i32>,
    /// Masks the run's secrets in everything it writes or publishes.
    redactor: crate::infra::redact::Redactor,
}

/// The pull request as GitHub has it now, and the clients and identity to talk about it.
struct Thread {
    gh: GitHub,
    approver: Option<GitHub>,
    /// The login costgate's comments are written as.
    identity: String,
    pr: PullRequest,
}

impl Thread {
    fn sticky<'a>(&'a self, scope: Option<&'a str>) -> sticky::Thread<'a> {
        sticky::Thread {
            gh: &self.gh,
            pr: self.pr.number,
            identity: &self.identity,
            scope,
        }
    }
}

/// The GitHub clients and the PR as it is now, when the event has a PR and the runner names the
/// repository.
async fn connect(
    env: &RunnerEnv,
    inputs: &Inputs,
    event_pr: Option<&PullRequest>,
    log: &mut Log,
) -> Result<Option<Thread>> {
    let (Some(event_pr), Some(repo)) = (event_pr, env.var("GITHUB_REPOSITORY")) else {
        return Ok(None);
    };
    let gh = inputs.github(env, &repo, inputs.github_token.as_deref())?;
    let approver = match &inputs.approver_token {
        Some(t) => Some(inputs.github(env, &repo, Some(t))?),
        None => None,
    };
    // The PR as it is now: a re-run or a review event may carry a stale body or labels.
    let pr: PullRequest = match gh
        .get(&gh.repo_path(&format!("/pulls/{}", event_pr.number)))
        .await
    {
        Ok(p) => p,
        Err(e) => {
            log.warning(&format!("{e}; using the event's copy of the PR"));
            event_pr.clone()
        }
    };
    let identity = sticky::identity(&gh, inputs.comment_author.as_deref()).await;
    Ok(Some(Thread {
        gh,
        approver,
        identity,
        pr,
    }))
}

/// What phase 3 found besides the review facts: the files the PR touches (for the override ticket
/// and open-ticket obligations) and the merged PRs' records when they were read for the streak.
struct Gathered {
    facts: Facts,
    files: Vec<String>,
    merged: Option<Vec<MergedRecord>>,
}

/// Phase 3: the facts the review layers consult (warn streak, open override tickets, sign-off,
/// who applied the override label). A fact that cannot be read is a warning, never an error.
async fn gather_facts(run: &mut Run<'_>, t: &Thread) -> Gathered {
    let config = &run.loaded.base.config;
    let (gh, pr, log) = (&t.gh, &t.pr, &mut run.log);
    let scope = run.scope.as_deref();
    let auth = Authoriser {
        gh,
        approver: t.approver.as_ref(),
        rules: &config.approvers,
    };
    let mut f = Facts {
        pr_body: pr.body.clone(),
        labels: pr.labels.iter().map(|l| l.name.clone()).collect(),
        approvers: super::approver_rules(config),
        ..Default::default()
    };
    let merged_into_base =
        |n: usize, since| facts::merged_records(t.sticky(scope), &pr.base.ref_, n, since);
    let mut merged = None;
    if run.report.verdict == Verdict::Warn {
        let need = config.thresholds.warn_streak_fail.saturating_sub(1) as usize;
        match merged_into_base(need.max(1), None).await {
            Ok(m) => {
                f.streak = Some(facts::streak(&m));
                merged = Some(m);
            }
            Err(e) => log.warning(&format!("warn streak not checked: {e}")),
        }
    }
    let jira = jira_client(run.inputs, config).ok();
    let need_files = jira.is_some() || f.labels.contains(&config.override_.label);
    let files: Vec<String> = if !need_files {
        Vec::new()
    } else {
        let path = gh.repo_path(&format!("/pulls/{}/files", pr.number));
        match gh.get_all::<PrFile>(&path, 30).await {
            Ok(fs) => fs.into_iter().map(|f| f.filename).collect(),
            Err(e) => {
                log.warning(&format!("changed files not read: {e}"));
                Vec::new()
            }
        }
    };
    if let (Some((client, _)), false) = (&jira, files.is_empty()) {
        match merged_into_base(30, None).await {
            Ok(m) => f.open_tickets = open_tickets(client, &m, &files, log).await,
            Err(e) => log.warning(&format!("open override tickets not checked: {e}")),
        }
    }
    let justified = pr
        .body
        .as_deref()
        .and_then(|b| crate::gate::justification::parse(b, &config.justification.key))
        .is_some_and(|j| j.is_complete());
    let may_fail = run.report.verdict == Verdict::Fail || f.streak.is_some();
    if justified && may_fail {
        match facts::sign_off(gh, &auth, pr.number, &pr.head.sha).await {
            Ok((s, notes)) => {
                f.sign_off = s;
                run.report.notes.extend(notes);
            }
            Err(e) => log.warning(&format!("reviews not read: {e}")),
        }
    }
    if f.labels.contains(&config.override_.label) {
        let label = &config.override_.label;
        f.override_finding = Some(
            match facts::override_finding(gh, &auth, pr.number, label).await {
                Ok(o) => o,
                Err(e) => {
                    let why = format!(
                        "who applied it could not be read from the PR timeline ({e}), so it is not honoured; re-run the job"
                    );
                    log.warning(&why);
                    OverrideFinding {
                        label: label.clone(),
                        applied_by: None,
                        applied_at: None,
                        authorised: false,
                        why,
                    }
                }
            },
        );
    }
    Gathered {
        facts: f,
        files,
        merged,
    }
}

/// Phase 5: an honoured override opens (or finds) its ticket, records who, when and which paths,
/// and counts the overrides of the last 30 days; otherwise an earlier run's ticket key is kept.
async fn tickets(
    run: &mut Run<'_>,
    t: &Thread,
    gathered: Gathered,
    previous: Option<&MarkerRecord>,
) {
    if run.report.verdict != Verdict::Overridden {
        // Keep the ticket key across runs so a later override on this PR finds it.
        if let Some(k) = previous.and_then(|p| p.ticket.clone()) {
            run.record.ticket = Some(k);
        }
        if let Some(p) = previous.filter(|p| p.ticket_pending && p.ticket.is_none()) {
            retry_pending_ticket(run, t, p).await;
        }
        return;
    }
    let config = &run.loaded.base.config;
    let Gathered { files, merged, .. } = gathered;
    let o = run.report.review.override_.clone();
    run.record.override_by = o.as_ref().and_then(|o| o.applied_by.clone());
    run.record.override_at = o.as_ref().and_then(|o| o.applied_at.clone());
    run.record.paths = files.iter().take(100).cloned().collect();
    // Process warning: too many honoured overrides in 30 days.
    let now = run.clock.now();
    let since = now - chrono::Duration::days(30);
    let m = match merged {
        Some(m) => Ok(m),
        None => {
            let thread = t.sticky(run.scope.as_deref());
            facts::merged_records(thread, &t.pr.base.ref_, 30, Some(since)).await
        }
    };
    match m {
        Ok(m) => {
            let n = facts::overrides_in_30_days(&m, now) + 1;
            let max = config.override_.max_per_30_days;
            if n > max as usize {
                run.report.review.process_warnings.push(format!(
                    "{n} emergency overrides in the last 30 days (this one included), more than override.max_per_30_days {max}: review why the gate is being bypassed"
                ));
            }
        }
        Err(e) => run.log.warning(&format!("override count not checked: {e}")),
    }
    let cx = TicketContext {
        env: run.env,
        inputs: run.inputs,
        config,
        templates: &run.templates,
        clock: run.clock,
    };
    let known = previous.and_then(|p| p.ticket.as_deref());
    let ticket = open_ticket(&cx, &run.report, &t.pr, &files, known).await;
    match &ticket {
        TicketRecord { key: Some(k), .. } => run.record.ticket = Some(k.clone()),
        TicketRecord { error: Some(e), .. } => {
            run.log
                .error(&format!("the override ticket could not be created: {e}"));
            run.exit_override = Some(3);
            // Durable: whatever the next run's verdict, it sees this and retries.
            run.record.ticket_pending = true;
        }
        _ => {}
    }
    run.report.review.ticket = Some(ticket);
}

/// An earlier run honoured an override but could not open its ticket (JIRA was down), and the
/// override is no longer what this run decides (the label was removed, the cost came back): the
/// ticket is still owed. One attempt per run; the JQL label search behind `open_ticket` finds a
/// ticket an earlier attempt created after all, so a retry never duplicates one.
async fn retry_pending_ticket(run: &mut Run<'_>, t: &Thread, previous: &MarkerRecord) {
    run.record.override_by = previous.override_by.clone();
    run.record.override_at = previous.override_at.clone();
    run.record.paths = previous.paths.clone();
    let mut overridden = run.report.clone();
    overridden.review.cost_verdict = previous.cost_verdict;
    overridden.review.override_ = Some(OverrideFinding {
        label: run.loaded.base.config.override_.label.clone(),
        applied_by: previous.override_by.clone(),
        applied_at: previous.override_at.clone(),
        authorised: true,
        why: "honoured by an earlier run of this pull request".into(),
    });
    let cx = TicketContext {
        env: run.env,
        inputs: run.inputs,
        config: &run.loaded.base.config,
        templates: &run.templates,
        clock: run.clock,
    };
    let ticket = open_ticket(&cx, &overridden, &t.pr, &previous.paths, None).await;
    match &ticket.key {
        Some(k) => {
            run.record.ticket = Some(k.clone());
            run.report.notes.push(format!(
                "the override ticket an earlier run could not open is now {k}"
            ));
        }
        None => {
            run.record.ticket_pending = true;
            run.log.warning(&format!(
                "the override ticket an earlier run could not open is still missing: {}; the next run retries",
                ticket.error.as_deref().unwrap_or("unknown error")
            ));
        }
    }
    run.report.review.ticket = Some(ticket);
}

/// Phase 6: annotations on the templates that grew, the comment artifact, the sticky comment and
/// the job summary.
/// Redacts the report's free text (notes, reasons, process warnings, the ticket error) where it is
/// still raw: an API error may echo a credential, and once a template escapes it for markdown
/// (`secret\_tok`) no redaction of the rendered comment would recognise it.
fn redact_texts(report: &mut Report, r: &crate::infra::redact::Redactor) {
    if r.is_empty() {
        return;
    }
    let review = &mut report.review;
    let ticket = review.ticket.iter_mut().flat_map(|t| t.error.iter_mut());
    for text in report
        .notes
        .iter_mut()
        .chain(report.reasons.iter_mut())
        .chain(review.process_warnings.iter_mut())
        .chain(ticket)
    {
        *text = r.redact(text);
    }
}

async fn publish(
    run: &mut Run<'_>,
    t: &Thread,
    existing: std::result::Result<
        Option<crate::clients::github::Comment>,
        crate::clients::github::GhError,
    >,
    previous: Option<&MarkerRecord>,
) -> Result<()> {
    annotate(run);
    let config = &run.loaded.base.config;
    let (base, head) = (&run.loaded.base_side, &run.loaded.head_side);
    let meta = CommentMeta {
        base_sha: base.commit.clone().unwrap_or_default(),
        head_sha: head.commit.clone().unwrap_or_default(),
        pr_head_sha: t.pr.head.sha.clone(),
        justification_key: config.justification.key.clone(),
        previous: None,
        approvers: super::approver_rules(config),
        docs_url: comment::docs_url(
            run.env.var("GITHUB_SERVER_URL").as_deref(),
            run.env.var("GITHUB_ACTION_REPOSITORY").as_deref(),
            run.env.var("GITHUB_ACTION_REF").as_deref(),
        ),
    };
    let (report, record, templates) = (&run.report, &run.record, &run.templates);
    let redactor = &run.redactor;
    let render = |prev: Option<&MarkerRecord>| {
        let m = CommentMeta {
            previous: prev.and_then(|p| p.verdict).map(|v| v.as_str().to_string()),
            ..meta.clone()
        };
        // A broken template override must not lose the verdict: the marker and the error go out.
        let body = comment::render(report, &m, record, templates).unwrap_or_else(|e| {
            format!(
                "{}\ncostgate: the comment template failed: {e}",
                record.to_marker()
            )
        });
        redactor.redact(&body)
    };
    let body = render(previous);
    let artifact = serde_json::json!({"pr": t.pr.number, "head_sha": t.pr.head.sha, "body": body});
    crate::infra::files::write_file(
        &run.out_dir.write.join("costgate-comment.json"),
        &artifact.to_string(),
    )?;
    if run.inputs.comment {
        // An override label on a passing PR gets an answer: the comment says it is not needed.
        let on_pass = if report.review.override_.is_some() {
            crate::measure::config::OnPass::Always
        } else {
            config.comment.on_pass
        };
        let (thread, verdict) = (t.sticky(run.scope.as_deref()), report.verdict);
        let published = match existing {
            Ok(c) => sticky::publish_found(thread, c, verdict, on_pass, render).await,
            Err(_) => sticky::publish(thread, verdict, on_pass, render).await,
        };
        match published {
            Ok((o, _)) => {
                run.log.line(format!("comment: {}", serde_json::to_string(&o).unwrap_or_default()));
                run.comment_url = o.url().map(str::to_string);
            }
            Err(e) if e.is_forbidden() => run.log.notice(&format!(
                "cannot comment on the PR ({e}): the token is read-only, as on pull requests from forks. The verdict, summary and outputs are still written; \
                 to comment on fork PRs add the workflow_run companion ({}), which posts costgate-comment.json from the uploaded artifact.",
                crate::infra::docs::page("action.md#fork-pull-requests")
            )),
            Err(e) => run.log.warning(&format!("the PR comment could not be written: {e}")),
        }
    }
    if let Some(p) = run.env.var("GITHUB_STEP_SUMMARY") {
        let without_marker: String = body.lines().skip(1).collect::<Vec<_>>().join("\n");
        crate::infra::files::append_file(Path::new(&p), &format!("{without_marker}\n"))?;
    }
    Ok(())
}

/// `::warning file=…` on each head template whose segment grew (render mode).
fn annotate(run: &mut Run<'_>) {
    let Some(routes) = run.loaded.head.routes() else {
        return;
    };
    let lookup = |intent: &str, segment: &str| match routes.for_intent(intent) {
        Some(Route::Model { system, prompt, .. }) => match segment {
            "system" => system.clone(),
            "prompt" => prompt.clone(),
            _ => None,
        },
        _ => None,
    };
    // Annotations name files relative to the repository root, the working directory included.
    let prefix = run
        .inputs
        .working_directory
        .as_deref()
        .map(|w| format!("{}/", w.trim_end_matches('/')))
        .unwrap_or_default();
    let of = |i: &str, s: &str| lookup(i, s).map(|p| format!("{prefix}{p}"));
    for a in comment::annotations(&run.report, &of) {
        run.log.warning_at(&a.file, &a.message);
    }
}

/// Phase 7: report.json, the step outputs, and the terminal form of the report in the log.
fn write_outputs(mut run: Run<'_>) -> Result<Finished> {
    let report = &run.report;
    let json_path = run.out_dir.write.join("report.json");
    crate::infra::files::write_file(&json_path, &run.redactor.redact(&report.to_json()))?;
    if let Some(p) = run.env.var("GITHUB_OUTPUT") {
        // For people and `if:` expressions: two decimals at most (report.json keeps them all).
        let num = |v: Option<f64>| v.map(crate::infra::fmt::two_decimals).unwrap_or_default();
        let max = if report.summary.max_regression_unbounded {
            "inf".into()
        } else {
            num(report.summary.max_regression_pct)
        };
        let jira_key = report.review.ticket.as_ref().and_then(|t| t.key.clone());
        env::write_outputs(
            Path::new(&p),
            &[
                ("verdict", report.verdict.as_str().to_string()),
                // As later steps see it: the runner's temporary directory by its host path, or
                // relative to the workspace (the container's /github/workspace is another path
                // on the runner).
                (
                    "report-json",
                    match &run.out_dir.shown {
                        Some(host) => host.join("report.json").display().to_string(),
                        None => workspace_relative(run.env, &json_path),
                    },
                ),
                ("comment-url", run.comment_url.clone().unwrap_or_default()),
                ("jira-key", jira_key.unwrap_or_default()),
                ("max-regression-pct", max),
                ("p95-delta-pct", num(report.summary.p95_delta_pct)),
                ("total-delta-pct", num(report.summary.total_delta_pct)),
            ],
        )?;
    }
    run.log.line(crate::output::terminal::check(report, false));
    let exit_code = run
        .exit_override
        .unwrap_or_else(|| report.verdict.exit_code());
    Ok(Finished {
        log: run.redactor.redact_log(run.log.into_string()),
        exit_code,
    })
}

/// The record an earlier run left in the sticky comment, if any.
fn previous_record(existing: &Option<crate::clients::github::Comment>) -> Option<MarkerRecord> {
    existing
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .and_then(MarkerRecord::from_body)
}

fn workspace_relative(env: &RunnerEnv, path: &Path) -> String {
    env.var("GITHUB_WORKSPACE")
        .and_then(|ws| path.strip_prefix(&ws).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}
