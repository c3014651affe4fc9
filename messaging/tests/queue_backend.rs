//! A backend that waits for confirms and fails, as a disk or a broker does
//! (#19): the front turns its `Pending` into waiting and its `StoreError`
//! into `PublishError::Store` / `AckError::Store` / `RecvError::Store`,
//! hands a message back when it is known not to be stored, gives back a
//! delivery whose verdict was refused, and loses none.

mod queue_support;

use queue_support::{Counting, Manual};
use std::io;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weft::queue::{
    AckError, Backend, ConsumerStats, DeadLetter, Handed, Memory, PublishError, PublishOp, Queue, RecvError,
    Stats, StoreError, TryPublishError, Verdict,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Pass through.
    Ok,
    /// A publish or a settle waits for a confirm the test gives.
    Confirm,
    /// The store refuses: certainly not stored.
    Fail,
    /// The connection died: outcome unknown.
    Lost,
    /// A verdict (ack, nack, reject) is refused, but a delivery given back
    /// unsettled is released (as a broker requeues what a closed channel
    /// held).
    FailVerdicts,
    /// Reads fail: a delivery or a dead letter cannot be taken (nothing
    /// moves).
    FailReads,
}

impl Flaky {
    /// A read that fails, as the contract asks: nothing moved, and the
    /// consumer out of the line.
    fn failed_read(&self, consumer: Option<u64>) -> Option<StoreError<()>> {
        if *self.mode.lock().unwrap() != Mode::FailReads {
            return None;
        }
        if let Some(consumer) = consumer {
            self.inner.cancel_deliver(consumer);
        }
        Some(StoreError::NotStored {
            value: (),
            error: io::Error::other("read failed"),
        })
    }
}

/// `Memory` behind a store the test controls.
struct Flaky {
    inner: Memory<u32>,
    mode: Arc<Mutex<Mode>>,
    /// The waker of the op that waits for a confirm.
    confirm: Arc<Mutex<Option<Waker>>>,
}

const CONFIRM_TICKET: u64 = u64::MAX;

