//! `costgate merge` on partial reports: any JSON a shard (or an attacker's artifact) could hold.
#![no_main]

use costgate::gate::shard::PartialReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Up to three parts, separated by NUL bytes.
    let parts: Vec<(String, PartialReport)> = data
        .split(|b| *b == 0)
        .take(3)
        .enumerate()
        .filter_map(|(i, p)| Some((format!("part-{i}"), serde_json::from_slice(p).ok()?)))
        .collect();
    if parts.is_empty() {
        return;
    }
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let _ = costgate::gate::shard::merge(parts, today);
});
