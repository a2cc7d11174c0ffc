//! Writes `expected_cost_band` into golden files by editing their text in place: only the band
//! line of each case changes (or is added), so a re-baseline PR shows a clean diff. Reformatting a
//! file through a YAML/JSON serialiser would reorder keys, drop comments and re-quote strings.
//!
//! The edit is verified by re-parsing the result (see [`apply`]): every case must come back equal
//! to the original with only its band replaced, otherwise the file is left alone and the error
//! says which case could not be edited safely.

use std::collections::BTreeMap;

use crate::infra::diag::Diagnostic;
use crate::infra::tree::{Tree, TreeError};
use crate::measure::dataset::{Band, Dataset};

/// A band as it is written: decimal strings, rounded outward (see `rebaseline::band_text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandText {
    pub low: String,
    pub high: String,
}

impl BandText {
    pub fn value(&self) -> Band {
        Band {
            low: self.low.parse().unwrap_or(f64::NAN),
            high: self.high.parse().unwrap_or(f64::NAN),
        }
    }
}

/// One case's band to write: the case's line (as `Dataset` reports it) and its id.
#[derive(Debug, Clone)]
pub struct Edit {
    pub line: usize,
    pub id: String,
    pub band: BandText,
}

/// Applies `edits` to one golden file's `text` and verifies the result.
pub fn apply(file: &str, text: &str, edits: &[Edit]) -> Result<String, Diagnostic> {
    let before = parse(file, text)?;
    let out = if file.ends_with(".jsonl") {
        edit_jsonl(file, text, edits)?
    } else {
        edit_yaml(file, text, edits)?
    };
    let after = parse(file, &out)?;
    let want: BTreeMap<&str, Band> = edits
        .iter()
        .map(|e| (e.id.as_str(), e.band.value()))
        .collect();
    let same_shape = before.cases.len() == after.cases.len();
    for (b, a) in before.cases.iter().zip(&after.cases) {
        let mut expected = b.case.clone();
        if let Some(band) = want.get(b.case.id.as_str()) {
            expected.expected_cost_band = Some(*band);
        }
        if !same_shape || a.case != expected {
            return Err(Diagnostic::new(file, format!("cannot write the band of case `{}` without changing anything else", b.case.id))
                .at(b.at.line, 0)
                .help("write the case in block style (`- id: …` with one key per line) or as one JSON object per line"));
        }
    }
    if !same_shape {
        return Err(Diagnostic::new(
            file,
            "editing bands changed the number of cases; the file was left alone",
        ));
    }
    Ok(out)
}

/// Parses one file's text as the dataset loader does.
pub(crate) fn parse(file: &str, text: &str) -> Result<Dataset, Diagnostic> {
    let tree = OneFile { path: file, text };
    Dataset::load(&tree, file).map_err(|d| {
        d.0.into_iter()
            .next()
            .unwrap_or_else(|| Diagnostic::new(file, "cannot parse"))
    })
}

struct OneFile<'a> {
    path: &'a str,
    text: &'a str,
}

impl Tree for OneFile<'_> {
    fn label(&self) -> &str {
        "golden file"
    }
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, TreeError> {
        Ok((path == self.path).then(|| self.text.as_bytes().to_vec()))
    }
    fn is_dir(&self, _: &str) -> Result<bool, TreeError> {
        Ok(false)
    }
    fn list(&self, _: &str) -> Result<Vec<String>, TreeError> {
        Ok(vec![self.path.to_string()])
    }
}

/// Lines with their endings kept, so joining them gives the text back byte for byte.
fn split_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn eol_of(line: &str) -> &'static str {
    if line.ends_with("\r\n") { "\r\n" } else { "\n" }
}

fn flow_band(b: &BandText) -> String {
    format!("{{low: {}, high: {}}}", b.low, b.high)
}

