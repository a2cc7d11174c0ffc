//! Token counts must equal OpenAI's reference tiktoken `encode_ordinary` on every corpus entry
//! (`tests/fixtures/tokens/reference.jsonl`, generated once with Python tiktoken 0.14), and the
//! `costgate tokens` command must print them in the documented shape.

use costgate::measure::tokenize::Encoding;
use serde_json::Value;

use crate::support::{costgate, repo_root, run};

fn corpus() -> Vec<(String, String, Value)> {
    let dir = repo_root().join("tests/fixtures/tokens");
    let corpus = std::fs::read_to_string(dir.join("corpus.jsonl")).unwrap();
    let reference = std::fs::read_to_string(dir.join("reference.jsonl")).unwrap();
    let entries: Vec<Value> = corpus
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let refs: Vec<Value> = reference
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        entries.len(),
        refs.len(),
        "corpus and reference differ in length"
    );
    assert!(entries.len() >= 400, "the corpus lost entries");
    entries
        .into_iter()
        .zip(refs)
        .map(|(e, r)| {
            let name = e["name"].as_str().unwrap().to_string();
            assert_eq!(r["name"], e["name"], "reference out of order");
            let text = match (&e["text"], &e["gen"]) {
                (Value::String(t), _) => t.clone(),
                (_, Value::Object(g)) => g["repeat"]
                    .as_str()
                    .unwrap()
                    .repeat(g["times"].as_u64().unwrap() as usize),
                _ => panic!("bad corpus entry {name}"),
            };
            (name, text, r)
        })
        .collect()
}

#[test]
fn counts_equal_reference_tiktoken_on_every_corpus_entry() {
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (name, text, r) in corpus() {
        for enc in [
            Encoding::Cl100kBase,
            Encoding::O200kBase,
            Encoding::O200kHarmony,
        ] {
            let want = r[enc.name()].as_u64().unwrap();
            let got = enc.count(&text);
            checked += 1;
            if got != want {
                mismatches.push(format!("{name} {enc}: costgate {got}, tiktoken {want}"));
            }
        }
    }
    assert!(checked > 1200);
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn claude_approx_is_cl100k_scaled() {
    let text = "ワンピースみたいな冒険マンガを教えて";
    assert_eq!(
        Encoding::ClaudeApprox.count(text),
        Encoding::Cl100kBase.count(text)
    );
}

#[test]
fn pathological_inputs_count_without_blowup() {
    // Megabytes without whitespace: one pre-tokenizer piece; tiktoken's merge loop is quadratic
    // here, bpe-openai is linear. The test asserts correctness of the count shape, not time.
    let run = "a".repeat(2_000_000);
    let n = Encoding::Cl100kBase.count(&run);
    assert!(n > 0 && n < 2_000_000 / 4, "{n}");
    let spaces = " ".repeat(1_000_000);
    assert!(Encoding::O200kBase.count(&spaces) > 0);
}

#[test]
fn tokens_command_prints_count_for_stdin_and_tab_separated_for_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    std::fs::write(&a, "hello world").unwrap();
    std::fs::write(&b, "ワンピースみたいな冒険マンガを教えて").unwrap();
    let (code, out, err) = run(costgate()
        .args(["tokens", "--encoding", "cl100k_base"])
        .arg(&a));
    assert_eq!((code, out.as_str()), (0, "2\n"), "{err}");
    let (code, out, _) = run(costgate()
        .args(["tokens", "--encoding", "o200k_base"])
        .arg(&a)
        .arg(&b));
    assert_eq!(code, 0);
    let want_b = Encoding::O200kBase.count("ワンピースみたいな冒険マンガを教えて");
    assert_eq!(
        out,
        format!("2\t{}\n{want_b}\t{}\n", a.display(), b.display())
    );
    let mut cmd = costgate();
    cmd.args(["tokens", "--model", "openai.gpt-oss-20b-1:0"])
        .stdin(std::fs::File::open(&a).unwrap());
    let (code, out, _) = run(&mut cmd);
    assert_eq!((code, out.as_str()), (0, "2\n"));
}

#[test]
fn tokens_command_rejects_unknown_encoding_and_model_with_exit_2() {
    let (code, _, err) = run(costgate().args(["tokens", "--encoding", "gpt2"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown encoding `gpt2`"), "{err}");
    let (code, _, err) = run(costgate().args(["tokens", "--model", "anthropic.claude-9"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown model `anthropic.claude-9`"), "{err}");
}

#[test]
fn tokens_command_reports_invalid_utf8_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bin.dat");
    std::fs::write(&f, [b'a', 0xff, 0xfe]).unwrap();
    let (code, _, err) = run(costgate()
        .args(["tokens", "--encoding", "cl100k_base"])
        .arg(&f));
    assert_eq!(code, 2);
    assert!(err.contains("bin.dat") && err.contains("offset 1"), "{err}");
}
