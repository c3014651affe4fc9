//! Printed output: what the book shows from `examples/output/` is compared
//! with what the program prints by some test in `tests/`.

use crate::Checker;
use crate::files::{normalize, read, rust_files};
use std::path::Path;

/// Printed output in the book comes from `examples/output/`; some test
/// must read the same file and compare it with what the program prints.
pub(crate) fn check_is_tested(c: &mut Checker, at: &str, file: &Path) {
    let output_dir = normalize(&c.repo.join("examples").join("output"));
    let Ok(rel) = file.strip_prefix(&output_dir) else {
        return;
    };
    let needle = format!("examples/output/{}", rel.display());
    let tests = rust_files(&c.repo.join("tests"));
    let compared = tests.iter().any(|test| {
        let text = read(test);
        text.lines()
            .any(|line| line.contains("include_str!") && line.contains(&needle))
    });
    if !compared {
        c.error(
            at,
            format!(
                "printed output `{needle}` is shown, but no test in tests/ reads it \
                 with include_str! to compare it with the program"
            ),
        );
    }
}
