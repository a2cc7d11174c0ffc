//! The PR body's justification block and the sticky comment's marker: text any stranger writes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    if let Some(j) = costgate::gate::justification::parse(&body, "cost-regression-justification") {
        let _ = j.is_complete();
        let _ = j.mentions("COST-1");
    }
    if let Some(m) = costgate::action::comment::MarkerRecord::from_body(&body) {
        // What we write must read back as itself.
        let again = costgate::action::comment::MarkerRecord::from_body(&m.to_marker());
        assert_eq!(again.as_ref(), Some(&m));
    }
    let _ = costgate::action::sanitise(&body);
    let _ = costgate::output::markdown::escape(&body);
});
