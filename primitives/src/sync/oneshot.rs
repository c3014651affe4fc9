//! A channel for one value, sent once.
//!
//! # Protocol
//!
//! Both ends share one allocation: a lock around the value slot, the
//! receiver's waker (stored while it waits for the value), the sender's
//! waker (stored while it waits in [`Sender::closed`]) and two flags, one
//! per end, set when that end is gone. Each end wakes the other's stored
//! waker after releasing the lock. Values are dropped outside the lock.

use crate::loom::{Arc, Mutex, lock};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Creates a one-value channel.
///
/// # Examples
///
/// ```
/// use weft_primitives::sync::oneshot;
///
/// # weft::block_on(async {
/// let (tx, rx) = oneshot::channel();
/// weft::spawn(async move { tx.send(7).unwrap() });
/// assert_eq!(rx.await, Ok(7));
///
/// // A sender dropped without sending closes the channel.
/// let (tx, rx) = oneshot::channel::<u32>();
/// drop(tx);
/// assert!(rx.await.is_err());
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        value: None,
        rx_waker: None,
        tx_waker: None,
        tx_gone: false,
        rx_closed: false,
    }));
    (
        Sender {
            shared: Some(Arc::clone(&shared)),
        },
        Receiver { shared },
    )
}

/// The errors of a oneshot channel.
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending a value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(pub(crate) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the sender was dropped without sending")
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
    /// value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender may still send one.
        Empty,
        /// The sender was dropped without sending, or the value was taken.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("no value sent yet"),
                TryRecvError::Closed => f.write_str("the channel is closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use self::error::{RecvError, TryRecvError};

struct State<T> {
    value: Option<T>,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
    /// The sender sent or was dropped: no value will come after this.
    tx_gone: bool,
    /// The receiver closed or was dropped: a send will fail.
    rx_closed: bool,
}

/// Stores `waker` in `slot`, cloning only if it wakes a different task.
fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Sends the channel's one value.
pub struct Sender<T> {
    /// `None` once the value is sent.
    shared: Option<Arc<Mutex<State<T>>>>,
}

/// Receives the channel's one value: a future of `Result<T, RecvError>`.
///
/// # Cancel safety
///
/// Awaiting `&mut receiver` inside a `select` and dropping that future
/// loses nothing: the value stays in the channel for the next poll.
pub struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    ///
    /// Gives `value` back if the receiver was dropped or closed.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let shared = self.shared.take().expect("a sender sends once");
        let mut state = lock(&shared);
        if state.rx_closed {
            return Err(value);
        }
        state.value = Some(value);
        state.tx_gone = true;
        let waker = state.rx_waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True if the receiver was dropped or closed: a send would fail.
    pub fn is_closed(&self) -> bool {
        self.shared.as_ref().is_none_or(|s| lock(s).rx_closed)
    }

    /// Completes when the receiver is dropped or closed; useful to stop
    /// computing a value nobody will read.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it changes nothing.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await;
    }

    /// The poll form of [`closed`](Sender::closed).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(shared) = &self.shared else {
            return Poll::Ready(());
        };
        let mut state = lock(shared);
        if state.rx_closed {
            Poll::Ready(())
        } else {
            store(&mut state.tx_waker, cx.waker());
            Poll::Pending
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let mut state = lock(&shared);
        state.tx_gone = true;
        let waker = state.rx_waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] while the sender may still send;
    /// [`TryRecvError::Closed`] once it cannot (or the value was taken).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.shared);
        match state.value.take() {
            Some(value) => Ok(value),
            None if state.tx_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Closes the channel: a later send fails and [`Sender::closed`]
    /// completes. A value sent before stays receivable.
    pub fn close(&mut self) {
        let mut state = lock(&self.shared);
        state.rx_closed = true;
        let waker = state.tx_waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Blocks the thread until the value arrives; for synchronous code.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Panics
    ///
    /// Never by itself; it must not be called inside an async task, where
    /// it would block a worker thread.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::util::block_on(self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let mut state = lock(&self.shared);
        if let Some(value) = state.value.take() {
            return Poll::Ready(Ok(value));
        }
        if state.tx_gone {
            return Poll::Ready(Err(RecvError(())));
        }
        store(&mut state.rx_waker, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.rx_closed = true;
        let waker = state.tx_waker.take();
        let value = state.value.take();
        drop(state);
        // The value's destructor is user code: run it without the lock.
        drop(value);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared);
        f.debug_struct("Receiver")
            .field("has_value", &state.value.is_some())
            .field("sender_gone", &state.tx_gone)
            .finish()
    }
}
