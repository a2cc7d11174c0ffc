//! Keeps the job's secrets away from the harness, which is code from the pull request. Its own
//! environment is an allow-list (see `PASSTHROUGH`), but a process running as the same user can
//! read any other's `/proc/PID/environ` — costgate's, the runner step's shell, the runner itself —
//! and those hold the GitHub and JIRA tokens. So on Linux the harness starts in a new PID and mount
//! namespace with its own `/proc` (util-linux `unshare`, adding a user namespace when costgate is
//! not root): it sees only its own processes. Its filesystem view is otherwise the runner's (its
//! tree, `$TMPDIR`, `/tmp`, tool caches), so applications behave as they do in CI.
//!
//! Where that is impossible (no `unshare`, user namespaces disabled, not Linux) the harness runs
//! as before and the report says so, plainly, once per run.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// How the harness is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// `unshare` with these arguments, then the harness command.
    Namespaces { unshare: PathBuf, args: Vec<String> },
    /// Not isolated, and why.
    Unavailable(String),
}

impl Isolation {
    /// The program and arguments that run `command` under this isolation.
    pub fn wrap(&self, command: &[String]) -> Vec<String> {
        match self {
            Isolation::Namespaces { unshare, args } => {
                let mut v = vec![unshare.display().to_string()];
                v.extend(args.iter().cloned());
                v.push("--".into());
                v.extend(command.iter().cloned());
                v
            }
            Isolation::Unavailable(_) => command.to_vec(),
        }
    }

    /// The note for the report when the harness could not be isolated.
    pub fn note(&self) -> Option<String> {
        match self {
            Isolation::Namespaces { .. } => None,
            Isolation::Unavailable(why) => Some(format!(
                "the harness ran without PID and mount namespaces ({why}): as the same user it could read other processes' environment, including the job's tokens; see {}",
                crate::infra::docs::page("security.md")
            )),
        }
    }
}

/// What this machine allows, probed once per process (one `unshare … true`).
pub fn detect() -> &'static Isolation {
    static DETECTED: OnceLock<Isolation> = OnceLock::new();
    DETECTED.get_or_init(probe)
}

fn probe() -> Isolation {
    if !cfg!(target_os = "linux") {
        return Isolation::Unavailable("namespaces are Linux-only".into());
    }
    if std::env::var_os("COSTGATE_HARNESS_ISOLATION").is_some_and(|v| v == "off") {
        return Isolation::Unavailable("COSTGATE_HARNESS_ISOLATION=off".into());
    }
    let Some(unshare) = find_on_path("unshare") else {
        return Isolation::Unavailable("`unshare` (util-linux) is not on PATH".into());
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut args: Vec<String> = Vec::new();
    if !root {
        // Unprivileged: a user namespace (mapped to the same user) grants the rights for the rest.
        args.extend(["--user", "--map-current-user"].map(String::from));
    }
    args.extend(["--pid", "--fork", "--mount", "--mount-proc", "--kill-child"].map(String::from));
    let ok = Command::new(&unshare)
        .args(&args)
        .args(["--", "sh", "-c", "exit 0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match ok {
        Ok(o) if o.status.success() => Isolation::Namespaces { unshare, args },
        Ok(o) => Isolation::Unavailable(format!(
            "`unshare {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Isolation::Unavailable(format!("cannot run `unshare`: {e}")),
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
