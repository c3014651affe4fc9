//! The sign-up scenario, in every style, side by side.
//!
//! A user submits a sign-up form; the system answers at once, then
//! validates and stores the data, sends a confirmation email and records
//! the sign-up for analytics, in the background. Everything runs over real
//! sockets on 127.0.0.1: the form arrives as an HTTP/1.1 POST (hyper on
//! weft, through `weft::compat::hyper`, at both ends), the email goes to
//! a small mail service speaking a line protocol, the record to an
//! analytics service. The handler is written five times (`styles.rs`):
//! callbacks, promises, async/await, a work queue, an event bus. One load
//! generator drives each with the same sign-ups and the table compares
//! them: how fast the user got an answer, how long until all background
//! work was done, whether every email went out exactly once, and how long
//! the handler is.
//!
//! `--mail-outage N` makes the mail service fail its first N requests:
//! the queue and the bus redeliver until every email is sent; the other
//! three report what was lost, the same count in every run. `--report
//! FILE.svg` draws each style's answer times and background work.
//!
//! ```text
//! cargo run --release --example compare
//! cargo run --release --example compare -- --signups 2000 --mail-outage 500
//! cargo run --release --example compare -- --report compare.svg
//! cargo run --release --example compare -- --help
//! ```
//!
//! This file holds the command line, what every style shares (`Env`, the
//! store, the tally) and the run that measures each style; beside it,
//! `styles.rs` holds the five handlers, `services.rs` the mail and
//! analytics services, `front.rs` the HTTP front, `load.rs` the load
//! generator and `report.rs` the SVG report.

mod front;
mod load;
mod report;
mod services;
mod styles;

use front::serve_http;
use load::load;
use services::{CallbackClient, Client, Service};
use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use styles::Style;
use weft::net::TcpListener;
use weft::sync::Notify;

const HELP: &str = "\
usage: compare [OPTIONS]

The sign-up scenario in five styles of asynchronous communication
(cargo run --release --example compare -- [OPTIONS]).

OPTIONS:
    --signups <N>          sign-ups per style, at least 1 (default 10000)
    --connections <N>      HTTP client connections of the load generator, 1 to 1024 (default 64)
    --mail-delay-ms <MS>   time the mail service takes per email (default 2)
    --mail-outage <N>      the mail service fails its first N requests (default 0)
    --queue-capacity <N>   messages each work queue holds before publishing waits (default 10000)
    --styles <LIST>        comma-separated subset of: callbacks,promises,async,queue,bus
    --report <FILE.svg>    draw each style's answer times and background work in FILE.svg
    -h, --help             print this help
";

/// The five styles, in table order.
pub(crate) const STYLES: [&str; 5] = ["callbacks", "promises", "async", "queue", "bus"];

/// What a run does; see `--help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) signups: u64,
    pub(crate) connections: usize,
    pub(crate) mail_delay: Duration,
    /// The mail service fails its first this many requests.
    pub(crate) mail_outage: u64,
    /// Messages each work queue holds before `publish` waits.
    pub(crate) queue_capacity: usize,
    pub(crate) styles: Vec<&'static str>,
    /// Report progress on stderr: a line redrawn in place on a terminal,
    /// plain lines otherwise.
    pub(crate) progress: bool,
    /// Where to draw the SVG report, if anywhere.
    pub(crate) report: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            signups: 10_000,
            connections: 64,
            mail_delay: Duration::from_millis(2),
            mail_outage: 0,
            queue_capacity: 10_000,
            styles: STYLES.to_vec(),
            progress: true,
            report: None,
        }
    }
}

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Run(Options),
    Help,
}

