//! The shared queue and events contract suites (`messaging/tests/contract/`,
//! the same checks `weft-messaging`'s `queue_contract` and
//! `events_contract` run on memory and disk) against RabbitMQ: the queue
//! on a quorum queue, the bus on streams, on the private node of this
//! test binary (`weft_test_support::rabbitmq`). Where `rabbitmq-server`
//! is not installed, every test here is ignored, with the line that says
//! how to install it.
//!
//! What the broker does differently, as `weft_rabbitmq`'s docs state it,
//! is in the capabilities below; each check asserts the broker's
//! behaviour there instead, never skips it.

#[path = "../../tests/contract/mod.rs"]
mod contract;

use contract::{events, queue};
use weft::queue::Utf8;
use weft_rabbitmq::lapin::options::QueueDeclareOptions;
use weft_rabbitmq::lapin::types::FieldTable;
use weft_rabbitmq::{Connection, EventOptions, QueueOptions};
use weft_test_support::rabbitmq::broker;

/// A connection to the private node, making queues and buses on it.
#[derive(Debug)]
struct Rabbit {
    conn: Connection,
}

impl queue::Maker for Rabbit {
    fn caps(&self) -> queue::Caps {
        queue::Caps {
            // A quorum queue in RabbitMQ 3.10 has no priorities.
            priorities: false,
            // `x-death` counts deaths, not deliveries.
            history: false,
            // `queue.purge` is sent; the count arrives later.
            purge_counts: false,
            // Not offered on the broker yet (`weft_rabbitmq::queue`).
            redrive: false,
            // A dropped consumer's channel closes, a moment later.
            consumer_drop_requeues: true,
        }
    }

    async fn make(&self, settings: &queue::Settings) -> queue::Made {
        let name = unique("contract-queue");
        let mut options = QueueOptions::new();
        options.max_deliveries(settings.max_deliveries);
        if let Some(ttl) = settings.ttl {
            options.ttl(ttl);
        }
        let queue = weft_rabbitmq::queue(&self.conn, &name, &options, Utf8)
            .await
            .unwrap();
        queue::Made { queue, name }
    }

    /// The broker's count of ready messages (a passive declare).
    async fn ready(&self, made: &queue::Made) -> usize {
        let channel = self.conn.channel().await.unwrap();
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let count = channel
            .queue_declare(made.name.as_str().into(), passive, FieldTable::default())
            .await
            .unwrap()
            .message_count();
        channel.close(200, "counted".into()).await.unwrap();
        count as usize
    }
}

impl events::Maker for Rabbit {
    fn caps(&self) -> events::Caps {
        // Streams keep bytes and drop whole segments.
        events::Caps {
            retained_events: None,
        }
    }

    async fn make(&self, settings: &events::Settings) -> weft::events::EventBus<String> {
        let mut options = EventOptions::new();
        if settings.short_retention {
            // A few segments of about ten of the check's events each:
            // the check publishes many more.
            options.max_bytes(3_000).segment_bytes(1_000);
        }
        weft_rabbitmq::event_bus(&self.conn, &options, weft::events::Utf8)
            .await
            .unwrap()
    }
}

/// A queue name no other test of this binary uses: they share the node.
fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Runs `check` against the node, on each runtime flavour, each with a
/// connection of its own.
fn run(check: impl AsyncFn(&Rabbit)) {
    let Some(broker) = broker() else { return };
    for (flavour, rt) in weft_test_support::runtimes::runtimes() {
        eprintln!("on the {flavour} runtime");
        rt.block_on(async {
            let kit = weft::compat::async_rs::current();
            let conn = Connection::connect_with_runtime(&broker.uri(), kit)
                .await
                .unwrap();
            check(&Rabbit { conn }).await;
        });
    }
}

mod queue_on_a_quorum_queue {
    use super::run;
    crate::contract::queue::queue_tests!([#[cfg_attr(
        weft_no_rabbitmq,
        ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
    )]] run);
}

mod events_on_streams {
    use super::run;
    crate::contract::events::events_tests!([#[cfg_attr(
        weft_no_rabbitmq,
        ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
    )]] run);
}
