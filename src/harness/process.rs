//! Running the harness command: materialising a git commit into a temporary directory, a clean
//! environment (dummy AWS credentials, no secrets of the CI job: the head's harness is code from the
//! pull request), a timeout that kills the harness's whole process group, and the tails of its
//! output for error messages.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::infra::error::{Error, Result};
use crate::infra::tree::{GitSource, Tree};

/// Environment variables passed through to the harness; everything else is dropped, so tokens of
/// the CI job (GitHub, JIRA, real AWS credentials) never reach code from a pull request.
const PASSTHROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "TERM",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONDONTWRITEBYTECODE",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PIP_CACHE_DIR",
    "JAVA_HOME",
    "NODE_PATH",
    "NVM_DIR",
    "GOPATH",
    "GOCACHE",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "LD_LIBRARY_PATH",
    "CI",
    "GITHUB_ACTIONS",
];

/// Lines of output kept for error messages.
const TAIL_LINES: usize = 40;

/// A directory holding a side's tree: the tree's own directory, or a temporary checkout.
pub enum Checkout {
    Dir(PathBuf),
    /// `tree` inside the temporary `dir`, which also holds the private index.
    Temp {
        dir: tempfile::TempDir,
        tree: PathBuf,
    },
}

impl Checkout {
    pub fn path(&self) -> &Path {
        match self {
            Checkout::Dir(p) => p,
            Checkout::Temp { tree, .. } => tree,
        }
    }

    /// The tree's directory; a git commit is checked out into a temporary directory.
    pub fn of(tree: &dyn Tree, side: &str) -> Result<Checkout> {
        if let Some(root) = tree.root() {
            return Ok(Checkout::Dir(root.to_path_buf()));
        }
        let Some(GitSource {
            repo,
            commit,
            subdir,
        }) = tree.git_source()
        else {
            return Err(Error::Run(format!(
                "the {side} tree is neither a directory nor a git commit; harness mode needs one"
            )));
        };
        let fail = |what: String| {
            Error::Run(format!(
                "cannot check out {side} commit {commit} for the harness: {what}"
            ))
        };
        let dir = tempfile::Builder::new()
            .prefix("costgate-harness-")
            .tempdir()
            .map_err(|e| fail(e.to_string()))?;
        // A private index: read-tree + checkout-index write the commit exactly as a checkout would
        // (modes, symlinks, filters) without touching the repository's own index or worktrees, and
        // unlike `git archive` without dropping `export-ignore` paths the harness may need.
        let index = dir.path().join(".costgate-index");
        let tree = dir.path().join("tree");
        let run = |args: &[&str]| -> Result<()> {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(repo)
                .args(args)
                .env("GIT_INDEX_FILE", &index)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| fail(format!("cannot run git: {e}")))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(fail(format!(
                    "git {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                )))
            }
        };
        run(&["read-tree", commit])?;
        let prefix = format!("{}/", tree.display());
        run(&[
            "checkout-index",
            "--all",
            "--force",
            &format!("--prefix={prefix}"),
        ])?;
        let tree = if subdir.is_empty() {
            tree
        } else {
            tree.join(subdir.trim_end_matches('/'))
        };
        if !tree.is_dir() {
            return Err(fail(format!(
                "the commit has no directory `{subdir}` (the working directory)"
            )));
        }
        Ok(Checkout::Temp { dir, tree })
    }
}

/// The last lines of a stream.
#[derive(Clone, Default)]
pub struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() == TAIL_LINES {
            q.pop_front();
        }
        q.push_back(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

fn drain(
    stream: impl AsyncRead + Unpin + Send + 'static,
    tail: Tail,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        // Non-UTF-8 output ends the read; what was kept so far is enough for a message.
        while let Ok(Some(line)) = lines.next_line().await {
            tail.push(line);
        }
    })
}

/// How the harness ended.
pub enum Ended {
    Exited(ExitStatus),
    TimedOut,
}

