//! Wakers that count their wakes, to poll futures by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A waker's target that counts its wakes.
#[derive(Debug, Default)]
pub struct CountingWaker(AtomicUsize);

impl CountingWaker {
    /// A counter and a waker that bumps it.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// How many times a waker of this counter was woken.
    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `future` once with `waker`.
pub fn poll<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// A waker's target that runs a closure when its last waker is dropped.
struct OnDrop(Mutex<Option<Box<dyn FnOnce() + Send>>>);

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

/// A waker that wakes nothing and runs `on_drop` once its last clone is
/// dropped: give it a closure that re-enters a structure to prove the
/// structure never drops a waker under its own lock.
pub fn dropping_with(on_drop: impl FnOnce() + Send + 'static) -> Waker {
    Waker::from(Arc::new(OnDrop(Mutex::new(Some(Box::new(on_drop))))))
}
