//! A channel for one value, sent once.
//!
//! # Protocol
//!
//! Both ends share one allocation: a state word and three cells, the value,
//! the receiver's waker and the sender's waker. Each cell has one owner at
//! a time, and the state word says who:
//!
//! - `value` belongs to the sender until it publishes it by setting
//!   `COMPLETE | VALUE` in one compare-and-swap that fails if `CLOSED` is
//!   set; from then on it belongs to the receiver. If the receiver closed
//!   first, the value was never published and the sender takes it back.
//! - `rx_waker` belongs to the receiver while `RX_WAKER_SET` is clear; the
//!   receiver writes it, then sets the bit. While the bit is set the sender
//!   may read it (to wake it once it completes), so the receiver clears the
//!   bit before writing again, and gives up (the value is there) if the
//!   clear shows `COMPLETE`.
//! - `tx_waker` is the mirror image, for [`Sender::closed`]: the sender's
//!   while `TX_WAKER_SET` is clear, readable by the receiver while it is
//!   set; `CLOSED` plays the part of `COMPLETE`.
//!
//! Every read-modify-write of the state is acquire-release, so a cell's
//! writes happen before the reads of whoever the state hands it to. The
//! cells are dropped with the allocation, when both ends are gone.

use crate::loom::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use crate::loom::{Arc, UnsafeCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

/// Creates a one-value channel.
///
/// # Examples
///
/// ```
/// use weft::sync::oneshot;
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
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(Arc::clone(&inner)),
        },
        Receiver {
            inner,
            terminated: false,
        },
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

/// The receiver's waker is in `rx_waker`.
const RX_WAKER_SET: usize = 1;
/// The sender's waker is in `tx_waker`.
const TX_WAKER_SET: usize = 1 << 1;
/// The sender is done: it sent, or it was dropped.
const COMPLETE: usize = 1 << 2;
/// A value was published (always together with `COMPLETE`).
const VALUE: usize = 1 << 3;
/// The receiver closed the channel or was dropped.
const CLOSED: usize = 1 << 4;

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are handed between the two ends by the state word
// (module protocol), so sharing `Inner` shares no cell without ownership:
// the value moves between threads (`T: Send`), never shared.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Which waker cell an operation is about.
#[derive(Clone, Copy)]
enum Side {
    Rx,
    Tx,
}

impl Side {
    /// The bit saying this side's waker is stored.
    fn set_bit(self) -> usize {
        match self {
            Side::Rx => RX_WAKER_SET,
            Side::Tx => TX_WAKER_SET,
        }
    }

    /// The bit after which this side stops waiting (and the other end may
    /// be reading the stored waker).
    fn done_bit(self) -> usize {
        match self {
            Side::Rx => COMPLETE,
            Side::Tx => CLOSED,
        }
    }
}

impl<T> Inner<T> {
    fn waker_cell(&self, side: Side) -> &UnsafeCell<Option<Waker>> {
        match side {
            Side::Rx => &self.rx_waker,
            Side::Tx => &self.tx_waker,
        }
    }

    /// Stores `waker` for `side` unless that side's wait is over. Returns
    /// true if the caller should stop waiting.
    fn register(&self, side: Side, waker: &Waker) -> bool {
        let (set, done) = (side.set_bit(), side.done_bit());
        let cell = self.waker_cell(side);
        let state = self.state.load(Acquire);
        if state & done != 0 {
            return true;
        }
        if state & set != 0 {
            // SAFETY: with the bit set the other end may only read the
            // cell; reading it here too is shared access.
            let same = cell.with(|w| unsafe { (*w).as_ref() }.is_some_and(|w| w.will_wake(waker)));
            if same {
                return false;
            }
            // Take the cell back before writing it.
            let prev = self.state.fetch_and(!set, AcqRel);
            if prev & done != 0 {
                // The other end may be reading it: leave it, and the bit.
                self.state.fetch_or(set, AcqRel);
                return true;
            }
        }
        // SAFETY: the bit is clear, so this end owns the cell (protocol).
        let displaced = cell.with_mut(|w| unsafe { (*w).replace(waker.clone()) });
        let prev = self.state.fetch_or(set, AcqRel);
        // User code (a waker's drop may use this channel), run once the
        // cell is published and no longer borrowed.
        drop(displaced);
        prev & done != 0
    }

