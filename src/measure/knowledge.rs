//! Knowledge bases: the base's `knowledge_bases:` names, for each knowledge base id an application
//! retrieves from, a directory of text or markdown files in the repository. The stand-in answers
//! `Retrieve` and `RetrieveAndGenerate` from their chunks: each file split at blank lines into
//! paragraphs, paragraphs joined up to [`CHUNK_CHARS`] characters, a longer paragraph cut at the
//! last space before the limit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::infra::diag::{Diagnostic, Diagnostics, Sink};
use crate::infra::tree::Tree;

/// Characters of one chunk, at most (Bedrock's default fixed-size chunking is 300 tokens, about
/// this many characters of English).
pub const CHUNK_CHARS: usize = 1_200;

/// Bytes of all of a knowledge base's files together: a corpus is read into memory.
pub const MAX_CORPUS_BYTES: u64 = 64 << 20;

/// One entry of `knowledge_bases:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBase {
    /// A directory of the repository (`kb/`), read from the base's tree.
    pub documents: String,
}

/// The base's `knowledge_bases:`, by knowledge base id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct KnowledgeBases(pub BTreeMap<String, KnowledgeBase>);

impl KnowledgeBases {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A piece of a document, as retrieval returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The file it came from, relative to the repository.
    pub source: String,
    pub text: String,
}

/// Every knowledge base's chunks, read from `tree`; a missing directory, an empty one or one over
/// [`MAX_CORPUS_BYTES`] is an error naming the knowledge base and the directory.
pub fn load(
    tree: &dyn Tree,
    kbs: &KnowledgeBases,
    file: &str,
) -> Result<BTreeMap<String, Vec<Chunk>>, Diagnostics> {
    let mut sink = Sink::default();
    let mut out = BTreeMap::new();
    for (id, kb) in &kbs.0 {
        let problem = |m: String| {
            Diagnostic::new(file, format!("knowledge base `{id}`: {m}"))
                .help("`documents` names a directory of .txt or .md files in the base branch")
        };
        let files = match tree.is_dir(&kb.documents) {
            Ok(true) => tree.list(&kb.documents).unwrap_or_default(),
            Ok(false) => {
                sink.push(problem(format!(
                    "`{}` is not a directory in {}",
                    kb.documents,
                    tree.label()
                )));
                continue;
            }
            Err(e) => {
                sink.push(problem(e.to_string()));
                continue;
            }
        };
        let mut chunks = Vec::new();
        let mut bytes = 0u64;
        for f in files
            .iter()
            .filter(|f| f.ends_with(".txt") || f.ends_with(".md"))
        {
            let Ok(Some(text)) = tree.read_string(f) else {
                continue;
            };
            bytes += text.len() as u64;
            if bytes > MAX_CORPUS_BYTES {
                sink.push(problem(format!(
                    "its documents are over {} MiB: keep a sample of the corpus in the repository",
                    MAX_CORPUS_BYTES >> 20
                )));
                break;
            }
            chunks.extend(chunk(&text).into_iter().map(|text| Chunk {
                source: f.clone(),
                text,
            }));
        }
        if chunks.is_empty() {
            sink.push(problem(format!(
                "`{}` holds no text (.txt or .md files)",
                kb.documents
            )));
        }
        out.insert(id.clone(), chunks);
    }
    sink.finish(out)
}

/// Splits a document into chunks of at most [`CHUNK_CHARS`] characters at paragraph boundaries.
pub fn chunk(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        for piece in split_long(para) {
            let joined = current.chars().count() + piece.chars().count() + 2;
            if !current.is_empty() && joined > CHUNK_CHARS {
                out.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push_str("\n\n");
            }
            current.push_str(piece);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A paragraph in pieces of at most [`CHUNK_CHARS`] characters, cut at the last space before the
/// limit (or at the limit in a text without spaces).
fn split_long(mut para: &str) -> Vec<&str> {
    let mut out = Vec::new();
    while para.chars().count() > CHUNK_CHARS {
        let limit = para
            .char_indices()
            .nth(CHUNK_CHARS)
            .map_or(para.len(), |(i, _)| i);
        let cut = para[..limit].rfind(' ').filter(|c| *c > 0).unwrap_or(limit);
        out.push(para[..cut].trim_end());
        para = para[cut..].trim_start();
    }
    if !para.is_empty() {
        out.push(para);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_join_up_to_the_limit_and_long_ones_are_cut_at_a_space() {
        let text = format!(
            "{}\n\n{}\n\n{}",
            "a".repeat(500),
            "b".repeat(500),
            "c".repeat(500)
        );
        let c = chunk(&text);
        assert_eq!(c.len(), 2);
        assert!(c[0].starts_with('a') && c[0].contains('b'));
        let long = "word ".repeat(600);
        let c = chunk(&long);
        assert!(c.iter().all(|p| p.chars().count() <= CHUNK_CHARS), "{c:?}");
        assert!(c.iter().all(|p| !p.starts_with(' ') && !p.ends_with(' ')));
        assert_eq!(c.join(" ").split_whitespace().count(), 600);
        let spaceless = "x".repeat(3000);
        assert_eq!(chunk(&spaceless).len(), 3);
        assert!(chunk("\n\n  \n\n").is_empty());
    }
}
