//! The events contract: what an [`EventBus`] does on every backend.
//!
//! Offsets are compared only with what `publish` returned: a stream's
//! offsets have holes (markers, segment headers) where memory's and the
//! disk's are dense, and the contract promises order, not density.

use super::bounded;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use weft::events::{
    EventBus, Offset, Properties, RecvError, StartAt, Subscriber, TopicOptions, partition_for,
};

/// How a bus is to be made; each backend maps it onto its own settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    /// A retention short enough that [`EVENT_BYTES`]-byte events
    /// published [`RETENTION_EVENTS`] times outrun it.
    pub(crate) short_retention: bool,
}

/// Events the retention check publishes, each [`EVENT_BYTES`] long.
pub(crate) const RETENTION_EVENTS: usize = 120;

/// The size of each event of the retention check.
pub(crate) const EVENT_BYTES: usize = 104;

/// What a backend does where the contract allows it to differ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    /// Under [`Settings::short_retention`], the events a topic keeps, if
    /// it keeps a count. A stream keeps bytes, a segment at a time: how
    /// many it drops depends on where its segments end, so the check
    /// asserts only that some, not all, were dropped.
    pub(crate) retained_events: Option<u64>,
}

/// Makes buses on one backend.
pub(crate) trait Maker {
    /// What the backend does where the contract allows a difference.
    fn caps(&self) -> Caps;

    /// A new bus. Topics are named by the checks, each its own.
    async fn make(&self, settings: &Settings) -> EventBus<String>;
}

/// A topic name no other check uses (the broker's streams outlive a bus).
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("contract-{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The next `n` events of `sub`, as (offset, payload).
async fn take(sub: &mut Subscriber<String>, n: usize) -> Vec<(u64, String)> {
    let mut got = Vec::new();
    for _ in 0..n {
        let event = bounded("an event", sub.recv()).await.unwrap();
        got.push((event.offset().get(), event.into_payload()));
    }
    got
}

/// Subscribers replay from the start and from an offset, and one from
/// `Latest` sees only what comes after it; all of them read on live.
pub(crate) async fn replay_from_start_offset_and_latest<M: Maker>(maker: &M) {
    let bus = maker.make(&Settings::default()).await;
    let topic = unique("orders");
    let mut expected = Vec::new();
    for n in 0..3 {
        let payload = format!("e{n}");
        let at = bounded("a publish", bus.publish(&topic, payload.clone()))
            .await
            .unwrap();
        expected.push((at.get(), payload));
    }
    assert!(expected.windows(2).all(|w| w[0].0 < w[1].0), "{expected:?}");

    let mut replay = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
    assert_eq!(take(&mut replay, 3).await, expected, "from the start");
    let from = StartAt::Offset(Offset::new(expected[1].0));
    let mut middle = bus.subscribe_async(&topic, from).await.unwrap();
    assert_eq!(take(&mut middle, 2).await, expected[1..], "from an offset");

    let mut latest = bus.subscribe_async(&topic, StartAt::Latest).await.unwrap();
    let at = bus.publish(&topic, "e3".to_string()).await.unwrap();
    let live = [(at.get(), "e3".to_string())];
    assert_eq!(take(&mut latest, 1).await, live, "from the latest");
    assert_eq!(take(&mut replay, 1).await, live, "the replay, live");
    assert_eq!(take(&mut middle, 1).await, live, "the middle, live");
    assert!(latest.try_recv().is_none(), "nothing more");
}

/// A subscriber from a time starts at the first event stamped at or after
/// it (the stamp decides, not when it was stored), and one from a time
/// after every event waits for the next.
pub(crate) async fn replay_from_a_time<M: Maker>(maker: &M) {
    let bus = maker.make(&Settings::default()).await;
    let topic = unique("audit");
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);
    let stamped = |at: SystemTime| Properties::new().with_timestamp(at);
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

    let mut waiting = bus
        .subscribe_async(&topic, StartAt::Time(now + hour))
        .await
        .unwrap();
    let at = bus
        .publish_with(&topic, "future".to_string(), stamped(now + 2 * hour))
        .await
        .unwrap();
    assert_eq!(take(&mut waiting, 1).await, [(at.get(), "future".to_string())]);
}

/// A key's events land on the partition `partition_for` names, in the
/// order they were published.
pub(crate) async fn keys_keep_their_partition_and_order<M: Maker>(maker: &M) {
    const PARTITIONS: u32 = 4;
    let bus = maker.make(&Settings::default()).await;
    let topic = unique("users");
    let options = TopicOptions {
        partitions: PARTITIONS,
        ..TopicOptions::default()
    };
    let handle = bus.create_topic_async(&topic, options).await.unwrap();
    assert_eq!(handle.partitions(), PARTITIONS);
    let keys: Vec<String> = (0..8).map(|k| format!("user-{k}")).collect();
    let mut told = HashMap::new();
    for n in 0..5 {
        for key in &keys {
            let event = format!("{key}/{n}");
            let at = bounded("a publish", bus.publish_keyed(&topic, key, event.clone())).await;
            told.insert(event, at.unwrap());
        }
    }
    let mut sub = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
    let mut seen: HashMap<String, Vec<u32>> = HashMap::new();
    for _ in 0..keys.len() * 5 {
        let event = bounded("an event", sub.recv()).await.unwrap();
        let key = event.key().expect("a key").to_owned();
        assert_eq!(event.partition(), partition_for(&key, PARTITIONS), "{key}");
        assert_eq!(event.offset(), told[event.payload()], "{}", event.payload());
        let (prefix, n) = event.payload().split_once('/').unwrap();
        assert_eq!(prefix, key);
        seen.entry(key).or_default().push(n.parse().unwrap());
    }
    for key in &keys {
        assert_eq!(seen[key], [0, 1, 2, 3, 4], "{key}: in order");
    }
    assert!(sub.try_recv().is_none(), "nothing invented");
}

