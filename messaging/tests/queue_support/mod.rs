//! A runtime for queue tests that the test drives step by step: a clock
//! that moves only when told, tasks polled only in [`Manual::run`], and
//! wakers that count their wakes. Nothing sleeps; every ordering is the
//! test's.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use weft::spawner::{BoxFuture, Spawn, Spawner};

/// Counts the wakes it receives.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker and its count.
#[derive(Debug, Clone)]
pub(crate) struct Counting {
    counter: Arc<Counter>,
    waker: Waker,
}

impl Counting {
    pub(crate) fn new() -> Counting {
        let counter = Arc::new(Counter::default());
        Counting {
            waker: Waker::from(counter.clone()),
            counter,
        }
    }

    pub(crate) fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }

    pub(crate) fn is_woken(&self) -> bool {
        self.wakes() > 0
    }

    /// Forgets the wakes seen so far.
    pub(crate) fn reset(&self) {
        self.counter.0.store(0, Ordering::SeqCst);
    }

    /// Polls `future` once with this waker.
    pub(crate) fn poll<F: Future + ?Sized>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(&self.waker))
    }
}

struct Inner {
    now: Mutex<Instant>,
    tasks: Mutex<Vec<BoxFuture>>,
}

/// The runtime the test drives.
#[derive(Clone)]
pub(crate) struct Manual {
    inner: Arc<Inner>,
}

struct Clock(Arc<Inner>);

impl Spawn for Clock {
    fn spawn(&self, future: BoxFuture) {
        self.0.tasks.lock().unwrap().push(future);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture {
        let inner = self.0.clone();
        // Polled on every `run`: no waker needed.
        Box::pin(std::future::poll_fn(move |_| {
            if *inner.now.lock().unwrap() >= deadline {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }))
    }

    fn now(&self) -> Instant {
        *self.0.now.lock().unwrap()
    }
}

impl Manual {
    /// A stopped clock and its spawner.
    pub(crate) fn new() -> (Manual, Spawner) {
        let inner = Arc::new(Inner {
            now: Mutex::new(Instant::now()),
            tasks: Mutex::new(Vec::new()),
        });
        let spawner = Spawner::new(Clock(inner.clone()));
        (Manual { inner }, spawner)
    }

    pub(crate) fn now(&self) -> Instant {
        *self.inner.now.lock().unwrap()
    }

    /// Polls every task until none makes progress (timers due fire).
    pub(crate) fn run(&self) {
        for _ in 0..1000 {
            let mut tasks = std::mem::take(&mut *self.inner.tasks.lock().unwrap());
            let before = tasks.len();
            let waker = Counting::new();
            tasks.retain_mut(|task| waker.poll(task.as_mut()).is_pending());
            let finished = tasks.len() < before;
            let mut shared = self.inner.tasks.lock().unwrap();
            let spawned = !shared.is_empty();
            tasks.append(&mut shared);
            *shared = tasks;
            if !finished && !spawned && !waker.is_woken() {
                return;
            }
        }
        panic!("the tasks never settled");
    }

    /// Moves the clock by `by`, then runs what became due.
    pub(crate) fn advance(&self, by: Duration) {
        *self.inner.now.lock().unwrap() += by;
        self.run();
    }
}
pub(crate) mod backends;
