//! The chapters: each is listed in `SUMMARY.md` and long enough to be more
//! than an outline; walking one hands its code blocks, directives, links
//! and figure marks to their checks.

use crate::files::{markdown_files, normalize, read};
use crate::markdown::{directives, fence_closes, fence_open, link_targets, links, prose_lines};
use crate::{Checker, MIN_CHAPTER_WORDS, anchors, blocks, figures, includes, links};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Checks every chapter under `book/src`, then the anchors they use.
pub(crate) fn check(c: &mut Checker) {
    let src = c.repo.join("book").join("src");
    let summary = src.join("SUMMARY.md");
    if !summary.is_file() {
        c.error("book/src/SUMMARY.md", "missing");
        return;
    }
    let chapters = markdown_files(&src);
    let summary_text = read(&summary);
    let listed: BTreeSet<PathBuf> = links(&summary_text)
        .into_iter()
        .filter_map(|target| {
            let path = target.split('#').next()?;
            (!path.is_empty()).then(|| normalize(&src.join(path)))
        })
        .collect();
    let mut texts = Vec::new();
    for chapter in &chapters {
        let name = c.display(chapter);
        let text = read(chapter);
        if chapter != &summary {
            if !listed.contains(&normalize(chapter)) {
                c.error(&name, "not listed in SUMMARY.md, so mdBook never builds it");
            }
            let words = prose_words(&text);
            if words < MIN_CHAPTER_WORDS {
                c.error(
                    &name,
                    format!(
                        "{words} words of prose: a chapter needs at least \
                         {MIN_CHAPTER_WORDS}, or it is an outline"
                    ),
                );
            }
        }
        check_chapter(c, chapter, &name, &text);
        texts.push((name, text));
    }
    figures::check(c, &texts);
    anchors::check_defined(c);
}

fn check_chapter(c: &mut Checker, chapter: &Path, name: &str, text: &str) {
    let dir = chapter.parent().unwrap_or(Path::new("."));
    let lines: Vec<&str> = text.lines().collect();
    for (number, line) in lines.iter().enumerate() {
        if line.contains("\\{{#") {
            c.error(
                &format!("{name}:{}", number + 1),
                "an escaped `{{#` reaches the HTML, where CI takes it for a directive \
                 mdBook failed to expand: describe the directive in words instead",
            );
        }
    }
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some((fence, info)) = fence_open(line) {
            let start = i;
            let mut end = i + 1;
            while end < lines.len() && !fence_closes(lines[end], fence) {
                end += 1;
            }
            if end == lines.len() {
                c.error(&format!("{name}:{}", start + 1), "code block never closed");
            }
            let body = &lines[start + 1..end.min(lines.len())];
            blocks::check(c, dir, name, &lines, start, info, body);
            i = end + 1;
            continue;
        }
        let at = format!("{name}:{}", i + 1);
        for directive in directives(line) {
            includes::check(c, dir, &at, &directive, false);
        }
        for target in link_targets(line) {
            links::check(c, dir, chapter, &at, target);
        }
        i += 1;
    }
}

/// Words of prose: everything outside code blocks, headings and comments.
fn prose_words(text: &str) -> usize {
    prose_lines(text)
        .map(str::trim_start)
        .filter(|line| !(line.starts_with('#') || line.starts_with("<!--") || line.starts_with('|')))
        .flat_map(str::split_whitespace)
        .filter(|word| word.chars().any(char::is_alphabetic))
        .count()
}
