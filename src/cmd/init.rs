//! `costgate init` (docs/first-hour.md): writes golden cases, `costgate.yaml`, routes or a harness
//! skeleton, and the workflow into a repository, from its invocation logs when it has them. Nothing
//! is overwritten without `--force`, and nothing at all is written when any step fails.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::Outcome;
use super::env::Vars;
use super::refresh::draw;
use crate::infra::error::{Error, Result};
use crate::infra::files::write_file;
use crate::measure::config::Mode;
use crate::measure::dataset::Dataset;
use crate::measure::pricing::PricingTable;
use crate::ratchet::calibrate::traffic;
use crate::ratchet::init::{
    self, ActionRef, Language, Models, NewFile, Origin, Repo, Setup, config, skeleton, workflow,
};
use crate::ratchet::refresh::{Plan, Request, Size};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Render,
    Harness,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LanguageArg {
    Python,
    Node,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Bedrock model-invocation log files (JSON lines, plain or gzip'd) to draw golden cases from;
    /// without them, a few example cases are written.
    #[arg(long, num_args = 1..)]
    pub logs: Vec<PathBuf>,
    /// Golden cases to draw from the logs.
    #[arg(long, default_value_t = 300)]
    pub cases: usize,
    /// `render` prices the golden queries through routes; `harness` runs the application's code.
    #[arg(long, value_enum, default_value_t = ModeArg::Render)]
    pub mode: ModeArg,
    /// Harness mode: the application's language (default: from pyproject.toml, requirements.txt
    /// or package.json).
    #[arg(long, value_enum)]
    pub language: Option<LanguageArg>,
    /// Harness mode: the harness command, split as a shell would (default: the skeleton `init`
    /// writes, `python3 costgate/golden_harness.py` or `node costgate/golden_harness.js`).
    #[arg(long)]
    pub command: Option<String>,
    /// Seed of the sampling: the same logs and seed draw the same cases.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The request-metadata key that names the intent in the logs.
    #[arg(long, default_value = "intent")]
    pub intent_key: String,
    /// The repository to set up.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The repository costgate's action is installed from (`owner/name`).
    #[arg(long)]
    pub action_repo: Option<String>,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// The repository a release build names as its own (release.yml sets it); a local build has none.
const BUILT_FROM: Option<&str> = option_env!("COSTGATE_ACTION_REPOSITORY");

pub fn init(a: InitArgs, env: &Vars) -> Result<Outcome> {
    if a.cases == 0 {
        return Err(Error::Usage(
            "--cases must be at least 1: the gate needs golden cases to compare".into(),
        ));
    }
    if !a.dir.is_dir() {
        return Err(Error::Usage(format!(
            "--dir {}: not a directory; run `costgate init` in the repository to set up, or point --dir at it",
            a.dir.display()
        )));
    }
    let repo = Repo {
        pyproject: a.dir.join("pyproject.toml").is_file(),
        requirements: a.dir.join("requirements.txt").is_file(),
        package_json: a.dir.join("package.json").is_file(),
        package_lock: a.dir.join("package-lock.json").is_file(),
    };
    let mut notes: Vec<String> = Vec::new();
    let setup = resolve(&a, &repo, env, &mut notes)?;
    let pricing = PricingTable::builtin();
    let (cases, origin, models, proposal, plan) = if a.logs.is_empty() {
        let models = Models {
            default: init::FALLBACK_MODEL.into(),
            ..Models::default()
        };
        (
            init::example_cases(setup.today),
            Origin::Examples,
            models,
            None,
            None,
        )
    } else {
        let req = Request {
            size: Size::Cases(a.cases),
            seed: a.seed,
            today: setup.today,
        };
        // Cases already in golden/ (a second `init`, a hand-written start): the drawn ones avoid
        // their queries and ids, so the directory still loads.
        let existing = if a.dir.join(init::GOLDEN_DIR).is_dir() {
            let tree = crate::infra::tree::DirTree::new(&a.dir, a.dir.display().to_string());
            let mut d =
                Dataset::load(&tree, init::GOLDEN_DIR).map_err(|d| Error::config("golden", d))?;
            // The file `init` writes is replaced, not kept (with --force).
            d.cases.retain(|c| c.at.file != init::GOLDEN_FILE);
            d
        } else {
            Dataset::default()
        };
        if !existing.cases.is_empty() {
            notes.push(format!(
                "golden/ already holds {} case(s): the drawn ones avoid their queries and ids",
                existing.cases.len()
            ));
        }
        let drawn = draw(&a.logs, &a.intent_key, &pricing, &existing, &req, true)?;
        if drawn.plan.added.is_empty() {
            return Err(no_cases(&a, &drawn.plan, drawn.malformed));
        }
        let priced = |m: &str| pricing.resolve(m).is_ok();
        let models = init::choose_models(&drawn.invocations, &priced);
        let sampled: std::collections::BTreeSet<&str> =
            drawn.plan.added.iter().map(|c| c.intent.as_str()).collect();
        let proposal = traffic::propose_within(&drawn.invocations, &|i| sampled.contains(i));
        if proposal.is_none() {
            notes.push("the logs span under an hour (or carry no timestamps): no `traffic` proposed, so no dollars per month; add `traffic: {requests_per_month: N}` to costgate.yaml".into());
        }
        let files = a.logs.iter().map(|f| f.display().to_string()).collect();
        (
            drawn.plan.added.clone(),
            Origin::Logs {
                files,
                seed: a.seed,
            },
            models,
            proposal,
            Some((drawn.plan, drawn.malformed)),
        )
    };
    let files = plan_files(&setup, &repo, &cases, &origin, &models, proposal.as_ref())?;
    let existing: Vec<&str> = files
        .iter()
        .filter(|f| a.dir.join(&f.path).exists())
        .map(|f| f.path.as_str())
        .collect();
    if !existing.is_empty() && !a.force {
        return Err(Error::Usage(format!(
            "{} already exist{} in {}: nothing was written; pass --force to overwrite, or move {} aside",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" },
            a.dir.display(),
            if existing.len() == 1 { "it" } else { "them" },
        )));
    }
    for f in &files {
        write_file(&a.dir.join(&f.path), &f.text)?;
    }
    Ok(Outcome::text(summary(
        &a, &setup, &files, &cases, &models, plan, &notes,
    )))
}

/// The setup `a` asks for, checked: flags that do not fit the mode are errors, not ignored.
fn resolve(a: &InitArgs, repo: &Repo, env: &Vars, notes: &mut Vec<String>) -> Result<Setup> {
    let mode = match a.mode {
        ModeArg::Render => Mode::Render,
        ModeArg::Harness => Mode::Harness,
    };
    if mode == Mode::Render && (a.command.is_some() || a.language.is_some()) {
        return Err(Error::Usage(
            "--command and --language are for harness mode: add --mode harness".into(),
        ));
    }
    let language = match a.language {
        Some(LanguageArg::Python) => Language::Python,
        Some(LanguageArg::Node) => Language::Node,
        None => {
            let (l, note) = repo.language();
            if let (Mode::Harness, Some(n)) = (mode, note) {
                notes.push(n.into());
            }
            l
        }
    };
    let command = match &a.command {
        None => Setup::default_command(language),
        Some(c) => match shlex::split(c) {
            Some(argv) if !argv.is_empty() => argv,
            _ => {
                return Err(Error::Usage(format!(
                    "--command {c:?}: not a command line (an unclosed quote, or empty); e.g. --command \"python3 -m myapp.golden_harness\""
                )));
            }
        },
    };
    let action_repo = match a.action_repo.as_deref().or(BUILT_FROM) {
        Some(r) => {
            let valid = r.split('/').count() == 2
                && r.split('/').all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                });
            if !valid {
                return Err(Error::Usage(format!(
                    "--action-repo {r:?}: expected `owner/name`, the GitHub repository costgate is installed from"
                )));
            }
            r.to_string()
        }
        None => {
            notes.push("this build does not know which repository it was released from: replace OWNER in .github/workflows/costgate.yml (or pass --action-repo owner/name)".into());
            "OWNER/costgate".into()
        }
    };
    Ok(Setup {
        mode,
        language,
        command,
        intent_key: a.intent_key.clone(),
        action: ActionRef {
            repo: action_repo,
            tag: format!("v{}-prebuilt", env!("CARGO_PKG_VERSION")),
        },
        today: env.clock.today(),
    })
}

