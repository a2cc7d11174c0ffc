//! Redaction of the secrets a run holds (GitHub and JIRA tokens, the runner's own tokens, AWS
//! keys) from every text that leaves the process: the PR comment, the job summary, report.json,
//! step outputs, the log and error messages. An API that echoes a token in an error body (JIRA's
//! 401 page does) would otherwise publish it in a public comment.

use base64::Engine;

/// Replaced for every secret found.
pub const MASK: &str = "***";

/// Shorter values are not secrets worth masking and would mangle ordinary text.
const MIN_LEN: usize = 8;

/// The secrets of one run and the forms they may appear in.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is masked whole.
    needles: Vec<String>,
}

impl Redactor {
    /// Secrets as held, plus the forms an API may echo: percent-encoded, and base64 of
    /// `user:token` when a user is given (HTTP Basic auth).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>, basic_users: &[&str]) -> Redactor {
        let mut needles = Vec::new();
        for s in secrets {
            let s = s.trim();
            if s.len() < MIN_LEN {
                continue;
            }
            needles.push(s.to_string());
            let encoded = crate::infra::http::encode_component(s);
            if encoded != s {
                needles.push(encoded);
            }
            for u in basic_users {
                needles.push(base64::engine::general_purpose::STANDARD.encode(format!("{u}:{s}")));
            }
        }
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        needles.dedup();
        Redactor { needles }
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        self.redact_owned(text.to_string())
    }

    /// [`Redactor::redact`] without a copy when nothing needs masking (a 100 MB report).
    pub fn redact_owned(&self, text: String) -> String {
        let mut out = text;
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), MASK);
            }
        }
        out
    }
}

impl Redactor {
    /// [`Redactor::redact`] for a runner log, except its own `::add-mask::SECRET` lines, which
    /// must carry the secret for the runner to mask it.
    pub fn redact_log(&self, log: String) -> String {
        if self.is_empty() || !self.needles.iter().any(|n| log.contains(n.as_str())) {
            return log;
        }
        log.split_inclusive('\n')
            .map(|line| {
                if line.starts_with("::add-mask::") {
                    line.to_string()
                } else {
                    self.redact(line)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_encoded_and_basic_auth_forms() {
        let r = Redactor::new(["tok/en+secret=1", "short"], &["me@example.com"]);
        let basic =
            base64::engine::general_purpose::STANDARD.encode("me@example.com:tok/en+secret=1");
        let text = format!(
            "401: token tok/en+secret=1 rejected; url ?t=tok%2Fen%2Bsecret%3D1; auth Basic {basic}; short stays"
        );
        let out = r.redact(&text);
        assert!(!out.contains("secret"), "{out}");
        assert!(!out.contains(&basic), "{out}");
        assert!(out.contains("short stays"));
        assert_eq!(out.matches(MASK).count(), 3, "{out}");
    }

    #[test]
    fn a_log_keeps_its_mask_commands() {
        let r = Redactor::new(["ghp_secret_token"], &[]);
        let out =
            r.redact_log("::add-mask::ghp_secret_token\nerror: ghp_secret_token rejected\n".into());
        assert_eq!(out, "::add-mask::ghp_secret_token\nerror: *** rejected\n");
    }

    #[test]
    fn empty_redactor_changes_nothing() {
        let r = Redactor::new([], &[]);
        assert!(r.is_empty());
        assert_eq!(r.redact("a b c"), "a b c");
    }
}
