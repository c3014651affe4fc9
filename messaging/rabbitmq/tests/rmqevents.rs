//! The event bus on RabbitMQ streams across a broker restart (#24), on a
//! node of this binary's own (the restart would break the tests sharing
//! another binary's node).
//!
//! The workload: publishers append confirmed, keyed events to a topic of
//! two partitions while a subscriber and a group member read them, and
//! the broker restarts (`rabbitmqctl stop_app` / `start_app`) once a third
//! of the publishes are confirmed. The checks, after:
//!
//! - every publish returns `Ok` (an append in flight at the loss is sent
//!   again, not failed), and the subscriber reads each of them at the
//!   offset its publish returned, and never reports an error;
//! - the subscriber reads each partition in offset order, each offset
//!   once (a reader resumes exactly after the last event it was handed),
//!   and each key's events in publication order with no gap;
//! - nothing invented: every event read was published, and any second
//!   copy of an event (an append sent again) carries the
//!   `x-weft-republished` header;
//! - the group member reads every confirmed event too, its acks succeed,
//!   the group's committed offset never goes back (as the member sees it,
//!   and in the commit stream's history), and it ends past every event.
//!
//! The same runs with `rabbitmqctl close_all_connections` instead of the
//! restart: a connection loss with the streams up. The tests take turns
//! (`TURN`). `WEFT_RABBITMQ_DEEP=1` runs the restart with 20 000 events
//! instead of 2 000.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::events::{EventBus, Offset, StartAt, TopicOptions, Utf8};
use weft_rabbitmq::lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use weft_rabbitmq::lapin::types::{AMQPValue, FieldTable};
use weft_rabbitmq::{Connection, EventOptions, Status};
use weft_test_support::rabbitmq::{Broker, broker};

/// A bound on each wait: long enough for a broker restart, so that a lost
/// event fails the test rather than hanging it. Never asserted on.
const BOUND: Duration = Duration::from_secs(60);

/// Concurrent publishers, each with a key of its own: enough that appends
/// are in flight at the loss.
const PUBLISHERS: usize = 8;

const PARTITIONS: u32 = 2;

/// The header a republished copy carries in its properties.
const REPUBLISHED: &str = "x-weft-republished";

async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match weft::time::timeout(BOUND, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: nothing within {BOUND:?}"),
    }
}

async fn connect(uri: &str) -> Connection {
    Connection::connect_with_runtime(uri, weft::compat::async_rs::current())
        .await
        .unwrap()
}

/// `(key, n)` from a payload `k<key>/<n>`.
fn parse(payload: &str) -> (usize, usize) {
    let (key, n) = payload
        .strip_prefix('k')
        .and_then(|rest| rest.split_once('/'))
        .unwrap_or_else(|| panic!("an invented event: {payload:?}"));
    (key.parse().unwrap(), n.parse().unwrap())
}

/// What the publishers were told: each payload's partition and offset.
type Confirmed = HashMap<String, (u32, Offset)>;

/// Starts the publishers: `n` events in all, publisher `p` sending
/// `k<p>/0`, `k<p>/1`, ... in turn; `trigger` runs on a thread of its own
/// once `n / 3` are confirmed. Each returns what it was told.
fn publish(
    bus: &EventBus<String>,
    topic: &str,
    n: usize,
    trigger: impl FnOnce() + Send + 'static,
) -> Vec<weft::task::JoinHandle<Confirmed>> {
    let confirmed = Arc::new(AtomicUsize::new(0));
    let trigger = Arc::new(std::sync::Mutex::new(Some(trigger)));
    (0..PUBLISHERS)
        .map(|p| {
            let (bus, topic) = (bus.clone(), topic.to_owned());
            let (confirmed, trigger) = (confirmed.clone(), trigger.clone());
            weft::spawn(async move {
                let mut told = Confirmed::new();
                let key = format!("k{p}");
                for i in 0..n / PUBLISHERS {
                    let payload = format!("{key}/{i}");
                    let published =
                        bounded("a publish", bus.publish_keyed(&topic, &key, payload.clone())).await;
                    let offset = match published {
                        Ok(offset) => offset,
                        Err(err) => panic!("publish {payload} failed: {err:?}"),
                    };
                    let partition = weft::events::partition_for(&key, PARTITIONS);
                    told.insert(payload, (partition, offset));
                    if confirmed.fetch_add(1, Ordering::SeqCst) + 1 == n / 3 {
                        let fire = trigger.lock().unwrap().take().expect("fires once");
                        std::thread::spawn(fire);
                    }
                }
                told
            })
        })
        .collect()
}

