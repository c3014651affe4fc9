//! The events contract suite (`tests/contract/events.rs`) on the
//! in-memory and the durable backends, on real (not paused) runtimes,
//! both flavours: the same checks run against RabbitMQ streams in
//! `messaging/rabbitmq/tests/contract.rs`.

mod contract;

use contract::events::{Caps, Maker, Settings};
use weft::disk::fs::SimFs;
use weft::events::{Builder, DiskOptions, EventBus, SyncPolicy, Utf8};

/// The events a topic keeps under `Settings::short_retention`.
const RETAINED: usize = 20;

const CAPS: Caps = Caps {
    retained_events: Some(RETAINED as u64),
};

fn builder(settings: &Settings) -> Builder {
    let mut builder = EventBus::builder();
    if settings.short_retention {
        builder.retention(RETAINED);
    }
    builder
}

/// The in-memory bus.
#[derive(Debug)]
struct Memory;

impl Maker for Memory {
    fn caps(&self) -> Caps {
        CAPS
    }

    async fn make(&self, settings: &Settings) -> EventBus<String> {
        builder(settings).build()
    }
}

/// The durable bus, on a fresh in-memory file system per bus, syncing
/// each record.
#[derive(Debug)]
struct Durable;

impl Maker for Durable {
    fn caps(&self) -> Caps {
        CAPS
    }

    async fn make(&self, settings: &Settings) -> EventBus<String> {
        let disk = DiskOptions::new()
            .sync(SyncPolicy::Always)
            .file_system(SimFs::new());
        builder(settings)
            .open_durable_with("/bus", Utf8, &disk)
            .expect("a durable bus on a fresh SimFs")
            .bus
    }
}

/// Runs `check` on `maker`, on each runtime flavour.
fn on<M: Maker>(maker: M, check: impl AsyncFn(&M)) {
    for (flavour, rt) in weft_test_support::runtimes() {
        eprintln!("on the {flavour} runtime");
        rt.block_on(check(&maker));
    }
}

mod memory {
    fn run(check: impl AsyncFn(&super::Memory)) {
        super::on(super::Memory, check);
    }
    crate::contract::events::events_tests!([] run);
}

mod durable {
    fn run(check: impl AsyncFn(&super::Durable)) {
        super::on(super::Durable, check);
    }
    crate::contract::events::events_tests!([] run);
}
