//! Request / reply over a queue (RabbitMQ's RPC pattern): a pricing
//! service answers requests from three callers waiting at once, each reply
//! finds its own caller by correlation id, a caller that gives up leaves
//! its reply to be dropped and counted as late, and a request whose first
//! handler fails is delivered again and answered. The clock is paused, so
//! the program prints the same lines on every run.
//!
//! ```text
//! cargo run --example request_reply
//! ```

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;
use weft::queue::{Queue, Requester};

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str = "\
usage: request_reply

Runs a pricing service answering three callers over a queue, on a paused
clock: replies find their callers, a late reply is dropped and counted, a
failed request is delivered again. It takes no arguments.";

fn main() -> ExitCode {
    cli::main("request_reply", USAGE, || run(&mut io::stdout().lock()), None)
}

pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    let rt = weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()?;
    rt.block_on(async {
        // ANCHOR: service
        let requester: Requester<String, u32> = Requester::new(Queue::builder().max_deliveries(3));
        let mut responder = requester.responder();
        let service = weft::spawn(async move {
            let mut failed_once = false;
            while let Ok(request) = responder.recv().await {
                if request.as_str() == "flaky" && !failed_once {
                    failed_once = true;
                    drop(request); // fails: the request is delivered again
                    continue;
                }
                if request.as_str() == "slow" {
                    weft::time::sleep(Duration::from_secs(10)).await;
                }
                let price = request.len() as u32 * 100;
                request.reply(price).await.expect("the reply queue is open");
            }
        });
        // ANCHOR_END: service

        // ANCHOR: callers
        let callers: Vec<_> = ["apple", "kiwi", "flaky", "slow"]
            .into_iter()
            .map(|item| {
                let requester = requester.clone();
                weft::spawn(async move {
                    let reply = requester.request(item.to_owned(), Duration::from_secs(5)).await;
                    (item, reply)
                })
            })
            .collect();
        for caller in callers {
            let (item, reply) = caller.await.expect("callers do not panic");
            match reply {
                Ok(price) => writeln!(out, "{item}: {price}")?,
                Err(e) => writeln!(out, "{item}: {e}")?,
            }
        }
        // ANCHOR_END: callers
        // The slow reply arrives after its caller gave up: a later caller
        // routes it, drops it, and counts it.
        weft::time::sleep(Duration::from_secs(10)).await;
        let reply = requester.request("fig".to_owned(), Duration::from_secs(5)).await;
        writeln!(out, "fig: {}", reply.expect("answered"))?;
        writeln!(out, "late replies dropped: {}", requester.late_replies())?;
        requester.requests().close();
        service.await.expect("the service does not panic");
        Ok(())
    })
}