impl Options {
    /// Parses the arguments after the program name.
    pub(crate) fn parse(args: &[String]) -> Result<Command, String> {
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = |what: &str| {
                args.next()
                    .ok_or_else(|| format!("{flag} needs {what}"))
                    .map(String::as_str)
            };
            let number = |text: &str| {
                text.parse::<u64>()
                    .map_err(|_| format!("{flag} takes a whole number, not {text:?}"))
            };
            // A count in `range`: out of it is an error, not a silent cap.
            let count = |text: &str, range: std::ops::RangeInclusive<u64>| {
                let n = number(text)?;
                match range.contains(&n) {
                    true => Ok(n),
                    false if *range.end() == u64::MAX => {
                        Err(format!("{flag} takes at least {}, not {n}", range.start()))
                    }
                    false => Err(format!(
                        "{flag} takes {} to {}, not {n}",
                        range.start(),
                        range.end()
                    )),
                }
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--signups" => options.signups = count(value("a count")?, 1..=u64::MAX)?,
                "--connections" => options.connections = count(value("a count")?, 1..=1024)? as usize,
                "--mail-delay-ms" => {
                    options.mail_delay = Duration::from_millis(number(value("milliseconds")?)?)
                }
                "--mail-outage" => options.mail_outage = number(value("a count of requests")?)?,
                "--queue-capacity" => {
                    options.queue_capacity = count(value("a count")?, 1..=u64::MAX)? as usize
                }
                "--report" => options.report = Some(PathBuf::from(value("a file name")?)),
                "--styles" => {
                    options.styles = value("a list")?
                        .split(',')
                        .map(|name| {
                            STYLES
                                .iter()
                                .find(|s| **s == name.trim())
                                .copied()
                                .ok_or_else(|| {
                                    format!("unknown style {name:?}; the styles are {}", STYLES.join(","))
                                })
                        })
                        .collect::<Result<_, _>>()?;
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(Command::Run(options))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match Options::parse(&args) {
        Ok(Command::Help) => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Ok(Command::Run(options)) => match run(&options, &mut io::stdout().lock()) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("compare: {e}");
                ExitCode::FAILURE
            }
        },
        Err(message) => {
            eprintln!("compare: {message} (see --help)");
            ExitCode::from(2)
        }
    }
}

// ANCHOR: signup
/// A sign-up form, as the HTTP server parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signup {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) email: String,
}

/// The database: sign-ups by id.
#[derive(Debug, Default)]
pub(crate) struct Store(Mutex<HashMap<u64, Signup>>);

impl Store {
    /// Validates and stores a sign-up.
    pub(crate) fn save(&self, signup: &Signup) -> Result<(), services::ServiceError> {
        if signup.name.is_empty() || !signup.email.contains('@') {
            return Err(services::ServiceError::Other(format!(
                "invalid sign-up {}",
                signup.id
            )));
        }
        self.0.lock().unwrap().insert(signup.id, signup.clone());
        Ok(())
    }
}
// ANCHOR_END: signup

/// Counts background outcomes; wakes the run when every sign-up has both.
#[derive(Debug)]
pub(crate) struct Tally {
    expected: u64,
    mail_failed: AtomicU64,
    settled: AtomicU64,
    /// When each outcome was counted, for the report.
    settled_at: Mutex<Vec<Instant>>,
    all_settled: Notify,
}

impl Tally {
    fn new(signups: u64) -> Tally {
        Tally {
            expected: 2 * signups,
            mail_failed: AtomicU64::new(0),
            settled: AtomicU64::new(0),
            settled_at: Mutex::new(Vec::with_capacity(2 * signups as usize)),
            all_settled: Notify::new(),
        }
    }

    // ANCHOR: settle
    fn settle(&self, outcomes: u64) {
        let now = Instant::now();
        self.settled_at.lock().unwrap().extend((0..outcomes).map(|_| now));
        if self.settled.fetch_add(outcomes, Ordering::AcqRel) + outcomes == self.expected {
            self.all_settled.notify_one();
        }
    }
    // ANCHOR_END: settle

    /// The email's outcome (sent, or given up on).
    pub(crate) fn mail(&self, sent: bool) {
        if !sent {
            self.mail_failed.fetch_add(1, Ordering::Relaxed);
        }
        self.settle(1);
    }

    /// The analytics record's outcome (only a failed email is counted
    /// apart).
    pub(crate) fn track(&self, _recorded: bool) {
        self.settle(1);
    }

    /// A queue or bus worker's job succeeded: the email, or the record.
    pub(crate) fn job_done(&self, mail: bool) {
        match mail {
            true => self.mail(true),
            false => self.track(true),
        }
    }

    /// An invalid sign-up: neither job will run.
    pub(crate) fn both_failed(&self) {
        self.mail_failed.fetch_add(1, Ordering::Relaxed);
        self.settle(2);
    }
}

