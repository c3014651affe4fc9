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

/// A waker's target that runs a closure when its last waker is dropped.
struct OnDrop(std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Wake for OnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        let f = self.0.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(f) = f {
            f();
        }
    }
}

/// A waker that runs `on_drop` once its last clone is dropped: give it a
/// closure that re-enters a primitive to prove the primitive never drops
/// a waker under its own lock.
pub(crate) fn waker_dropping_with(on_drop: impl FnOnce() + Send + 'static) -> Waker {
    Waker::from(Arc::new(OnDrop(std::sync::Mutex::new(Some(Box::new(on_drop))))))
}

/// Runs `body` on a thread of its own and fails if it has not finished
/// within a generous bound: a deadlock fails the test instead of hanging
/// it. A panic in `body` is passed on.
pub(crate) fn watchdog(body: impl FnOnce() + Send + 'static) {
    use std::sync::mpsc::{RecvTimeoutError, channel};
    let (done, finished) = channel();
    let thread = std::thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match finished.recv_timeout(std::time::Duration::from_secs(20)) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(RecvTimeoutError::Timeout) => panic!("deadlocked: the body did not finish"),
    }
}
