//! The book check: what keeps the weft book true to the code.
//!
//! mdBook exits 0 when an `{{#include}}` names a missing file, and silently
//! includes nothing when it names a missing anchor, so a book can drift from
//! its code without anyone noticing. [`check`] reads the book the way a
//! reviewer would and reports every place where it could drift:
//!
//! - an `{{#include}}` whose file is missing, whose anchor is missing, has no
//!   end or encloses nothing, or that uses line numbers instead of an anchor;
//! - a Rust code block that is not made of includes, unless the line before
//!   its fence says why it is not compiled: `<!-- not compiled: REASON -->`;
//! - included Rust that mdBook would hide (a line starting with `# `), since
//!   what a reader sees must be what compiles;
//! - printed output included from `examples/output/` that no test compares
//!   with what the program prints;
//! - a link or image inside the book that points at nothing, including a
//!   `#fragment` that names no heading;
//! - a chapter missing from `SUMMARY.md`, and a chapter so short it can only
//!   be an outline;
//! - an `ANCHOR:` with no `ANCHOR_END:` in the sources.
//!
//! It also lists the anchors that no chapter uses, so dead ones can go.
//!
//! # Example
//!
//! ```no_run
//! let report = weft_book_check::check(std::path::Path::new("."));
//! for error in &report.errors {
//!     eprintln!("{error}");
//! }
//! assert!(report.errors.is_empty());
//! ```
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Folders, relative to the repository root, whose files may hold anchors.
pub const ANCHOR_ROOTS: &[&str] = &[
    "examples",
    "tests",
    "src",
    "executor",
    "reactor",
    "primitives",
    "benches",
    ".ci",
];

/// The fewest words of prose a chapter may have before it counts as an outline.
pub const MIN_CHAPTER_WORDS: usize = 250;

/// What [`check`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Everything that makes the book untrue or broken, one line each,
    /// starting with the file (and line) it was found at.
    pub errors: Vec<String>,
    /// Anchors defined in the sources that no chapter includes, as
    /// `path: name`.
    pub unused_anchors: Vec<String>,
}

/// Checks the book under `repo/book/src` against the sources under `repo`.
pub fn check(repo: &Path) -> Report {
    let mut checker = Checker {
        repo: repo.to_path_buf(),
        report: Report::default(),
        used: BTreeSet::new(),
    };
    checker.run();
    checker.report
}

struct Checker {
    repo: PathBuf,
    report: Report,
    /// (canonical file, anchor) pairs that some chapter includes.
    used: BTreeSet<(PathBuf, String)>,
}

/// One `{{#...}}` directive found in a chapter.
#[derive(Debug)]
struct Directive<'a> {
    kind: &'a str,
    args: &'a str,
}

impl Checker {
    fn error(&mut self, at: &str, message: impl std::fmt::Display) {
        self.report.errors.push(format!("{at}: {message}"));
    }

    fn run(&mut self) {
        let src = self.repo.join("book").join("src");
        let summary = src.join("SUMMARY.md");
        if !summary.is_file() {
            self.error("book/src/SUMMARY.md", "missing");
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
        for chapter in &chapters {
            let name = self.display(chapter);
            let text = read(chapter);
            if chapter != &summary {
                if !listed.contains(&normalize(chapter)) {
                    self.error(&name, "not listed in SUMMARY.md, so mdBook never builds it");
                }
                let words = prose_words(&text);
                if words < MIN_CHAPTER_WORDS {
                    self.error(
                        &name,
                        format!(
                            "{words} words of prose: a chapter needs at least \
                             {MIN_CHAPTER_WORDS}, or it is an outline"
                        ),
                    );
                }
            }
            self.check_chapter(chapter, &name, &text);
        }
        self.check_anchors();
    }

    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.repo)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    fn check_chapter(&mut self, chapter: &Path, name: &str, text: &str) {
        let dir = chapter.parent().unwrap_or(Path::new("."));
        let lines: Vec<&str> = text.lines().collect();
        for (number, line) in lines.iter().enumerate() {
            if line.contains("\\{{#") {
                self.error(
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
                    self.error(&format!("{name}:{}", start + 1), "code block never closed");
                }
                let body = &lines[start + 1..end.min(lines.len())];
                self.check_block(dir, name, &lines, start, info, body);
                i = end + 1;
                continue;
            }
            let at = format!("{name}:{}", i + 1);
            for directive in directives(line) {
                self.check_directive(dir, &at, &directive, false);
            }
            for target in link_targets(line) {
                self.check_link(dir, chapter, &at, target);
            }
            i += 1;
        }
    }