/// What a reader saw of one partition: `(offset, payload, republished)`.
type Seen = BTreeMap<u32, Vec<(u64, String, bool)>>;

/// Checks what a reader saw against what the publishers were told.
fn check(who: &str, seen: &Seen, told: &Confirmed) {
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for (partition, events) in seen {
        let offsets: Vec<u64> = events.iter().map(|(o, _, _)| *o).collect();
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "{who}: partition {partition} read out of order or twice: {offsets:?}"
        );
        let mut next: HashMap<usize, usize> = HashMap::new();
        for (offset, payload, republished) in events {
            assert!(told.contains_key(payload), "{who}: an invented event {payload}");
            let (key, n) = parse(payload);
            let copy = copies.entry(payload).or_default();
            *copy += 1;
            if *copy > 1 {
                assert!(*republished, "{who}: an unflagged copy of {payload} at {offset}");
            }
            // Per key: in order, no gap (a copy repeats the one before).
            let expected = next.entry(key).or_default();
            if n + 1 == *expected && *copy > 1 {
                continue;
            }
            assert_eq!(
                n, *expected,
                "{who}: key k{key} out of order or with a gap at {offset}"
            );
            *expected += 1;
        }
    }
    for (payload, (partition, offset)) in told {
        let read = seen[partition]
            .iter()
            .any(|(o, p, _)| *o == offset.get() && p == payload);
        assert!(
            read,
            "{who}: {payload} confirmed at {partition}/{offset:?} never read"
        );
    }
}

/// The offsets stored in `stream` (a group's commit stream), oldest
/// first, read with lapin directly.
async fn commit_history(conn: &Connection, stream: &str) -> Vec<u64> {
    let channel = conn.channel().await.unwrap();
    channel.basic_qos(1000, BasicQosOptions::default()).await.unwrap();
    let mut arguments = FieldTable::default();
    arguments.insert("x-stream-offset".into(), AMQPValue::LongString("first".into()));
    let mut consumer = channel
        .basic_consume(
            stream.into(),
            "".into(),
            BasicConsumeOptions::default(),
            arguments,
        )
        .await
        .unwrap();
    // A marker: the history ends where this message comes back.
    let publisher = conn.channel().await.unwrap();
    let mut headers = FieldTable::default();
    headers.insert("x-test-end".into(), AMQPValue::Boolean(true));
    let properties = weft_rabbitmq::lapin::BasicProperties::default().with_headers(headers);
    publisher
        .basic_publish("".into(), stream.into(), Default::default(), b"", properties)
        .await
        .unwrap();
    let mut history = Vec::new();
    loop {
        let delivery = bounded("the commit history", futures_lite::StreamExt::next(&mut consumer))
            .await
            .expect("the commit reader ended")
            .unwrap();
        channel
            .basic_ack(delivery.delivery_tag, BasicAckOptions::default())
            .await
            .unwrap();
        let Some(headers) = delivery.properties.headers() else {
            continue;
        };
        if headers.inner().contains_key("x-test-end") {
            return history;
        }
        if let Some(AMQPValue::LongLongInt(offset)) = headers.inner().get("x-weft-commit") {
            history.push(u64::try_from(*offset).unwrap());
        }
    }
}

