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

mod memory {
    fn run(check: impl AsyncFn(&super::Memory)) {
        crate::contract::on_each_runtime(super::Memory, check);
    }
    crate::contract::events::events_tests!([] run);
}

mod durable {
    fn run(check: impl AsyncFn(&super::Durable)) {
        crate::contract::on_each_runtime(super::Durable, check);
    }
    crate::contract::events::events_tests!([] run);
}
