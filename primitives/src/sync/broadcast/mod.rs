//! A multi-producer, multi-consumer channel in which every receiver sees
//! every value.
//!
//! Where [`mpsc`](super::mpsc) gives each value to one consumer, a
//! broadcast [`channel`] gives a clone of each value to every [`Receiver`]
//! subscribed when it was sent; where [`watch`](super::watch) keeps only
//! the latest value, a broadcast channel keeps the last `capacity` values,
//! so a receiver that reads them in time misses none.
//!
//! Senders never wait. When a value arrives at a full channel, the oldest
//! one is dropped: a receiver that had not read it yet has *lagged*, and its
//! next [`recv`](Receiver::recv) says how many values it missed with
//! [`RecvError::Lagged`](error::RecvError::Lagged), then goes on from the oldest value still kept.
//!
//! A [`send`](Sender::send) fails, giving the value back, when no receiver
//! is subscribed. Once every sender is gone, each receiver gets what it has
//! not read yet and then [`RecvError::Closed`](error::RecvError::Closed).
//!
//! Like everything in [`sync`](super), this channel is runtime-agnostic: it
//! only stores and wakes `Waker`s.
//!
//! # Memory
//!
//! A value is dropped as soon as every receiver that was subscribed when it
//! was sent has read it, skipped it by lagging, or been dropped; the last
//! one to read it gets it by move rather than by clone. So a channel with
//! one receiver never clones, and dropping the last receiver frees every
//! value at once. Receivers subscribed later never see older values.
//!
//! # Cancel safety
//!
//! [`Receiver::recv`] and [`Sender::closed`] are cancel-safe: a dropped
//! `recv` has taken no value, and the next one reads where it would have.
//!
//! # Examples
//!
//! ```
//! use weft::sync::broadcast;
//!
//! # weft::block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//!
//! let first = weft::spawn(async move {
//!     (rx1.recv().await.unwrap(), rx1.recv().await.unwrap())
//! });
//! let second = weft::spawn(async move {
//!     (rx2.recv().await.unwrap(), rx2.recv().await.unwrap())
//! });
//!
//! tx.send(10).unwrap();
//! tx.send(20).unwrap();
//! assert_eq!(first.await.unwrap(), (10, 20));
//! assert_eq!(second.await.unwrap(), (10, 20));
//! # });
//! ```
//!
//! # Protocol
//!
//! One lock guards the whole channel: the ring of kept values, the sequence
//! number the next value will get, the sender and receiver counts, and two
//! FIFO wait lists, receivers registered to hear of the next value and
//! senders waiting in `closed()`. Each receiver keeps its cursor (the
//! sequence number it reads next) in its own handle, which only its owner
//! touches.
//!
//! Sequence numbers are contiguous: the ring holds the values numbered
//! `head..next`, with `head = next - ring.len()`, and never more than
//! `capacity` of them. Each slot counts the receivers that still have to
//! read it (`rem`): those subscribed when it was sent whose cursor has not
//! passed it. A receiver subscribed when a slot was sent is subscribed for
//! every later one, so `rem` never decreases from the front of the ring to
//! its back; and a slot is popped the moment its count reaches zero. Hence
//! every slot in the ring has `rem >= 1`, and the slot whose count reaches
//! zero is always the front one: its last reader pops it and takes the value
//! by move. A dropped receiver takes itself off the count of every slot it
//! had not read, so it leaves nothing behind.
//!
//! A receiver whose cursor is below `head` has lagged: it moves its cursor
//! to `head` and reports how far it jumped.
//!
//! ## Waiting: one lock trip per value
//!
//! A receiver *registers* in the wait list only when its cursor equals
//! `next` and a sender remains; every `send` and the last sender's drop
//! unlink all registrations, so a linked one knows that nothing it could
//! read has happened since. A receiver keeps its registration in its own
//! handle, beside the identity of the waker stored in it (not a clone, so
//! that an idle receiver does not keep a task or a runtime alive through
//! its handle) and an `armed` flag that it shares with the list node. The
//! node itself holds a clone until the next send unlinks it.
//!
//! A `recv` that reads the last value there registers at once, *unarmed*,
//! under the lock it already holds; the next `recv` then only arms the
//! flag and checks `tail`, an atomic
//! copy of `next` (shifted left, with the low bit set once the senders are
//! gone, both stored under the lock before any wake). If `tail` has not
//! moved, the registration is still linked and the `recv` waits without
//! the lock. A send wakes only armed registrations: a receiver busy
//! elsewhere between two `recv`s is unlinked, not woken, and finds `tail`
//! moved when it comes back. The flag and `tail` are both `SeqCst`, so a
//! send that moves `tail` before the receiver's check sees the flag set and
//! wakes it. A dropped waiting `recv` only disarms. So a receive loop takes
//! the lock once per value instead of twice (the loom models in
//! `sync/tests/loom_broadcast.rs` race the lock-free wait against a send,
//! the last sender's drop and a cancel).
//!
//! Wakers are woken, displaced wakers dropped (a waker's drop may call back
//! into the channel), and evicted values dropped, after the lock is
//! released. The one piece of user code run under the lock is `T::clone`,
//! for a receiver that is not a value's last reader; it runs before any
//! state changes, so if it panics the state is still consistent (the crate
//! ignores lock poisoning). A `Clone` impl that used this same channel
//! would deadlock.

