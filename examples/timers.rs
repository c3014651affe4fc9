//! Timers side by side: `sleep`, `timeout`, `interval` (async/await) and
//! `set_timeout` / `set_interval` (callbacks), on one runtime and one
//! clock. The runtime starts with its clock paused, so the program takes
//! microseconds, whatever the durations say, and prints the same times on
//! every run: while every task waits, the paused clock jumps to the next
//! deadline.
//!
//! ```text
//! cargo run --example timers
//! ```

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;
use weft::callback::{set_interval, set_timeout};
use weft::time::{Instant, MissedTickBehavior, interval, sleep, timeout};

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str = "\
usage: timers

Shows sleep, timeout, interval, set_timeout and set_interval on one
paused clock, and prints when each fired. It takes no arguments.";

fn main() -> ExitCode {
    cli::main("timers", USAGE, || run(&mut io::stdout().lock()), None)
}

// ANCHOR: timers-run
pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    let rt = weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()?;
    rt.block_on(async {
        let start = Instant::now();
        let at = |label: &str| format!("{:>6} ms  {label}", start.elapsed().as_millis());

        sleep(Duration::from_millis(250)).await;
        writeln!(out, "{}", at("sleep(250 ms) finished"))?;

        let slow = sleep(Duration::from_secs(3600));
        match timeout(Duration::from_millis(100), slow).await {
            Ok(()) => writeln!(out, "{}", at("an hour passed?"))?,
            Err(_) => writeln!(out, "{}", at("timeout(100 ms) gave up on an hour-long sleep"))?,
        }

        let mut ticks = interval(Duration::from_millis(200));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        for n in 1..=3 {
            ticks.tick().await;
            let note = if n == 1 {
                " (the first tick is at once)"
            } else {
                ""
            };
            writeln!(out, "{}", at(&format!("interval tick {n}{note}")))?;
        }

        // Callbacks run on the runtime's event loop, on the same clock; a
        // channel brings their reports back here in the order they ran.
        let (report, reports) = mpsc::channel();
        let once = report.clone();
        set_timeout(Duration::from_millis(500), move || {
            let _ = once.send((Instant::now(), "set_timeout(500 ms) fired".to_owned()));
        });
        let (beats, repeat) = (std::cell::Cell::new(0), report.clone());
        let heartbeat = set_interval(Duration::from_millis(150), move || {
            beats.set(beats.get() + 1);
            let _ = repeat.send((
                Instant::now(),
                format!("set_interval(150 ms) beat {}", beats.get()),
            ));
        });
        let callbacks_start = Instant::now();
        sleep(Duration::from_millis(520)).await;
        heartbeat.cancel();
        drop(report);
        for (when, label) in reports.try_iter() {
            let since = when.duration_since(callbacks_start).as_millis();
            writeln!(
                out,
                "{:>6} ms  {label} ({since} ms after it was set)",
                when.duration_since(start).as_millis()
            )?;
        }
        writeln!(out, "{}", at("done; the heartbeat is cancelled"))
    })
}
// ANCHOR_END: timers-run
