//! The check against small made-up books: each test breaks one rule and
//! expects exactly that rule's complaint.

use super::links::heading_ids;
use super::*;
use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A repository in a fresh temporary folder, removed on drop.
struct Repo {
    root: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "weft-book-check-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&root);
        let repo = Repo { root };
        repo.write(
            "examples/hello.rs",
            &format!(
                "// {a} main\nfn main() {{\n    println!(\"hello\");\n}}\n// {e} main\n",
                a = "ANCHOR:",
                e = "ANCHOR_END:"
            ),
        );
        repo.write("examples/output/hello.txt", "hello\n");
        repo.write(
            "tests/examples.rs",
            "const HELLO: &str = include_str!(\"../examples/output/hello.txt\");\n",
        );
        repo.write(
            "book/src/SUMMARY.md",
            "# Summary\n\n- [Hello](hello.md)\n- [Other](other.md)\n",
        );
        repo.chapter(
            "hello.md",
            "```rust\n{{#include ../../examples/hello.rs:main}}\n```\n",
        );
        repo.chapter("other.md", "See [the greeting](hello.md#hello).\n");
        repo
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Writes a chapter with a heading, enough prose to pass as a chapter,
    /// and `body`.
    fn chapter(&self, name: &str, body: &str) {
        let title = name.trim_end_matches(".md");
        let prose = "word ".repeat(MIN_CHAPTER_WORDS);
        self.write(
            &format!("book/src/{name}"),
            &format!("# {title}\n\n{prose}\n\n{body}"),
        );
    }

    fn check(&self) -> Report {
        check(&self.root)
    }