/// A running harness.
pub struct Running {
    child: tokio::process::Child,
    /// The process group id (the harness's pid), kept because `Child::id` is gone once reaped.
    pgid: Option<u32>,
    pub stdout: Tail,
    pub stderr: Tail,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts `command` in `dir` with only `env` and the pass-through variables set, isolated from
/// the other processes of the machine where possible (`harness::isolation`).
pub fn spawn(command: &[String], dir: &Path, env: &[(&str, String)]) -> Result<Running> {
    if command.is_empty() {
        return Err(Error::Run("`harness.command` is empty".into()));
    }
    findable(&command[0], dir)?;
    let wrapped = super::isolation::detect().wrap(command);
    let (program, args) = wrapped
        .split_first()
        .ok_or_else(|| Error::Run("`harness.command` is empty".into()))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.kill_on_drop(true);
    for key in PASSTHROUGH {
        if let Ok(v) = std::env::var(key) {
            cmd.env(key, v);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| {
        Error::Run(format!(
            "cannot start the harness `{}` in {}: {e}",
            command.join(" "),
            dir.display()
        ))
    })?;
    let (stdout, stderr) = (Tail::default(), Tail::default());
    let mut readers = Vec::new();
    if let Some(s) = child.stdout.take() {
        readers.push(drain(s, stdout.clone()));
    }
    if let Some(s) = child.stderr.take() {
        readers.push(drain(s, stderr.clone()));
    }
    let pgid = child.id();
    Ok(Running {
        child,
        pgid,
        stdout,
        stderr,
        readers,
    })
}

/// The harness program exists: on `PATH`, or as a path (relative ones from the tree). A typo is
/// a configuration error named by its key, not a failed run reported by `unshare`.
fn findable(program: &str, dir: &Path) -> Result<()> {
    let path = std::env::var_os("PATH");
    if which::which_in(program, path.as_ref(), dir).is_ok() {
        return Ok(());
    }
    let hint = if program.contains('/') {
        "no such executable file in the tree".to_string()
    } else {
        "not found on PATH".to_string()
    };
    Err(Error::Usage(format!(
        "`harness.command` in costgate.yaml starts with `{program}`: {hint}; check the program's name (e.g. `python3`, `node`) and that it is installed on this machine"
    )))
}

impl Running {
    /// Waits for the exit, or kills it when `timeout` passes; `tick` runs every 250 ms meanwhile.
    pub async fn wait(&mut self, timeout: Duration, mut tick: impl FnMut()) -> Result<Ended> {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut every = tokio::time::interval(Duration::from_millis(250));
        let ended = loop {
            tokio::select! {
                status = self.child.wait() => {
                    break Ended::Exited(status.map_err(|e| Error::Run(format!("lost the harness process: {e}")))?);
                }
                _ = &mut deadline => break Ended::TimedOut,
                _ = every.tick() => tick(),
            }
        };
        // Whatever it left behind (background children holding its pipes) goes too.
        self.kill_group();
        if matches!(ended, Ended::TimedOut) {
            let _ = self.child.wait().await;
        }
        for r in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), r).await;
        }
        Ok(ended)
    }

    fn kill_group(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.pgid {
            // SAFETY: kill(2) with a negative pid signals the process group we created with
            // process_group(0); it has no memory-safety preconditions.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
    }

    /// The harness's last output lines, stderr first, for an error message.
    pub fn tail(&self) -> String {
        let (err, out) = (self.stderr.lines(), self.stdout.lines());
        let (name, lines) = if !err.is_empty() {
            ("stderr", err)
        } else {
            ("stdout", out)
        };
        if lines.is_empty() {
            return "(the harness printed nothing)".into();
        }
        let mut s = format!("last {} line(s) of the harness's {name}:", lines.len());
        for l in lines {
            s.push_str("\n  | ");
            s.push_str(&l);
        }
        s
    }
}
