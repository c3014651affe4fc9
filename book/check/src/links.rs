//! Links and images: every target inside the book exists, and every
//! `#fragment` names a heading there (with the ids mdBook gives headings).

use crate::Checker;
use crate::files::{normalize, read};
use crate::markdown::prose_lines;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Checks one link target found in `chapter` (in folder `dir`).
pub(crate) fn check(c: &mut Checker, dir: &Path, chapter: &Path, at: &str, target: &str) {
    if target.contains("://") || target.starts_with("mailto:") {
        return;
    }
    let (path, fragment) = match target.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        chapter.to_path_buf()
    } else {
        normalize(&dir.join(path))
    };
    if !file.exists() {
        c.error(at, format!("link to `{target}`: `{path}` does not exist"));
        return;
    }
    let Some(fragment) = fragment else { return };
    if file.extension().is_some_and(|e| e == "md") {
        let ids = heading_ids(&read(&file));
        if !ids.contains(fragment) {
            c.error(
                at,
                format!("link to `{target}`: no heading with id `{fragment}` there"),
            );
        }
    }
}

/// The ids mdBook gives the headings of a chapter.
pub(crate) fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let id = heading_id(&line[hashes..]);
        let seen = counts.entry(id.clone()).or_insert(0);
        ids.insert(if *seen == 0 { id } else { format!("{id}-{seen}") });
        *seen += 1;
    }
    ids
}

/// mdBook's id for a heading: lower case, spaces to dashes, only
/// alphanumerics, `_` and `-` kept.
fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}