/// Every file `init` writes, in the order it writes them.
fn plan_files(
    setup: &Setup,
    repo: &Repo,
    cases: &[crate::measure::dataset::Case],
    origin: &Origin,
    models: &Models,
    proposal: Option<&traffic::Proposal>,
) -> Result<Vec<NewFile>> {
    let bug = |what: &str, e: String| {
        Error::Run(format!(
            "costgate init could not write {what}: {e} (a bug: please report it)"
        ))
    };
    let mut files = vec![
        init::golden_file(cases, origin, setup)
            .map_err(|d| bug(init::GOLDEN_FILE, d.to_string()))?,
        NewFile {
            path: init::CONFIG_FILE.into(),
            text: config::costgate_yaml(setup, proposal),
        },
    ];
    match setup.mode {
        Mode::Render => files.push(NewFile {
            path: init::ROUTES_FILE.into(),
            text: config::routes_yaml(models, setup),
        }),
        Mode::Harness => files.extend(skeleton::files(setup, models)),
    }
    files.push(NewFile {
        path: init::WORKFLOW_FILE.into(),
        text: workflow::workflow(setup, repo).map_err(|e| bug(init::WORKFLOW_FILE, e))?,
    });
    Ok(files)
}

/// Why logs gave no case, with what the reader skipped.
fn no_cases(a: &InitArgs, plan: &Plan, malformed: usize) -> Error {
    let mut why: Vec<String> = plan
        .skipped
        .iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    if malformed > 0 {
        why.push(format!("{malformed} malformed line(s)"));
    }
    let hint = if plan.skipped.keys().any(|r| r.contains("no intent")) {
        format!(
            "; the intent is read from requestMetadata.{} (--intent-key names another key)",
            a.intent_key
        )
    } else {
        String::new()
    };
    Error::Usage(format!(
        "no golden case could be drawn from {} log file(s): {}{hint}; nothing was written",
        a.logs.len(),
        if why.is_empty() {
            "no request with text".to_string()
        } else {
            why.join(", ")
        }
    ))
}