    fn check_block(
        &mut self,
        dir: &Path,
        name: &str,
        lines: &[&str],
        start: usize,
        info: &str,
        body: &[&str],
    ) {
        let at = format!("{name}:{}", start + 1);
        let language = info.split([',', ' ', '\t']).next().unwrap_or_default().trim();
        if language.is_empty() {
            self.error(
                &at,
                "code block without a language: name one (`rust`, `text`, `sh`, ...)",
            );
            return;
        }
        let rust = language == "rust" || language == "rs";
        let mut handwritten = false;
        let mut includes = 0;
        for (offset, line) in body.iter().enumerate() {
            let line_at = format!("{name}:{}", start + 2 + offset);
            let found = directives(line);
            if found.is_empty() {
                handwritten |= !line.trim().is_empty();
                continue;
            }
            // A line holding a directive must hold nothing else, so no
            // hand-written code hides beside it.
            let rest = strip_directives(line);
            handwritten |= !rest.trim().is_empty();
            for directive in found {
                includes += 1;
                self.check_directive(dir, &line_at, &directive, rust);
            }
        }
        if !rust {
            return;
        }
        if handwritten || includes == 0 {
            match not_compiled_reason(lines, start) {
                Some(reason) if !reason.is_empty() => {}
                Some(_) => self.error(&at, "`not compiled:` marker gives no reason"),
                None => self.error(
                    &at,
                    "Rust block not included from a compiled file; include it with an \
                     anchor, or put `<!-- not compiled: REASON -->` on the line before",
                ),
            }
        }
    }

    fn check_directive(&mut self, dir: &Path, at: &str, directive: &Directive<'_>, rust: bool) {
        if directive.kind != "include" {
            self.error(
                at,
                format!(
                    "`{{{{#{}}}}}` is not used in this book: only `{{{{#include}}}}` \
                     (rustdoc_include hides lines, and other directives are not checked)",
                    directive.kind
                ),
            );
            return;
        }
        let (path, anchor) = match directive.args.split_once(':') {
            Some((path, anchor)) => (path.trim(), Some(anchor.trim())),
            None => (directive.args.trim(), None),
        };
        let file = normalize(&dir.join(path));
        let Ok(text) = fs::read_to_string(&file) else {
            self.error(at, format!("included file `{path}` does not exist"));
            return;
        };
        let shown = match anchor {
            None => strip_anchor_lines(&text),
            Some(anchor) if anchor.starts_with(|c: char| c.is_ascii_digit()) || anchor.is_empty() => {
                self.error(
                    at,
                    format!("`{path}:{anchor}` uses line numbers, which drift: use an anchor"),
                );
                return;
            }
            Some(anchor) => {
                self.used.insert((file.clone(), anchor.to_string()));
                match anchored(&text, anchor) {
                    Anchored::Found(shown) if shown.trim().is_empty() => {
                        self.error(at, format!("anchor `{anchor}` in `{path}` encloses nothing"));
                        return;
                    }
                    Anchored::Found(shown) => shown,
                    Anchored::Missing => {
                        self.error(at, format!("anchor `{anchor}` not found in `{path}`"));
                        return;
                    }
                    Anchored::Unclosed => {
                        self.error(at, format!("anchor `{anchor}` in `{path}` has no ANCHOR_END"));
                        return;
                    }
                }
            }
        };
        if rust {
            for line in shown.lines() {
                if hidden_by_mdbook(line) {
                    self.error(
                        at,
                        format!(
                            "`{path}` shows a line mdBook would hide (`{}`): readers must \
                             see everything that compiles",
                            line.trim()
                        ),
                    );
                }
            }
        }
        self.check_output_is_tested(at, &file);
    }