impl Backend<u32> for Flaky {
    fn poll_publish(
        &self,
        op: &mut PublishOp<u32>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<u32>>> {
        match *self.mode.lock().unwrap() {
            Mode::Ok | Mode::FailReads => self.inner.poll_publish(op, cx),
            Mode::Confirm => {
                let Some(cx) = cx else {
                    return self.inner.poll_publish(op, None);
                };
                *self.confirm.lock().unwrap() = Some(cx.waker().clone());
                op.ticket = Some(CONFIRM_TICKET);
                Poll::Pending
            }
            Mode::Fail | Mode::FailVerdicts => {
                let (value, _) = op.message.take().expect("a message to publish");
                op.ticket = None;
                Poll::Ready(Err(PublishError::Store(StoreError::NotStored {
                    value,
                    error: io::Error::other("disk full"),
                })))
            }
            Mode::Lost => {
                op.message = None;
                op.ticket = None;
                Poll::Ready(Err(PublishError::Store(StoreError::Unknown {
                    error: io::ErrorKind::ConnectionReset.into(),
                })))
            }
        }
    }
    fn cancel_publish(&self, op: &mut PublishOp<u32>) {
        if op.ticket == Some(CONFIRM_TICKET) {
            op.ticket = None;
            *self.confirm.lock().unwrap() = None;
        } else {
            self.inner.cancel_publish(op)
        }
    }
    fn add_consumer(&self) -> u64 {
        self.inner.add_consumer()
    }
    fn poll_deliver(
        &self,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Handed<u32>>, StoreError<()>>> {
        match self.failed_read(Some(consumer)) {
            Some(e) => Poll::Ready(Err(e)),
            None => self.inner.poll_deliver(consumer, cx),
        }
    }
    fn poll_deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<u32>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        match self.failed_read(Some(consumer)) {
            Some(e) => Poll::Ready(Err(e)),
            None => self.inner.poll_deliver_batch(consumer, max, cx, out),
        }
    }
    fn cancel_deliver(&self, consumer: u64) {
        self.inner.cancel_deliver(consumer)
    }
    fn remove_consumer(&self, consumer: u64) {
        self.inner.remove_consumer(consumer)
    }
    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        match *self.mode.lock().unwrap() {
            Mode::Ok | Mode::FailReads => self.inner.poll_settle(tag, verdict, cx),
            Mode::Confirm => {
                if let Some(cx) = cx {
                    *self.confirm.lock().unwrap() = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Mode::FailVerdicts if verdict == Verdict::Dropped => self.inner.poll_settle(tag, verdict, cx),
            Mode::Fail | Mode::Lost | Mode::FailVerdicts => {
                Poll::Ready(Err(AckError::Store(StoreError::NotStored {
                    value: verdict,
                    error: io::Error::other("disk full"),
                })))
            }
        }
    }
    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        self.inner.poll_extend_deadline(tag, extra, cx)
    }
    fn close(&self) {
        self.inner.close()
    }
    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
    fn stats(&self) -> Stats {
        self.inner.stats()
    }
    fn purge(&self) -> usize {
        self.inner.purge()
    }
    fn redrive(&self, choose: &mut dyn FnMut(&DeadLetter<u32>) -> bool) -> usize {
        self.inner.redrive(choose)
    }
    fn consumer_stats(&self, consumer: u64) -> ConsumerStats {
        self.inner.consumer_stats(consumer)
    }
    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<Result<DeadLetter<u32>, StoreError<()>>> {
        match self.failed_read(None) {
            Some(e) => Poll::Ready(Err(e)),
            None => self.inner.poll_dead_letter(cx),
        }
    }
    fn spawner(&self) -> Option<weft::spawner::Spawner> {
        self.inner.spawner()
    }
}

struct Setup {
    rt: Manual,
    queue: Queue<u32>,
    mode: Arc<Mutex<Mode>>,
    confirm: Arc<Mutex<Option<Waker>>>,
}

fn setup() -> Setup {
    let (rt, spawner) = Manual::new();
    let mode = Arc::new(Mutex::new(Mode::Ok));
    let confirm = Arc::new(Mutex::new(None));
    let inner = Memory::new(
        Queue::builder()
            .ack_deadline(Duration::from_secs(10))
            .spawner(&spawner),
    );
    let queue = Queue::with_backend(Flaky {
        inner,
        mode: mode.clone(),
        confirm: confirm.clone(),
    });
    Setup {
        rt,
        queue,
        mode,
        confirm,
    }
}

#[test]
fn a_confirmed_publish_waits_for_the_confirm() {
    let s = setup();
    let producer = s.queue.producer();
    *s.mode.lock().unwrap() = Mode::Confirm;
    let waker = Counting::new();
    let mut publish = pin!(producer.publish(1));
    assert!(
        waker.poll(publish.as_mut()).is_pending(),
        "a confirm is a round trip"
    );
    assert_eq!(s.queue.stats().published, 0);
    // The confirm arrives: the backend wakes the publisher.
    *s.mode.lock().unwrap() = Mode::Ok;
    s.confirm.lock().unwrap().take().expect("a waiter").wake();
    assert!(waker.is_woken());
    assert!(matches!(waker.poll(publish), Poll::Ready(Ok(()))));
    assert_eq!(s.queue.stats().published, 1);
}

#[test]
fn a_failed_publish_hands_the_message_back_only_when_known_not_stored() {
    let s = setup();
    let producer = s.queue.producer();
    *s.mode.lock().unwrap() = Mode::Fail;
    let waker = Counting::new();
    match waker.poll(pin!(producer.publish(7))) {
        Poll::Ready(Err(PublishError::Store(e))) => {
            assert!(!e.is_unknown());
            assert_eq!(e.to_string(), "not stored: disk full");
            assert_eq!(e.into_value(), Some(7));
        }
        other => panic!("{other:?}"),
    }
    match producer.try_publish(8) {
        Err(TryPublishError::Store(e)) => assert_eq!(e.into_value(), Some(8)),
        other => panic!("{other:?}"),
    }
    *s.mode.lock().unwrap() = Mode::Lost;
    match waker.poll(pin!(producer.publish(9))) {
        Poll::Ready(Err(e @ PublishError::Store(_))) => {
            assert!(
                e.to_string()
                    .starts_with("the queue could not store the message: outcome unknown")
            );
            assert_eq!(e.into_inner(), None, "the store cannot tell: no value back");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_verdict_the_store_could_not_record_leaves_the_message_to_come_back() {
    let s = setup();
    s.queue.producer().try_publish(1).unwrap();
    let mut consumer = s.queue.consumer();
    let waker = Counting::new();
    let Poll::Ready(Ok(first)) = waker.poll(pin!(consumer.recv())) else {
        panic!("not delivered");
    };
    *s.mode.lock().unwrap() = Mode::Fail;
    match first.ack() {
        Err(AckError::Store(e)) => assert_eq!(e.into_value(), Some(Verdict::Ack)),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.queue.stats().in_flight, 1, "still in flight");
    *s.mode.lock().unwrap() = Mode::Ok;
    // The ack deadline brings it back: at least once.
    s.rt.advance(Duration::from_secs(11));
    let Poll::Ready(Ok(again)) = waker.poll(pin!(consumer.recv())) else {
        panic!("not delivered again");
    };
    assert_eq!((*again, again.delivery_count()), (1, 2));
    again.ack().unwrap();
    assert_eq!(s.queue.stats().acked, 1);
}

#[test]
fn settle_waits_for_the_backend_to_record_the_verdict() {
    let s = setup();
    s.queue.producer().try_publish(1).unwrap();
    let mut consumer = s.queue.consumer();
    let waker = Counting::new();
    let Poll::Ready(Ok(delivery)) = waker.poll(pin!(consumer.recv())) else {
        panic!("not delivered");
    };
    *s.mode.lock().unwrap() = Mode::Confirm;
    let mut settle = pin!(delivery.settle(Verdict::Ack));
    assert!(waker.poll(settle.as_mut()).is_pending());
    *s.mode.lock().unwrap() = Mode::Ok;
    s.confirm.lock().unwrap().take().expect("a waiter").wake();
    assert!(matches!(waker.poll(settle), Poll::Ready(Ok(()))));
    assert_eq!(s.queue.stats().acked, 1);
}

#[test]
fn a_verdict_the_store_refused_gives_the_message_back_at_once() {
    let s = setup();
    s.queue.producer().try_publish(1).unwrap();
    let mut consumer = s.queue.consumer();
    let waker = Counting::new();
    let Poll::Ready(Ok(first)) = waker.poll(pin!(consumer.recv())) else {
        panic!("not delivered");
    };
    *s.mode.lock().unwrap() = Mode::FailVerdicts;
    match first.ack() {
        Err(AckError::Store(e)) => assert_eq!(e.into_value(), Some(Verdict::Ack)),
        other => panic!("{other:?}"),
    }
    // Not left in flight until the deadline: released, ready again now.
    let stats = s.queue.stats();
    assert_eq!((stats.in_flight, stats.ready), (0, 1), "{stats:?}");
    assert_eq!(consumer.stats().in_hand, 0);
    *s.mode.lock().unwrap() = Mode::Ok;
    let Poll::Ready(Ok(again)) = waker.poll(pin!(consumer.recv())) else {
        panic!("not delivered again before the deadline");
    };
    assert_eq!((*again, again.delivery_count()), (1, 2));
    assert!(again.redelivered());
    // `settle` releases the same way.
    *s.mode.lock().unwrap() = Mode::FailVerdicts;
    let settled = waker.poll(pin!(again.settle(Verdict::Reject)));
    assert!(
        matches!(settled, Poll::Ready(Err(AckError::Store(_)))),
        "{settled:?}"
    );
    assert_eq!(s.queue.stats().ready, 1);
    assert_eq!(s.queue.stats().dead_lettered, 0);
}

#[test]
fn a_delivery_or_dead_letter_the_store_could_not_read_is_a_typed_error_and_moves_nothing() {
    let s = setup();
    s.queue.producer().try_publish(1).unwrap();
    s.queue.producer().try_publish(2).unwrap();
    let mut consumer = s.queue.consumer();
    let waker = Counting::new();
    *s.mode.lock().unwrap() = Mode::FailReads;
    match waker.poll(pin!(consumer.recv())) {
        Poll::Ready(Err(RecvError::Store(e))) => {
            assert!(!e.is_unknown());
            assert_eq!(e.to_string(), "not stored: read failed");
        }
        other => panic!("{other:?}"),
    }
    let failed = waker.poll(pin!(consumer.recv_batch(10, Duration::from_secs(1))));
    let Poll::Ready(Err(e @ RecvError::Store(_))) = failed else {
        panic!("{failed:?}");
    };
    assert_eq!(
        e.to_string(),
        "the queue could not deliver a message: not stored: read failed"
    );
    let stats = s.queue.stats();
    assert_eq!((stats.ready, stats.in_flight), (2, 0), "nothing moved: {stats:?}");
    assert_eq!(consumer.stats().in_hand, 0);

    // The store is back: the same consumer goes on, nothing counted twice.
    *s.mode.lock().unwrap() = Mode::Ok;
    let Poll::Ready(Ok(batch)) = waker.poll(pin!(consumer.recv_batch(10, Duration::ZERO))) else {
        panic!("not delivered");
    };
    assert_eq!(
        batch
            .iter()
            .map(|d| (**d, d.delivery_count()))
            .collect::<Vec<_>>(),
        [(1, 1), (2, 1)]
    );
    for delivery in batch {
        delivery.reject().unwrap();
    }

    // A dead letter that cannot be read stays where it is.
    *s.mode.lock().unwrap() = Mode::FailReads;
    assert!(matches!(
        s.queue.try_dead_letter(),
        Err(StoreError::NotStored { .. })
    ));
    assert!(matches!(
        waker.poll(pin!(s.queue.dead_letter())),
        Poll::Ready(Err(StoreError::NotStored { .. }))
    ));
    assert_eq!(s.queue.stats().dead_lettered, 2);
    *s.mode.lock().unwrap() = Mode::Ok;
    assert_eq!(s.queue.try_dead_letter().unwrap().map(|l| l.message), Some(1));
}
