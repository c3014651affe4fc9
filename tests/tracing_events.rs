//! The diagnostics weft emits through `tracing` (the facade's `tracing`
//! feature, on in the facade's own tests): a dead letter, a redelivery, a
//! handler's retry and failure, a consumer-group rebalance and an
//! unhandled rejection each emit one event, with the target, level and
//! fields that the book's "Running a service on weft" documents.
//!
//! Each test installs a capturing subscriber for its own thread
//! (`with_default`) and runs everything on a current-thread runtime on that
//! thread, so tests run in parallel without seeing each other's events.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};
use weft::events::{EventBus, HandlerOptions, Retry, StartAt, TopicOptions};
use weft::queue::Queue;

/// One event as captured: its target, level and fields (the message under
/// `message`), each value as its `Debug` text.
#[derive(Debug, Clone, PartialEq)]
struct Captured {
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn message(&self) -> &str {
        self.fields.get("message").map_or("", String::as_str)
    }
}

/// A subscriber that keeps every event of a `weft::` target.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl Capture {
    /// The events captured whose message is `message`.
    fn with_message(&self, message: &str) -> Vec<Captured> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|e| e.message() == message)
            .cloned()
            .collect()
    }
}

struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("weft::")
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(Captured {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields: fields.0,
        });
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Runs `body` on a current-thread runtime with a paused clock, capturing
/// the events it emits.
fn capture<F: Future<Output = ()>>(body: impl FnOnce() -> F) -> Capture {
    let capture = Capture::default();
    let rt = weft::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    tracing::subscriber::with_default(capture.clone(), || rt.block_on(body()));
    capture
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A message nacked until its delivery limit: one redelivery event after
/// the first delivery, one dead-letter event after the second.
#[test]
fn a_redelivery_and_a_dead_letter_emit_one_event_each() {
    let capture = capture(|| async {
        let queue = Queue::builder().max_deliveries(2).build();
        queue.producer().publish("poison").await.unwrap();
        let mut consumer = queue.consumer();
        for _ in 0..2 {
            consumer.recv().await.unwrap().nack(true).unwrap();
        }
        assert!(queue.try_dead_letter().unwrap().is_some());
    });

    let requeued = capture.with_message("message requeued for redelivery");
    assert_eq!(requeued.len(), 1, "{requeued:?}");
    assert_eq!(requeued[0].target, "weft::queue");
    assert_eq!(requeued[0].level, Level::DEBUG);
    let expected = [
        ("message", "message requeued for redelivery"),
        ("deliveries", "1"),
        ("delay_ms", "0"),
    ];
    assert_eq!(requeued[0].fields, fields(&expected));

    let dead = capture.with_message("message dead-lettered");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].target, "weft::queue");
    assert_eq!(dead[0].level, Level::WARN);
    let expected = [
        ("message", "message dead-lettered"),
        ("reason", "MaxDeliveries"),
        ("deliveries", "2"),
    ];
    assert_eq!(dead[0].fields, fields(&expected));
}

/// A message published with properties carries its id in `message_id`.
#[test]
fn a_dead_letter_names_the_message_id() {
    let capture = capture(|| async {
        let queue = Queue::builder().build();
        let properties = weft::queue::Properties::new().with_id("order-7");
        queue.producer().publish_with("job", properties).await.unwrap();
        queue.consumer().recv().await.unwrap().reject().unwrap();
    });
    let dead = capture.with_message("message dead-lettered");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].fields["message_id"], "order-7");
    assert_eq!(dead[0].fields["reason"], "Rejected");
}

