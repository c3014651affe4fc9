//! The bus's setup calls wait for a backend that answers later: a test
//! backend wrapping `Memory` whose opens, offset reads and commits stay
//! `Pending` (keeping the waker) until the test releases them, checked by
//! polling the `*_async` futures by hand with a counting waker. The sync
//! forms, which cannot wait, fail with `WouldBlock` on the same backend.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use weft::events::{
    Backend, EventBus, EventsError, Memory, Offset, Retention, StartAt, StoreError, TopicLog, TopicOptions,
};

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Counter {
    fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// How many of the next calls of each kind stay pending, and the wakers
/// they left.
#[derive(Default)]
struct Stalls {
    open: usize,
    committed: usize,
    commit: usize,
    /// How many of the next commits fail (not stored).
    fail_commit: usize,
    waiting: Vec<Waker>,
}

/// `Memory`, answering late when told to.
struct Slow {
    memory: Memory<u32>,
    stalls: Arc<Mutex<Stalls>>,
}

impl Slow {
    /// Whether a call counted by `which` stays pending (leaving `cx`'s waker).
    fn stall(&self, cx: &Context<'_>, which: impl FnOnce(&mut Stalls) -> &mut usize) -> bool {
        let mut stalls = self.stalls.lock().unwrap();
        let left = which(&mut stalls);
        if *left == 0 {
            return false;
        }
        *left -= 1;
        stalls.waiting.push(cx.waker().clone());
        true
    }
}

impl Backend<u32> for Slow {
    fn poll_open(
        &self,
        cx: &mut Context<'_>,
        topic: &str,
        partitions: u32,
        retention: Retention,
    ) -> Poll<io::Result<Vec<Arc<dyn TopicLog<u32>>>>> {
        if self.stall(cx, |s| &mut s.open) {
            return Poll::Pending;
        }
        self.memory.poll_open(cx, topic, partitions, retention)
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
        if self.stall(cx, |s| &mut s.commit) {
            return Poll::Pending;
        }
        {
            let mut stalls = self.stalls.lock().unwrap();
            if stalls.fail_commit > 0 {
                stalls.fail_commit -= 1;
                let error = io::Error::other("offset store down");
                return Poll::Ready(Err(StoreError::NotStored { value: offset, error }));
            }
        }
        self.memory.poll_commit(cx, group, topic, partition, offset)
    }

    fn poll_committed(
        &self,
        cx: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Poll<io::Result<Option<Offset>>> {
        if self.stall(cx, |s| &mut s.committed) {
            return Poll::Pending;
        }
        self.memory.poll_committed(cx, group, topic, partition)
    }
}

fn slow_on(memory: Memory<u32>) -> (EventBus<u32>, Arc<Mutex<Stalls>>) {
    let stalls = Arc::new(Mutex::new(Stalls::default()));
    let backend = Slow {
        memory,
        stalls: stalls.clone(),
    };
    (EventBus::builder().build_with(backend), stalls)
}

fn slow() -> (EventBus<u32>, Arc<Mutex<Stalls>>) {
    slow_on(Memory::new())
}

/// Wakes every waker the backend kept: it has answered.
fn release(stalls: &Mutex<Stalls>) {
    let waiting = std::mem::take(&mut stalls.lock().unwrap().waiting);
    waiting.into_iter().for_each(Waker::wake);
}

/// Polls `future` with a counting waker: it must stay pending until the
/// backend answers, be woken then, and complete at the next poll, for as
/// many answers as `stalls_in_a_row` says.
fn completes_after<F: Future>(stalls: &Mutex<Stalls>, stalls_in_a_row: usize, future: F) -> F::Output {
    let counter = Arc::new(Counter::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future: Pin<&mut F> = pin!(future);
    for stall in 0..stalls_in_a_row {
        assert!(
            future.as_mut().poll(&mut cx).is_pending(),
            "stall {stall}: waits for the backend"
        );
        let before = counter.wakes();
        release(stalls);
        assert_eq!(
            counter.wakes(),
            before + 1,
            "stall {stall}: woken when the backend answers"
        );
    }
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("still pending once the backend answered"),
    }
}

fn would_block<T: std::fmt::Debug>(result: Result<T, EventsError>) -> bool {
    matches!(result, Err(EventsError::Backend(e)) if e.kind() == io::ErrorKind::WouldBlock)
}

#[test]
fn topic_async_and_create_topic_async_wait_for_the_backend_to_open_the_topic() {
    let (bus, stalls) = slow();
    stalls.lock().unwrap().open = 1;
    assert!(would_block(bus.topic("audit")), "the sync form cannot wait");
    stalls.lock().unwrap().open = 1;
    let audit = completes_after(&stalls, 1, bus.topic_async("audit")).unwrap();
    assert_eq!(audit.try_publish(7).unwrap(), Offset::new(0));

    stalls.lock().unwrap().open = 1;
    let options = TopicOptions {
        partitions: 3,
        ..TopicOptions::default()
    };
    let jobs = completes_after(&stalls, 1, bus.create_topic_async("jobs", options)).unwrap();
    assert_eq!(jobs.partitions(), 3);
}

#[test]
fn subscribe_async_waits_for_the_backend_to_open_a_topic_or_the_stored_topics_a_pattern_matches() {
    let (bus, stalls) = slow();
    stalls.lock().unwrap().open = 1;
    assert!(would_block(bus.subscribe("audit", StartAt::Start)));
    stalls.lock().unwrap().open = 1;
    let mut audit = completes_after(&stalls, 1, bus.subscribe_async("audit", StartAt::Start)).unwrap();
    bus.try_publish("audit", 1).unwrap();
    assert_eq!(*audit.try_recv().unwrap().unwrap(), 1);

    // Topics stored by an earlier bus, which the new one opens for a
    // pattern subscriber: each open waits.
    let memory = Memory::new();
    let (earlier, _) = slow_on(memory.clone());
    earlier.try_publish("user.a", 10).unwrap();
    earlier.try_publish("user.b", 20).unwrap();
    drop(earlier);
    let (bus, stalls) = slow_on(memory);
    stalls.lock().unwrap().open = 2;
    let mut users = completes_after(&stalls, 2, bus.subscribe_async("user.*", StartAt::Start)).unwrap();
    let mut got: Vec<u32> = std::iter::from_fn(|| users.try_recv())
        .map(|e| *e.unwrap())
        .collect();
    got.sort();
    assert_eq!(got, [10, 20]);
}

#[test]
fn join_async_waits_to_read_the_groups_offset_and_to_store_a_new_groups_start() {
    let (bus, stalls) = slow();
    bus.try_publish("audit", 1).unwrap();
    stalls.lock().unwrap().committed = 1;
    assert!(would_block(bus.join("g", "audit", StartAt::Start)));

    let (bus, stalls) = slow();
    bus.try_publish("audit", 1).unwrap();
    {
        let mut stalls = stalls.lock().unwrap();
        stalls.committed = 1;
        stalls.commit = 1;
    }
    let mut member = completes_after(&stalls, 2, bus.join_async("g", "audit", StartAt::Start)).unwrap();
    assert_eq!(
        bus.committed("g", "audit").unwrap(),
        Some(Offset::new(0)),
        "its start stored"
    );
    assert_eq!(*member.try_recv().unwrap().unwrap(), 1);

    // An assigned group waits the same way.
    {
        let mut stalls = stalls.lock().unwrap();
        stalls.committed = 1;
        stalls.commit = 1;
    }
    let assigned =
        completes_after(&stalls, 2, bus.join_assigned_async("h", "audit", StartAt::Latest)).unwrap();
    assert_eq!(assigned.assignment(), [0]);
    assert_eq!(bus.committed("h", "audit").unwrap(), Some(Offset::new(1)));
}

#[test]
fn committed_async_waits_for_the_backend_to_answer() {
    let (bus, stalls) = slow();
    let _member = bus.join("g", "audit", StartAt::Start).unwrap();
    stalls.lock().unwrap().committed = 1;
    assert!(would_block(bus.committed("g", "audit")));
    stalls.lock().unwrap().committed = 1;
    let committed = completes_after(&stalls, 1, bus.committed_async("g", "audit")).unwrap();
    assert_eq!(committed, Some(Offset::new(0)));
    stalls.lock().unwrap().committed = 1;
    let elsewhere = completes_after(&stalls, 1, bus.committed_in_async("g", "audit", 0)).unwrap();
    assert_eq!(elsewhere, Some(Offset::new(0)));
}

#[test]
fn ack_async_waits_until_the_commit_is_stored() {
    let (bus, stalls) = slow();
    let mut member = bus.join("g", "audit", StartAt::Start).unwrap();
    bus.try_publish("audit", 1).unwrap();
    let event = member.try_recv().unwrap().unwrap();
    stalls.lock().unwrap().commit = 1;
    completes_after(&stalls, 1, event.ack_async()).unwrap();
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(1)));
    assert_eq!(member.committed(), Offset::new(1));

    // The sync ack cannot wait: the ack counts, the commit is not stored.
    bus.try_publish("audit", 2).unwrap();
    stalls.lock().unwrap().commit = 1;
    let second = member.try_recv().unwrap().unwrap().ack();
    assert!(would_block(second));
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(1)));
}