/// One test at a time on the node: each breaks every connection to it.
static TURN: Mutex<()> = Mutex::new(());

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_bus_survives_a_broker_restart_mid_stream() {
    let Some(broker) = broker() else { return };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let deep = std::env::var_os("WEFT_RABBITMQ_DEEP").is_some();
    let n = if deep { 20_000 } else { 2_000 };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(run(broker, "weft-events-restart", n, move || {
        broker.restart_app().unwrap()
    }));
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_bus_survives_its_connections_closed_by_the_broker_mid_stream() {
    let Some(broker) = broker() else { return };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let rt = weft::Runtime::new().unwrap();
    let close_all = move || {
        broker
            .ctl(&["close_all_connections", "closed by the test"])
            .unwrap();
    };
    rt.block_on(run(broker, "weft-events-close-all", 2_000, close_all));
}

/// The workload and the checks of the [module docs](self), on `topic`
/// with `n` events, `trigger` breaking the connection once a third are
/// confirmed.
async fn run(broker: &Broker, topic: &str, n: usize, trigger: impl FnOnce() + Send + 'static) {
    let conn = connect(&broker.uri()).await;
    let (status_tx, mut status_rx) = weft::sync::mpsc::unbounded_channel();
    conn.on_status(move |status: &Status| {
        let _ = status_tx.send(status.clone());
    });
    let bus = weft_rabbitmq::event_bus(&conn, &EventOptions::new(), Utf8)
        .await
        .unwrap();
    let options = TopicOptions {
        partitions: PARTITIONS,
        ..TopicOptions::default()
    };
    bus.create_topic_async(topic, options).await.unwrap();
    let mut sub = bus.subscribe_async(topic, StartAt::Start).await.unwrap();
    let mut member = bus.join_async("billing", topic, StartAt::Start).await.unwrap();

    let publishers = publish(&bus, topic, n, trigger);

    // The group member reads and acks on a task of its own.
    let member_task = weft::spawn(async move {
        let mut seen = Seen::new();
        let mut committed: HashMap<u32, Offset> = HashMap::new();
        let mut distinct = HashSet::new();
        while distinct.len() < n {
            let event = match bounded("a group event", member.recv()).await {
                Ok(event) => event,
                Err(err) => panic!("the member failed after {} events: {err:?}", distinct.len()),
            };
            let e = event.event();
            let (partition, offset) = (e.partition(), e.offset());
            let republished = e.properties().and_then(|p| p.header(REPUBLISHED)).is_some();
            distinct.insert(e.payload().clone());
            seen.entry(partition)
                .or_default()
                .push((offset.get(), e.payload().clone(), republished));
            if let Err(err) = bounded("an ack", event.ack_async()).await {
                panic!("the ack of {partition}/{offset:?} failed: {err:?}");
            }
            let now = member.committed_in(partition).expect("an assigned partition");
            let before = committed.insert(partition, now).unwrap_or(Offset::new(0));
            assert!(
                now >= before,
                "the committed offset went back: {before:?} -> {now:?}"
            );
        }
        (seen, committed)
    });

    let mut seen = Seen::new();
    let mut distinct = HashSet::new();
    while distinct.len() < n {
        let event = match bounded("an event", sub.recv()).await {
            Ok(event) => event,
            Err(err) => panic!("the subscriber failed after {} events: {err:?}", distinct.len()),
        };
        distinct.insert(event.payload().clone());
        let republished = event.properties().and_then(|p| p.header(REPUBLISHED)).is_some();
        seen.entry(event.partition()).or_default().push((
            event.offset().get(),
            event.payload().clone(),
            republished,
        ));
    }
    let mut told = Confirmed::new();
    for publisher in publishers {
        told.extend(publisher.await.expect("a publisher panicked"));
    }
    assert_eq!(told.len(), n / PUBLISHERS * PUBLISHERS);
    check("the subscriber", &seen, &told);

    let (member_seen, committed) = member_task.await.expect("the member panicked");
    check("the member", &member_seen, &told);
    for (partition, events) in &member_seen {
        let last = events.iter().map(|(o, _, _)| *o).max().unwrap();
        assert!(
            committed[partition].get() > last,
            "partition {partition} not committed to its end"
        );
        let stream = format!("weft.commits.billing.{topic}.{partition}");
        let history = commit_history(&conn, &stream).await;
        assert!(
            history.windows(2).all(|w| w[0] <= w[1]),
            "the commit stream of {partition} went back: {history:?}"
        );
        assert_eq!(history.last().copied(), Some(committed[partition].get()));
    }

    let mut statuses = Vec::new();
    while let Ok(status) = status_rx.try_recv() {
        statuses.push(status);
    }
    assert!(
        statuses.iter().any(|s| matches!(s, Status::Lost { .. })),
        "no loss seen: {statuses:?}"
    );
    assert!(
        statuses.last().is_some_and(Status::is_connected),
        "not connected at the end: {statuses:?}"
    );
    let copies = seen.values().flatten().filter(|(_, _, r)| *r).count();
    eprintln!(
        "{topic}: {n} events, {copies} republished copies read, {} statuses",
        statuses.len()
    );
    // The readers' channels may still be closing (the member's, dropped
    // with its task): lapin's close may say so. Not what is tested here.
    let _ = conn.close().await;
}
