//! A refresh plan as golden-file edits: each retired case's lines are cut out of its file and the
//! added cases go into a new file of the golden directory (or at the end of a single golden
//! file). Every other line stays byte-identical. Like `baseline`'s editor (whose parser this uses),
//! each edited text is parsed back and must hold exactly the expected cases, or nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::Plan;
use crate::infra::diag::Diagnostic;
use crate::infra::tree::Tree;
use crate::measure::dataset::{Case, Dataset};
use crate::ratchet::edit::parse;

/// One file's new text (`old` is `None` for a new file), as `baseline` reports its edits.
pub use crate::ratchet::rebaseline::FileChange as FileEdit;

/// The edits of `plan` on `dataset` (loaded from `golden` in `tree`).
pub fn edits(
    tree: &dyn Tree,
    golden: &str,
    dataset: &Dataset,
    plan: &Plan,
    today: NaiveDate,
) -> Result<Vec<FileEdit>, Diagnostic> {
    let retired: BTreeSet<&str> = plan.retired.iter().map(String::as_str).collect();
    let mut by_file: BTreeMap<&str, Vec<(usize, &Case)>> = BTreeMap::new();
    for c in &dataset.cases {
        by_file
            .entry(c.at.file.as_str())
            .or_default()
            .push((c.at.line, &c.case));
    }
    let read = |path: &str| -> Result<String, Diagnostic> {
        tree.read_string(path)
            .map_err(|e| Diagnostic::new(path, e.to_string()))?
            .ok_or_else(|| Diagnostic::new(path, "golden file disappeared while refreshing"))
    };
    let mut out: Vec<FileEdit> = Vec::new();
    for (file, cases) in &by_file {
        if !cases.iter().any(|(_, c)| retired.contains(c.id.as_str())) {
            continue;
        }
        let text = read(file)?;
        let after = cut(file, &text, cases, &retired);
        let keep: Vec<&Case> = cases
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| !retired.contains(c.id.as_str()))
            .collect();
        verify(file, &after, &keep)?;
        out.push(FileEdit {
            path: file.to_string(),
            old: Some(text),
            new: after,
        });
    }
    if plan.added.is_empty() {
        return Ok(out);
    }
    let is_dir = tree
        .is_dir(golden)
        .map_err(|e| Diagnostic::new(golden, e.to_string()))?;
    let added: Vec<&Case> = plan.added.iter().collect();
    if is_dir {
        let dir = golden.trim_end_matches('/');
        let path = (1..)
            .map(|i| match i {
                1 => format!("{dir}/refresh-{today}.yaml"),
                n => format!("{dir}/refresh-{today}-{n}.yaml"),
            })
            .find(|p| !matches!(tree.read(p), Ok(Some(_))))
            .unwrap_or_default();
        let header = format!(
            "# Added by `costgate refresh` on {today} from production invocation logs (redacted: {}).\n",
            crate::infra::docs::page("ratchet.md")
        );
        out.push(new_file(path, &header, &plan.added)?);
    } else {
        // One golden file: the added cases go at its end, in its own format.
        let (before, prior) = match out.iter().position(|e| e.path == golden) {
            Some(i) => {
                let e = out.remove(i);
                (e.old, e.new)
            }
            None => {
                let t = read(golden)?;
                (Some(t.clone()), t)
            }
        };
        let mut text = prior.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if golden.ends_with(".jsonl") {
            for c in &plan.added {
                text.push_str(&serde_json::to_string(c).unwrap_or_default());
                text.push('\n');
            }
        } else {
            // A file left as an empty list (`[]`) takes the cases as its list instead.
            if let Some(t) = text.strip_suffix("[]\n") {
                text = t.to_string();
            }
            text.push('\n');
            text.push_str(&yaml_cases(&plan.added));
        }
        let prior_cases = parse(golden, &prior)?;
        let want: Vec<&Case> = prior_cases
            .cases
            .iter()
            .map(|c| &c.case)
            .chain(added)
            .collect();
        verify(golden, &text, &want)?;
        out.push(FileEdit {
            path: golden.to_string(),
            old: before,
            new: text,
        });
    }
    Ok(out)
}

