//! Wire details the GitHub and JIRA clients share.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 3986 unreserved characters stay as they are; every other byte is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Encodes a value for one URL path segment or query value (a branch name, an issue key), so text
/// from a pull request cannot add path segments or query parameters.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_stay_everything_else_is_encoded() {
        assert_eq!(encode_component("COST-17_a.b~c"), "COST-17_a.b~c");
        assert_eq!(encode_component("feat/x y&z=1"), "feat%2Fx%20y%26z%3D1");
        assert_eq!(encode_component("日"), "%E6%97%A5");
    }
}
