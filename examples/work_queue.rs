//! A work queue with competing consumers: two workers share six jobs (each
//! job to one worker), and a poison message that every worker fails on is
//! retried until its delivery limit, then lands in the dead-letter queue
//! with its history instead of blocking the queue forever.
//!
//! With weft's `tracing` feature (on for the examples) it installs
//! `tracing-subscriber`, which writes weft's diagnostics to stderr: a
//! line per dead letter. Its stdout stays the same either way.
//!
//! ```text
//! cargo run --example work_queue
//! ```

use std::io::{self, Write};
use std::process::ExitCode;
use weft::queue::{Outcome, Queue};

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str = "\
usage: work_queue

Shares six jobs between two workers of a work queue and dead-letters a
poison message after its delivery limit. It takes no arguments.";

fn main() -> ExitCode {
    // ANCHOR: subscriber
    // weft's diagnostics to stderr, `INFO` and above: a `WARN` line per
    // dead letter (redeliveries are `DEBUG`).
    #[cfg(feature = "tracing")]
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .without_time()
        .init();
    // ANCHOR_END: subscriber
    cli::main("work_queue", USAGE, || run(&mut io::stdout().lock()), None)
}

pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    weft::block_on(async {
        // ANCHOR: publish
        let queue = Queue::builder().capacity(16).max_deliveries(3).build();
        let producer = queue.producer();
        for job in [
            "resize 1", "resize 2", "poison", "resize 3", "resize 4", "resize 5", "resize 6",
        ] {
            producer.publish(job.to_owned()).await.expect("the queue is open");
        }
        queue.close(); // no more jobs: workers stop once it is drained
        // ANCHOR_END: publish

        // ANCHOR: workers
        let workers: Vec<_> = ["ada", "grace"]
            .into_iter()
            .map(|name| {
                let mut consumer = queue.consumer();
                weft::spawn(async move {
                    let mut done = Vec::new();
                    while let Ok(job) = consumer.recv().await {
                        if job.as_str() == "poison" {
                            job.nack(true).expect("in flight"); // fail; try again
                        } else {
                            done.push(job.clone());
                            job.ack().expect("in flight");
                        }
                        weft::task::yield_now().await; // let the other worker in
                    }
                    (name, done)
                })
            })
            .collect();
        // ANCHOR_END: workers
        // Which worker got which job depends on timing; what they did
        // between them does not.
        let mut all = Vec::new();
        for worker in workers {
            let (_name, done) = worker.await.expect("workers do not panic");
            all.extend(done);
        }
        all.sort();
        writeln!(
            out,
            "ada and grace acked {} jobs between them: {}",
            all.len(),
            all.join(", ")
        )?;
        // ANCHOR: dead-letter
        let stats = queue.stats();
        writeln!(
            out,
            "stats: {} published, {} acked, {} dead-lettered",
            stats.published, stats.acked, stats.dead_lettered
        )?;

        let letter = queue
            .try_dead_letter()
            .ok()
            .flatten()
            .expect("the poison message was dead-lettered");
        let attempts: Vec<_> = letter
            .history
            .iter()
            .map(|a| match a.outcome {
                Outcome::Nacked => "nacked",
                _ => "other",
            })
            .collect();
        writeln!(
            out,
            "dead letter: {:?}, reason {:?}, attempts: {}",
            letter.message,
            letter.reason,
            attempts.join(", ")
        )
        // ANCHOR_END: dead-letter
    })
}
