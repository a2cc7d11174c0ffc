//! The runner log: plain lines and GitHub workflow commands (`::warning …::…`), which the runner
//! reads from the step's stdout. This is the one writer of workflow commands, and it escapes exactly
//! as GitHub's own toolkit does (`@actions/core`, `command.ts`): in messages `%`, `\r` and `\n`; in
//! property values also `:` and `,`. Without that, a `\r` or `\n` in text from an API error or a
//! pull request would end the command and start one of the attacker's choosing.

/// The log of one Action run, printed by `main.rs`.
#[derive(Debug, Default)]
pub struct Log(String);

impl Log {
    /// A plain line.
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.0.push_str(s.as_ref());
        self.0.push('\n');
    }

    /// `::NAME k=v,…::MESSAGE`, every part escaped.
    pub fn command(&mut self, name: &str, properties: &[(&str, &str)], message: &str) {
        let props = properties
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_property(v)))
            .collect::<Vec<_>>()
            .join(",");
        let sep = if props.is_empty() { "" } else { " " };
        self.line(format!("::{name}{sep}{props}::{}", escape_data(message)));
    }

    pub fn notice(&mut self, message: &str) {
        self.command("notice", &[("title", "costgate")], message);
    }

    pub fn warning(&mut self, message: &str) {
        self.command("warning", &[("title", "costgate")], message);
    }

    pub fn error(&mut self, message: &str) {
        self.command("error", &[("title", "costgate")], message);
    }

    /// A warning annotation on a file of the repository.
    pub fn warning_at(&mut self, file: &str, message: &str) {
        self.command("warning", &[("file", file), ("title", "costgate")], message);
    }

    /// Asks the runner to mask `secret` in every later log line.
    pub fn add_mask(&mut self, secret: &str) {
        self.command("add-mask", &[], secret);
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Escapes a workflow-command message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value (`file=…`, `title=…`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every control character, and the command syntax itself, in message and property: the
    /// output is one line per command, and no injected text starts a line.
    #[test]
    fn every_control_character_stays_inside_its_command() {
        let hostile: String = (0u8..0x20)
            .map(char::from)
            .chain("\u{7f}%::set-output name=x::y,a:b\r\n::error::owned".chars())
            .collect();
        let mut log = Log::default();
        log.command("warning", &[("file", &hostile), ("title", "t")], &hostile);
        log.error(&hostile);
        log.add_mask(&hostile);
        let out = log.into_string();
        let lines: Vec<&str> = out.split('\n').filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 3, "{out:?}");
        assert!(!out.contains('\r'));
        assert!(lines[0].starts_with("::warning file="));
        assert!(lines[1].starts_with("::error title=costgate::"));
        assert!(lines[2].starts_with("::add-mask::"));
        // The property cannot be ended early: its `:` and `,` are escaped, so the first `::` after
        // `::warning ` is the real separator and `title=t` is the last property.
        let (props, msg) = lines[0]["::warning ".len()..].split_once("::").unwrap();
        assert!(props.ends_with(",title=t"), "{props}");
        assert_eq!(props.matches(',').count(), 1, "{props}");
        assert!(msg.contains("%25::set-output") && msg.contains("%0D%0A::error::owned"));
        // Other control characters cannot start a line; they pass through as the toolkit does.
        assert!(msg.contains('\u{1}') && msg.contains('\u{7f}'));
    }

    #[test]
    fn escapes_match_the_toolkit() {
        assert_eq!(escape_data("a%b\rc\nd:e,f"), "a%25b%0Dc%0Ad:e,f");
        assert_eq!(escape_property("a%b\rc\nd:e,f"), "a%25b%0Dc%0Ad%3Ae%2Cf");
    }
}
