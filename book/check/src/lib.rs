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
//! - an `ANCHOR:` with no `ANCHOR_END:` in the sources;
//! - a benchmark figure marked in a chapter that `benches/RESULTS.md` does
//!   not record with the same values.
//!
//! It also lists the anchors that no chapter uses, so dead ones can go.
//!
//! # Map
//!
//! One file per check, each opening with the rules it keeps:
//!
//! - `chapters.rs`: the chapters are in `SUMMARY.md` and more than outlines,
//!   and the walk that hands each chapter's parts to the checks below;
//! - `blocks.rs`: code blocks name a language, and Rust blocks are included;
//! - `includes.rs`: `{{#include}}` files and anchors resolve, and show no
//!   line mdBook would hide;
//! - `outputs.rs`: printed output shown is compared by a test;
//! - `links.rs`: links, images and `#fragment`s resolve;
//! - `anchors.rs`: anchors are closed and defined once, and the unused ones
//!   are listed;
//! - `figures.rs`: marked figures agree with `benches/RESULTS.md`.
//!
//! Beside them, `markdown.rs` reads markdown as mdBook does and `files.rs`
//! walks the repository; neither checks anything.
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
#![doc(test(attr(deny(warnings))))]

mod anchors;
mod blocks;
mod chapters;
mod figures;
mod files;
mod includes;
mod links;
mod markdown;
mod outputs;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Folders, relative to the repository root, whose files may hold anchors.
pub const ANCHOR_ROOTS: &[&str] = &[
    "examples",
    "tests",
    "src",
    "executor",
    "reactor",
    "primitives",
    "messaging",
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
    chapters::check(&mut checker);
    checker.report
}

/// What the checks share: the repository, the report they add to, and the
/// anchors the chapters use (filled by `includes`, read by `anchors`).
pub(crate) struct Checker {
    pub(crate) repo: PathBuf,
    pub(crate) report: Report,
    /// (canonical file, anchor) pairs that some chapter includes.
    pub(crate) used: BTreeSet<(PathBuf, String)>,
}

impl Checker {
    /// Records a problem found at `at` (a file, or `file:line`).
    pub(crate) fn error(&mut self, at: &str, message: impl std::fmt::Display) {
        self.report.errors.push(format!("{at}: {message}"));
    }

    /// `path` relative to the repository, for messages.
    pub(crate) fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.repo)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
