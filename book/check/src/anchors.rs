//! Anchors: how mdBook reads `ANCHOR:` / `ANCHOR_END:` markers, every anchor
//! in the sources has an end and one definition, and the anchors no chapter
//! uses are listed.

use crate::files::{normalize, read, source_files};
use crate::{ANCHOR_ROOTS, Checker};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reports anchors without an end or defined twice in the sources under
/// [`ANCHOR_ROOTS`], and lists those no chapter used.
pub(crate) fn check_defined(c: &mut Checker) {
    let mut defined: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for root in ANCHOR_ROOTS {
        for file in source_files(&c.repo.join(root)) {
            let text = read(&file);
            let names = anchors_in(c, &file, &text);
            if !names.is_empty() {
                defined.insert(normalize(&file), names);
            }
        }
    }
    for (file, names) in defined {
        for name in names {
            if !c.used.contains(&(file.clone(), name.clone())) {
                let shown = c.display(&file);
                c.report.unused_anchors.push(format!("{shown}: {name}"));
            }
        }
    }
}

/// The anchors `file` defines, reporting any without an end.
fn anchors_in(c: &mut Checker, file: &Path, text: &str) -> Vec<String> {
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut names = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if let Some(name) = marker(line, "ANCHOR_END:") {
            open.retain(|(open_name, _)| open_name != name);
        } else if let Some(name) = marker(line, "ANCHOR:") {
            if names.iter().any(|n| n == name) {
                let at = format!("{}:{}", c.display(file), number + 1);
                c.error(&at, format!("anchor `{name}` defined twice"));
            }
            names.push(name.to_string());
            open.push((name.to_string(), number + 1));
        }
    }
    for (name, number) in open {
        let at = format!("{}:{number}", c.display(file));
        c.error(&at, format!("anchor `{name}` has no ANCHOR_END"));
    }
    names
}

/// What an anchor lookup in a file found.
pub(crate) enum Anchored {
    Found(String),
    Missing,
    Unclosed,
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without any
/// other anchor's marker lines (as mdBook shows them).
pub(crate) fn anchored(text: &str, name: &str) -> Anchored {
    let mut inside = false;
    let mut found = false;
    let mut shown = String::new();
    for line in text.lines() {
        if inside {
            if marker(line, "ANCHOR_END:") == Some(name) {
                return Anchored::Found(shown);
            }
            if marker(line, "ANCHOR:").is_none() && marker(line, "ANCHOR_END:").is_none() {
                shown.push_str(line);
                shown.push('\n');
            }
        } else if marker(line, "ANCHOR:") == Some(name) {
            inside = true;
            found = true;
        }
    }
    if found {
        Anchored::Unclosed
    } else {
        Anchored::Missing
    }
}

pub(crate) fn strip_anchor_lines(text: &str) -> String {
    text.lines()
        .filter(|line| marker(line, "ANCHOR:").is_none() && marker(line, "ANCHOR_END:").is_none())
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The name after `ANCHOR:` or `ANCHOR_END:` on a line, as mdBook reads it
/// (a run of word characters and dashes).
fn marker<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    let at = line.find(tag)?;
    // `ANCHOR:` must not match inside `ANCHOR_END:`.
    if tag == "ANCHOR:" && line[..at].ends_with("_END") {
        return None;
    }
    let rest = line[at + tag.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}