    /// Checks, expecting exactly one error that contains `needle`.
    fn expect_one_error(&self, needle: &str) {
        let report = self.check();
        assert_eq!(report.errors.len(), 1, "{:#?}", report.errors);
        assert!(report.errors[0].contains(needle), "{:#?}", report.errors);
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

#[test]
fn a_sound_book_passes() {
    let report = Repo::new().check();
    assert_eq!(report, Report::default());
}

#[test]
fn a_missing_include_file_fails() {
    let repo = Repo::new();
    repo.chapter(
        "hello.md",
        "```rust\n{{#include ../../examples/gone.rs:main}}\n```\n",
    );
    repo.expect_one_error("`../../examples/gone.rs` does not exist");
}

#[test]
fn a_missing_anchor_fails_and_the_defined_one_is_listed_unused() {
    let repo = Repo::new();
    repo.chapter(
        "hello.md",
        "```rust\n{{#include ../../examples/hello.rs:mian}}\n```\n",
    );
    repo.expect_one_error("anchor `mian` not found");
    assert_eq!(repo.check().unused_anchors, ["examples/hello.rs: main"]);
}

#[test]
fn an_empty_anchor_fails() {
    let repo = Repo::new();
    repo.write(
        "examples/hello.rs",
        &format!("// {}: main\n\n// {}: main\n", "ANCHOR", "ANCHOR_END"),
    );
    repo.expect_one_error("encloses nothing");
}

#[test]
fn an_anchor_without_an_end_fails_where_it_is_defined_and_where_it_is_used() {
    let repo = Repo::new();
    repo.write(
        "examples/hello.rs",
        &format!("// {}: main\nfn main() {{}}\n", "ANCHOR"),
    );
    let report = repo.check();
    assert_eq!(report.errors.len(), 2, "{:#?}", report.errors);
    assert!(report.errors.iter().all(|e| e.contains("no ANCHOR_END")));
}

#[test]
fn line_numbers_instead_of_an_anchor_fail() {
    let repo = Repo::new();
    repo.chapter(
        "hello.md",
        "```rust\n{{#include ../../examples/hello.rs:2:3}}\n```\n",
    );
    repo.expect_one_error("uses line numbers");
}

#[test]
fn a_handwritten_rust_block_fails_unless_marked_with_a_reason() {
    let repo = Repo::new();
    let block = "```rust\nfn main() {}\n```\n";
    repo.chapter("other.md", block);
    repo.expect_one_error("Rust block not included");

    repo.chapter("other.md", &format!("<!-- not compiled: -->\n{block}"));
    repo.expect_one_error("gives no reason");

    repo.chapter(
        "other.md",
        &format!("<!-- not compiled: shows a mistake the compiler rejects -->\n{block}"),
    );
    assert_eq!(repo.check().errors, Vec::<String>::new());
}

#[test]
fn handwritten_lines_beside_an_include_fail() {
    let repo = Repo::new();
    repo.chapter(
        "hello.md",
        "```rust\nuse std::io;\n{{#include ../../examples/hello.rs:main}}\n```\n",
    );
    repo.expect_one_error("Rust block not included");
}

#[test]
fn a_block_without_a_language_fails() {
    let repo = Repo::new();
    repo.chapter("other.md", "```\nfn main() {}\n```\n");
    repo.expect_one_error("without a language");
}

#[test]
fn included_lines_that_mdbook_would_hide_fail() {
    let repo = Repo::new();
    repo.write(
        "examples/hello.rs",
        &format!(
            "// {}: main\n# use std::io;\nfn main() {{}}\n// {}: main\n",
            "ANCHOR", "ANCHOR_END"
        ),
    );
    repo.expect_one_error("a line mdBook would hide");
}

#[test]
fn output_that_no_test_compares_fails() {
    let repo = Repo::new();
    repo.chapter(
        "other.md",
        "```text\n{{#include ../../examples/output/hello.txt}}\n```\n",
    );
    assert_eq!(repo.check().errors, Vec::<String>::new());

    repo.write("tests/examples.rs", "// compares nothing\n");
    repo.expect_one_error("no test in tests/ reads it");
}

#[test]
fn broken_links_and_fragments_fail() {
    let repo = Repo::new();
    repo.chapter("other.md", "See [the greeting](helo.md).\n");
    repo.expect_one_error("`helo.md` does not exist");

    repo.chapter("other.md", "See [the greeting](hello.md#goodbye).\n");
    repo.expect_one_error("no heading with id `goodbye`");

    repo.chapter("other.md", "![a picture](diagrams/none.svg)\n");
    repo.expect_one_error("`diagrams/none.svg` does not exist");

    repo.chapter("other.md", "Links in `code](like.md)` are not links.\n");
    assert_eq!(repo.check().errors, Vec::<String>::new());
}

#[test]
fn a_chapter_outside_the_summary_and_an_outline_fail() {
    let repo = Repo::new();
    repo.chapter("orphan.md", "");
    repo.expect_one_error("not listed in SUMMARY.md");

    let repo = Repo::new();
    repo.write("book/src/other.md", "# Other\n\n- first point\n- second point\n");
    repo.expect_one_error("it is an outline");
}

#[test]
fn an_escaped_directive_fails() {
    let repo = Repo::new();
    repo.chapter("other.md", "Write `\\{{#include file.rs:name}}` to include.\n");
    repo.expect_one_error("escaped `{{#`");
}

#[test]
fn heading_ids_follow_mdbook() {
    let ids = heading_ids("# `Poll` and `Waker`\n## Again!\n## Again!\n```text\n# not a heading\n```\n");
    let ids: Vec<_> = ids.into_iter().collect();
    assert_eq!(ids, ["again", "again-1", "poll-and-waker"]);
}

/// `RESULTS.md` recording one figure, as the figure tests below start from.
fn repo_with_a_recorded_figure() -> Repo {
    let repo = Repo::new();
    repo.write(
        "benches/RESULTS.md",
        "# Results\n\n<!-- figure: spawn = 4.00 ms | 7.13 ms -->\n| spawn | 4.00 ms | 7.13 ms |\n",
    );
    repo
}

#[test]
fn a_figure_that_agrees_with_results_passes() {
    let repo = repo_with_a_recorded_figure();
    repo.chapter(
        "other.md",
        "<!-- figure: spawn = 4.00 ms | 7.13 ms -->\nSpawning takes 4.00 ms, against\n7.13 ms for the best peer.\n",
    );
    assert_eq!(repo.check(), Report::default());
}

#[test]
fn a_figure_that_differs_from_results_fails() {
    let repo = repo_with_a_recorded_figure();
    repo.chapter(
        "other.md",
        "<!-- figure: spawn = 3.90 ms | 7.13 ms -->\nSpawning takes 3.90 ms, against 7.13 ms.\n",
    );
    repo.expect_one_error("benches/RESULTS.md says 4.00 ms | 7.13 ms");
}

#[test]
fn a_figure_missing_from_its_paragraph_fails() {
    let repo = repo_with_a_recorded_figure();
    repo.chapter(
        "other.md",
        "<!-- figure: spawn = 4.00 ms | 7.13 ms -->\nSpawning takes 4.00 ms.\n\nThe best peer: 7.13 ms.\n",
    );
    repo.expect_one_error("`7.13 ms` is not in the text under the mark");
}

#[test]
fn a_figure_results_does_not_record_fails() {
    let repo = Repo::new();
    repo.chapter(
        "other.md",
        "<!-- figure: spawn = 4.00 ms -->\nSpawning takes 4.00 ms.\n",
    );
    repo.expect_one_error("figure `spawn` is not marked in benches/RESULTS.md");
}