/// A group member's acks commit; a member joining the group afterwards
/// resumes right after the commit, whatever `StartAt` it asks for.
pub(crate) async fn group_resumes_after_its_commit<M: Maker>(maker: &M) {
    let bus = maker.make(&Settings::default()).await;
    let topic = unique("payments");
    assert_eq!(bus.committed_async("billing", &topic).await.unwrap(), None);
    let mut offsets = Vec::new();
    for n in 0..5 {
        offsets.push(bus.publish(&topic, format!("p{n}")).await.unwrap());
    }
    let mut member = bus.join_async("billing", &topic, StartAt::Start).await.unwrap();
    for (n, offset) in offsets.iter().enumerate().take(3) {
        let event = bounded("a group event", member.recv()).await.unwrap();
        assert_eq!(
            (event.as_str(), event.event().offset()),
            (format!("p{n}").as_str(), *offset)
        );
        event.ack_async().await.unwrap();
    }
    let committed = Offset::new(offsets[2].get() + 1);
    assert_eq!(
        bus.committed_async("billing", &topic).await.unwrap(),
        Some(committed)
    );
    // An event received and not acked is not committed: it comes again.
    let unacked = bounded("p3", member.recv()).await.unwrap();
    assert_eq!(unacked.as_str(), "p3");
    drop(unacked);
    drop(member);

    let mut member = bus.join_async("billing", &topic, StartAt::Latest).await.unwrap();
    for (n, offset) in offsets.iter().enumerate().skip(3) {
        let event = bounded("a group event", member.recv()).await.unwrap();
        assert_eq!(
            (event.as_str(), event.event().offset()),
            (format!("p{n}").as_str(), *offset)
        );
        event.ack_async().await.unwrap();
    }
    let end = Offset::new(offsets[4].get() + 1);
    assert_eq!(bus.committed_async("billing", &topic).await.unwrap(), Some(end));
}

/// A subscriber that falls behind the retained window is told with
/// `Lagged` (never a silent skip), then reads every retained event in
/// order, to the last.
pub(crate) async fn retention_gap_is_lagged<M: Maker>(maker: &M) {
    let bus = maker
        .make(&Settings {
            short_retention: true,
        })
        .await;
    let topic = unique("metrics");
    let mut slow = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
    let body = "x".repeat(EVENT_BYTES - 4);
    let mut offsets = Vec::new();
    for n in 0..RETENTION_EVENTS {
        let at = bus.publish(&topic, format!("{n:04}{body}")).await.unwrap();
        offsets.push(at.get());
    }
    let skipped = match bounded("a lag", slow.recv()).await {
        Err(RecvError::Lagged {
            topic: lagged,
            skipped,
        }) => {
            assert_eq!(*lagged, *topic);
            skipped
        }
        other => panic!("expected Lagged, got {other:?}"),
    };
    match maker.caps().retained_events {
        Some(kept) => assert_eq!(skipped, RETENTION_EVENTS as u64 - kept),
        // Stated difference: a stream drops whole segments.
        None => assert!(skipped > 0 && skipped < RETENTION_EVENTS as u64, "{skipped}"),
    }
    for (n, offset) in offsets.iter().enumerate().skip(skipped as usize) {
        let event = bounded("a retained event", slow.recv()).await.unwrap();
        assert_eq!(
            (event.offset().get(), &event[..4]),
            (*offset, format!("{n:04}").as_str())
        );
    }
    assert!(slow.try_recv().is_none());
}

/// A closed bus refuses publishes, handing the event back, and its
/// readers end once they have read what was published.
pub(crate) async fn close_ends_readers<M: Maker>(maker: &M) {
    let bus = maker.make(&Settings::default()).await;
    let topic = unique("closing");
    bus.publish(&topic, "last".to_string()).await.unwrap();
    let mut sub = bus.subscribe_async(&topic, StartAt::Start).await.unwrap();
    assert_eq!(*bounded("an event", sub.recv()).await.unwrap(), "last");
    bus.close();
    assert!(bus.is_closed());
    let refused = bus.publish(&topic, "late".to_string()).await.unwrap_err();
    assert_eq!(refused.into_inner().as_deref(), Some("late"), "handed back");
    assert!(matches!(
        bounded("the end", sub.recv()).await,
        Err(RecvError::Closed)
    ));
}

/// One `#[test]` per check, each running `$run(check)`.
macro_rules! events_tests {
    ([$($attr:tt)*] $run:path) => {
        crate::contract::contract_tests!(events [$($attr)*] $run;
            replay_from_start_offset_and_latest,
            replay_from_a_time,
            keys_keep_their_partition_and_order,
            group_resumes_after_its_commit,
            retention_gap_is_lagged,
            close_ends_readers,
        );
    };
}
pub(crate) use events_tests;
