//! `costgate init` (docs/first-hour.md): the files a repository needs to be gated, written from
//! what the team already has. Golden cases come from invocation logs through `refresh`'s sampler
//! (the command draws them; this module writes them), `traffic` from `calibrate`'s proposal, each
//! intent's model from the logs' own counts, and the workflow from the shipped examples.
//!
//! Everything here is pure: the command reads the repository and the logs, hands over what it
//! found, and writes the [`NewFile`]s only after checking that none would overwrite anything.

pub mod config;
pub mod skeleton;
pub mod workflow;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::infra::diag::Diagnostic;
use crate::measure::config::Mode;
use crate::measure::dataset::{Case, Message, Role};
use crate::ratchet::calibrate::logs::Invocation;
use crate::ratchet::refresh::write;

/// Where `init` puts the golden cases it writes, inside the `golden/` directory `costgate.yaml` names.
pub const GOLDEN_DIR: &str = "golden/";
pub const GOLDEN_FILE: &str = "golden/cases.yaml";
pub const CONFIG_FILE: &str = "costgate.yaml";
pub const ROUTES_FILE: &str = "costgate/routes.yaml";
pub const WORKFLOW_FILE: &str = ".github/workflows/costgate.yml";
/// The model an intent nobody logged is sent to: Claude Haiku 4.5, a current, mid-priced default
/// every Bedrock account can call in us-east-1.
pub const FALLBACK_MODEL: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";

/// One file `init` writes, its path relative to the repository root.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile {
    pub path: String,
    pub text: String,
}

/// The application's language, for a harness skeleton and the workflow's setup step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    Node,
}

/// What the repository holds that decides the language and the install step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repo {
    pub pyproject: bool,
    pub requirements: bool,
    pub package_json: bool,
    pub package_lock: bool,
}

impl Repo {
    /// Python when the repository has `pyproject.toml` or `requirements.txt`, Node when it has
    /// `package.json` (and no Python project), Python otherwise: the second value says so.
    pub fn language(&self) -> (Language, Option<&'static str>) {
        match (self.pyproject || self.requirements, self.package_json) {
            (true, true) => (
                Language::Python,
                Some(
                    "the repository has both a Python project and package.json: the harness skeleton is Python (`--language node` for Node)",
                ),
            ),
            (true, false) => (Language::Python, None),
            (false, true) => (Language::Node, None),
            (false, false) => (
                Language::Python,
                Some(
                    "no pyproject.toml, requirements.txt or package.json: the harness skeleton is Python (`--language node` for Node)",
                ),
            ),
        }
    }
}

/// The costgate release the written workflow uses: `repo@tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef {
    /// `owner/name` of the repository costgate is installed from.
    pub repo: String,
    /// A release tag, e.g. `v0.1.0-prebuilt`.
    pub tag: String,
}

impl ActionRef {
    /// The docs of that release, by URL (users of the binary have no `docs/` folder).
    pub fn docs(&self, page: &str) -> String {
        format!(
            "https://github.com/{}/blob/{}/docs/{page}",
            self.repo, self.tag
        )
    }
}

/// How `init` was asked to set the repository up, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub mode: Mode,
    pub language: Language,
    /// `harness.command` (harness mode).
    pub command: Vec<String>,
    pub intent_key: String,
    pub action: ActionRef,
    pub today: NaiveDate,
}

impl Setup {
    /// The harness command a skeleton in `language` is run with.
    pub fn default_command(language: Language) -> Vec<String> {
        match language {
            Language::Python => vec!["python3".into(), skeleton::PYTHON_ENTRY.into()],
            Language::Node => vec!["node".into(), skeleton::NODE_ENTRY.into()],
        }
    }
}

/// Each logged intent's model: the one the logs show most for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Models {
    /// Intent → model id (ARNs reduced to the id the price table knows).
    pub by_intent: BTreeMap<String, String>,
    /// The model `default` routes to: the most logged priced model.
    pub default: String,
    /// Intents whose most logged model the price table does not know, with that model: left to
    /// `default` with a comment, so that `costgate run` works before the price is added.
    pub unpriced: BTreeMap<String, String>,
    /// Intent → the median answer length logged for it (`outputTokenCount`), the length render
    /// mode's stand-in answers with instead of a generic one.
    pub output_tokens: BTreeMap<String, u64>,
}

/// The models of `invocations`, per intent and overall; `priced` says whether the price table
/// knows a model (an id, a profile or an ARN).
pub fn choose_models(invocations: &[Invocation], priced: &dyn Fn(&str) -> bool) -> Models {
    let mut per_intent: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut overall: BTreeMap<&str, u64> = BTreeMap::new();
    let mut outputs: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for i in invocations {
        let model = crate::measure::pricing::strip_arn(&i.model_id);
        *overall.entry(model).or_default() += 1;
        if let Some(intent) = i.intent.as_deref().filter(|s| !s.trim().is_empty()) {
            if let Some(n) = i.output_tokens {
                outputs.entry(intent).or_default().push(n);
            }
            *per_intent
                .entry(intent)
                .or_default()
                .entry(model)
                .or_default() += 1;
        }
    }
    // The most counted; ties go to the first name, so the choice does not depend on log order.
    let most = |counts: &BTreeMap<&str, u64>| {
        counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(m, _)| m.to_string())
    };
    let mut models = Models {
        default: {
            let priced_only: BTreeMap<&str, u64> = overall
                .iter()
                .filter(|(m, _)| priced(m))
                .map(|(m, n)| (*m, *n))
                .collect();
            most(&priced_only).unwrap_or_else(|| FALLBACK_MODEL.to_string())
        },
        ..Models::default()
    };
    for (intent, mut lengths) in outputs {
        // The lower median: a length some request really had.
        lengths.sort_unstable();
        models
            .output_tokens
            .insert(intent.to_string(), lengths[(lengths.len() - 1) / 2]);
    }
    for (intent, counts) in &per_intent {
        let Some(model) = most(counts) else { continue };
        if priced(&model) {
            models.by_intent.insert(intent.to_string(), model);
        } else {
            models.unpriced.insert(intent.to_string(), model);
        }
    }
    models
}

