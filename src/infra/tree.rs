//! Read-only views of a source tree: a directory on disk, or a commit read straight from a git
//! repository's object store (no checkout, the working tree is never touched). Everything costgate
//! reads from the gated repository goes through [`Tree`], so base and head are handled alike.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

/// Errors reading a tree. Git failures are "could not produce a verdict" (exit 3), a missing or
/// unreadable file is a configuration problem (exit 2); `crate::Error` keeps them apart.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid UTF-8 text")]
    NotUtf8 { path: String },
    #[error("path `{path}` leaves the repository; paths must be relative to the repository root")]
    Escapes { path: String },
    #[error(
        "{repo} is not inside a git repository: run costgate in a clone, or compare two directories with --base-dir DIR --head-dir DIR"
    )]
    NotARepository { repo: String },
    #[error("git {args} failed in {repo}: {stderr}")]
    Git {
        repo: String,
        args: String,
        stderr: String,
    },
}

/// A source tree: paths are `/`-separated and relative to its root.
pub trait Tree: Send + Sync {
    /// A short human name ("base", "head", a directory, a ref) for messages.
    fn label(&self) -> &str;
    /// File contents, `Ok(None)` when the path does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, TreeError>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &str) -> Result<bool, TreeError>;
    /// All files below `dir`, recursively, sorted.
    fn list(&self, dir: &str) -> Result<Vec<String>, TreeError>;
    /// Where the tree lives on disk, when it does (harness mode needs a real directory).
    fn root(&self) -> Option<&Path> {
        None
    }
    /// The repository and commit a git tree reads (harness mode checks it out into a temporary directory).
    fn git_source(&self) -> Option<GitSource<'_>> {
        None
    }
    /// An id of the file's content that changes when the content does (a git blob id), when the
    /// tree has one without reading the file; `None`: compare by reading.
    fn content_id(&self, _path: &str) -> Option<&str> {
        None
    }

    fn read_string(&self, path: &str) -> Result<Option<String>, TreeError> {
        match self.read(path)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| TreeError::NotUtf8 {
                    path: path.to_string(),
                }),
        }
    }
}

/// Where a git-backed tree comes from: harness mode checks `commit` of `repo` out whole (a harness
/// in a monorepo may import from outside its directory) and runs in `subdir` of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GitSource<'a> {
    pub repo: &'a Path,
    pub commit: &'a str,
    /// `dir/` with the slash, or empty for the repository root.
    pub subdir: &'a str,
}

/// Normalises a user-written relative path (`./a//b/`, `a/../b`) and refuses ones that leave the
/// root, so a head tree cannot make costgate read outside the repository.
pub fn normalize(path: &str) -> Result<String, TreeError> {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().unwrap_or_default()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(TreeError::Escapes {
                        path: path.to_string(),
                    });
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(TreeError::Escapes {
                    path: path.to_string(),
                });
            }
        }
    }
    Ok(parts.join("/"))
}

/// A directory on disk.
#[derive(Debug)]
pub struct DirTree {
    root: PathBuf,
    label: String,
}

impl DirTree {
    pub fn new(root: impl Into<PathBuf>, label: impl Into<String>) -> Self {
        DirTree {
            root: root.into(),
            label: label.into(),
        }
    }

    fn full(&self, path: &str) -> Result<PathBuf, TreeError> {
        let rel = normalize(path)?;
        Ok(if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        })
    }
}

impl Tree for DirTree {
    fn label(&self) -> &str {
        &self.label
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, TreeError> {
        let full = self.full(path)?;
        match std::fs::read(&full) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            // Reading a directory as a file: it is not a file of the tree.
            Err(_) if full.is_dir() => Ok(None),
            Err(source) => Err(TreeError::Io {
                path: full.display().to_string(),
                source,
            }),
        }
    }

