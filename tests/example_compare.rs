//! Runs the flagship example, `compare`, with a small load and a mail
//! outage, and checks its table, its outage counts (the same in every
//! run) and its SVG report; and checks its command line.

#[path = "../examples/compare/main.rs"]
#[allow(dead_code, unreachable_pub)]
mod compare;

#[test]
fn compare_runs_every_style_and_the_queue_and_bus_survive_a_mail_outage() {
    let options = compare::Options {
        signups: 300,
        connections: 8,
        mail_delay: std::time::Duration::from_millis(1),
        mail_outage: 50,
        progress: false,
        ..compare::Options::default()
    };
    let mut out = Vec::new();
    let rows = compare::run(&options, &mut out).unwrap();
    let table = String::from_utf8(out).unwrap();
    assert_eq!(rows.len(), 5);
    for (row, style) in rows.iter().zip(compare::STYLES) {
        assert_eq!(row.style, style);
        assert_eq!(row.requests, 300, "{style}: every sign-up answered");
        assert_eq!(row.analytics, 300, "{style}: analytics never failed");
        assert_eq!(row.duplicate_emails, 0, "{style}: no email sent twice");
        assert!(row.lines_of_code > 5, "{style}: its handler was found");
        assert!(row.ack_p50 <= row.ack_p99);
        assert!(
            table
                .lines()
                .any(|line| line.starts_with(style) && line.contains(" 300 ")),
            "{style} has a row in:\n{table}"
        );
    }
    for row in &rows[..3] {
        assert_eq!(
            row.lost_emails(),
            50,
            "{}: each failed request lost its email",
            row.style
        );
    }
    for row in &rows[3..] {
        assert_eq!(row.emails, 300, "{}: redelivery sent every email", row.style);
    }
    assert!(table.contains("fails its first 50 requests"));
    assert!(table.contains("queue and bus finish their background work later"));
    // The outage's cost is counts only, the same in every run: the book
    // shows this file.
    let outage = compare::outage_table(&options, &rows);
    assert_eq!(outage, include_str!("../examples/output/compare_outage.txt"));
    assert!(table.contains(&outage));
}

#[test]
fn compare_loses_the_same_emails_in_every_run() {
    let options = compare::Options {
        signups: 200,
        connections: 16,
        mail_delay: std::time::Duration::ZERO,
        mail_outage: 70,
        progress: false,
        ..compare::Options::default()
    };
    let lost = || -> Vec<(&str, u64, u64)> {
        compare::run(&options, &mut Vec::new())
            .unwrap()
            .iter()
            .map(|row| (row.style, row.lost_emails(), row.duplicate_emails))
            .collect()
    };
    let first = lost();
    assert_eq!(
        first,
        [
            ("callbacks", 70, 0),
            ("promises", 70, 0),
            ("async", 70, 0),
            ("queue", 0, 0),
            ("bus", 0, 0)
        ]
    );
    assert_eq!(lost(), first);
}

#[test]
fn compare_draws_its_report_as_svg() {
    let path = std::env::temp_dir().join(format!("weft-compare-report-{}.svg", std::process::id()));
    let options = compare::Options {
        signups: 100,
        connections: 4,
        mail_delay: std::time::Duration::ZERO,
        styles: vec!["async", "queue"],
        progress: false,
        report: Some(path.clone()),
        ..compare::Options::default()
    };
    let mut out = Vec::new();
    let rows = compare::run(&options, &mut out).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .ends_with(&format!("report drawn in {}\n", path.display()))
    );
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"), "{svg}");
    // Two charts, a line per style in each, and the legend.
    assert_eq!(svg.matches("<polyline").count(), 4);
    for row in &rows {
        assert!(svg.contains(&format!(">{}</text>", row.style)));
        assert_eq!(row.latencies.len(), 100);
        assert_eq!(row.completions.len(), 200, "every background job's time");
        assert!(row.latencies.is_sorted() && row.completions.is_sorted());
    }
}

#[test]
fn compare_explains_bad_flags_instead_of_panicking() {
    let parse =
        |args: &[&str]| compare::Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    assert_eq!(parse(&["--help"]), Ok(compare::Command::Help));
    let Ok(compare::Command::Run(options)) = parse(&["--signups", "50", "--styles", "bus,async"]) else {
        panic!("a good command line parses");
    };
    assert_eq!((options.signups, options.styles), (50, vec!["bus", "async"]));
    assert!(parse(&["--signups"]).unwrap_err().contains("needs"));
    assert!(parse(&["--signups", "ten"]).unwrap_err().contains("whole number"));
    assert!(
        parse(&["--styles", "smoke-signals"])
            .unwrap_err()
            .contains("unknown style")
    );
    assert!(parse(&["--fast"]).unwrap_err().contains("unknown argument"));
    // Out of range is an error, not a silent cap or a silent 1.
    assert_eq!(
        parse(&["--connections", "0"]),
        Err("--connections takes 1 to 1024, not 0".into())
    );
    assert_eq!(
        parse(&["--connections", "5000"]),
        Err("--connections takes 1 to 1024, not 5000".into())
    );
    assert_eq!(
        parse(&["--signups", "0"]),
        Err("--signups takes at least 1, not 0".into())
    );
    assert!(parse(&["--queue-capacity", "0"]).is_err());
    let Ok(compare::Command::Run(options)) = parse(&["--mail-outage", "40", "--report", "r.svg"]) else {
        panic!("a good command line parses");
    };
    assert_eq!(options.mail_outage, 40);
    assert_eq!(options.report, Some("r.svg".into()));
}
