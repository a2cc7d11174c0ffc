//! The runner's environment as `costgate action` reads it: inputs (`INPUT_*`, hyphens kept as the
//! runner writes them, underscores accepted), the `GITHUB_*` variables, and the files the runner
//! reads back (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`). Read from a map so tests need no process env.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::infra::error::{Error, Result};

/// A snapshot of environment variables. No `Debug`: it holds tokens.
#[derive(Clone, Default)]
pub struct RunnerEnv {
    vars: BTreeMap<String, String>,
}

impl RunnerEnv {
    pub fn from_process() -> Self {
        RunnerEnv {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        RunnerEnv {
            vars: pairs.into_iter().collect(),
        }
    }

    /// A non-empty variable.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// An action input: `INPUT_GITHUB-TOKEN` (the runner keeps hyphens) or `INPUT_GITHUB_TOKEN`.
    pub fn input(&self, name: &str) -> Option<String> {
        let upper = name.to_ascii_uppercase();
        self.var(&format!("INPUT_{upper}"))
            .or_else(|| self.var(&format!("INPUT_{}", upper.replace('-', "_"))))
    }

    /// A boolean input (`true`/`false`, YAML 1.2 core spellings); `default` when unset.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self
            .input(name)
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => Ok(default),
            Some("true" | "yes" | "on" | "1") => Ok(true),
            Some("false" | "no" | "off" | "0") => Ok(false),
            Some(other) => Err(Error::Usage(format!(
                "input `{name}`: expected true or false, got `{other}`"
            ))),
        }
    }

    pub fn require(&self, name: &str, why: &str) -> Result<String> {
        self.var(name)
            .ok_or_else(|| Error::Usage(format!("{name} is not set; {why}")))
    }
}

/// The action's inputs (action.yml). No `Debug`: it holds tokens.
#[derive(Clone)]
pub struct Inputs {
    pub github_token: Option<String>,
    pub config: String,
    pub base_ref: Option<String>,
    pub head_ref: Option<String>,
    pub approver_token: Option<String>,
    pub jira_url: Option<String>,
    pub jira_user: Option<String>,
    pub jira_token: Option<String>,
    pub comment: bool,
    pub working_directory: Option<String>,
    /// Login the sticky comment is written as, when `GET /user` cannot tell (GitHub App tokens).
    pub comment_author: Option<String>,
    /// Where report.json and report.md go (default: `.costgate-out` in the working directory).
    pub out_dir: Option<String>,
    /// workflow_run companion: the directory holding the downloaded `costgate-comment.json`.
    pub comment_from: Option<String>,
    /// How long a GitHub or JIRA response may take (a timed-out read is retried when safe).
    pub http_timeout: std::time::Duration,
}