    /// Wakes `side`'s stored waker, if `prev` (the state before the caller
    /// set its own done bit) says one is stored.
    fn wake(&self, side: Side, prev: usize) {
        if prev & side.set_bit() != 0 {
            let cell = self.waker_cell(side);
            // SAFETY: the bit was set when the done bit went in, so the
            // waker is written and the other end will not write it again
            // (protocol): shared access.
            let waker = cell.with(|w| unsafe { (*w).as_ref() });
            if let Some(waker) = waker {
                waker.wake_by_ref();
            }
        }
    }

    /// Sets `CLOSED` and wakes a sender waiting in `closed()`; returns the
    /// state before.
    fn close(&self) -> usize {
        let prev = self.state.fetch_or(CLOSED, AcqRel);
        if prev & COMPLETE == 0 {
            self.wake(Side::Tx, prev);
        }
        prev
    }

    /// Takes the published value. Only the receiver calls this, after it
    /// saw `VALUE`.
    fn take_value(&self) -> Option<T> {
        // SAFETY: `VALUE` is set, so the receiver (the only caller, through
        // `&mut`) owns the value cell.
        self.value.with_mut(|v| unsafe { (*v).take() })
    }
}

/// Sends the channel's one value.
pub struct Sender<T> {
    /// `None` once the value is sent.
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the channel's one value: a future of `Result<T, RecvError>`.
///
/// # Cancel safety
///
/// Awaiting `&mut receiver` inside a `select` and dropping that future
/// loses nothing: the value stays in the channel for the next poll.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// It has returned its outcome: the value, or that none will come.
    terminated: bool,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    ///
    /// Gives `value` back if the receiver was dropped or closed.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let Some(inner) = self.inner.take() else {
            return Err(value);
        };
        // SAFETY: `VALUE` is not set, so the sender owns the value cell.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        let mut state = inner.state.load(Acquire);
        loop {
            if state & CLOSED != 0 {
                // SAFETY: never published: still the sender's cell.
                let value = inner.value.with_mut(|v| unsafe { (*v).take() });
                inner.state.fetch_or(COMPLETE, AcqRel);
                return Err(value.expect("the value was stored above"));
            }
            match inner
                .state
                .compare_exchange_weak(state, state | COMPLETE | VALUE, AcqRel, Acquire)
            {
                Ok(prev) => {
                    inner.wake(Side::Rx, prev);
                    return Ok(());
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// True if the receiver was dropped or closed: a send would fail.
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.state.load(Acquire) & CLOSED != 0)
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
        match &self.inner {
            Some(inner) if !inner.register(Side::Tx, cx.waker()) => Poll::Pending,
            _ => Poll::Ready(()),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let prev = inner.state.fetch_or(COMPLETE, AcqRel);
            inner.wake(Side::Rx, prev);
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] while the sender may still send;
    /// [`TryRecvError::Closed`] once it cannot (it was dropped, the
    /// receiver closed the channel, or the value was taken).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let state = self.inner.state.load(Acquire);
        let result = if state & VALUE != 0 {
            self.inner.take_value().ok_or(TryRecvError::Closed)
        } else if state & (COMPLETE | CLOSED) != 0 {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        };
        if !matches!(result, Err(TryRecvError::Empty)) {
            self.terminated = true;
        }
        result
    }

    /// True once this receiver has returned its outcome, from a poll or
    /// [`try_recv`](Receiver::try_recv): the value, or that none will
    /// come. Polling it again then returns [`RecvError`] (where tokio's
    /// panics), so check this before polling a receiver that may be done,
    /// as in a `select` loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::oneshot;
    ///
    /// # weft::block_on(async {
    /// let (tx, mut rx) = oneshot::channel();
    /// assert!(!rx.is_terminated());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_terminated(), "sent, not yet received");
    /// assert_eq!((&mut rx).await, Ok(1));
    /// assert!(rx.is_terminated());
    /// # });
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// True if no value waits in the channel: none was sent yet, the sender
    /// is gone without sending, or the value was received. Unlike
    /// [`is_terminated`](Receiver::is_terminated), this does not say
    /// whether polling is still useful.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send("v").unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok("v"));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.terminated || self.inner.state.load(Acquire) & VALUE == 0
    }

    /// Closes the channel: a later send fails and [`Sender::closed`]
    /// completes. A value sent before stays receivable.
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// Blocks the thread until the value arrives; for synchronous code.
    ///
    /// Unlike tokio's, this never panics inside an async context (weft's
    /// primitives do not know the runtime): there it blocks the worker
    /// thread, and can deadlock. Call it from plain threads only.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok(3));
    /// ```
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::util::block_on(self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self.get_mut();
        let coop = ready!(crate::coop::poll_proceed(cx));
        loop {
            match this.try_recv() {
                Ok(value) => {
                    coop.made_progress();
                    return Poll::Ready(Ok(value));
                }
                Err(TryRecvError::Closed) => {
                    coop.made_progress();
                    return Poll::Ready(Err(RecvError(())));
                }
                Err(TryRecvError::Empty) => {}
            }
            if !this.inner.register(Side::Rx, cx.waker()) {
                return Poll::Pending;
            }
            // The sender completed meanwhile: look again.
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let state = self.inner.state.load(Acquire);
        // A complete sender is gone for good: nobody is left to tell.
        let prev = if state & COMPLETE != 0 {
            state
        } else {
            self.inner.close()
        };
        if prev & VALUE != 0 {
            // Drop an unreceived value now rather than with the last Arc.
            drop(self.inner.take_value());
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
        let state = self.inner.state.load(Acquire);
        f.debug_struct("Receiver")
            .field("has_value", &(state & VALUE != 0))
            .field("sender_gone", &(state & COMPLETE != 0))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_support::{counter, wakes};

    #[test]
    fn each_end_wakes_the_other_once() {
        let (count, waker) = counter();
        let mut cx = Context::from_waker(&waker);
        let (tx, mut rx) = channel::<String>();
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        // Polling again with the same waker stores nothing new.
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        tx.send("v".into()).unwrap();
        assert_eq!(wakes(&count), 1);
        assert_eq!(Pin::new(&mut rx).poll(&mut cx), Poll::Ready(Ok("v".into())));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

        let (mut tx, rx) = channel::<u8>();
        assert!(tx.poll_closed(&mut cx).is_pending());
        drop(rx);
        assert_eq!(wakes(&count), 2);
        assert!(tx.poll_closed(&mut cx).is_ready());
        assert_eq!(tx.send(1), Err(1));
    }

    #[test]
    fn a_waker_replaced_before_the_send_is_the_one_woken() {
        let (first, w1) = counter();
        let (second, w2) = counter();
        let (tx, mut rx) = channel::<u8>();
        assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&w1)).is_pending());
        assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&w2)).is_pending());
        tx.send(4).unwrap();
        assert_eq!((wakes(&first), wakes(&second)), (0, 1));
        assert_eq!(rx.try_recv(), Ok(4));
    }

    #[test]
    fn values_are_dropped_exactly_once() {
        let value = std::sync::Arc::new(());
        // Sent, never received: dropped with the receiver.
        let (tx, rx) = channel();
        tx.send(value.clone()).unwrap();
        drop(rx);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
        // Sent after the close: given back.
        let (tx, mut rx) = channel();
        rx.close();
        let back = tx.send(value.clone()).unwrap_err();
        drop(back);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
        // Sent and received on another thread.
        let (tx, rx) = channel();
        let v = value.clone();
        std::thread::spawn(move || tx.send(v).unwrap()).join().unwrap();
        drop(rx.blocking_recv().unwrap());
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }
}
