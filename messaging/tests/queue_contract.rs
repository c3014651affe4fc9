//! The queue contract suite (`tests/contract/queue.rs`) on the in-memory
//! and the durable backends, on real (not paused) runtimes, both
//! flavours: the same checks run against RabbitMQ in
//! `messaging/rabbitmq/tests/contract.rs`.

mod contract;

use contract::queue::{Caps, Made, Maker, Settings};
use weft::disk::fs::SimFs;
use weft::queue::{Builder, DiskOptions, Queue, SyncPolicy, Utf8};

/// Every difference the contract allows, as the in-process backends have it.
const CAPS: Caps = Caps {
    priorities: true,
    history: true,
    purge_counts: true,
    redrive: true,
    consumer_drop_requeues: false,
};

fn builder(settings: &Settings) -> Builder {
    let mut builder = Queue::builder();
    builder.max_deliveries(settings.max_deliveries);
    if let Some(ttl) = settings.ttl {
        builder.ttl(ttl);
    }
    builder
}

/// The in-memory queue.
#[derive(Debug)]
struct Memory;

impl Maker for Memory {
    fn caps(&self) -> Caps {
        CAPS
    }

    async fn make(&self, settings: &Settings) -> Made {
        let queue = builder(settings).build();
        Made {
            queue,
            name: String::new(),
        }
    }

    async fn ready(&self, made: &Made) -> usize {
        made.queue.stats().ready
    }
}

/// The durable queue, on a fresh in-memory file system per queue, syncing
/// each record; small segments, so that compaction runs under the suite.
#[derive(Debug)]
struct Durable;

impl Maker for Durable {
    fn caps(&self) -> Caps {
        CAPS
    }

    async fn make(&self, settings: &Settings) -> Made {
        let disk = DiskOptions::new()
            .sync(SyncPolicy::Always)
            .segment_bytes(512)
            .copy_forward_at(50)
            .file_system(SimFs::new());
        let queue = builder(settings)
            .open_durable_with("/queue", Utf8, &disk)
            .expect("a durable queue on a fresh SimFs")
            .queue;
        Made {
            queue,
            name: String::new(),
        }
    }

    async fn ready(&self, made: &Made) -> usize {
        made.queue.stats().ready
    }
}

mod memory {
    fn run(check: impl AsyncFn(&super::Memory)) {
        crate::contract::on_each_runtime(super::Memory, check);
    }
    crate::contract::queue::queue_tests!([] run);
}

mod durable {
    fn run(check: impl AsyncFn(&super::Durable)) {
        crate::contract::on_each_runtime(super::Durable, check);
    }
    crate::contract::queue::queue_tests!([] run);
}
