//! weft's event bus on RabbitMQ streams, against the private node of this
//! test binary (`weft_test_support::rabbitmq`): replay from the start, an
//! offset, the end and a time; keys on their partitions in order; a
//! group's commit surviving its bus and its connection; retention by
//! length reported as `Lagged` with the exact count.
//!
//! A binary of its own, so that its node (and its streams) are its own.
//! Where `rabbitmq-server` is not installed, every test is ignored, with
//! the line that says how to install it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use weft::events::{EventBus, Offset, Properties, RecvError, StartAt, TopicOptions, Utf8, partition_for};
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

/// The next `n` payloads of `sub`, with their offsets.
async fn take(sub: &mut weft::events::Subscriber<String>, n: usize) -> Vec<(u64, String)> {
    let mut got = Vec::new();
    for _ in 0..n {
        let event = bounded("an event", sub.recv()).await.unwrap();
        got.push((event.offset().get(), event.into_payload()));
    }
    got
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn subscribers_replay_from_the_start_an_offset_and_the_end() {
    let Some(_) = broker() else { return };
    for (name, rt) in weft_test_support::runtimes::runtimes() {
        rt.block_on(async {
            let conn = connect().await;
            let bus = bus(&conn, &EventOptions::new()).await;
            let topic = unique("orders");
            let mut offsets = Vec::new();
            for n in 0..3 {
                let at = bounded("publish", bus.publish(&topic, format!("e{n}")))
                    .await
                    .unwrap();
                offsets.push(at.get());
            }
            assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{name}: {offsets:?}");

            let mut replay = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
            let expected: Vec<_> = offsets
                .iter()
                .zip(["e0", "e1", "e2"])
                .map(|(o, e)| (*o, e.to_string()))
                .collect();
            assert_eq!(take(&mut replay, 3).await, expected, "{name}: replay");

            let from = StartAt::Offset(Offset::new(offsets[1]));
            let mut middle = bus.subscribe_async(&topic, from).await.unwrap();
            assert_eq!(
                take(&mut middle, 2).await,
                expected[1..],
                "{name}: from an offset"
            );

            let mut latest = bus.subscribe_async(&topic, StartAt::Latest).await.unwrap();
            let at = bus.publish(&topic, "e3".to_string()).await.unwrap();
            assert_eq!(
                take(&mut latest, 1).await,
                [(at.get(), "e3".to_string())],
                "{name}: latest"
            );
            assert_eq!(
                take(&mut replay, 1).await,
                [(at.get(), "e3".to_string())],
                "{name}: live"
            );
            assert!(latest.try_recv().is_none(), "{name}: nothing more");
        });
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_subscriber_from_a_time_starts_at_the_first_event_stamped_then() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let bus = bus(&conn, &EventOptions::new()).await;
        let topic = unique("audit");
        let now = SystemTime::now();
        let stamped = |at: SystemTime| Properties::new().with_timestamp(at);
        let hour = Duration::from_secs(3600);
        // Stored now, but stamped an hour ago: the stamp decides.
        bus.publish_with(&topic, "old".to_string(), stamped(now - hour))
            .await
            .unwrap();
        let at = bus
            .publish_with(&topic, "new".to_string(), stamped(now))
            .await
            .unwrap();
        let since = StartAt::Time(now - Duration::from_secs(60));
        let mut sub = bus.subscribe_async(&topic, since).await.unwrap();
        assert_eq!(take(&mut sub, 1).await, [(at.get(), "new".to_string())]);

        // A time after every event: the next one published.
        let later = StartAt::Time(now + hour);
        let mut waiting = bus.subscribe_async(&topic, later).await.unwrap();
        let at = bus
            .publish_with(&topic, "future".to_string(), stamped(now + 2 * hour))
            .await
            .unwrap();
        assert_eq!(take(&mut waiting, 1).await, [(at.get(), "future".to_string())]);
    });
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
fn retention_by_length_is_reported_as_lagged_with_the_exact_count() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let mut options = EventOptions::new();
        options.max_bytes(4_000).segment_bytes(1_000);
        let bus = bus(&conn, &options).await;
        let topic = unique("metrics");
        const EVENTS: usize = 200;
        let mut slow = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
        let body = "x".repeat(100);
        let mut offsets = Vec::new();
        for n in 0..EVENTS {
            offsets.push(bus.publish(&topic, format!("{n:04}{body}")).await.unwrap().get());
        }
        let skipped = match bounded("lagged", slow.recv()).await {
            Err(RecvError::Lagged { skipped, .. }) => skipped,
            other => panic!("expected Lagged, got {other:?}"),
        };
        assert!(skipped > 0 && (skipped as usize) < EVENTS, "{skipped}");
        // Then every retained event, in order, to the last.
        for (n, offset) in offsets.iter().enumerate().skip(skipped as usize) {
            let event = bounded("an event", slow.recv()).await.unwrap();
            assert_eq!(
                (event.offset().get(), &event[..4]),
                (*offset, format!("{n:04}").as_str())
            );
        }
        assert!(slow.try_recv().is_none());
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

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_closed_bus_refuses_publishes_and_ends_its_readers() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let bus = bus(&conn, &EventOptions::new()).await;
        let topic = unique("closing");
        bus.publish(&topic, "last".to_string()).await.unwrap();
        let mut sub = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
        assert_eq!(*bounded("an event", sub.recv()).await.unwrap(), "last");
        bus.close();
        let refused = bus.publish(&topic, "late".to_string()).await.unwrap_err();
        assert_eq!(refused.into_inner().as_deref(), Some("late"), "handed back");
        assert!(matches!(
            bounded("the end", sub.recv()).await,
            Err(RecvError::Closed)
        ));
    });
}
