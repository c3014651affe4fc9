//! The book check on weft's own book: fails on anything that lets the book
//! drift from the code, and lists the anchors no chapter uses.

use std::path::Path;

#[test]
fn the_book_is_true_to_the_code() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = weft_book_check::check(&repo);
    if !report.unused_anchors.is_empty() {
        eprintln!("anchors that no chapter uses:");
        for anchor in &report.unused_anchors {
            eprintln!("  {anchor}");
        }
    }
    assert!(
        report.errors.is_empty(),
        "the book check found {} problem(s):\n{}",
        report.errors.len(),
        report.errors.join("\n")
    );
}
