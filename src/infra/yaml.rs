//! How costgate reads YAML: one set of options for every file (golden cases, routes, config,
//! prices, baseline, calibration), several of which come from pull requests. Alias bombs and deep
//! nesting are bounded by serde-saphyr's default budget; tags are refused unless they are YAML's own
//! (`!custom` is an error, not silently ignored), and `!!binary` is not decoded, so a field holds
//! the text the file shows (`id: !!binary aGVsbG8=` is the id `aGVsbG8=`, never a hidden `hello`).

use serde::Deserialize;

/// The options every YAML file is read with.
pub fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.reject_unsupported_tags = true;
    o.ignore_binary_tag_for_string = true;
    o
}

/// `serde_saphyr::from_str` with [`options`].
pub fn from_str<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, options())
}
