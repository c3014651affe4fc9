//! weft's event bus on RabbitMQ streams, against the private node of this
//! test binary (`weft_test_support::rabbitmq`): what only streams have,
//! beside the shared contract suite (`tests/contract.rs`, which checks
//! replay from the start, an offset, the end and a time, keys, a group's
//! commit, a retention gap as `Lagged` and close on every backend): one
//! stream per partition found again by a second bus, a group's commit
//! surviving its bus and its connection, and a live reader passing the
//! offsets segments take without lagging.
//!
//! A binary of its own, so that its node (and its streams) are its own.
//! Where `rabbitmq-server` is not installed, every test is ignored, with
//! the line that says how to install it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weft::events::{EventBus, Offset, StartAt, TopicOptions, Utf8, partition_for};
use weft_rabbitmq::lapin::options::QueueDeclareOptions;
use weft_rabbitmq::lapin::types::FieldTable;
use weft_rabbitmq::{Connection, EventOptions};
use weft_test_support::rabbitmq::broker;

/// A bound on every wait, so that a broken broker fails the test rather
/// than hanging it. Never asserted on.
const BOUND: Duration = Duration::from_secs(30);

async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match weft::time::timeout(BOUND, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: nothing within {BOUND:?}"),
    }
}

/// A topic name no other test of this binary uses.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn connect() -> Connection {
    let broker = broker().expect("the broker");
    Connection::connect_with_runtime(&broker.uri(), weft::compat::async_rs::current())
        .await
        .unwrap()
}

async fn bus(conn: &Connection, options: &EventOptions) -> EventBus<String> {
    weft_rabbitmq::event_bus(conn, options, Utf8).await.unwrap()
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn keyed_events_land_on_the_partition_of_their_key_in_order() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let bus = bus(&conn, &EventOptions::new()).await;
        let topic = unique("users");
        let options = TopicOptions {
            partitions: 4,
            ..TopicOptions::default()
        };
        let handle = bus.create_topic_async(&topic, options).await.unwrap();
        assert_eq!(handle.partitions(), 4);
        let keys: Vec<String> = (0..8).map(|k| format!("user-{k}")).collect();
        for n in 0..5 {
            for key in &keys {
                let event = format!("{key}/{n}");
                bounded("publish", bus.publish_keyed(&topic, key, event))
                    .await
                    .unwrap();
            }
        }
        let mut sub = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
        let mut seen: HashMap<String, Vec<u32>> = HashMap::new();
        for _ in 0..40 {
            let event = bounded("an event", sub.recv()).await.unwrap();
            let key = event.key().expect("a key").to_owned();
            assert_eq!(event.partition(), partition_for(&key, 4), "{key}");
            let (prefix, n) = event.payload().split_once('/').unwrap();
            assert_eq!(prefix, key);
            seen.entry(key).or_default().push(n.parse().unwrap());
        }
        for key in &keys {
            assert_eq!(seen[key], [0, 1, 2, 3, 4], "{key}: in order");
        }

        // One stream per partition, named `<topic>.<p>`.
        assert!(stream_exists(&conn, &format!("{topic}.3")).await);
        assert!(!stream_exists(&conn, &format!("{topic}.4")).await);

        // Another bus finds the topic's four partitions on the broker.
        let other = connect().await;
        let again = bus_topic(&other, &topic).await;
        assert_eq!(again, 4);
    });
}

/// Whether the broker has the queue `name` (a passive declare).
async fn stream_exists(conn: &Connection, name: &str) -> bool {
    let channel = conn.channel().await.unwrap();
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(name.into(), passive, FieldTable::default())
        .await
        .is_ok()
}

async fn bus_topic(conn: &Connection, topic: &str) -> u32 {
    let bus = bus(conn, &EventOptions::new()).await;
    bus.topic_async(topic).await.unwrap().partitions()
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_group_resumes_after_its_commit_on_a_new_connection() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let topic = unique("payments");
        let conn = connect().await;
        let first = bus(&conn, &EventOptions::new()).await;
        assert_eq!(first.committed_async("billing", &topic).await.unwrap(), None);
        let mut offsets = Vec::new();
        for n in 0..5 {
            offsets.push(first.publish(&topic, format!("p{n}")).await.unwrap());
        }
        let mut member = first.join_async("billing", &topic, StartAt::Start).await.unwrap();
        for n in 0..3 {
            let event = bounded("a group event", member.recv()).await.unwrap();
            assert_eq!(*event, format!("p{n}"));
            event.ack_async().await.unwrap();
        }
        let committed = Offset::new(offsets[2].get() + 1);
        assert_eq!(
            first.committed_async("billing", &topic).await.unwrap(),
            Some(committed)
        );
        drop(member);
        drop(first);
        // The bus's channels may still be closing: the close may say so.
        let _ = conn.close().await;

        // A new connection and a new bus: the commit is in the broker.
        let conn = connect().await;
        let second = bus(&conn, &EventOptions::new()).await;
        assert_eq!(
            second.committed_async("billing", &topic).await.unwrap(),
            Some(committed)
        );
        let mut member = second
            .join_async("billing", &topic, StartAt::Start)
            .await
            .unwrap();
        let event = bounded("a group event", member.recv()).await.unwrap();
        assert_eq!((*event).as_str(), "p3");
        assert_eq!(event.event().offset(), offsets[3]);
        event.ack_async().await.unwrap();
        let next = Offset::new(offsets[3].get() + 1);
        assert_eq!(
            second.committed_async("billing", &topic).await.unwrap(),
            Some(next)
        );
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_live_reader_passes_the_offsets_segments_take_without_lagging() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let mut options = EventOptions::new();
        // Small segments: the broker starts many, each taking an offset.
        options.segment_bytes(1_000);
        let bus = bus(&conn, &options).await;
        let topic = unique("ticks");
        let mut live = bus.subscribe_async(&topic, StartAt::Latest).await.unwrap();
        let mut replay = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
        const EVENTS: usize = 60;
        let body = "x".repeat(100);
        let mut offsets = Vec::new();
        for n in 0..EVENTS {
            offsets.push(bus.publish(&topic, format!("{n:04}{body}")).await.unwrap().get());
            // Read as it goes: the reader may be ahead of the log's tail.
            let event = bounded("an event", live.recv()).await.unwrap();
            assert_eq!(event.offset().get(), offsets[n]);
        }
        let holes = offsets.windows(2).filter(|w| w[1] != w[0] + 1).count();
        assert!(holes > 0, "the segments took no offsets: the test proves nothing");
        for (n, offset) in offsets.iter().enumerate() {
            let event = bounded("a replayed event", replay.recv()).await.unwrap();
            assert_eq!(
                (event.offset().get(), &event[..4]),
                (*offset, format!("{n:04}").as_str())
            );
        }
    });
}