fn summary(
    a: &InitArgs,
    setup: &Setup,
    files: &[NewFile],
    cases: &[crate::measure::dataset::Case],
    models: &Models,
    plan: Option<(Plan, usize)>,
    notes: &[String],
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "costgate init: wrote {} file(s) in {}",
        files.len(),
        a.dir.display()
    );
    for f in files {
        let _ = writeln!(s, "  {}", f.path);
    }
    match &plan {
        Some((p, malformed)) => {
            let _ = writeln!(
                s,
                "golden: {} case(s) drawn from {} candidate(s) ({} duplicate(s) dropped){}",
                cases.len(),
                p.candidates,
                p.duplicates,
                if cases.len() < a.cases {
                    format!("; {} asked, the logs hold no more", a.cases)
                } else {
                    String::new()
                }
            );
            for (intent, n) in &p.added_by_intent {
                let model = match (models.by_intent.get(intent), models.unpriced.get(intent)) {
                    (Some(m), _) => format!("on {m}"),
                    (None, Some(m)) => format!("logged on {m}, unpriced: routed to default"),
                    (None, None) => format!("routed to default, {}", models.default),
                };
                let _ = writeln!(s, "  {n} {intent} ({model})");
            }
            for (why, n) in &p.skipped {
                let _ = writeln!(s, "  skipped {n} logged request(s): {why}");
            }
            if *malformed > 0 {
                let _ = writeln!(s, "  {malformed} malformed log line(s) ignored");
            }
            for (kind, n) in &p.redacted {
                let _ = writeln!(s, "  redacted {n} {kind}(s)");
            }
        }
        None => {
            let _ = writeln!(
                s,
                "golden: {} example case(s); replace them with real queries (--logs draws them from invocation logs)",
                cases.len()
            );
        }
    }
    for (intent, model) in &models.unpriced {
        let _ = writeln!(
            s,
            "warning: {intent} is logged mostly on {model}, which the price table does not know: it is routed to `default` ({}) until you price it",
            models.default
        );
    }
    for n in notes {
        let _ = writeln!(s, "note: {n}");
    }
    let dir = if a.dir == Path::new(".") {
        String::new()
    } else {
        format!(" --dir {}", a.dir.display())
    };
    let _ = writeln!(s, "\nReview by hand before committing:");
    let _ = writeln!(
        s,
        "  - the intents: each case's `intent` must be the name your application routes by"
    );
    let _ = writeln!(
        s,
        "  - expectations: add `expect` entries (context_includes, model, bypass) so a cheaper change cannot break answers unseen"
    );
    if plan.is_some() {
        let _ = writeln!(
            s,
            "  - redaction: placeholders replace credentials, e-mail addresses, card and phone numbers; names and addresses pass through, so read the queries"
        );
    }
    if setup.mode == Mode::Harness {
        let _ = writeln!(
            s,
            "  - the harness: {} calls a placeholder; make it call your application",
            setup.command.join(" ")
        );
    }
    let _ = writeln!(s, "\nNext:");
    let _ = writeln!(s, "  costgate run{dir}        # price the golden dataset");
    let _ = writeln!(
        s,
        "  costgate baseline{dir}   # record the costs pull requests are compared with; then commit"
    );
    s
}
