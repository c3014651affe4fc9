//! Runs each example with small inputs and checks what it prints, so an
//! example that breaks fails the test suite.

#[path = "../examples/first_steps.rs"]
#[allow(dead_code, unreachable_pub)]
mod first_steps;

#[test]
fn first_steps_prints_its_tour() {
    // The panicking task prints a panic message on stderr; the output we
    // check is what the example writes.
    let mut out = Vec::new();
    first_steps::run(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let expected = "\
started a runtime with 4 worker threads
1 000 tasks squared their numbers; the squares add up to 333833500
the blocking pool found that 20! has 19 digits
an aborted task reports: task was cancelled
a panicking task reports: task panicked with message \"something went wrong\"
is the runtime still running? yes
the runtime shut down; every task has finished or been cancelled
on one thread, a JoinSet saw tasks finish in this order: quick, medium, slow
";
    assert_eq!(out, expected);
}

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