use crate::loom::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use crate::loom::{Arc, Mutex, MutexGuard, lock};
use crate::util::Wakers;
use crate::util::wait_list::{self, Key, WaitList};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

pub mod error;
mod receiver;
#[cfg(all(test, not(loom)))]
mod tests;

pub use self::receiver::{Receiver, Recv};

use self::error::{SendError, TryRecvError};

/// Creates a broadcast channel that keeps the last `capacity` values; a
/// capacity of 0 is raised to 1. The capacity is exact, not rounded.
///
/// # Examples
///
/// ```
/// use weft::sync::broadcast::{self, error::TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel(2);
/// for i in 0..5 {
///     tx.send(i).unwrap();
/// }
/// // Only the last two values were kept.
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
/// assert_eq!(rx.try_recv(), Ok(3));
/// assert_eq!(rx.try_recv(), Ok(4));
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// What a registered receiver checks without the lock to know it still
    /// waits: `State::next` shifted left by one, with the low bit set once
    /// every sender is gone. Stored only under the lock, before the
    /// waiters are woken.
    tail: AtomicU64,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    /// Publishes `state`'s sequence number and closed bit to `tail`.
    fn publish_tail(&self, state: &State<T>) {
        let closed = u64::from(state.senders == 0);
        self.tail.store(state.next << 1 | closed, SeqCst);
    }
}

/// Which waker a registration holds, compared as [`Waker::will_wake`]
/// compares two wakers (the same data pointer and vtable), without a clone
/// that would keep the waker's task alive. While the registration is linked
/// (`tail` unmoved), its node holds a clone of that waker, so the data
/// pointer cannot have been freed and reused by another waker; once it is
/// unlinked, `tail` has moved and the identity is not relied on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct WakerId {
    data: usize,
    vtable: usize,
}

impl WakerId {
    fn of(waker: &Waker) -> WakerId {
        WakerId {
            data: waker.data().addr(),
            vtable: std::ptr::from_ref(waker.vtable()).addr(),
        }
    }
}

/// Unlinks every registered receiver and, once the lock is released, wakes
/// those whose `recv` is waiting (armed). A receiver registered ahead of
/// its next `recv` is only unlinked: it will see `tail` move.
fn wake_receivers<T>(mut state: MutexGuard<'_, State<T>>) {
    let mut wakers = Wakers::new();
    // Dropped, not woken, once the lock is released.
    let mut unarmed = Wakers::new();
    loop {
        let mut armed = false;
        let popped = state
            .recv_waiters
            .pop_front(|flag| armed = flag.swap(false, SeqCst));
        match popped {
            Some(waker) if armed => wakers.push(waker),
            Some(waker) => unarmed.push(waker),
            None => break,
        }
    }
    drop(state);
    wakers.wake_all();
    drop(unarmed);
}

struct State<T> {
    /// The values numbered `head()..next`.
    ring: VecDeque<Slot<T>>,
    capacity: usize,
    /// The sequence number of the next value sent.
    next: u64,
    senders: usize,
    receivers: usize,
    /// Registered receivers, each with its `armed` flag.
    recv_waiters: WaitList<Arc<AtomicBool>>,
    /// Senders waiting in `closed()`.
    closed_waiters: WaitList<()>,
}

struct Slot<T> {
    value: T,
    /// Receivers that still have to read this value; always at least 1.
    rem: usize,
}

impl<T> State<T> {
    fn head(&self) -> u64 {
        self.next - self.ring.len() as u64
    }

    /// Registers a new receiver, which reads from the next value sent.
    fn subscribe(&mut self) -> u64 {
        self.receivers += 1;
        self.next
    }

