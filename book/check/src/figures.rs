//! Measured figures: a chapter that quotes a benchmark figure marks it, and
//! `benches/RESULTS.md` carries the same mark, so the two cannot disagree.
//!
//! A mark is an HTML comment on a line of its own, right above the
//! paragraph (or table) that shows the figures:
//!
//! ```text
//! <!-- figure: block_on_ready = 55 ns | 131 ns | 12 ns -->
//! ```
//!
//! The rules:
//!
//! - every value of a mark appears in the block under it (the lines up to
//!   the next blank line), in the chapter and in `RESULTS.md` alike;
//! - every name a chapter marks is marked in `RESULTS.md`, with the same
//!   values in the same order;
//! - a name is marked once in `RESULTS.md`.

use crate::Checker;
use crate::files::read;
use std::collections::BTreeMap;

/// One mark: its name, its values, and where it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Figure {
    pub(crate) name: String,
    pub(crate) values: Vec<String>,
    /// 1-based line of the mark.
    pub(crate) line: usize,
}

/// The marks in `text`; a malformed one is reported against `file`.
pub(crate) fn marks(c: &mut Checker, file: &str, text: &str) -> Vec<Figure> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.contains("<!-- figure:") {
            continue;
        }
        let at = format!("{file}:{}", i + 1);
        let rest = line.trim().strip_prefix("<!-- figure:");
        let Some(body) = rest.and_then(|rest| rest.strip_suffix("-->")) else {
            c.error(
                &at,
                "a figure mark must sit alone on its line: `<!-- figure: NAME = VALUE | ... -->`",
            );
            continue;
        };
        let Some((name, values)) = body.split_once('=') else {
            c.error(
                &at,
                "a figure mark names its values: `<!-- figure: NAME = VALUE | ... -->`",
            );
            continue;
        };
        let values: Vec<String> = values.split('|').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            c.error(&at, "a figure mark has an empty value");
            continue;
        }
        let block: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| !l.trim().is_empty())
            .copied()
            .collect();
        // Prose wraps: a value split over two lines still counts.
        let block = block.join(" ");
        for value in &values {
            if !block.contains(value.as_str()) {
                c.error(
                    &at,
                    format!(
                        "figure `{}`: `{value}` is not in the text under the mark",
                        name.trim()
                    ),
                );
            }
        }
        found.push(Figure {
            name: name.trim().to_string(),
            values,
            line: i + 1,
        });
    }
    found
}

/// Checks the marks of every chapter (`(display name, text)`) against
/// `benches/RESULTS.md`.
pub(crate) fn check(c: &mut Checker, chapters: &[(String, String)]) {
    let results_path = c.repo.join("benches").join("RESULTS.md");
    let results_text = if results_path.is_file() {
        read(&results_path)
    } else {
        String::new()
    };
    let mut recorded: BTreeMap<String, Figure> = BTreeMap::new();
    for figure in marks(c, "benches/RESULTS.md", &results_text) {
        if let Some(first) = recorded.get(&figure.name) {
            let message = format!(
                "figure `{}` is marked twice (first at line {})",
                figure.name, first.line
            );
            c.error(&format!("benches/RESULTS.md:{}", figure.line), message);
        } else {
            recorded.insert(figure.name.clone(), figure);
        }
    }
    for (name, text) in chapters {
        for figure in marks(c, name, text) {
            let at = format!("{name}:{}", figure.line);
            match recorded.get(&figure.name) {
                None => c.error(
                    &at,
                    format!("figure `{}` is not marked in benches/RESULTS.md", figure.name),
                ),
                Some(record) if record.values != figure.values => c.error(
                    &at,
                    format!(
                        "figure `{}` says {} but benches/RESULTS.md says {}",
                        figure.name,
                        figure.values.join(" | "),
                        record.values.join(" | ")
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}
