//! Scaffolding for the crate's unit tests: wakers that count, and a poll
//! by hand. Plain std, which loom needn't see.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// A waker's target that counts its wakes.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A counter and a waker that bumps it.
pub(crate) fn counter() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter::default());
    let waker = Waker::from(Arc::clone(&counter));
    (counter, waker)
}

/// How many times the counter's waker was woken.
pub(crate) fn wakes(counter: &Counter) -> usize {
    counter.0.load(Ordering::SeqCst)
}

/// Polls `future` once with `waker`.
pub(crate) fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}
