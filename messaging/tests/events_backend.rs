//! The event bus on a backend that can fail and wait: a test backend
//! wrapping `Memory` whose appends, reads and commits can be made to stay
//! pending (until the test completes them) or to fail, checked by polling
//! the bus's futures by hand with a counting waker.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use weft::events::{
    Append, Backend, EventBus, EventsError, Memory, Offset, PublishError, Read, ReadPlace, ReaderId, Record,
    RecvError, StartAt, StoreError, TopicLog,
};

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter::default());
    (counter.clone(), Waker::from(counter))
}

/// What the test backend does next.
#[derive(Default)]
struct Knobs {
    /// Appends take the event, then wait for a confirmation.
    confirm_later: bool,
    /// Appends do not take the event: the log is full.
    full: bool,
    /// Appends fail, handing the event back.
    fail_append: bool,
    /// Reads fail this many more times.
    fail_reads: usize,
    /// Commits fail this many more times.
    fail_commits: usize,
    /// The publisher waiting for a confirmation or for room.
    waiting: Option<Waker>,
}

/// `Memory`, with knobs.
struct Flaky {
    memory: Memory<u32>,
    knobs: Arc<Mutex<Knobs>>,
}

struct FlakyLog {
    inner: Arc<dyn TopicLog<u32>>,
    knobs: Arc<Mutex<Knobs>>,
}

/// A note on an append that waits for its confirmation: the payload sits
/// in `held` meanwhile.
const AWAITING_CONFIRM: u64 = 1;

impl Backend<u32> for Flaky {
    fn poll_open(
        &self,
        cx: &mut Context<'_>,
        topic: &str,
        partitions: u32,
        retention: weft::events::Retention,
    ) -> Poll<io::Result<Vec<Arc<dyn TopicLog<u32>>>>> {
        self.memory
            .poll_open(cx, topic, partitions, retention)
            .map_ok(|logs| {
                logs.into_iter()
                    .map(|inner| {
                        let log: Arc<dyn TopicLog<u32>> = Arc::new(FlakyLog {
                            inner,
                            knobs: self.knobs.clone(),
                        });
                        log
                    })
                    .collect()
            })
    }

    fn topics(&self) -> Vec<String> {
        self.memory.topics()
    }

    fn poll_commit(
        &self,
        cx: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
        offset: Offset,
    ) -> Poll<Result<(), StoreError<Offset>>> {
        let mut knobs = self.knobs.lock().unwrap();
        if knobs.fail_commits > 0 {
            knobs.fail_commits -= 1;
            let error = io::Error::other("offset store down");
            return Poll::Ready(Err(StoreError::NotStored { value: offset, error }));
        }
        drop(knobs);
        self.memory.poll_commit(cx, group, topic, partition, offset)
    }

