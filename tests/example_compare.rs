//! Runs the flagship example, `compare`, with a small load and a mail
//! outage, and checks its table; and checks its command line.

#[path = "../examples/compare/main.rs"]
#[allow(dead_code, unreachable_pub)]
mod compare;

#[test]
fn compare_runs_every_style_and_the_queue_and_bus_survive_a_mail_outage() {
    let options = compare::Options {
        signups: 300,
        connections: 8,
        mail_delay: std::time::Duration::from_millis(1),
        mail_outage: std::time::Duration::from_millis(100),
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
    for row in &rows[3..] {
        assert_eq!(row.emails, 300, "{}: redelivery sent every email", row.style);
    }
    assert!(table.contains("fails for the first 100 ms"));
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
    assert!(parse(&["--fast"]).unwrap_err().contains("unknown option"));
}