    fn is_dir(&self, path: &str) -> Result<bool, TreeError> {
        Ok(self.full(path)?.is_dir())
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        let rel = normalize(dir)?;
        let mut out = Vec::new();
        let mut stack = vec![self.full(&rel)?];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|source| TreeError::Io {
                path: d.display().to_string(),
                source,
            })?;
            for entry in entries {
                let entry = entry.map_err(|source| TreeError::Io {
                    path: d.display().to_string(),
                    source,
                })?;
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(r) = p.strip_prefix(&self.root) {
                    out.push(r.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn root(&self) -> Option<&Path> {
        Some(&self.root)
    }
}

/// A commit of a git repository, read with `git ls-tree` and one long-lived `git cat-file --batch`.
pub struct GitTree {
    repo: PathBuf,
    label: String,
    commit: String,
    /// path → blob id, for every file in the commit.
    blobs: BTreeMap<String, String>,
    cat: Mutex<Option<CatFile>>,
}

struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for CatFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs git in `repo` and returns stdout, or a [`TreeError::Git`] with its stderr.
pub fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, TreeError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TreeError::Git {
            repo: repo.display().to_string(),
            args: args.join(" "),
            stderr: format!("cannot run git: {e}"),
        })?;
    if !out.status.success() {
        return Err(TreeError::Git {
            repo: repo.display().to_string(),
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

impl GitTree {
    /// Opens `rev` (any revision git understands) of the repository containing `repo`.
    pub fn open(repo: &Path, rev: &str, label: impl Into<String>) -> Result<Self, TreeError> {
        if rev.starts_with('-') {
            return Err(TreeError::Git {
                repo: repo.display().to_string(),
                args: format!("rev-parse {rev}"),
                stderr: "a revision may not start with `-`".into(),
            });
        }
        if git(repo, &["rev-parse", "--git-dir"]).is_err() {
            return Err(TreeError::NotARepository {
                repo: repo.display().to_string(),
            });
        }
        let spec = format!("{rev}^{{commit}}");
        let commit = String::from_utf8_lossy(&git(repo, &["rev-parse", "--verify", "--quiet", "--end-of-options", &spec])
            .map_err(|e| match e {
                TreeError::Git { repo, args, .. } => TreeError::Git {
                    repo,
                    args,
                    stderr: format!("revision `{rev}` is not a commit in this repository (is the clone shallow? fetch it first)"),
                },
                other => other,
            })?)
        .trim()
        .to_string();
        let listing = git(repo, &["ls-tree", "-r", "-z", "--full-tree", &commit])?;
        let mut blobs = BTreeMap::new();
        let mut links = Vec::new();
        for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            // "<mode> <type> <oid>\t<path>"
            let s = String::from_utf8_lossy(entry);
            let Some((meta, path)) = s.split_once('\t') else {
                continue;
            };
            let mut fields = meta.split(' ');
            match (fields.next(), fields.next(), fields.next()) {
                (Some("120000"), Some("blob"), Some(oid)) => {
                    links.push((path.to_string(), oid.to_string()))
                }
                (_, Some("blob"), Some(oid)) => {
                    blobs.insert(path.to_string(), oid.to_string());
                }
                _ => {}
            }
        }
        let mut tree = GitTree {
            repo: repo.to_path_buf(),
            label: label.into(),
            commit,
            blobs,
            cat: Mutex::new(None),
        };
        tree.alias_symlinks(links)?;
        tracing::debug!(rev, commit = %tree.commit, files = tree.blobs.len(), "opened git tree");
        Ok(tree)
    }

    /// Makes symlinks inside the commit behave as they would in a checkout (a directory tree reads
    /// the same either way): each link's path is aliased to the files of its target. Links that
    /// leave the repository or dangle are ignored, as a checkout could not read them either.
    fn alias_symlinks(&mut self, links: Vec<(String, String)>) -> Result<(), TreeError> {
        for (path, oid) in links {
            let target = String::from_utf8_lossy(&self.cat_blob(&oid)?).into_owned();
            let joined = match path.rsplit_once('/') {
                Some((parent, _)) => format!("{parent}/{target}"),
                None => target,
            };
            let Ok(resolved) = normalize(&joined) else {
                continue;
            };
            if let Some(oid) = self.blobs.get(&resolved).cloned() {
                self.blobs.insert(path, oid);
                continue;
            }
            let prefix = format!("{resolved}/");
            let aliased: Vec<(String, String)> = self
                .blobs
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| (format!("{path}/{}", &k[prefix.len()..]), v.clone()))
                .collect();
            self.blobs.extend(aliased);
        }
        Ok(())
    }

    pub fn commit(&self) -> &str {
        &self.commit
    }

    fn cat_blob(&self, oid: &str) -> Result<Vec<u8>, TreeError> {
        let err = |msg: String| TreeError::Git {
            repo: self.repo.display().to_string(),
            args: "cat-file --batch".into(),
            stderr: msg,
        };
        let mut guard = self.cat.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let mut child = Command::new("git")
                .arg("-C")
                .arg(&self.repo)
                .args(["cat-file", "--batch"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| err(format!("cannot run git: {e}")))?;
            let stdin = child.stdin.take().ok_or_else(|| err("no stdin".into()))?;
            let stdout =
                BufReader::new(child.stdout.take().ok_or_else(|| err("no stdout".into()))?);
            *guard = Some(CatFile {
                child,
                stdin,
                stdout,
            });
        }
        let cat = guard
            .as_mut()
            .ok_or_else(|| err("cat-file not running".into()))?;
        writeln!(cat.stdin, "{oid}")
            .and_then(|_| cat.stdin.flush())
            .map_err(|e| err(e.to_string()))?;
        let mut header = String::new();
        cat.stdout
            .read_line(&mut header)
            .map_err(|e| err(e.to_string()))?;
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| err(format!("unexpected reply `{}`", header.trim())))?;
        let mut buf = vec![0; size + 1]; // content plus the trailing newline
        cat.stdout
            .read_exact(&mut buf)
            .map_err(|e| err(e.to_string()))?;
        buf.truncate(size);
        Ok(buf)
    }
}

impl Tree for GitTree {
    fn label(&self) -> &str {
        &self.label
    }

    fn content_id(&self, path: &str) -> Option<&str> {
        self.blobs.get(path).map(String::as_str)
    }

    fn git_source(&self) -> Option<GitSource<'_>> {
        Some(GitSource {
            repo: &self.repo,
            commit: &self.commit,
            subdir: "",
        })
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, TreeError> {
        let rel = normalize(path)?;
        match self.blobs.get(&rel) {
            None => Ok(None),
            Some(oid) => self.cat_blob(oid).map(Some),
        }
    }

    fn is_dir(&self, path: &str) -> Result<bool, TreeError> {
        let rel = normalize(path)?;
        if rel.is_empty() {
            return Ok(true);
        }
        let prefix = format!("{rel}/");
        Ok(self
            .blobs
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix)))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        let rel = normalize(dir)?;
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        Ok(self
            .blobs
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_escapes() {
        assert_eq!(normalize("./a//b/").unwrap(), "a/b");
        assert_eq!(normalize("a/../b").unwrap(), "b");
        assert!(normalize("../secret").is_err());
        assert!(normalize("/etc/passwd").is_err());
    }
}