    fn poll_committed(
        &self,
        cx: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Poll<io::Result<Option<Offset>>> {
        self.memory.poll_committed(cx, group, topic, partition)
    }
}

thread_local! {
    /// The payload of the append awaiting confirmation (one at a time).
    static HELD: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

impl TopicLog<u32> for FlakyLog {
    fn poll_append(
        &self,
        cx: &mut Context<'_>,
        append: &mut Append<u32>,
    ) -> Poll<Result<Offset, PublishError<u32>>> {
        let mut knobs = self.knobs.lock().unwrap();
        if append.note() == AWAITING_CONFIRM {
            if knobs.confirm_later {
                knobs.waiting = Some(cx.waker().clone());
                return Poll::Pending;
            }
            // Confirmed: store it for real.
            drop(knobs);
            let payload = HELD
                .with(|held| held.take())
                .expect("an append awaiting confirmation");
            let mut real = Append::new(append.seq(), payload)
                .with_timestamp(append.timestamp())
                .with_size(append.size());
            return self.inner.poll_append(cx, &mut real);
        }
        if knobs.full {
            knobs.waiting = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if knobs.fail_append {
            let value = append.take().expect("taken once");
            let error = io::Error::other("disk full");
            return Poll::Ready(Err(PublishError::Store(StoreError::NotStored { value, error })));
        }
        if knobs.confirm_later {
            HELD.with(|held| held.set(append.take()));
            append.set_note(AWAITING_CONFIRM);
            knobs.waiting = Some(cx.waker().clone());
            return Poll::Pending;
        }
        drop(knobs);
        self.inner.poll_append(cx, append)
    }

    fn poll_read(
        &self,
        reader: ReaderId,
        place: &mut ReadPlace,
        from: Offset,
        max: usize,
        out: &mut VecDeque<Record<u32>>,
        waker: Option<&Waker>,
    ) -> Poll<io::Result<Read>> {
        let mut knobs = self.knobs.lock().unwrap();
        if knobs.fail_reads > 0 {
            knobs.fail_reads -= 1;
            return Poll::Ready(Err(io::Error::other("bad sector")));
        }
        drop(knobs);
        self.inner.poll_read(reader, place, from, max, out, waker)
    }

    fn forget(&self, reader: ReaderId) {
        self.inner.forget(reader);
    }

    fn start(&self) -> Offset {
        self.inner.start()
    }

    fn end(&self) -> Offset {
        self.inner.end()
    }

    fn offset_at(&self, time: std::time::SystemTime) -> Offset {
        self.inner.offset_at(time)
    }

    fn set_retention(&self, retention: weft::events::Retention) {
        self.inner.set_retention(retention);
    }

    fn close(&self) {
        self.inner.close();
    }
}

fn flaky() -> (EventBus<u32>, Arc<Mutex<Knobs>>) {
    let knobs = Arc::new(Mutex::new(Knobs::default()));
    let backend = Flaky {
        memory: Memory::new(),
        knobs: knobs.clone(),
    };
    (EventBus::builder().build_with(backend), knobs)
}

/// Turns `knob` off and wakes the waiting publisher.
fn release(knobs: &Mutex<Knobs>, knob: impl FnOnce(&mut Knobs)) {
    let waiting = {
        let mut knobs = knobs.lock().unwrap();
        knob(&mut knobs);
        knobs.waiting.take()
    };
    waiting.into_iter().for_each(Waker::wake);
}

#[test]
fn publish_waits_for_the_backend_to_confirm_and_is_woken_when_it_does() {
    let (bus, knobs) = flaky();
    let topic = bus.topic("audit").unwrap();
    let mut sub = topic.subscribe(StartAt::Latest);
    knobs.lock().unwrap().confirm_later = true;

    let (wakes, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut publish = pin!(topic.publish(7));
    assert!(publish.as_mut().poll(&mut cx).is_pending());
    assert!(sub.try_recv().is_none(), "not in the log before it is confirmed");

    release(&knobs, |k| k.confirm_later = false);
    assert_eq!(
        wakes.0.load(Ordering::SeqCst),
        1,
        "the backend woke the publisher"
    );
    assert!(matches!(publish.as_mut().poll(&mut cx), Poll::Ready(Ok(offset)) if offset == Offset::new(0)));
    assert_eq!(*sub.try_recv().unwrap().unwrap(), 7);
}

#[test]
fn try_publish_on_a_full_backend_gives_the_event_back_and_publish_waits_for_room() {
    let (bus, knobs) = flaky();
    knobs.lock().unwrap().full = true;
    match bus.try_publish("audit", 1) {
        Err(PublishError::WouldBlock(1)) => {}
        other => panic!("expected WouldBlock(1), got {other:?}"),
    }

    let (wakes, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut publish = pin!(bus.publish("audit", 2));
    assert!(publish.as_mut().poll(&mut cx).is_pending());
    release(&knobs, |k| k.full = false);
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    assert!(matches!(publish.as_mut().poll(&mut cx), Poll::Ready(Ok(offset)) if offset == Offset::new(0)));
}

#[test]
fn try_publish_that_the_backend_took_but_did_not_confirm_reports_an_unknown_outcome() {
    let (bus, knobs) = flaky();
    knobs.lock().unwrap().confirm_later = true;
    match bus.try_publish("audit", 1) {
        Err(PublishError::Store(error)) => {
            assert!(error.is_unknown());
            assert_eq!(error.io_error().kind(), io::ErrorKind::WouldBlock);
        }
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
}

#[test]
fn a_failed_append_hands_the_event_back() {
    let (bus, knobs) = flaky();
    knobs.lock().unwrap().fail_append = true;
    let error = weft::block_on(bus.publish("audit", 5)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the event bus backend failed: not stored: disk full"
    );
    assert_eq!(error.into_inner(), Some(5));
}

#[test]
fn a_read_error_reaches_the_subscriber_which_then_reads_the_same_events() {
    let (bus, knobs) = flaky();
    let mut sub = bus.subscribe("audit", StartAt::Start).unwrap();
    bus.try_publish("audit", 1).unwrap();
    knobs.lock().unwrap().fail_reads = 1;
    match sub.try_recv() {
        Some(Err(RecvError::Io { topic, error })) => {
            assert_eq!((&*topic, error.to_string().as_str()), ("audit", "bad sector"));
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let event = sub.try_recv().unwrap().unwrap();
    assert_eq!((event.offset(), *event), (Offset::new(0), 1));
}

#[test]
fn a_read_error_reaches_a_group_member_and_the_group_goes_on() {
    let (bus, knobs) = flaky();
    let mut member = bus.join("g", "audit", StartAt::Start).unwrap();
    bus.try_publish("audit", 1).unwrap();
    knobs.lock().unwrap().fail_reads = 1;
    assert!(matches!(member.try_recv(), Some(Err(RecvError::Io { .. }))));
    let event = member.try_recv().unwrap().unwrap();
    assert_eq!(*event, 1);
    event.ack().unwrap();
    assert_eq!(member.committed(), Offset::new(1));
}

#[test]
fn a_failed_commit_is_an_ack_error_and_the_next_ack_stores_it() {
    let (bus, knobs) = flaky();
    let mut member = bus.join("g", "audit", StartAt::Start).unwrap();
    bus.try_publish("audit", 1).unwrap();
    bus.try_publish("audit", 2).unwrap();
    knobs.lock().unwrap().fail_commits = 1;
    let first = member.try_recv().unwrap().unwrap();
    match first.ack() {
        Err(EventsError::Backend(error)) => assert_eq!(error.to_string(), "offset store down"),
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert_eq!(member.committed(), Offset::new(0), "moved only once stored");
    member.try_recv().unwrap().unwrap().ack().unwrap();
    assert_eq!(member.committed(), Offset::new(2));
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(2)));
}

#[test]
fn a_handler_backs_off_after_a_read_error_and_then_handles_the_event() {
    let rt = weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let (bus, knobs) = flaky();
        let handled = Arc::new(Mutex::new(Vec::new()));
        let seen = handled.clone();
        let options = weft::events::HandlerOptions::new().from(StartAt::Start);
        let handler = bus
            .on_with("audit", options, move |event| {
                seen.lock().unwrap().push(*event);
                async { Ok::<(), String>(()) }
            })
            .unwrap();
        knobs.lock().unwrap().fail_reads = 2;
        bus.publish("audit", 1).await.unwrap();
        bus.close();
        handler.finished().await;
        assert_eq!(*handled.lock().unwrap(), [1]);
        let stats = handler.stats();
        assert_eq!(stats.succeeded, 1);
        assert_eq!(
            stats.last_error.as_deref(),
            Some("could not read topic \"audit\": bad sector")
        );
    });
}
