//! The work queue drops a displaced waker only after releasing its lock,
//! as the sync primitives do (their tests are in
//! `primitives/src/sync/tests/reentrant_wakers.rs`).
//!
//! Each test registers a waker whose drop calls back into the structure
//! (publishes to the queue), then makes the structure
//! replace or drop that waker. Dropped under the lock, the call back would
//! deadlock; the watchdog turns that into a failure.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use weft::queue::Queue;

/// A waker that wakes nothing and runs `on_drop` when its last clone goes.
struct DropHook(Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Wake for DropHook {
    fn wake(self: Arc<Self>) {}
}

impl Drop for DropHook {
    fn drop(&mut self) {
        let hook = self.0.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(hook) = hook {
            hook();
        }
    }
}

fn waker_dropping_with(on_drop: impl FnOnce() + Send + 'static) -> Waker {
    Waker::from(Arc::new(DropHook(Mutex::new(Some(Box::new(on_drop))))))
}

/// Runs `body` on a thread of its own inside a current-thread runtime and
/// fails, instead of hanging, if it deadlocks.
fn watchdog(body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = weft::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async move { body() });
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("deadlocked"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the body panicked"),
    }
}

#[test]
fn queue_a_replaced_consumer_waker_is_dropped_outside_the_lock() {
    watchdog(|| {
        let queue = Queue::<u32>::new(8);
        let producer = queue.producer();
        let mut consumer = queue.consumer();
        let first = waker_dropping_with(move || producer.try_publish(7).unwrap());
        assert!(consumer.poll_recv(&mut Context::from_waker(&first)).is_pending());
        drop(first);
        let mut cx = Context::from_waker(Waker::noop());
        let delivery = match consumer.poll_recv(&mut cx) {
            Poll::Ready(delivery) => delivery,
            Poll::Pending => match consumer.poll_recv(&mut cx) {
                Poll::Ready(delivery) => delivery,
                Poll::Pending => panic!("the message published by the dropped waker is lost"),
            },
        };
        let delivery = delivery.expect("the queue is open");
        assert_eq!(*delivery.message(), 7);
        delivery.ack().unwrap();
    });
}

#[test]
fn queue_a_dropped_consumers_waker_is_dropped_outside_the_lock() {
    watchdog(|| {
        let queue = Queue::<u32>::new(8);
        let producer = queue.producer();
        let mut consumer = queue.consumer();
        let first = waker_dropping_with(move || producer.try_publish(7).unwrap());
        assert!(consumer.poll_recv(&mut Context::from_waker(&first)).is_pending());
        drop(first);
        drop(consumer);
        assert_eq!(queue.stats().ready, 1);
    });
}