/// An assigned group shares its partitions out again as members join and
/// leave: one event each, with the group's size after it.
#[test]
fn a_rebalance_emits_one_event() {
    let capture = capture(|| async {
        let bus = EventBus::<u32>::new();
        let options = TopicOptions {
            partitions: 2,
            ..TopicOptions::default()
        };
        bus.create_topic_async("job.queued", options).await.unwrap();
        let first = bus
            .join_assigned_async("workers", "job.queued", StartAt::Start)
            .await
            .unwrap();
        let second = bus
            .join_assigned_async("workers", "job.queued", StartAt::Start)
            .await
            .unwrap();
        drop(second);
        drop(first);
    });
    let rebalances = capture.with_message("consumer group rebalanced");
    let seen: Vec<_> = rebalances
        .iter()
        .map(|e| (e.fields["members"].as_str(), e.fields["cause"].as_str()))
        .collect();
    assert_eq!(
        seen,
        [("1", "join"), ("2", "join"), ("1", "leave"), ("0", "leave")]
    );
    assert_eq!(rebalances[1].target, "weft::events");
    assert_eq!(rebalances[1].level, Level::INFO);
    let expected = [
        ("message", "consumer group rebalanced"),
        ("group", "workers"),
        ("topic", "job.queued"),
        ("members", "2"),
        ("partitions", "2"),
        ("cause", "join"),
    ];
    assert_eq!(rebalances[1].fields, fields(&expected));
}

/// A handler that always fails, with two attempts: one retry event, then
/// one failure event naming its dead-letter topic.
#[test]
fn a_handler_retry_and_failure_emit_one_event_each() {
    let capture = capture(|| async {
        let bus = EventBus::<String>::new();
        let retry = Retry::new(2).backoff(Duration::from_millis(10), Duration::from_millis(10));
        let options = HandlerOptions::new().retry(retry).dead_letter("mail.failed");
        let mailer = bus
            .on_with("user.registered", options, |_| async {
                Err::<(), _>("no address")
            })
            .unwrap();
        let mut failed = bus.subscribe("mail.failed", StartAt::Start).unwrap();
        bus.publish("user.registered", "grace".to_owned()).await.unwrap();
        assert_eq!(*failed.recv().await.unwrap(), "grace");
        bus.close();
        mailer.finished().await;
    });
    let retries = capture.with_message("handler failed, retrying");
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(
        (retries[0].target.as_str(), retries[0].level),
        ("weft::events", Level::INFO)
    );
    let expected = [
        ("message", "handler failed, retrying"),
        ("topic", "user.registered"),
        ("partition", "0"),
        ("offset", "0"),
        ("attempt", "1"),
        ("error", "no address"),
    ];
    assert_eq!(retries[0].fields, fields(&expected));

    let failures = capture.with_message("handler gave up on an event");
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        (failures[0].target.as_str(), failures[0].level),
        ("weft::events", Level::WARN)
    );
    let expected = [
        ("message", "handler gave up on an event"),
        ("topic", "user.registered"),
        ("partition", "0"),
        ("offset", "0"),
        ("error", "no address"),
        ("dead_letter_topic", "mail.failed"),
        ("dead_lettered", "true"),
    ];
    assert_eq!(failures[0].fields, fields(&expected));
}

/// With a subscriber installed, the default unhandled-rejection report is
/// an event rather than a line on stderr.
#[test]
fn the_default_unhandled_rejection_report_is_an_event_under_a_subscriber() {
    let capture = capture(|| async {
        drop(weft::promise::Promise::<(), &str>::reject("lost"));
    });
    let reports = capture.with_message("a rejected promise was dropped unhandled");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(
        (reports[0].target.as_str(), reports[0].level),
        ("weft::promise", Level::ERROR)
    );
    assert_eq!(reports[0].fields["reason"], "\"lost\"");
    assert_eq!(reports[0].fields["type_name"], "&str");
}

/// A callback that panics is caught so that what runs it goes on, and
/// the panic is an event (besides the panic hook's report).
#[test]
fn a_callback_that_panics_emits_one_event() {
    let capture = capture(|| async {
        let (tx, rx) = weft::sync::oneshot::channel();
        weft::callback::on_complete(async {}, |()| panic!("boom"));
        weft::callback::on_complete(async {}, move |()| tx.send(()).unwrap());
        rx.await.unwrap();
    });
    let panics = capture.with_message("a callback panicked");
    assert_eq!(panics.len(), 1, "{panics:?}");
    assert_eq!(
        (panics[0].target.as_str(), panics[0].level),
        ("weft::callback", Level::ERROR)
    );
    let expected = [
        ("message", "a callback panicked"),
        ("callback", "on_complete"),
        ("panic", "boom"),
    ];
    assert_eq!(panics[0].fields, fields(&expected));
}

