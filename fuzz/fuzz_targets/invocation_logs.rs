//! Bedrock invocation logs as `calibrate` reads them (plain or gzip, any bytes).
#![no_main]

use costgate::ratchet::calibrate::logs::{self, Limits, Parsed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let count = |_: &str, m: &[Vec<String>]| Some(m.len() as u64);
    let limits = Limits {
        max_line_bytes: 1 << 16,
        max_decompressed_bytes: 1 << 22,
    };
    let mut out = Parsed::default();
    if data.starts_with(&[0x1f, 0x8b]) {
        let r = std::io::BufReader::new(flate2_free::gz(data));
        let _ = logs::read("fuzz.gz", r, "intent", &count, limits, &mut out);
    } else {
        let _ = logs::read("fuzz", data, "intent", &count, limits, &mut out);
    }
});

/// The gzip path through `logs::open` needs a file; this feeds the same bytes through a temp file.
mod flate2_free {
    pub fn gz(data: &[u8]) -> Box<dyn std::io::Read> {
        let dir = std::env::temp_dir().join(format!("costgate-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join("in.gz");
        if std::fs::write(&p, data).is_err() {
            return Box::new(std::io::empty());
        }
        match costgate::ratchet::calibrate::logs::open(&p) {
            Ok(r) => Box::new(r),
            Err(_) => Box::new(std::io::empty()),
        }
    }
}