fn edit_yaml(file: &str, text: &str, edits: &[Edit]) -> Result<String, Diagnostic> {
    let mut lines = split_lines(text);
    // Bottom-up, so inserting a line never shifts a case still to be edited.
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.line));
    for e in sorted {
        let fail =
            |why: &str| Diagnostic::new(file, format!("case `{}`: {why}", e.id)).at(e.line, 0);
        let idx = e
            .line
            .checked_sub(1)
            .filter(|i| *i < lines.len())
            .ok_or_else(|| fail("line is outside the file"))?;
        let first = lines[idx].clone();
        let ind = indent_of(&first);
        let rest = &first[ind..];
        // Column of the case's keys: after `- ` on a sequence line, else the line's own indent.
        let key_col = if let Some(after) = rest.strip_prefix('-') {
            ind + 1 + (after.len() - after.trim_start_matches(' ').len())
        } else {
            ind
        };
        if first[key_col..].starts_with('{') {
            lines[idx] = edit_flow_line(&first, key_col, &e.band)
                .ok_or_else(|| fail("a flow-style case must be on one line"))?;
            continue;
        }
        // The case's extent: until a content line indented less than its keys.
        let mut end = idx + 1;
        while end < lines.len()
            && (is_blank_or_comment(&lines[end]) || indent_of(&lines[end]) >= key_col)
        {
            end += 1;
        }
        let band_line = (idx..end).find(|&i| {
            let l = &lines[i];
            (i == idx || indent_of(l) == key_col)
                && l.get(key_col..)
                    .is_some_and(|k| k.starts_with("expected_cost_band:"))
        });
        let new_line = |eol: &str| {
            format!(
                "{}expected_cost_band: {}{eol}",
                " ".repeat(key_col),
                flow_band(&e.band)
            )
        };
        match band_line {
            Some(b) if b == idx => {
                return Err(fail(
                    "`expected_cost_band` as the first key is not supported; move it below `id`",
                ));
            }
            Some(b) => {
                // The old value may continue on more-indented lines (block style); replace them all.
                let mut stop = b + 1;
                while stop < end
                    && !lines[stop].trim().is_empty()
                    && indent_of(&lines[stop]) > key_col
                    && !lines[stop].trim_start().starts_with('#')
                {
                    stop += 1;
                }
                let eol = if stop == lines.len() && !lines[stop - 1].ends_with('\n') {
                    ""
                } else {
                    eol_of(&lines[stop - 1])
                };
                lines.splice(b..stop, [new_line(eol)]);
            }
            None => {
                let last = (idx..end)
                    .rev()
                    .find(|&i| !is_blank_or_comment(&lines[i]))
                    .unwrap_or(idx);
                if lines[last].ends_with('\n') {
                    let eol = eol_of(&lines[last]);
                    lines.insert(last + 1, new_line(eol));
                } else {
                    // Last line of a file without a final newline: keep it without one.
                    lines[last].push('\n');
                    lines.insert(last + 1, new_line(""));
                }
            }
        }
    }
    Ok(lines.concat())
}

/// A top-level member of a one-line mapping: key, value start, value end (byte offsets).
type Field = (String, usize, usize);