// ANCHOR: env
/// What every style's handler uses.
#[derive(Debug)]
pub(crate) struct Env {
    pub(crate) store: Store,
    pub(crate) tally: Tally,
    pub(crate) mail: Client,
    pub(crate) analytics: Client,
    pub(crate) mail_cb: Arc<CallbackClient>,
    pub(crate) analytics_cb: Arc<CallbackClient>,
    /// How long a queue or bus worker waits before giving a failed job back.
    pub(crate) retry_after: Duration,
}

impl Env {
    /// Has the mail service (`mail`) or the analytics service do its job
    /// for `signup`, through the async clients.
    pub(crate) async fn perform(&self, mail: bool, signup: &Signup) -> Result<(), services::ServiceError> {
        match mail {
            true => self.mail.call(signup.id, &signup.email).await,
            false => self.analytics.call(signup.id, "signup").await,
        }
    }
}
// ANCHOR_END: env

/// One line of the table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) style: &'static str,
    pub(crate) requests: u64,
    pub(crate) ack_p50: Duration,
    pub(crate) ack_p99: Duration,
    /// From the first request until every background job was settled.
    pub(crate) all_done: Duration,
    /// Distinct sign-ups the mail service sent an email for.
    pub(crate) emails: u64,
    /// Sign-ups it sent more than one email for.
    pub(crate) duplicate_emails: u64,
    pub(crate) analytics: u64,
    pub(crate) lines_of_code: usize,
    /// Every request's time to its answer, shortest first.
    pub(crate) latencies: Vec<Duration>,
    /// When each background job settled, from the first request, earliest
    /// first.
    pub(crate) completions: Vec<Duration>,
}

impl Row {
    /// Sign-ups the mail service sent no email for.
    pub(crate) fn lost_emails(&self) -> u64 {
        self.requests.saturating_sub(self.emails)
    }
}

/// Runs every style asked for and writes the table to `out`.
pub(crate) fn run(options: &Options, out: &mut impl Write) -> io::Result<Vec<Row>> {
    let rt = weft::Runtime::new()?;
    writeln!(
        out,
        "{} sign-ups per style over {} connections; mail takes {} ms{}",
        options.signups,
        options.connections,
        options.mail_delay.as_millis(),
        match options.mail_outage {
            0 => String::new(),
            n => format!(", and fails its first {n} requests"),
        }
    )?;
    writeln!(
        out,
        "{:<10} {:>8} {:>10} {:>10} {:>10} {:>22} {:>10} {:>5}",
        "style", "requests", "ack p50", "ack p99", "all done", "emails sent once", "analytics", "lines"
    )?;
    let mut rows = Vec::new();
    for style in &options.styles {
        let row = rt.block_on(run_style(style, options))?;
        let emails = format!(
            "{}/{}{}",
            row.emails,
            options.signups,
            match (row.emails == options.signups, row.duplicate_emails) {
                (true, 0) => " ok".to_owned(),
                (false, 0) => format!(" ({} lost)", row.lost_emails()),
                (_, dupes) => format!(" ({dupes} twice)"),
            }
        );
        writeln!(
            out,
            "{:<10} {:>8} {:>10} {:>10} {:>10} {:>22} {:>10} {:>5}",
            row.style,
            row.requests,
            format!("{:.2} ms", row.ack_p50.as_secs_f64() * 1e3),
            format!("{:.2} ms", row.ack_p99.as_secs_f64() * 1e3),
            format!("{:.2} s", row.all_done.as_secs_f64()),
            emails,
            format!("{}/{}", row.analytics, options.signups),
            row.lines_of_code,
        )?;
        rows.push(row);
    }
    if rows.iter().any(|row| ["queue", "bus"].contains(&row.style)) {
        writeln!(out, "{BACKGROUND_NOTE}")?;
    }
    if options.mail_outage > 0 {
        write!(out, "{}", outage_table(options, &rows))?;
    }
    if let Some(path) = &options.report {
        std::fs::write(path, report::svg(options, &rows))
            .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))?;
        writeln!(out, "report drawn in {}", path.display())?;
    }
    Ok(rows)
}

