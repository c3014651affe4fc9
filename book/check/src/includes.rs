//! `{{#include}}` directives: the file exists, the anchor exists, is closed
//! and encloses something, no line numbers stand in for an anchor, and no
//! included Rust line is one mdBook would hide.

use crate::anchors::{Anchored, anchored, strip_anchor_lines};
use crate::files::normalize;
use crate::markdown::Directive;
use crate::{Checker, outputs};
use std::fs;
use std::path::Path;

/// Checks one directive at `at`; `rust` when it sits in a Rust block.
pub(crate) fn check(c: &mut Checker, dir: &Path, at: &str, directive: &Directive<'_>, rust: bool) {
    if directive.kind != "include" {
        c.error(
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
        c.error(at, format!("included file `{path}` does not exist"));
        return;
    };
    let shown = match anchor {
        None => strip_anchor_lines(&text),
        Some(anchor) if anchor.starts_with(|c: char| c.is_ascii_digit()) || anchor.is_empty() => {
            c.error(
                at,
                format!("`{path}:{anchor}` uses line numbers, which drift: use an anchor"),
            );
            return;
        }
        Some(anchor) => {
            c.used.insert((file.clone(), anchor.to_string()));
            match anchored(&text, anchor) {
                Anchored::Found(shown) if shown.trim().is_empty() => {
                    c.error(at, format!("anchor `{anchor}` in `{path}` encloses nothing"));
                    return;
                }
                Anchored::Found(shown) => shown,
                Anchored::Missing => {
                    c.error(at, format!("anchor `{anchor}` not found in `{path}`"));
                    return;
                }
                Anchored::Unclosed => {
                    c.error(at, format!("anchor `{anchor}` in `{path}` has no ANCHOR_END"));
                    return;
                }
            }
        }
    };
    if rust {
        for line in shown.lines() {
            if hidden_by_mdbook(line) {
                c.error(
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
    outputs::check_is_tested(c, at, &file);
}

/// mdBook hides lines of a Rust block that start with `# ` or are just `#`.
fn hidden_by_mdbook(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed == "#" || trimmed.starts_with("# ")
}
