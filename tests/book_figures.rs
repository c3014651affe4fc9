//! Figures in the book that `benches/RESULTS.md` also records must agree
//! with its latest measurement. A chapter marks such a figure with an HTML
//! comment, `<!-- figure: WORKLOAD -->`; the text from the marker to the
//! next blank line must quote weft's, tokio's and smol's medians from the
//! last row of RESULTS.md for that workload.

use std::fs;
use std::path::Path;

/// The medians (weft, tokio, smol) of the last row for `workload`.
fn latest(results: &str, workload: &str) -> Option<[String; 3]> {
    let row = results
        .lines()
        .rev()
        .find(|line| line.starts_with(&format!("| {workload} |")))?;
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // "| workload | weft | tokio | smol | ..." gives cells[2..5]; each is
    // "55 ns (min 53 ns)": the median is what comes before " (".
    let median = |cell: &str| cell.split(" (").next().unwrap_or(cell).to_owned();
    Some([median(cells[2]), median(cells[3]), median(cells[4])])
}

#[test]
fn marked_figures_match_the_latest_results() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = fs::read_to_string(repo.join("benches/RESULTS.md")).unwrap();
    let mut checked = 0;
    for entry in fs::read_dir(repo.join("book/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices("<!-- figure: ") {
            let rest = &text[at + "<!-- figure: ".len()..];
            let workload = rest.split_whitespace().next().unwrap();
            let paragraph = rest.split("\n\n").next().unwrap().replace('\n', " ");
            let figures = latest(&results, workload)
                .unwrap_or_else(|| panic!("{}: no `{workload}` row in RESULTS.md", path.display()));
            for figure in &figures {
                assert!(
                    paragraph.contains(figure.as_str()),
                    "{}: the `{workload}` figure should quote {figure}, as the latest row of \
                     benches/RESULTS.md does: {figures:?}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "the block_on figure is marked where the book quotes it"
    );
}