// ANCHOR: outage-table
/// What the outage cost each style: only counts, no timings, so the same
/// options give the same table in every run.
pub(crate) fn outage_table(options: &Options, rows: &[Row]) -> String {
    let mut table = format!(
        "the mail service failed its first {} requests:\n{:<10} {:>12} {:>6} {:>6}\n",
        options.mail_outage, "style", "emails", "lost", "twice"
    );
    for row in rows {
        table += &format!(
            "{:<10} {:>12} {:>6} {:>6}\n",
            row.style,
            format!("{}/{}", row.emails, row.requests),
            row.lost_emails(),
            row.duplicate_emails
        );
    }
    table
}
// ANCHOR_END: outage-table

/// The line under the table.
const BACKGROUND_NOTE: &str = "\
queue and bus finish their background work later: their 64 workers per service keep at most 64 \
emails in flight, where the other styles start every email at once";

/// The longest a style may take to settle its background work.
const SETTLE_LIMIT: Duration = Duration::from_secs(120);

async fn run_style(style: &'static str, options: &Options) -> io::Result<Row> {
    let mail = Service::start("MAIL", options.mail_delay, options.mail_outage).await?;
    let analytics = Service::start("TRACK", Duration::ZERO, 0).await?;
    let env = Arc::new(Env {
        store: Store::default(),
        tally: Tally::new(options.signups),
        mail: Client::connect(mail.addr, "MAIL", 4).await?,
        analytics: Client::connect(analytics.addr, "TRACK", 4).await?,
        mail_cb: Arc::new(CallbackClient::connect(mail.addr, "MAIL", 4).await?),
        analytics_cb: Arc::new(CallbackClient::connect(analytics.addr, "TRACK", 4).await?),
        retry_after: Duration::from_millis(20),
    });
    let handler: Arc<dyn Style> = match style {
        "callbacks" => Arc::new(styles::Callbacks(env.clone())),
        "promises" => Arc::new(styles::Promises(env.clone())),
        "async" => Arc::new(styles::AsyncAwait(env.clone())),
        "queue" => Arc::new(styles::Queued::start(env.clone(), options.queue_capacity)),
        _ => Arc::new(styles::Bus::start(env.clone(), options.signups as usize + 1)),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = weft::spawn(serve_http(listener, handler.clone()));

    let started = Instant::now();
    let acked = Arc::new(AtomicU64::new(0));
    // On a terminal one line, redrawn in place; elsewhere (a log, a pipe)
    // a plain line a second.
    let on_terminal = io::stderr().is_terminal();
    let progress = options.progress.then(|| {
        let (acked, env) = (acked.clone(), env.clone());
        let total = options.signups;
        weft::spawn(async move {
            let pause = Duration::from_millis(if on_terminal { 100 } else { 1000 });
            loop {
                weft::time::sleep(pause).await;
                let line = format!(
                    "  {style:<10} {:>7}/{total} answered, {:>7}/{} background jobs done",
                    acked.load(Ordering::Relaxed),
                    env.tally.settled.load(Ordering::Relaxed),
                    2 * total
                );
                match on_terminal {
                    true => eprint!("\r{line}"),
                    false => eprintln!("{line}"),
                }
            }
        })
    });
    // ANCHOR: measure
    let mut latencies = load(addr, options.signups, options.connections, acked).await?;
    let settled = weft::time::timeout(SETTLE_LIMIT, env.tally.all_settled.notified()).await;
    let all_done = started.elapsed();
    // ANCHOR_END: measure
    if let Some(progress) = progress {
        progress.abort();
        if on_terminal {
            eprint!("\r{:78}\r", "");
        }
    }
    if settled.is_err() {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{style}: background work not done after {SETTLE_LIMIT:?}"),
        ));
    }
    handler.shutdown();
    server.abort();
    latencies.sort();
    let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let (emails, duplicate_emails) = mail.counts();
    let mut completions: Vec<Duration> = std::mem::take(&mut *env.tally.settled_at.lock().unwrap())
        .into_iter()
        .map(|at| at.saturating_duration_since(started))
        .collect();
    completions.sort();
    Ok(Row {
        style,
        requests: latencies.len() as u64,
        ack_p50: percentile(50),
        ack_p99: percentile(99),
        all_done,
        emails,
        duplicate_emails,
        analytics: analytics.counts().0,
        lines_of_code: styles::lines_of_code(style),
        latencies,
        completions,
    })
}