/// The callback TCP API catches a panicking `on_connection` so that its
/// accept loop goes on; the panic is an event naming the callback.
#[test]
fn a_panicking_tcp_callback_emits_one_event() {
    let capture = capture(|| async {
        let called = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = called.clone();
        let server = weft::callback::tcp::listen("127.0.0.1:0", move |_| {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            panic!("no thanks");
        })
        .unwrap();
        let _client = weft::net::TcpStream::connect(server.local_addr()).await.unwrap();
        // The accept loop runs on this thread: give it turns until it has
        // called back (the event follows in the same turn).
        for _ in 0..10_000 {
            if called.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            weft::task::yield_now().await;
        }
        assert!(called.load(std::sync::atomic::Ordering::SeqCst));
        server.close();
    });
    let panics = capture.with_message("a callback panicked");
    assert_eq!(panics.len(), 1, "{panics:?}");
    let expected = [
        ("message", "a callback panicked"),
        ("callback", "on_connection"),
        ("panic", "no thanks"),
    ];
    assert_eq!(panics[0].fields, fields(&expected));
}

/// A durable queue and a durable bus that find half a record at the end of
/// a segment cut it off as they open, and say so: one `WARN` each, on
/// their own target, naming the segment and how many bytes went.
#[test]
fn a_torn_tail_cut_on_open_emits_one_warning() {
    use std::path::Path;
    use weft::disk::fs::{FileSystem, SimFs};
    use weft::queue::{DiskOptions, Raw};

    /// Half a record at the end of the first segment file under `dir`.
    fn tear(fs: &SimFs, dir: &str) -> u64 {
        let name = fs
            .list(Path::new(dir))
            .unwrap()
            .into_iter()
            .find(|n| n.ends_with(".log"))
            .expect("a segment");
        let mut frame = Vec::new();
        weft::disk::frame::encode(b"half of a record", &mut frame).unwrap();
        let half = &frame[..frame.len() / 2];
        let segment = fs.open(&Path::new(dir).join(name), false).unwrap();
        segment.append(half).unwrap();
        half.len() as u64
    }

    let fs = SimFs::new();
    let disk = DiskOptions::new().file_system(fs.clone());
    let bus_disk = weft::events::DiskOptions::new().file_system(fs.clone());
    weft::block_on(async {
        let queue = Queue::builder()
            .open_durable_with("/q", Raw, &disk)
            .unwrap()
            .queue;
        queue.producer().publish(b"kept".to_vec()).await.unwrap();
        let bus = EventBus::builder()
            .open_durable_with("/bus", Raw, &bus_disk)
            .unwrap()
            .bus;
        bus.topic("t").unwrap().publish(b"kept".to_vec()).await.unwrap();
    });
    let queue_cut = tear(&fs, "/q");
    let bus_cut = tear(&fs, "/bus/topics/74/0");

    let capture = capture(|| async {
        let restored = Queue::builder().open_durable_with("/q", Raw, &disk).unwrap();
        assert!(restored.recovery.torn.is_some());
        let restored: weft::events::Restored<Vec<u8>> = EventBus::builder()
            .open_durable_with("/bus", Raw, &bus_disk)
            .unwrap();
        assert_eq!(restored.recovery.iter().filter(|r| r.torn.is_some()).count(), 1);
    });

    let cut = capture.with_message("torn tail cut on open");
    assert_eq!(cut.len(), 2, "{cut:?}");
    for (event, target, bytes) in [
        (&cut[0], "weft::queue", queue_cut),
        (&cut[1], "weft::events", bus_cut),
    ] {
        assert_eq!(event.target, target);
        assert_eq!(event.level, Level::WARN);
        assert_eq!(event.fields["bytes"], bytes.to_string());
        assert!(event.fields["segment"].ends_with(".log"), "{event:?}");
        assert!(event.fields.contains_key("position"), "{event:?}");
    }
}
