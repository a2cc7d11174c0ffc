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

/// Every explicit tag in `text`, as (line, column, tag): files where a tag has no business (the
/// golden dataset, which comes from pull requests) refuse them all, YAML's own included, so that a
/// case means what it shows. Text that does not parse yields what was found before the error (the
/// deserialiser reports the error itself).
pub fn explicit_tags(text: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    for event in granit_parser::Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let tag = match event {
            granit_parser::Event::Scalar(_, _, _, tag)
            | granit_parser::Event::SequenceStart(_, _, tag)
            | granit_parser::Event::MappingStart(_, _, tag) => tag,
            _ => None,
        };
        if let Some(tag) = tag {
            let at = span.tag_start.unwrap_or(span.start);
            found.push((at.line(), at.col() + 1, tag.to_string()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_explicit_tag_is_found_with_its_position() {
        let text = "- id: !!binary aGVsbG8=\n  intent: !custom chat\n  query: \"a !tag in text\"\n  history: !!seq []\n";
        let tags: Vec<(usize, String)> = super::explicit_tags(text)
            .into_iter()
            .map(|(l, _, t)| (l, t))
            .collect();
        assert_eq!(
            tags,
            [
                (1, "tag:yaml.org,2002:binary".to_string()),
                (2, "!custom".to_string()),
                (4, "tag:yaml.org,2002:seq".to_string()),
            ]
        );
        assert!(super::explicit_tags("- id: a\n  query: plain\n").is_empty());
    }
}
