//! Helpers for the facade's integration tests.

#![allow(dead_code)]

pub(crate) mod any_runtime;
pub(crate) mod promise_cases;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

// ANCHOR: paused-runtimes
/// A current-thread runtime with the clock paused from the start.
pub(crate) fn paused_current_thread() -> weft::Runtime {
    weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Both flavours, with the clock paused from the start.
pub(crate) fn paused_runtimes() -> Vec<(&'static str, weft::Runtime)> {
    vec![
        ("current_thread", paused_current_thread()),
        (
            "multi_thread",
            weft::Runtime::builder()
                .worker_threads(2)
                .start_paused(true)
                .build()
                .unwrap(),
        ),
    ]
}
// ANCHOR_END: paused-runtimes

/// Both flavours, on real time.
pub(crate) fn runtimes() -> Vec<(&'static str, weft::Runtime)> {
    vec![
        (
            "current_thread",
            weft::Runtime::builder().current_thread().build().unwrap(),
        ),
        (
            "multi_thread",
            weft::Runtime::builder().worker_threads(2).build().unwrap(),
        ),
    ]
}

/// A one-shot channel that a plain thread can send on, written out here so
/// the runtime-conformance tests depend on no channel of the runtimes they
/// test.
pub(crate) fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new((None, None::<Waker>)));
    (Sender(slot.clone()), Receiver(slot))
}

pub(crate) struct Sender<T>(Arc<Mutex<(Option<T>, Option<Waker>)>>);
pub(crate) struct Receiver<T>(Arc<Mutex<(Option<T>, Option<Waker>)>>);

impl<T> Sender<T> {
    pub(crate) fn send(self, value: T) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.0 = Some(value);
            slot.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap();
        match slot.0.take() {
            Some(value) => Poll::Ready(value),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A deterministic pseudo-random sequence (xorshift64).
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