/// `text` without the retired cases' lines: from each one's first line up to its last content
/// line, and the blank lines after it; comments before the next case stay.
fn cut(file: &str, text: &str, cases: &[(usize, &Case)], retired: &BTreeSet<&str>) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut drop = vec![false; lines.len()];
    if file.ends_with(".jsonl") {
        for (line, c) in cases {
            if retired.contains(c.id.as_str()) && *line >= 1 && *line <= lines.len() {
                drop[line - 1] = true;
            }
        }
    } else {
        let starts: Vec<usize> = cases.iter().map(|(l, _)| *l).collect();
        for (k, (line, c)) in cases.iter().enumerate() {
            if !retired.contains(c.id.as_str()) || *line == 0 {
                continue;
            }
            let end = starts.get(k + 1).map_or(lines.len(), |n| n - 1);
            let (from, to) = (line - 1, end.min(lines.len()));
            let content = |i: usize| {
                let t = lines[i].trim();
                !t.is_empty() && !t.starts_with('#')
            };
            let last = (from..to).rev().find(|i| content(*i)).unwrap_or(from);
            let mut stop = last + 1;
            while stop < to && lines[stop].trim().is_empty() {
                stop += 1;
            }
            for d in &mut drop[from..stop] {
                *d = true;
            }
        }
    }
    let kept: String = lines
        .iter()
        .zip(&drop)
        .filter(|(_, d)| !**d)
        .map(|(l, _)| *l)
        .collect();
    // A YAML file left with no case is still a list.
    let has_case = cases.iter().any(|(_, c)| !retired.contains(c.id.as_str()));
    if !has_case && !file.ends_with(".jsonl") {
        format!("{kept}[]\n")
    } else {
        kept
    }
}

/// A new golden file holding `cases` after `header` (comment lines), parsed back before it is
/// returned.
pub fn new_file(path: String, header: &str, cases: &[Case]) -> Result<FileEdit, Diagnostic> {
    let text = format!("{header}\n{}", yaml_cases(cases));
    let want: Vec<&Case> = cases.iter().collect();
    verify(&path, &text, &want)?;
    Ok(FileEdit {
        path,
        old: None,
        new: text,
    })
}

/// Fails unless `text` parses to exactly `want`, in order.
fn verify(file: &str, text: &str, want: &[&Case]) -> Result<(), Diagnostic> {
    let got = parse(file, text)?;
    let same =
        got.cases.len() == want.len() && got.cases.iter().zip(want).all(|(g, w)| &g.case == *w);
    if same {
        Ok(())
    } else {
        Err(Diagnostic::new(
            file,
            "refreshing would change cases other than the retired and added ones; nothing was written",
        )
        .help("report this with the file: costgate edits golden files line by line and checks the result"))
    }
}

/// Cases as block YAML, every string JSON-quoted (a JSON string is a YAML double-quoted scalar).
pub fn yaml_cases(cases: &[Case]) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::new();
    for c in cases {
        out.push_str(&format!(
            "- id: {}\n  intent: {}\n  query: {}\n",
            q(&c.id),
            q(&c.intent),
            q(&c.query)
        ));
        if !c.history.is_empty() {
            out.push_str("  history:\n");
            for m in &c.history {
                let role = match m.role {
                    crate::measure::dataset::Role::User => "user",
                    crate::measure::dataset::Role::Assistant => "assistant",
                };
                out.push_str(&format!(
                    "    - {{role: {role}, content: {}}}\n",
                    q(&m.content)
                ));
            }
        }
        if let Some(d) = c.added {
            out.push_str(&format!("  added: {d}\n"));
        }
        out.push('\n');
    }
    out
}
