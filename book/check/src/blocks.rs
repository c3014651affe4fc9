//! Code blocks: each names its language, and a Rust block is made of
//! includes alone, unless the line before its fence says why it is not
//! compiled (`<!-- not compiled: REASON -->`).

use crate::markdown::{directives, strip_directives};
use crate::{Checker, includes};
use std::path::Path;

/// Checks the fenced block opening at `lines[start]` (info string `info`,
/// lines `body`), and the directives inside it.
pub(crate) fn check(
    c: &mut Checker,
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
        c.error(
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
            includes::check(c, dir, &line_at, &directive, rust);
        }
    }
    if !rust {
        return;
    }
    if handwritten || includes == 0 {
        match not_compiled_reason(lines, start) {
            Some(reason) if !reason.is_empty() => {}
            Some(_) => c.error(&at, "`not compiled:` marker gives no reason"),
            None => c.error(
                &at,
                "Rust block not included from a compiled file; include it with an \
                 anchor, or put `<!-- not compiled: REASON -->` on the line before",
            ),
        }
    }
}

/// The reason in `<!-- not compiled: REASON -->` on the line before a fence.
fn not_compiled_reason(lines: &[&str], fence: usize) -> Option<String> {
    let before = lines[..fence].iter().rev().find(|l| !l.trim().is_empty())?;
    let inner = before.trim().strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    let reason = inner.strip_prefix("not compiled:")?;
    Some(reason.trim().to_string())
}
