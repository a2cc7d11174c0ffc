//! Where a message points for more: the docs of this release by URL when the build knows its
//! repository (release builds set `COSTGATE_ACTION_REPOSITORY`), else the `docs/` path of the
//! source tree the binary was built from. Users of a release binary have no `docs/` folder.

/// The repository a release build was made from (`owner/name`).
pub const REPOSITORY: Option<&str> = option_env!("COSTGATE_ACTION_REPOSITORY");

/// `page` of the docs (`configuration.md`, `ratchet.md#7-the-quarterly-refresh`).
pub fn page(page: &str) -> String {
    match REPOSITORY {
        Some(repo) => format!(
            "https://github.com/{repo}/blob/v{}/docs/{page}",
            env!("CARGO_PKG_VERSION")
        ),
        None => format!("docs/{page}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_is_a_url_or_the_source_path() {
        let p = super::page("ratchet.md");
        match super::REPOSITORY {
            Some(r) => assert!(p.starts_with(&format!("https://github.com/{r}/blob/v"))),
            None => assert_eq!(p, "docs/ratchet.md"),
        }
    }
}
