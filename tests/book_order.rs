//! The book promises that each chapter uses only what the chapters before it,
//! or the chapter itself, explained. This test holds it to that for weft's
//! API: every `weft::…` item that a chapter's included Rust code names must
//! also be named in the prose (outside code blocks) of that chapter or of
//! one before it in `SUMMARY.md`.

use std::fs;
use std::path::{Path, PathBuf};

/// The chapters, in reading order.
fn chapters(src: &Path) -> Vec<PathBuf> {
    let summary = fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    summary
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &summary[at + 2..];
            let target = &rest[..rest.find(')')?];
            target.ends_with(".md").then(|| src.join(target))
        })
        .collect()
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
fn anchored(text: &str, name: &str) -> String {
    let mut inside = false;
    let mut out = String::new();
    for line in text.lines() {
        let marker = |tag: &str| {
            line.split_once(tag).is_some_and(|(_, rest)| {
                rest.trim_start().split(|c: char| c.is_whitespace()).next() == Some(name)
            })
        };
        if inside && marker("ANCHOR_END:") {
            break;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        } else if marker("ANCHOR:") {
            inside = true;
        }
    }
    out
}

/// (prose outside code blocks, the Rust code the chapter includes).
fn split(chapter: &Path) -> (String, String) {
    let text = fs::read_to_string(chapter).unwrap();
    let dir = chapter.parent().unwrap();
    let (mut prose, mut code, mut fenced) = (String::new(), String::new(), false);
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            prose.push_str(line);
            prose.push('\n');
            continue;
        }
        let Some(inner) = line
            .trim()
            .strip_prefix("{{#include ")
            .and_then(|l| l.strip_suffix("}}"))
        else {
            continue;
        };
        let (path, anchor) = inner.split_once(':').unwrap_or((inner, ""));
        if !path.ends_with(".rs") {
            continue;
        }
        let source = fs::read_to_string(dir.join(path.trim())).unwrap();
        code += &if anchor.is_empty() {
            source
        } else {
            anchored(&source, anchor.trim())
        };
    }
    (prose, code)
}

/// The last segment of every `weft::a::b::Item` path in `code`.
fn weft_items(code: &str) -> Vec<String> {
    let mut items: Vec<String> = code
        .match_indices("weft::")
        .map(|(at, _)| {
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            path.trim_end_matches(':')
                .rsplit("::")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|item| !item.is_empty())
        .collect();
    items.sort();
    items.dedup();
    items
}

#[test]
fn every_chapter_names_the_weft_items_it_uses_no_later_than_it_uses_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    let mut explained = String::new();
    let mut problems = Vec::new();
    for chapter in chapters(&src) {
        let (prose, code) = split(&chapter);
        explained += &prose;
        for item in weft_items(&code) {
            if !explained.contains(&item) {
                let name = chapter.file_name().unwrap().to_string_lossy().into_owned();
                problems.push(format!("{name}: uses `{item}` before any chapter names it"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
