//! `costgate.yaml`, the routes file and the pricing file: every YAML file of a repository.
#![no_main]

use costgate::measure::config::Config;
use costgate::measure::pricing::PricingTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Config::parse(text, "costgate.yaml") {
        let _ = costgate::gate::diff::policy_diff(&c, &c);
    }
    let _ = PricingTable::with_overrides(text, "pricing.yaml");
    // Inline routes: the same text as a `routes:` mapping, validated against the built-in prices.
    let inline = format!("version: 1\nroutes:\n{}", indent(text));
    if let Ok(c) = Config::parse(&inline, "costgate.yaml") {
        if let Some(spec) = &c.routes {
            let tree = costgate::infra::tree::DirTree::new(std::path::Path::new("/nonexistent"), "fuzz");
            let _ = costgate::measure::routes::Routes::load(
                &tree,
                spec,
                "costgate.yaml",
                &PricingTable::builtin(),
            );
        }
    }
});

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}
