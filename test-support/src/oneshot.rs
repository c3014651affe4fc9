//! A one-shot channel written out here, so that tests of a runtime or a
//! channel depend on no channel of the code they test.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A one-shot channel that a plain thread can send on.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new((None, None::<Waker>)));
    (Sender(slot.clone()), Receiver(slot))
}

/// Sends the one value.
#[derive(Debug)]
pub struct Sender<T>(Arc<Mutex<(Option<T>, Option<Waker>)>>);

/// Waits for the one value.
#[derive(Debug)]
pub struct Receiver<T>(Arc<Mutex<(Option<T>, Option<Waker>)>>);

impl<T> Sender<T> {
    /// Stores `value` and wakes the receiver.
    pub fn send(self, value: T) {
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