impl Inputs {
    pub fn read(env: &RunnerEnv) -> Result<Inputs> {
        Ok(Inputs {
            github_token: env.input("github-token"),
            config: env
                .input("config")
                .unwrap_or_else(|| crate::measure::config::DEFAULT_PATH.to_string()),
            base_ref: env.input("base-ref"),
            head_ref: env.input("head-ref"),
            approver_token: env.input("approver-token"),
            jira_url: env.input("jira-url"),
            jira_user: env.input("jira-user"),
            jira_token: env.input("jira-token"),
            comment: env.flag("comment", true)?,
            working_directory: env.input("working-directory"),
            comment_author: env.input("comment-author"),
            out_dir: env.input("out-dir"),
            comment_from: env.input("comment-from"),
            http_timeout: match env.input("http-timeout-seconds") {
                None => std::time::Duration::from_secs(30),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n > 0 => std::time::Duration::from_secs(n),
                    _ => {
                        return Err(Error::Usage(format!(
                            "input `http-timeout-seconds`: expected a whole number of seconds, got `{v}`"
                        )));
                    }
                },
            },
        })
    }

    /// Secrets to mask in the log before anything else is printed.
    pub fn secrets(&self) -> Vec<&str> {
        [&self.github_token, &self.approver_token, &self.jira_token]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

impl Inputs {
    /// Masks the inputs' secrets, and the Basic-auth form JIRA may echo.
    pub fn redactor(&self) -> crate::infra::redact::Redactor {
        let users: Vec<&str> = self.jira_user.iter().map(String::as_str).collect();
        crate::infra::redact::Redactor::new(self.secrets(), &users)
    }
}

impl Inputs {
    /// A GitHub client for `repo` on the runner's API (`GITHUB_API_URL`, github.com by default)
    /// with `token` and the `http-timeout-seconds` input.
    pub fn github(
        &self,
        env: &RunnerEnv,
        repo: &str,
        token: Option<&str>,
    ) -> Result<crate::clients::github::GitHub> {
        let api = env
            .var("GITHUB_API_URL")
            .unwrap_or_else(|| "https://api.github.com".into());
        crate::clients::github::GitHub::with_timeout(&api, token, repo, self.http_timeout)
            .map_err(Error::Usage)
    }
}

/// Appends `name=value` lines to `$GITHUB_OUTPUT` (multi-line values use a heredoc delimiter).
pub fn write_outputs(path: &Path, outputs: &[(&str, String)]) -> Result<()> {
    let mut text = String::new();
    for (k, v) in outputs {
        if v.contains('\n') || v.contains('\r') {
            // A delimiter no line of the value equals: a value (a JIRA key, a URL) cannot end
            // the heredoc early and write outputs of its own.
            let mut delim = String::from("costgate_eof");
            while v.lines().any(|l| l.trim_end_matches('\r') == delim) {
                delim.push('_');
            }
            text.push_str(&format!("{k}<<{delim}\n{v}\n{delim}\n"));
        } else {
            text.push_str(&format!("{k}={v}\n"));
        }
    }
    crate::infra::files::append_file(path, &text)
}

/// The directory the gate runs in: the workspace, or `working-directory` inside it.
pub fn working_dir(env: &RunnerEnv, inputs: &Inputs) -> Result<PathBuf> {
    let ws = PathBuf::from(env.var("GITHUB_WORKSPACE").unwrap_or_else(|| ".".into()));
    let dir = match &inputs.working_directory {
        Some(w) => ws.join(w),
        None => ws,
    };
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "working directory {} does not exist; check `working-directory` and actions/checkout",
            dir.display()
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> RunnerEnv {
        RunnerEnv::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn inputs_accept_hyphen_and_underscore_spellings() {
        let e = env(&[
            ("INPUT_GITHUB-TOKEN", "t1"),
            ("INPUT_APPROVER_TOKEN", "t2"),
            ("INPUT_BASE-REF", "  "),
            ("INPUT_COMMENT", "false"),
        ]);
        let i = Inputs::read(&e).unwrap();
        assert_eq!(i.github_token.as_deref(), Some("t1"));
        assert_eq!(i.approver_token.as_deref(), Some("t2"));
        assert_eq!(i.base_ref, None, "blank inputs are unset");
        assert!(!i.comment);
        assert_eq!(i.secrets(), ["t1", "t2"]);
        assert!(Inputs::read(&env(&[("INPUT_COMMENT", "maybe")])).is_err());
    }

    #[test]
    fn outputs_use_heredoc_for_multiline_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        write_outputs(&p, &[("verdict", "fail".into()), ("notes", "a\nb".into())]).unwrap();
        write_outputs(&p, &[("x", "1".into())]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "verdict=fail\nnotes<<costgate_eof\na\nb\ncostgate_eof\nx=1\n"
        );
    }

    #[test]
    fn a_value_cannot_close_the_heredoc_and_inject_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        let hostile = "COST-1\ncostgate_eof\nverdict=pass";
        write_outputs(&p, &[("jira-key", hostile.into())]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("jira-key<<costgate_eof_\n{hostile}\ncostgate_eof_\n")
        );
    }
}