/// Byte index just past the JSON/YAML-flow value starting at `i` (string, bracketed, or scalar).
fn skip_value(s: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_str: Option<u8> = None;
    let start = i;
    while i < s.len() {
        let c = s[i];
        if let Some(q) = in_str {
            if c == b'\\' && q == b'"' {
                i += 2;
                continue;
            }
            if c == q {
                in_str = None;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
        } else {
            match c {
                b'"' | b'\'' => in_str = Some(c),
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return (i > start).then_some(i);
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b',' if depth == 0 => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// The top-level `key: value` spans of a one-line JSON object or YAML flow mapping starting at
/// `open` (the `{`): (key without quotes, value start, value end), and the closing brace.
fn top_level(line: &str, open: usize) -> Option<(Vec<Field>, usize)> {
    let s = line.as_bytes();
    let ws = |mut i: usize| {
        while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
            i += 1;
        }
        i
    };
    let mut i = ws(open + 1);
    let mut out = Vec::new();
    loop {
        if i >= s.len() {
            return None;
        }
        if s[i] == b'}' {
            return Some((out, i));
        }
        let key_end = if s[i] == b'"' || s[i] == b'\'' {
            skip_value(s, i)?
        } else {
            i + line[i..].find(':')?
        };
        let key = line[i..key_end]
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        i = ws(key_end);
        if s.get(i) != Some(&b':') {
            return None;
        }
        let vs = ws(i + 1);
        let ve = skip_value(s, vs)?;
        out.push((key, vs, ve));
        i = ws(ve);
        match s.get(i) {
            Some(b',') => i = ws(i + 1),
            Some(b'}') => return Some((out, i)),
            _ => return None,
        }
    }
}

/// Replaces or adds the band in a one-line mapping, matching the line's own spacing style.
fn edit_flow_line(line: &str, open: usize, band: &BandText) -> Option<String> {
    let (fields, _) = top_level(line, open)?;
    let json = line[open..]
        .trim_start_matches('{')
        .trim_start()
        .starts_with('"');
    let (colon, comma) = match fields.first() {
        Some((_, vs, _)) => {
            let before_value = &line[..*vs];
            let colon = if before_value.ends_with(": ") {
                ": "
            } else {
                ":"
            };
            let comma = fields.get(1).map_or(", ", |_| {
                if line[fields[0].2..].starts_with(", ") {
                    ", "
                } else {
                    ","
                }
            });
            (colon, comma)
        }
        None => (": ", ", "),
    };
    let value = if json {
        format!(
            "{{\"low\"{colon}{}{comma}\"high\"{colon}{}}}",
            band.low, band.high
        )
    } else {
        flow_band(band)
    };
    if let Some((_, vs, ve)) = fields.iter().find(|(k, _, _)| k == "expected_cost_band") {
        return Some(format!("{}{value}{}", &line[..*vs], &line[*ve..]));
    }
    let key = if json {
        "\"expected_cost_band\""
    } else {
        "expected_cost_band"
    };
    // Insert after the last value (before any spaces that precede the closing brace).
    let at = fields.last().map_or(open + 1, |(_, _, ve)| *ve);
    let sep = if fields.is_empty() { "" } else { comma };
    let colon = if json { colon } else { ": " };
    Some(format!(
        "{}{sep}{key}{colon}{value}{}",
        &line[..at],
        &line[at..]
    ))
}

fn edit_jsonl(file: &str, text: &str, edits: &[Edit]) -> Result<String, Diagnostic> {
    let mut lines = split_lines(text);
    for e in edits {
        let fail =
            |why: &str| Diagnostic::new(file, format!("case `{}`: {why}", e.id)).at(e.line, 0);
        let idx = e
            .line
            .checked_sub(1)
            .filter(|i| *i < lines.len())
            .ok_or_else(|| fail("line is outside the file"))?;
        let line = &lines[idx];
        let body_end = line.trim_end_matches(['\n', '\r']).len();
        let open = line.find('{').ok_or_else(|| fail("not a JSON object"))?;
        let edited = edit_flow_line(&line[..body_end], open, &e.band)
            .ok_or_else(|| fail("cannot find the object's fields"))?;
        lines[idx] = format!("{edited}{}", &line[body_end..]);
    }
    Ok(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(low: &str, high: &str) -> BandText {
        BandText {
            low: low.into(),
            high: high.into(),
        }
    }

    fn ed(line: usize, id: &str, b: BandText) -> Edit {
        Edit {
            line,
            id: id.into(),
            band: b,
        }
    }

    #[test]
    fn yaml_band_is_added_after_the_last_key_and_comments_survive() {
        let text = "# header\n\n- id: \"A\"\n  intent: x   # trailing\n  query: \"q\"\n  history:\n    - {role: user, content: hi}\n\n# between\n- id: B\n  intent: x\n  query: |\n    multi\n    line\n";
        let out = apply(
            "g.yaml",
            text,
            &[
                ed(3, "A", band("0.001", "0.002")),
                ed(10, "B", band("1", "2")),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "# header\n\n- id: \"A\"\n  intent: x   # trailing\n  query: \"q\"\n  history:\n    - {role: user, content: hi}\n  expected_cost_band: {low: 0.001, high: 0.002}\n\n# between\n- id: B\n  intent: x\n  query: |\n    multi\n    line\n  expected_cost_band: {low: 1, high: 2}\n"
        );
    }

    #[test]
    fn yaml_existing_band_is_replaced_in_place_block_or_flow() {
        let text = "- id: A\n  expected_cost_band:\n    low: 0.5\n    high: 0.6\n  intent: x\n  query: q\n- id: B\n  intent: x\n  expected_cost_band: {low: 1, high: 2}\n  query: q";
        let out = apply(
            "g.yml",
            text,
            &[ed(1, "A", band("0.7", "0.8")), ed(7, "B", band("3", "4"))],
        )
        .unwrap();
        assert_eq!(
            out,
            "- id: A\n  expected_cost_band: {low: 0.7, high: 0.8}\n  intent: x\n  query: q\n- id: B\n  intent: x\n  expected_cost_band: {low: 3, high: 4}\n  query: q"
        );
    }

    #[test]
    fn yaml_without_final_newline_and_crlf_keep_their_endings() {
        let out = apply(
            "g.yaml",
            "- id: A\n  intent: x\n  query: q",
            &[ed(1, "A", band("1", "2"))],
        )
        .unwrap();
        assert_eq!(
            out,
            "- id: A\n  intent: x\n  query: q\n  expected_cost_band: {low: 1, high: 2}"
        );
        let out = apply(
            "g.yaml",
            "- id: A\r\n  intent: x\r\n  query: q\r\n",
            &[ed(1, "A", band("1", "2"))],
        )
        .unwrap();
        assert_eq!(
            out,
            "- id: A\r\n  intent: x\r\n  query: q\r\n  expected_cost_band: {low: 1, high: 2}\r\n"
        );
    }

    #[test]
    fn yaml_document_marker_wide_indent_and_block_scalars_with_blank_lines() {
        let text = "---\n-   id: A\n    intent: x\n    query: |\n      one\n\n      three\n-   id: B\n    intent: x\n    query: q\n";
        let out = apply(
            "g.yaml",
            text,
            &[ed(2, "A", band("1", "2")), ed(8, "B", band("3", "4"))],
        )
        .unwrap();
        assert_eq!(
            out,
            "---\n-   id: A\n    intent: x\n    query: |\n      one\n\n      three\n    expected_cost_band: {low: 1, high: 2}\n-   id: B\n    intent: x\n    query: q\n    expected_cost_band: {low: 3, high: 4}\n"
        );
    }

    #[test]
    fn yaml_keep_chomped_scalar_is_refused_not_changed() {
        // Inserting after `|+` content would move its kept trailing newline into the band line.
        let text = "- id: A\n  intent: x\n  query: |+\n    q\n\n- id: B\n  intent: x\n  query: q\n";
        let err = apply("g.yaml", text, &[ed(1, "A", band("1", "2"))]).unwrap_err();
        assert!(err.to_string().contains("case `A`"), "{err}");
    }

    #[test]
    fn yaml_flow_case_on_one_line() {
        let out = apply(
            "g.yaml",
            "- {id: A, intent: x, query: \"a, b}\"}\n",
            &[ed(1, "A", band("1", "2"))],
        )
        .unwrap();
        assert_eq!(
            out,
            "- {id: A, intent: x, query: \"a, b}\", expected_cost_band: {low: 1, high: 2}}\n"
        );
    }

    #[test]
    fn jsonl_band_matches_the_line_style() {
        let text = "{\"id\": \"A\", \"intent\": \"x\", \"query\": \"q {with} \\\"braces\\\"\"}\n{\"id\":\"B\",\"intent\":\"x\",\"expected_cost_band\":{\"low\":1,\"high\":2},\"query\":\"q\"}\n";
        let out = apply(
            "g.jsonl",
            text,
            &[ed(1, "A", band("0.1", "0.2")), ed(2, "B", band("3", "4"))],
        )
        .unwrap();
        assert_eq!(
            out,
            "{\"id\": \"A\", \"intent\": \"x\", \"query\": \"q {with} \\\"braces\\\"\", \"expected_cost_band\": {\"low\": 0.1, \"high\": 0.2}}\n{\"id\":\"B\",\"intent\":\"x\",\"expected_cost_band\":{\"low\":3,\"high\":4},\"query\":\"q\"}\n"
        );
    }

    #[test]
    fn an_edit_that_would_change_other_content_is_refused() {
        // A multi-line flow mapping cannot be edited line-wise: refused, not mangled.
        let err = apply(
            "g.yaml",
            "- {id: A,\n   intent: x, query: q}\n",
            &[ed(1, "A", band("1", "2"))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("case `A`"), "{err}");
    }
}