#[test]
fn a_commit_stored_late_does_not_leave_an_older_offset_in_the_backend() {
    let (bus, stalls) = slow();
    let mut member = bus.join("g", "audit", StartAt::Start).unwrap();
    bus.try_publish("audit", 1).unwrap();
    bus.try_publish("audit", 2).unwrap();
    let first = member.try_recv().unwrap().unwrap();
    let second = member.try_recv().unwrap().unwrap();
    stalls.lock().unwrap().commit = 1;

    let counter = Arc::new(Counter::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut late = pin!(first.ack_async());
    assert!(late.as_mut().poll(&mut cx).is_pending(), "storing offset 1");
    // Meanwhile the second ack stores offset 2 at once.
    second.ack().unwrap();
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(2)));
    release(&stalls);
    assert_eq!(counter.wakes(), 1);
    assert!(matches!(late.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    assert_eq!(
        bus.committed("g", "audit").unwrap(),
        Some(Offset::new(2)),
        "the late store of 1 is followed by the group's 2"
    );
    assert_eq!(member.committed(), Offset::new(2));
}

#[test]
fn commit_up_to_async_waits_until_the_batch_commit_is_stored() {
    let (bus, stalls) = slow();
    let mut member = bus.join("g", "audit", StartAt::Start).unwrap();
    for n in 0..3 {
        bus.try_publish("audit", n).unwrap();
    }
    let batch: Vec<_> = (0..3).map(|_| member.try_recv().unwrap().unwrap()).collect();
    stalls.lock().unwrap().commit = 1;
    completes_after(&stalls, 1, member.commit_up_to_async(0, Offset::new(3))).unwrap();
    drop(batch);
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(3)));
    assert!(member.try_recv().is_none(), "settled: nothing goes back");
}

