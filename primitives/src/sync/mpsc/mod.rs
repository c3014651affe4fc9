//! Multi-producer, single-consumer channels: bounded, with backpressure,
//! and unbounded.
//!
//! A [`channel`] holds at most `capacity` values: [`Sender::send`] waits
//! for room, which is how a fast producer is slowed to its consumer's pace.
//! An [`unbounded_channel`] never makes a sender wait, and grows instead.
//!
//! When every sender is gone, the receiver gets the values still buffered
//! and then `None`. When the receiver is gone (or [`Receiver::close`]d), a
//! send fails and gives its value back inside the error.
//!
//! # Cancel safety
//!
//! - [`Receiver::recv`] and [`Receiver::recv_many`] are cancel-safe: a
//!   dropped `recv` has taken nothing.
//! - [`Sender::send`] is cancel-safe in that dropping it loses its place in
//!   the queue for room and, if it had not sent yet, drops the value; it
//!   never leaks a slot. Use [`Sender::reserve`] to wait for room without
//!   handing the value over first.
//! - [`Sender::reserve`] and [`Sender::reserve_many`] are cancel-safe:
//!   dropped, they pass on any room handed to them meanwhile.
//!
//! # Cooperative scheduling
//!
//! Under weft, `recv`, `send` and the `reserve` family spend one unit of
//! the task's cooperative budget each time they complete, so a task
//! draining a channel that is never empty still lets the others run (see
//! [`coop`](crate::coop)); `try_*` methods never spend it. Under other
//! runtimes this costs nothing.
//!
//! # Examples
//!
//! ```
//! use weft::sync::mpsc;
//!
//! # weft::block_on(async {
//! let (tx, mut rx) = mpsc::channel(16);
//! for id in 0..3 {
//!     let tx = tx.clone();
//!     weft::spawn(async move { tx.send(id).await.unwrap() });
//! }
//! drop(tx);
//! let mut got = Vec::new();
//! while let Some(id) = rx.recv().await {
//!     got.push(id);
//! }
//! got.sort();
//! assert_eq!(got, [0, 1, 2]);
//! # });
//! ```

mod chan;
pub mod error;
mod futures;
mod permit;
mod receiver;
mod sender;

use self::chan::Chan;
pub use self::futures::{Closed, Reserve, SendFuture};
pub use self::permit::{OwnedPermit, Permit, PermitIterator};
use self::receiver::RxHalf;
pub use self::receiver::{Receiver, UnboundedReceiver};
pub use self::sender::{Sender, UnboundedSender};
use crate::loom::Arc;

/// The largest capacity of a bounded channel; a larger one is lowered to
/// it (the channel counts its slots in a word with one bit to spare).
pub const MAX_CAPACITY: usize = usize::MAX >> 2;

/// Creates a bounded channel holding at most `capacity` values; a capacity
/// of 0 is raised to 1, one above [`MAX_CAPACITY`] lowered to it.
///
/// # Examples
///
/// ```
/// use weft::sync::mpsc::{self, error::TrySendError};
///
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(capacity.clamp(1, MAX_CAPACITY)));
    (
        Sender {
            chan: Arc::clone(&chan),
        },
        Receiver {
            rx: RxHalf::new(chan),
        },
    )
}

/// Creates an unbounded channel: sends never wait.
///
/// # Examples
///
/// ```
/// use weft::sync::mpsc;
///
/// # weft::block_on(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.send("hello").unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some("hello"));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(usize::MAX));
    (
        UnboundedSender {
            chan: Arc::clone(&chan),
        },
        UnboundedReceiver {
            rx: RxHalf::new(chan),
        },
    )
}

#[cfg(all(test, not(loom)))]
mod tests;
