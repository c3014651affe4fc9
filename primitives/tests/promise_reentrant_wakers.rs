//! The promise drops a displaced waker only after releasing its lock, as
//! the sync primitives do (their tests are in
//! `primitives/src/sync/tests/reentrant_wakers.rs`; the queue's in
//! `messaging/tests/reentrant_wakers.rs`).
//!
//! Each test registers a waker whose drop calls back into the structure
//! (resolves the promise), then makes the structure
//! replace or drop that waker. Dropped under the lock, the call back would
//! deadlock; the watchdog turns that into a failure.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weft_primitives::promise::Promise;
use weft_test_support::waker::dropping_with;

fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
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
fn promise_a_replaced_waker_is_dropped_outside_the_lock() {
    watchdog(|| {
        let (mut promise, resolver) = Promise::<i32, String>::with_resolvers();
        let first = dropping_with(move || resolver.resolve(5).unwrap());
        assert!(poll(&mut promise, &first).is_pending());
        drop(first);
        // Another task's waker displaces `first`, whose drop resolves.
        let other = Waker::noop();
        let second = poll(&mut promise, other);
        assert!(second.is_pending() || second == Poll::Ready(Ok(5)));
        assert_eq!(poll(&mut promise, other), Poll::Ready(Ok(5)));
    });
}