#[test]
fn reset_group_async_and_lag_async_wait_for_the_backend() {
    let (bus, stalls) = slow();
    for n in 0..5 {
        bus.try_publish("audit", n).unwrap();
    }
    let member = bus.join("g", "audit", StartAt::Start).unwrap();
    drop(member);
    stalls.lock().unwrap().commit = 1;
    assert!(would_block(bus.reset_group("g", "audit", StartAt::Latest)));
    stalls.lock().unwrap().commit = 1;
    completes_after(
        &stalls,
        1,
        bus.reset_group_async("g", "audit", StartAt::Offset(Offset::new(3))),
    )
    .unwrap();
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(3)));
    stalls.lock().unwrap().commit = 1;
    let one = bus.reset_group_partition_async("g", "audit", 0, StartAt::Offset(Offset::new(4)));
    completes_after(&stalls, 1, one).unwrap();
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(4)));

    stalls.lock().unwrap().committed = 1;
    assert!(would_block(bus.lag("g", "audit")));
    stalls.lock().unwrap().committed = 1;
    assert_eq!(
        completes_after(&stalls, 1, bus.lag_async("g", "audit")).unwrap(),
        [1]
    );
}

#[test]
fn a_new_groups_start_that_failed_to_store_is_stored_by_the_next_join() {
    let (bus, stalls) = slow();
    bus.try_publish("audit", 1).unwrap();
    bus.try_publish("audit", 2).unwrap();
    stalls.lock().unwrap().fail_commit = 1;
    let failed = bus.join("g", "audit", StartAt::Start);
    assert!(matches!(failed, Err(EventsError::Backend(e)) if e.to_string() == "offset store down"));
    assert_eq!(bus.committed("g", "audit").unwrap(), None, "not stored");
    // The group was made, at offset 0: the next joiner stores that start,
    // whatever its own `from`.
    let mut member = bus.join("g", "audit", StartAt::Latest).unwrap();
    assert_eq!(bus.committed("g", "audit").unwrap(), Some(Offset::new(0)));
    assert_eq!(*member.try_recv().unwrap().unwrap(), 1);
}
