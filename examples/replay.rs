//! Replay on the event bus: events stay in their topic's log (up to its
//! retention), so a subscriber that arrives late can read the topic from
//! the start, or from any offset, at its own pace, and one that falls
//! behind the retained window is told how much it missed.
//!
//! ```text
//! cargo run --example replay
//! ```

use std::io::{self, Write};
use std::process::ExitCode;
use weft::events::{EventBus, Offset, RecvError, StartAt};

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str = "\
usage: replay

Publishes six orders on an event bus that retains four, then shows a late
subscriber replaying the retained window, one starting at an offset, and a
live one told how many events it missed. It takes no arguments.";

fn main() -> ExitCode {
    cli::main("replay", USAGE, || run(&mut io::stdout().lock()), None)
}

pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    weft::block_on(async {
        // ANCHOR: publish
        let bus: EventBus<String> = EventBus::builder().retention(4).build();
        let orders = bus.topic("order.placed").expect("a valid topic name");
        let mut live = orders.subscribe(StartAt::Latest);
        for n in 1..=6 {
            let offset = orders
                .publish(format!("order #{n}"))
                .await
                .expect("the bus is open");
            writeln!(out, "published order #{n} at offset {offset}")?;
        }
        // ANCHOR_END: publish

        // ANCHOR: replay
        // Arriving now, a subscriber replays what the topic retains.
        let mut late = bus
            .subscribe("order.placed", StartAt::Start)
            .expect("a valid pattern");
        let mut replayed = Vec::new();
        while let Some(Ok(event)) = late.try_recv() {
            replayed.push(format!("{}@{}", event.payload(), event.offset()));
        }
        writeln!(
            out,
            "a late subscriber replays the retained window: {}",
            replayed.join(", ")
        )?;
        // ANCHOR_END: replay

        // ANCHOR: from-offset
        // One that asks for offset 4 starts there.
        let mut from_four = bus
            .subscribe("order.placed", StartAt::Offset(Offset::new(4)))
            .expect("a valid pattern");
        let first = from_four.recv().await.expect("offset 4 is retained");
        writeln!(out, "from offset 4: {}", first.payload())?;
        // ANCHOR_END: from-offset

        // ANCHOR: lag
        // The live subscriber read nothing while six events went by, and the
        // topic keeps four: it is told it missed two, then goes on.
        match live.recv().await {
            Err(RecvError::Lagged { skipped, .. }) => {
                writeln!(out, "the live subscriber lagged: {skipped} events skipped")?
            }
            other => writeln!(out, "unexpected: {other:?}")?,
        }
        let next = live.recv().await.expect("the rest are retained");
        writeln!(
            out,
            "and goes on with {} at offset {}",
            next.payload(),
            next.offset()
        )
        // ANCHOR_END: lag
    })
}
