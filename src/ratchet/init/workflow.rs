//! `.github/workflows/costgate.yml`: the shipped example workflow for the mode and language, with
//! costgate's own action pinned to this release's tag and the install step fitted to the
//! repository. The examples are the one source: `.github/workflows/examples/` holds the same
//! files (a test keeps them equal), and the examples pass `actionlint` and `zizmor`.

use super::{ActionRef, Language, Repo, Setup};
use crate::measure::config::Mode;

pub const RENDER: &str = include_str!("../../../templates/init/workflow-pr-gate.yml");
pub const PYTHON: &str = include_str!("../../../templates/init/workflow-harness-python.yml");
pub const NODE: &str = include_str!("../../../templates/init/workflow-harness-node.yml");

/// The placeholder the examples use for the repository costgate is installed from.
const PLACEHOLDER: &str = "OWNER/costgate";
const PLACEHOLDER_TAG: &str = "@v1";

/// The workflow for `setup` in `repo`. An error means a shipped example no longer has a line this
/// edits: a bug, never the user's input.
pub fn workflow(setup: &Setup, repo: &Repo) -> Result<String, String> {
    let (template, action) = match (setup.mode, setup.language) {
        (Mode::Render, _) => (RENDER, ""),
        (Mode::Harness, Language::Python) => (PYTHON, "/runner"),
        (Mode::Harness, Language::Node) => (NODE, "/runner"),
    };
    let mut text = template.to_string();
    replace(
        &mut text,
        &format!("uses: {PLACEHOLDER}{action}{PLACEHOLDER_TAG}\n"),
        &pinned(&setup.action, action),
    )?;
    if setup.mode == Mode::Harness {
        match setup.language {
            Language::Python => python_install(&mut text, repo)?,
            Language::Node => node_install(&mut text, repo)?,
        }
    }
    Ok(format!(
        "# Written by `costgate init` on {}: review it, then commit it ({}).\n{text}",
        setup.today,
        setup.action.docs("action.md")
    ))
}

/// costgate's own action at its release tag. zizmor wants every action pinned by commit SHA; a
/// tag is what a release publishes and what this binary knows, so the line says why it is a tag.
fn pinned(action: &ActionRef, path: &str) -> String {
    format!(
        "uses: {}{path}@{} # zizmor: ignore[unpinned-uses] costgate's release tag; pin its commit SHA if you prefer\n",
        action.repo, action.tag
    )
}

fn python_install(text: &mut String, repo: &Repo) -> Result<(), String> {
    const INSTALL: &str = "      - run: pip install -r requirements.txt\n";
    const CACHE: &str = "          cache: pip\n";
    if repo.requirements {
        return Ok(());
    }
    if repo.pyproject {
        replace(text, INSTALL, "      - run: pip install .\n")?;
        replace(
            text,
            CACHE,
            "          cache: pip\n          cache-dependency-path: pyproject.toml\n",
        )
    } else {
        // Nothing to install from, and setup-python's cache needs a dependency file.
        replace(
            text,
            INSTALL,
            "      # - run: pip install -r requirements.txt   # your application's dependencies\n",
        )?;
        replace(text, CACHE, "")
    }
}

fn node_install(text: &mut String, repo: &Repo) -> Result<(), String> {
    const INSTALL: &str = "      - run: npm ci --ignore-scripts\n";
    const CACHE: &str = "          cache: npm\n";
    if repo.package_lock {
        return Ok(());
    }
    // setup-node's npm cache and `npm ci` both need a lockfile.
    replace(text, CACHE, "")?;
    if repo.package_json {
        replace(
            text,
            INSTALL,
            "      # Commit package-lock.json and use `npm ci --ignore-scripts` for a reproducible install.\n      - run: npm install --ignore-scripts\n",
        )
    } else {
        replace(
            text,
            INSTALL,
            "      # - run: npm ci --ignore-scripts   # your application's dependencies\n",
        )
    }
}

fn replace(text: &mut String, from: &str, to: &str) -> Result<(), String> {
    if !text.contains(from) {
        return Err(format!(
            "the workflow template no longer contains `{}`",
            from.trim()
        ));
    }
    *text = text.replacen(from, to, 1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(mode: Mode, language: Language) -> Setup {
        Setup {
            mode,
            language,
            command: Setup::default_command(language),
            intent_key: "intent".into(),
            action: ActionRef {
                repo: "acme/costgate".into(),
                tag: "v0.1.0-prebuilt".into(),
            },
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
        }
    }

    #[test]
    fn the_templates_are_the_shipped_examples() {
        assert_eq!(
            RENDER,
            include_str!("../../../.github/workflows/examples/pr-gate.yml")
        );
        assert_eq!(
            PYTHON,
            include_str!("../../../.github/workflows/examples/harness-python.yml")
        );
        assert_eq!(
            NODE,
            include_str!("../../../.github/workflows/examples/harness-node.yml")
        );
    }

    #[test]
    fn every_mode_and_repository_kind_renders() {
        let kinds = [
            Repo::default(),
            Repo {
                requirements: true,
                ..Repo::default()
            },
            Repo {
                pyproject: true,
                ..Repo::default()
            },
            Repo {
                package_json: true,
                ..Repo::default()
            },
            Repo {
                package_json: true,
                package_lock: true,
                ..Repo::default()
            },
        ];
        for mode in [Mode::Render, Mode::Harness] {
            for lang in [Language::Python, Language::Node] {
                for repo in &kinds {
                    let w = workflow(&setup(mode, lang), repo).unwrap();
                    assert!(!w.contains("OWNER/"), "{w}");
                    assert!(w.contains("@v0.1.0-prebuilt # zizmor"), "{w}");
                }
            }
        }
        let py = workflow(
            &setup(Mode::Harness, Language::Python),
            &Repo {
                pyproject: true,
                ..Repo::default()
            },
        )
        .unwrap();
        assert!(py.contains("- run: pip install .\n"), "{py}");
        assert!(
            py.contains("uses: acme/costgate/runner@v0.1.0-prebuilt"),
            "{py}"
        );
        let node = workflow(
            &setup(Mode::Harness, Language::Node),
            &Repo {
                package_json: true,
                ..Repo::default()
            },
        )
        .unwrap();
        assert!(!node.contains("cache: npm"), "{node}");
        assert!(node.contains("npm install --ignore-scripts"), "{node}");
    }
}