    /// Printed output in the book comes from `examples/output/`; some test
    /// must read the same file and compare it with what the program prints.
    fn check_output_is_tested(&mut self, at: &str, file: &Path) {
        let output_dir = normalize(&self.repo.join("examples").join("output"));
        let Ok(rel) = file.strip_prefix(&output_dir) else {
            return;
        };
        let needle = format!("examples/output/{}", rel.display());
        let tests = rust_files(&self.repo.join("tests"));
        let compared = tests.iter().any(|test| {
            let text = read(test);
            text.lines()
                .any(|line| line.contains("include_str!") && line.contains(&needle))
        });
        if !compared {
            self.error(
                at,
                format!(
                    "printed output `{needle}` is shown, but no test in tests/ reads it \
                     with include_str! to compare it with the program"
                ),
            );
        }
    }

    fn check_link(&mut self, dir: &Path, chapter: &Path, at: &str, target: &str) {
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
            self.error(at, format!("link to `{target}`: `{path}` does not exist"));
            return;
        }
        let Some(fragment) = fragment else { return };
        if file.extension().is_some_and(|e| e == "md") {
            let ids = heading_ids(&read(&file));
            if !ids.contains(fragment) {
                self.error(
                    at,
                    format!("link to `{target}`: no heading with id `{fragment}` there"),
                );
            }
        }
    }

    fn check_anchors(&mut self) {
        let mut defined: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        for root in ANCHOR_ROOTS {
            for file in source_files(&self.repo.join(root)) {
                let text = read(&file);
                let names = self.anchors_in(&file, &text);
                if !names.is_empty() {
                    defined.insert(normalize(&file), names);
                }
            }
        }
        for (file, names) in defined {
            for name in names {
                if !self.used.contains(&(file.clone(), name.clone())) {
                    let shown = self.display(&file);
                    self.report.unused_anchors.push(format!("{shown}: {name}"));
                }
            }
        }
    }

    /// The anchors `file` defines, reporting any without an end.
    fn anchors_in(&mut self, file: &Path, text: &str) -> Vec<String> {
        let mut open: Vec<(String, usize)> = Vec::new();
        let mut names = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if let Some(name) = marker(line, "ANCHOR_END:") {
                open.retain(|(open_name, _)| open_name != name);
            } else if let Some(name) = marker(line, "ANCHOR:") {
                if names.iter().any(|n| n == name) {
                    let at = format!("{}:{}", self.display(file), number + 1);
                    self.error(&at, format!("anchor `{name}` defined twice"));
                }
                names.push(name.to_string());
                open.push((name.to_string(), number + 1));
            }
        }
        for (name, number) in open {
            let at = format!("{}:{number}", self.display(file));
            self.error(&at, format!("anchor `{name}` has no ANCHOR_END"));
        }
        names
    }
}