    /// What the receiver at `cursor` gets now; moves the cursor past it.
    fn read(&mut self, cursor: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let head = self.head();
        if *cursor < head {
            let missed = head - *cursor;
            *cursor = head;
            return Err(TryRecvError::Lagged(missed));
        }
        if *cursor == self.next {
            return Err(if self.senders == 0 {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let index = (*cursor - head) as usize;
        let value = if index == 0 && self.ring[0].rem == 1 {
            // The last reader takes the value.
            self.ring.pop_front().expect("the cursor's slot exists").value
        } else {
            // Not the last reader (a slot with one reader left is the
            // front: see the protocol).
            let slot = &mut self.ring[index];
            debug_assert!(slot.rem > 1);
            // User code; nothing has changed yet if it panics.
            let value = slot.value.clone();
            slot.rem -= 1;
            value
        };
        *cursor += 1;
        Ok(value)
    }

    /// Registers a receiver (its `waiting` and `armed`) to hear of the next
    /// send or the last sender's drop, which wakes `waker` if `arm` (a
    /// `recv` waits) or the flag is set by then. Only for a receiver that
    /// has read everything while a sender remains.
    fn register(
        &mut self,
        waiting: &mut Option<(Key, WakerId)>,
        armed: &Arc<AtomicBool>,
        waker: &Waker,
        arm: bool,
    ) {
        debug_assert!(waiting.is_none() && self.senders > 0);
        armed.store(arm, SeqCst);
        let key = self.recv_waiters.push_back(waker, Arc::clone(armed));
        *waiting = Some((key, WakerId::of(waker)));
    }

    /// Drops a receiver's registration, if it has one; returns the waker
    /// it held, to drop once the lock is released.
    #[must_use = "drop the waker after releasing the lock"]
    fn unregister(&mut self, waiting: &mut Option<(Key, WakerId)>) -> Option<Waker> {
        let (key, _) = waiting.take()?;
        self.recv_waiters.remove(key).waker
    }

    /// Takes a departing receiver at `cursor` off every count it is on, and
    /// returns the values nobody has to read any more.
    fn unsubscribe(&mut self, cursor: u64) -> Vec<Slot<T>> {
        self.receivers -= 1;
        let head = self.head();
        let unread = (cursor.max(head) - head) as usize;
        for slot in self.ring.range_mut(unread..) {
            slot.rem -= 1;
        }
        // Those are a prefix of the ring: see the protocol.
        let done = self.ring.iter().take_while(|slot| slot.rem == 0).count();
        debug_assert!(self.receivers > 0 || done == self.ring.len());
        self.ring.drain(..done).collect()
    }
}

/// Sends values to every subscribed receiver. Cloning makes another sender.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Creates a broadcast channel with no receiver yet, keeping the last
    /// `capacity` values (a capacity of 0 is raised to 1, where tokio's
    /// panics). Sends fail until [`subscribe`](Sender::subscribe) makes a
    /// receiver; each receiver gets what is sent after it subscribed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::broadcast;
    ///
    /// let tx = broadcast::Sender::new(8);
    /// assert!(tx.send("nobody listens").is_err());
    /// let mut rx = tx.subscribe();
    /// tx.send("hello").unwrap();
    /// assert_eq!(rx.try_recv(), Ok("hello"));
    /// ```
    pub fn new(capacity: usize) -> Sender<T> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ring: VecDeque::new(),
                capacity: capacity.max(1),
                next: 0,
                senders: 1,
                receivers: 0,
                recv_waiters: WaitList::new(),
                closed_waiters: WaitList::new(),
            }),
            tail: AtomicU64::new(0),
        });
        Sender { shared }
    }

    /// Sends `value` to every receiver subscribed now, and returns how many
    /// that is. It never waits: on a full channel the oldest value is
    /// dropped, and receivers that had not read it will see
    /// [`RecvError::Lagged`](error::RecvError::Lagged).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if no receiver is subscribed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(4);
    /// let _rx2 = rx.resubscribe();
    /// assert_eq!(tx.send("hi").unwrap(), 2);
    /// drop((rx, _rx2));
    /// assert_eq!(tx.send("bye").unwrap_err().0, "bye");
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut state = self.shared.lock();
        if state.receivers == 0 {
            return Err(SendError(value));
        }
        let evicted = if state.ring.len() == state.capacity {
            state.ring.pop_front()
        } else {
            None
        };
        let receivers = state.receivers;
        state.ring.push_back(Slot {
            value,
            rem: receivers,
        });
        state.next += 1;
        self.shared.publish_tail(&state);
        wake_receivers(state);
        // User code, after the lock.
        drop(evicted);
        Ok(receivers)
    }

    /// A new receiver, which gets every value sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::new(&self.shared)
    }

    /// How many receivers are subscribed now.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// How many values are kept now: sent, and not yet read by every
    /// receiver that has to read them (at most the capacity).
    pub fn len(&self) -> usize {
        self.shared.lock().ring.len()
    }

    /// True if no value is kept now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if both senders feed the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Completes once no receiver is subscribed. If one subscribes again
    /// before this future sees the count at zero, it goes on waiting.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::broadcast;
    ///
    /// # weft::block_on(async {
    /// let (tx, rx) = broadcast::channel::<u32>(4);
    /// weft::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert_eq!(tx.receiver_count(), 0);
    /// # });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: &self.shared,
            key: None,
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.lock().senders += 1;
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        if state.senders == 0 {
            // Waiting receivers have read everything: they see `Closed`.
            self.shared.publish_tail(&state);
            wake_receivers(state);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Sender")
            .field("kept", &state.ring.len())
            .field("capacity", &state.capacity)
            .field("receivers", &state.receivers)
            .finish()
    }
}

// Alike but for its `State` to watch's `Closed` (a `duplicates` pair,
// left): a public type per channel, its waiting in `wait_list::poll_until`.
/// The future of [`Sender::closed`].
#[must_use = "futures do nothing unless polled"]
pub struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<Key>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let state = this.shared.lock();
        let list: fn(&mut State<T>) -> &mut WaitList<()> = |s| &mut s.closed_waiters;
        wait_list::poll_until(state, list, |s| s.receivers == 0, &mut this.key, cx.waker())
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            wait_list::forget(self.shared.lock(), |s| &mut s.closed_waiters, key);
        }
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