/// A handful of cases for a repository without logs, each saying it is an example.
pub fn example_cases(today: NaiveDate) -> Vec<Case> {
    let case = |id: &str, intent: &str, query: &str, history: Vec<Message>| Case {
        id: id.into(),
        intent: intent.into(),
        query: query.into(),
        history,
        added: Some(today),
        ..Case::default()
    };
    vec![
        case(
            "EXAMPLE-1",
            "question",
            "How do I change the delivery address of an order I placed yesterday?",
            Vec::new(),
        ),
        case(
            "EXAMPLE-2",
            "question",
            "Which of your plans includes priority support, and what does it cost per month?",
            Vec::new(),
        ),
        case(
            "EXAMPLE-3",
            "chit_chat",
            "Thanks, that helped!",
            vec![
                Message {
                    role: Role::User,
                    content: "Can I return an opened item?".into(),
                },
                Message {
                    role: Role::Assistant,
                    content: "Yes, within 30 days, with the receipt.".into(),
                },
            ],
        ),
    ]
}

/// Where the golden cases came from, for the file's header.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Drawn from this many logged requests in these files.
    Logs { files: Vec<String>, seed: u64 },
    /// [`example_cases`].
    Examples,
}

/// The golden file: `cases` after a header that says where they came from and what to do next.
pub fn golden_file(cases: &[Case], origin: &Origin, setup: &Setup) -> Result<NewFile, Diagnostic> {
    let header = match origin {
        Origin::Logs { files, seed } => format!(
            "# Golden cases drawn by `costgate init` on {} from production invocation logs\n\
             # ({}, --seed {seed}): per intent in proportion to the logged traffic, the longest requests\n\
             # weighted, duplicates dropped, personal data replaced by placeholders.\n\
             # Before committing: read them (redaction is a floor, not a guarantee), check each `intent`,\n\
             # and add `expect` entries for what a cheaper change must not break ({}).\n",
            setup.today,
            files.join(", "),
            setup.action.docs("quality.md"),
        ),
        Origin::Examples => format!(
            "# Example golden cases written by `costgate init` on {}: replace them with real user queries.\n\
             # Either draw them from Bedrock model-invocation logs:\n\
             #   costgate init --logs invocations.json.gz --force\n\
             # or write one case per real query, its `intent` named as your application routes it\n\
             # ({}).\n",
            setup.today,
            setup.action.docs("configuration.md"),
        ),
    };
    write::new_file(GOLDEN_FILE.to_string(), &header, cases).map(|f| NewFile {
        path: f.path,
        text: f.new,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(intent: Option<&str>, model: &str) -> Invocation {
        Invocation {
            at_ms: None,
            intent: intent.map(String::from),
            model_id: model.into(),
            output_tokens: intent.map(|i| i.len() as u64),
        }
    }

    #[test]
    fn each_intent_goes_to_its_most_logged_model_and_arns_are_reduced() {
        let logs = [
            inv(Some("faq"), "amazon.nova-lite-v1:0"),
            inv(Some("faq"), "amazon.nova-lite-v1:0"),
            inv(
                Some("faq"),
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
            ),
            inv(
                Some("triage"),
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-micro-v1:0",
            ),
            inv(Some("legacy"), "acme.unknown-model-v1"),
            inv(None, "amazon.nova-micro-v1:0"),
            inv(None, "amazon.nova-micro-v1:0"),
        ];
        let m = choose_models(&logs, &|m| !m.starts_with("acme."));
        assert_eq!(m.by_intent["faq"], "amazon.nova-lite-v1:0");
        assert_eq!(m.by_intent["triage"], "us.amazon.nova-micro-v1:0");
        assert_eq!(m.unpriced["legacy"], "acme.unknown-model-v1");
        assert!(!m.by_intent.contains_key("legacy"));
        // Nova Micro: 3 calls overall (one through an ARN), Nova Lite 2.
        assert_eq!(m.default, "amazon.nova-micro-v1:0");
        assert_eq!(m.output_tokens["faq"], 3);
    }

    #[test]
    fn no_priced_model_falls_back() {
        let m = choose_models(&[inv(Some("a"), "acme.x")], &|_| false);
        assert_eq!(m.default, FALLBACK_MODEL);
        assert!(m.by_intent.is_empty());
    }

    #[test]
    fn the_language_follows_the_project_files() {
        let py = Repo {
            pyproject: true,
            ..Repo::default()
        };
        let node = Repo {
            package_json: true,
            ..Repo::default()
        };
        assert_eq!(py.language(), (Language::Python, None));
        assert_eq!(node.language(), (Language::Node, None));
        assert_eq!(Repo::default().language().0, Language::Python);
        assert!(Repo::default().language().1.is_some());
    }
}