enum Anchored {
    Found(String),
    Missing,
    Unclosed,
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without any
/// other anchor's marker lines (as mdBook shows them).
fn anchored(text: &str, name: &str) -> Anchored {
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

fn strip_anchor_lines(text: &str) -> String {
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

/// mdBook hides lines of a Rust block that start with `# ` or are just `#`.
fn hidden_by_mdbook(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed == "#" || trimmed.starts_with("# ")
}

/// Every `{{#kind args}}` on a line.
fn directives(line: &str) -> Vec<Directive<'_>> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let escaped = rest[..start].ends_with('\\');
        let inner = after[..end].trim();
        let (kind, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        if !escaped {
            found.push(Directive {
                kind,
                args: args.trim(),
            });
        }
        rest = &after[end + 2..];
    }
    found
}

fn strip_directives(line: &str) -> String {
    let mut kept = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        kept.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// A fence opening: its marker (``` or ~~~, possibly longer) and info string.
fn fence_open(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let marker = ['`', '~'].into_iter().find(|&c| trimmed.starts_with(c))?;
    let length = trimmed.chars().take_while(|&c| c == marker).count();
    (length >= 3).then(|| (&trimmed[..length], trimmed[length..].trim()))
}

fn fence_closes(line: &str, fence: &str) -> bool {
    let trimmed = line.trim();
    trimmed.starts_with(fence) && trimmed.chars().all(|c| fence.starts_with(c))
}

/// The reason in `<!-- not compiled: REASON -->` on the line before a fence.
fn not_compiled_reason(lines: &[&str], fence: usize) -> Option<String> {
    let before = lines[..fence].iter().rev().find(|l| !l.trim().is_empty())?;
    let inner = before.trim().strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    let reason = inner.strip_prefix("not compiled:")?;
    Some(reason.trim().to_string())
}

/// The target of every `[text](target)` and `![alt](target)` in markdown
/// outside code, plus `src="..."` and `href="..."` attributes.
fn links(text: &str) -> Vec<&str> {
    prose_lines(text).flat_map(link_targets).collect()
}

/// The lines of a chapter that lie outside fenced code blocks.
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut in_fence: Option<&str> = None;
    text.lines().filter(move |line| {
        if let Some(fence) = in_fence {
            if fence_closes(line, fence) {
                in_fence = None;
            }
            return false;
        }
        if let Some((fence, _)) = fence_open(line) {
            in_fence = Some(fence);
            return false;
        }
        true
    })
}

fn link_targets(line: &str) -> Vec<&str> {
    let line_without_code = outside_inline_code(line);
    let mut found = Vec::new();
    for (start, _) in line.match_indices("](") {
        if !line_without_code[start] {
            continue;
        }
        let rest = &line[start + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = rest[..end].split_whitespace().next().unwrap_or_default();
        let target = target.trim_start_matches('<').trim_end_matches('>');
        if !target.is_empty() {
            found.push(target);
        }
    }
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in line.match_indices(attribute) {
            if !line_without_code[start] {
                continue;
            }
            let rest = &line[start + attribute.len()..];
            if let Some(end) = rest.find('"') {
                found.push(&rest[..end]);
            }
        }
    }
    found
}

/// For each byte of `line`, whether it lies outside `inline code`.
fn outside_inline_code(line: &str) -> Vec<bool> {
    let mut outside = Vec::with_capacity(line.len());
    let mut in_code = false;
    for byte in line.bytes() {
        if byte == b'`' {
            in_code = !in_code;
        }
        outside.push(!in_code);
    }
    outside
}

/// The ids mdBook gives the headings of a chapter.
fn heading_ids(text: &str) -> BTreeSet<String> {
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

/// Words of prose: everything outside code blocks, headings and comments.
fn prose_words(text: &str) -> usize {
    prose_lines(text)
        .map(str::trim_start)
        .filter(|line| !(line.starts_with('#') || line.starts_with("<!--") || line.starts_with('|')))
        .flat_map(str::split_whitespace)
        .filter(|word| word.chars().any(char::is_alphabetic))
        .count()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Lexically resolves `.` and `..`, so one file has one name.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn walk(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default();
        if name == "target" || name.to_string_lossy().starts_with('.') && path.is_dir() {
            continue;
        }
        if path.is_dir() {
            walk(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &|p| p.extension().is_some_and(|e| e == "md"), &mut out);
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &|p| p.extension().is_some_and(|e| e == "rs"), &mut out);
    out
}

/// Text files that may carry anchors: Rust, TOML, text and shell scripts.
fn source_files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    walk(
        dir,
        &|p| match p.extension().and_then(|e| e.to_str()) {
            Some(ext) => matches!(ext, "rs" | "toml" | "txt" | "sh"),
            // Scripts such as .ci/run have no extension.
            None => true,
        },
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests;
