//! Golden case files (YAML and JSONL, chosen by the first byte) through `Dataset::load`.
#![no_main]

use costgate::measure::dataset::Dataset;
use costgate::infra::tree::{Tree, TreeError};
use libfuzzer_sys::fuzz_target;

struct One<'a>(&'a str, &'a [u8]);

impl Tree for One<'_> {
    fn label(&self) -> &str {
        "fuzz"
    }
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, TreeError> {
        Ok((path == self.0).then(|| self.1.to_vec()))
    }
    fn is_dir(&self, _: &str) -> Result<bool, TreeError> {
        Ok(false)
    }
    fn list(&self, _: &str) -> Result<Vec<String>, TreeError> {
        Ok(vec![self.0.to_string()])
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let name = if first % 2 == 0 {
        "cases.yaml"
    } else {
        "cases.jsonl"
    };
    let _ = Dataset::load(&One(name, rest), name);
});
