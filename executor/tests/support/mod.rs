//! Helpers shared by the executor's integration tests: the three runtime
//! setups every panic, abort and shutdown test runs on, a minimal oneshot
//! channel (weft's own channels live in weft-primitives, which the executor
//! must not depend on), and drop counters.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use weft_executor::Runtime;

/// The setups: current-thread, one worker, four workers.
pub(crate) fn setups() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "current_thread",
            Runtime::builder().current_thread().build().unwrap(),
        ),
        (
            "one_worker",
            Runtime::builder().worker_threads(1).build().unwrap(),
        ),
        (
            "four_workers",
            Runtime::builder().worker_threads(4).build().unwrap(),
        ),
    ]
}

/// A one-shot channel: enough to hand a value between tasks and threads.
pub(crate) fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        closed: false,
    }));
    (Sender(shared.clone()), Receiver(shared))
}

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    closed: bool,
}

pub(crate) struct Sender<T>(Arc<Mutex<Slot<T>>>);
pub(crate) struct Receiver<T>(Arc<Mutex<Slot<T>>>);

impl<T> Sender<T> {
    pub(crate) fn send(self, value: T) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.closed = true;
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    /// `None` if the sender was dropped without sending.
    type Output = Option<T>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.0.lock().unwrap();
        if let Some(v) = slot.value.take() {
            return Poll::Ready(Some(v));
        }
        if slot.closed {
            return Poll::Ready(None);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Counts how many of its guards were dropped.
#[derive(Clone, Default)]
pub(crate) struct DropCounter(Arc<AtomicUsize>);

pub(crate) struct Guard(Arc<AtomicUsize>);

impl DropCounter {
    pub(crate) fn guard(&self) -> Guard {
        Guard(self.0.clone())
    }

    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that never completes, holding a guard.
pub(crate) async fn pending_with(guard: Guard) {
    let _guard = guard;
    std::future::pending::<()>().await;
}

/// An unbounded multi-producer channel, just enough for ping-pong tests.
pub(crate) fn channel<T>() -> (Tx<T>, Rx<T>) {
    let shared = Arc::new(Mutex::new(Queue {
        items: std::collections::VecDeque::new(),
        waker: None,
        senders: 1,
    }));
    (Tx(shared.clone()), Rx(shared))
}

struct Queue<T> {
    items: std::collections::VecDeque<T>,
    waker: Option<Waker>,
    senders: usize,
}

pub(crate) struct Tx<T>(Arc<Mutex<Queue<T>>>);
pub(crate) struct Rx<T>(Arc<Mutex<Queue<T>>>);

impl<T> Tx<T> {
    pub(crate) fn send(&self, value: T) {
        let waker = {
            let mut q = self.0.lock().unwrap();
            q.items.push_back(value);
            q.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Clone for Tx<T> {
    fn clone(&self) -> Self {
        self.0.lock().unwrap().senders += 1;
        Tx(self.0.clone())
    }
}

impl<T> Drop for Tx<T> {
    fn drop(&mut self) {
        let waker = {
            let mut q = self.0.lock().unwrap();
            q.senders -= 1;
            q.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Rx<T> {
    /// The next value, or `None` once every sender is gone and the queue is empty.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| {
            let mut q = self.0.lock().unwrap();
            if let Some(v) = q.items.pop_front() {
                return Poll::Ready(Some(v));
            }
            if q.senders == 0 {
                return Poll::Ready(None);
            }
            q.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}
