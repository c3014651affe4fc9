//! First steps with weft's runtime: spawn tasks, hand blocking work to the
//! blocking pool, abort a task, watch a panic come back as an error instead
//! of taking the program down, and see tasks take turns on one thread.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example first_steps
//! ```
//!
//! The test suite runs it too (`tests/examples.rs`) and checks what it prints.
//! One task panics on purpose, so the panic message (and, with
//! `RUST_BACKTRACE` set, a backtrace) on stderr is expected; the output
//! says so just before.

use std::io::{self, Write};
use std::process::ExitCode;
use weft::task::{self, JoinSet};

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str = "\
usage: first_steps

Tours weft's runtime: spawns tasks, uses the blocking pool, aborts a task,
catches a task's panic (its message on stderr is expected) and shows tasks
taking turns on one thread. It takes no arguments.";

fn main() -> ExitCode {
    cli::main("first_steps", USAGE, || run(&mut io::stdout().lock()), None)
}

/// Does the tour, writing what happened to `out`.
pub fn run(out: &mut impl Write) -> io::Result<()> {
    // ANCHOR: runtime
    let rt = weft::Runtime::builder().worker_threads(4).build()?;
    writeln!(out, "started a runtime with 4 worker threads")?;
    // ANCHOR_END: runtime

    rt.block_on(async {
        // ANCHOR: fan-out
        // Fan out: one task per number, each returns its square.
        let handles: Vec<_> = (1..=1_000u64)
            .map(|n| weft::spawn(async move { n * n }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("squaring never fails");
        }
        writeln!(
            out,
            "1 000 tasks squared their numbers; the squares add up to {sum}"
        )?;
        // ANCHOR_END: fan-out

        // ANCHOR: blocking
        // Blocking work goes to the blocking pool, off the workers.
        let digits = task::spawn_blocking(|| (1..=20u64).product::<u64>().to_string().len())
            .await
            .expect("the factorial fits in a u64");
        writeln!(out, "the blocking pool found that 20! has {digits} digits")?;
        // ANCHOR_END: blocking

        // ANCHOR: abort-panic
        // A task that would wait forever, aborted.
        let forever = weft::spawn(std::future::pending::<()>());
        forever.abort();
        let err = forever.await.expect_err("an aborted task has no value");
        writeln!(out, "an aborted task reports: {err}")?;

        // A panic is caught and handed to whoever joins the task; the
        // runtime carries on. The panic hook still reports it on stderr.
        writeln!(
            out,
            "the next task panics on purpose: its panic message on stderr is expected"
        )?;
        out.flush()?;
        let err = weft::spawn(async { panic!("something went wrong") })
            .await
            .expect_err("the task panicked");
        writeln!(out, "a panicking task reports: {err}")?;
        let still_running = weft::spawn(async { "yes" }).await.expect("plain task");
        writeln!(out, "is the runtime still running? {still_running}")
        // ANCHOR_END: abort-panic
    })?;

    // ANCHOR: shutdown
    drop(rt);
    writeln!(
        out,
        "the runtime shut down; every task has finished or been cancelled"
    )?;
    // ANCHOR_END: shutdown

    // ANCHOR: join-set
    // On a current-thread runtime every task runs on this thread, taking
    // turns: `yield_now` sends a task to the back of the line. Tasks that
    // yield fewer times finish first, and a JoinSet hands them back in the
    // order they finish.
    let local = weft::Builder::new_current_thread().build()?;
    let order = local.block_on(async {
        let mut set = JoinSet::new();
        for (name, turns) in [("slow", 300), ("quick", 1), ("medium", 30)] {
            set.spawn(async move {
                for _ in 0..turns {
                    task::yield_now().await;
                }
                name
            });
        }
        let mut order = Vec::new();
        while let Some(done) = set.join_next().await {
            order.push(done.expect("these tasks never fail"));
        }
        order
    });
    writeln!(
        out,
        "on one thread, a JoinSet saw tasks finish in this order: {}",
        order.join(", ")
    )
    // ANCHOR_END: join-set
}
