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
//! [`RecvError::Lagged`], then goes on from the oldest value still kept.
//!
//! A [`send`](Sender::send) fails, giving the value back, when no receiver
//! is subscribed. Once every sender is gone, each receiver gets what it has
//! not read yet and then [`RecvError::Closed`].
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
//! use weft_primitives::sync::broadcast;
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
use crate::util::wait_list::wake_all;
use crate::util::wait_list::{Key, WaitList};
use crate::util::{Wakers, unlock_then_drop};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

/// The errors of a broadcast channel.
pub mod error {
    use std::fmt;

    /// No receiver is subscribed: the value comes back.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct SendError<T>(pub T);

    impl<T> SendError<T> {
        /// The value that was not sent.
        pub fn into_inner(self) -> T {
            self.0
        }
    }

    // Debug and Display name the failure without requiring `T: Debug`.
    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("SendError(..)")
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("no receiver is subscribed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Why [`Receiver::recv`](super::Receiver::recv) returned no value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RecvError {
        /// Every sender is gone and this receiver has read everything.
        Closed,
        /// The receiver fell behind and missed this many values; the next
        /// receive returns the oldest value still kept.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("the channel is closed"),
                RecvError::Lagged(n) => write!(f, "the receiver lagged and missed {n} values"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
    /// value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// Nothing new for this receiver; senders remain.
        Empty,
        /// Every sender is gone and this receiver has read everything.
        Closed,
        /// The receiver fell behind and missed this many values; the next
        /// receive returns the oldest value still kept.
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("the channel is empty"),
                TryRecvError::Closed => f.write_str("the channel is closed"),
                TryRecvError::Lagged(n) => {
                    write!(f, "the receiver lagged and missed {n} values")
                }
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use self::error::{RecvError, SendError, TryRecvError};

/// Creates a broadcast channel that keeps the last `capacity` values; a
/// capacity of 0 is raised to 1. The capacity is exact, not rounded.
///
/// # Examples
///
/// ```
/// use weft_primitives::sync::broadcast::{self, error::TryRecvError};
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

/// Receives every value sent after it subscribed.
///
/// Make more receivers with [`Sender::subscribe`] or
/// [`Receiver::resubscribe`].
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The sequence number this receiver reads next.
    next: u64,
    /// Registered to hear of the next send (or the last sender's drop): the
    /// key in `recv_waiters`, and which waker is stored there. Made only
    /// under the lock, when this receiver had read everything, so while
    /// `tail` still equals `next << 1` the registration is still linked.
    waiting: Option<(Key, WakerId)>,
    /// Set while a `recv` waits on the registration: only then does a send
    /// wake the stored waker. Shared with the registration's node.
    armed: Arc<AtomicBool>,
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
    /// use weft_primitives::sync::broadcast;
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
    /// [`RecvError::Lagged`].
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if no receiver is subscribed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_primitives::sync::broadcast;
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
    /// use weft_primitives::sync::broadcast;
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

impl<T: Clone> Receiver<T> {
    /// Receives the next value, waiting for one if this receiver has read
    /// everything.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] once if this receiver fell more than the
    /// capacity behind (the next call returns the oldest value kept);
    /// [`RecvError::Closed`] once every sender is gone and everything kept
    /// for this receiver was read.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `recv` has taken no value, and the next call
    /// reads where it would have.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            rx: self,
            pending: false,
        }
    }

    /// Receives the next value if there is one now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing new was sent; otherwise as for
    /// [`recv`](Receiver::recv).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.shared.lock();
        let displaced = state.unregister(&mut self.waiting);
        let result = state.read(&mut self.next);
        unlock_then_drop(state, displaced);
        result
    }

    /// Blocks the thread for the next value; for synchronous code, never
    /// inside an async task.
    ///
    /// # Errors
    ///
    /// As for [`recv`](Receiver::recv).
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::util::block_on(self.recv())
    }
}

impl<T> Receiver<T> {
    /// A new receiver on the same channel, which gets every value sent from
    /// now on (not those this one has yet to read).
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::new(&self.shared)
    }

    /// A receiver that sees what is sent from now on.
    fn new(shared: &Arc<Shared<T>>) -> Receiver<T> {
        let next = shared.lock().subscribe();
        Receiver {
            shared: Arc::clone(shared),
            next,
            waiting: None,
            armed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// How many values were sent that this receiver has not read yet,
    /// counting those it lagged past.
    pub fn len(&self) -> usize {
        let sent = self.shared.lock().next;
        usize::try_from(sent - self.next).unwrap_or(usize::MAX)
    }

    /// True if this receiver has read every value sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if both receivers listen to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        let displaced = state.unregister(&mut self.waiting);
        let freed = state.unsubscribe(self.next);
        if state.receivers == 0 {
            wake_all(state, |s| &mut s.closed_waiters);
        } else {
            drop(state);
        }
        // User code, after the lock.
        drop(displaced);
        drop(freed);
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

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .field("registered", &self.waiting.is_some())
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    /// Its last poll returned `Pending`: the receiver's registration is
    /// this future's, to withdraw if it is dropped.
    pending: bool,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = ready!(crate::coop::poll_proceed(cx));
        let rx = &mut *this.rx;
        // Registered by an earlier poll for the same task: arm, then look.
        // A send that moved `tail` before this load also sees the flag set
        // (both are SeqCst) and wakes the task; if `tail` has not moved,
        // the next send will. Either way there is nothing to lock for.
        if let Some((_, stored)) = &rx.waiting
            && *stored == WakerId::of(cx.waker())
        {
            rx.armed.store(true, SeqCst);
            if rx.shared.tail.load(SeqCst) == rx.next << 1 {
                this.pending = true;
                return Poll::Pending;
            }
        }
        let mut state = rx.shared.lock();
        let mut displaced = None;
        if let Some((key, _)) = rx.waiting.take() {
            if state.recv_waiters.is_linked(&key) {
                // Nothing sent since it registered; another task polls now.
                displaced = state.recv_waiters.set_waker(&key, cx.waker());
                rx.armed.store(true, SeqCst);
                rx.waiting = Some((key, WakerId::of(cx.waker())));
                this.pending = true;
                unlock_then_drop(state, displaced);
                return Poll::Pending;
            }
            // Unlinked by a send, which took its waker.
            displaced = state.recv_waiters.remove(key).waker;
        }
        this.pending = false;
        let result = match state.read(&mut rx.next) {
            Ok(value) => {
                // Read everything: register, unarmed, for the next value
                // now, under this lock, so that the next `recv` finds
                // itself registered and need not lock to wait.
                if rx.next == state.next && state.senders > 0 {
                    state.register(&mut rx.waiting, &rx.armed, cx.waker(), false);
                }
                Poll::Ready(Ok(value))
            }
            Err(TryRecvError::Lagged(n)) => Poll::Ready(Err(RecvError::Lagged(n))),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Err(TryRecvError::Empty) => {
                state.register(&mut rx.waiting, &rx.armed, cx.waker(), true);
                this.pending = true;
                Poll::Pending
            }
        };
        unlock_then_drop(state, displaced);
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        // A waiting `recv` that leaves disarms the registration: a send then
        // unlinks it without waking anyone. The registration stays for the
        // next `recv`.
        if self.pending {
            self.rx.armed.store(false, SeqCst);
        }
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").field("waiting", &self.pending).finish()
    }
}

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
        let mut state = this.shared.lock();
        let mut displaced = None;
        if let Some(key) = this.key.take() {
            if state.closed_waiters.is_linked(&key) {
                displaced = state.closed_waiters.set_waker(&key, cx.waker());
                unlock_then_drop(state, displaced);
                this.key = Some(key);
                return Poll::Pending;
            }
            displaced = state.closed_waiters.remove(key).waker;
        }
        if state.receivers == 0 {
            unlock_then_drop(state, displaced);
            return Poll::Ready(());
        }
        this.key = Some(state.closed_waiters.push_back(cx.waker(), ()));
        unlock_then_drop(state, displaced);
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = self.shared.lock().closed_waiters.remove(key);
            drop(removed);
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::error::{RecvError, TryRecvError};
    use super::*;
    use crate::util::test_support::{counter, poll, wakes};
    // Test scaffolding: plain std, which loom needn't see.
    use std::sync::Arc as StdArc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A value that counts its drops, shared by its clones.
    #[derive(Clone)]
    struct Tracked(StdArc<AtomicUsize>, u32);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn every_receiver_sees_every_value_in_order() {
        let (tx, rx) = channel(8);
        let mut rxs: Vec<_> = (0..3).map(|_| rx.resubscribe()).collect();
        rxs.push(rx);
        for i in 0..5 {
            assert_eq!(tx.send(i), Ok(4));
        }
        for rx in &mut rxs {
            assert_eq!(rx.len(), 5);
            let got: Vec<_> = (0..5).map(|_| rx.try_recv().unwrap()).collect();
            assert_eq!(got, [0, 1, 2, 3, 4]);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        }
        // Everyone read everything: nothing is kept.
        assert_eq!(tx.len(), 0);
    }

    #[test]
    fn a_lagging_receiver_is_told_once_then_reads_the_oldest_kept() {
        let (tx, mut rx) = channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.len(), 2);
        let (_, waker) = counter();
        let mut recv = rx.recv();
        assert_eq!(poll(&mut recv, &waker), Poll::Ready(Err(RecvError::Lagged(3))));
        drop(recv);
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Ok(4));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn capacity_zero_means_one() {
        let (tx, mut rx) = channel(0);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
        assert_eq!(rx.try_recv(), Ok(2));
    }

    #[test]
    fn a_send_wakes_every_waiting_receiver_once() {
        let (tx, mut a) = channel(4);
        let mut b = tx.subscribe();
        let mut idle = tx.subscribe();
        let (ca, wa) = counter();
        let (cb, wb) = counter();
        let mut ra = a.recv();
        let mut rb = b.recv();
        assert!(poll(&mut ra, &wa).is_pending());
        assert!(poll(&mut rb, &wb).is_pending());
        // A second poll with the same waker stores nothing new.
        assert!(poll(&mut ra, &wa).is_pending());
        assert_eq!((wakes(&ca), wakes(&cb)), (0, 0));

        assert_eq!(tx.send(7), Ok(3));
        assert_eq!((wakes(&ca), wakes(&cb)), (1, 1));
        assert_eq!(poll(&mut ra, &wa), Poll::Ready(Ok(7)));
        assert_eq!(poll(&mut rb, &wb), Poll::Ready(Ok(7)));

        // Nobody waits now: another send wakes nobody.
        tx.send(8).unwrap();
        assert_eq!((wakes(&ca), wakes(&cb)), (1, 1));
        assert_eq!(idle.try_recv(), Ok(7));
        assert_eq!(idle.try_recv(), Ok(8));
    }

    #[test]
    fn dropping_the_last_sender_closes_after_the_kept_values() {
        let (tx, mut rx) = channel(4);
        let tx2 = tx.clone();
        let (c, w) = counter();
        let mut recv = rx.recv();
        assert!(poll(&mut recv, &w).is_pending());
        drop(tx);
        assert_eq!(wakes(&c), 0, "a sender remains");
        tx2.send(1).unwrap();
        assert_eq!(wakes(&c), 1);
        assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(1)));
        drop(recv);

        tx2.send(2).unwrap();
        let mut recv = rx.recv();
        assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(2)));
        drop(recv);
        let mut recv = rx.recv();
        assert!(poll(&mut recv, &w).is_pending());
        drop(tx2);
        assert_eq!(wakes(&c), 2);
        assert_eq!(poll(&mut recv, &w), Poll::Ready(Err(RecvError::Closed)));
        drop(recv);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(rx.blocking_recv(), Err(RecvError::Closed));
    }

    #[test]
    fn a_closed_channel_still_hands_out_unread_values() {
        let (tx, mut rx) = channel(4);
        tx.send("a").unwrap();
        tx.send("b").unwrap();
        drop(tx);
        assert_eq!(rx.blocking_recv(), Ok("a"));
        assert_eq!(rx.try_recv(), Ok("b"));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn dropping_every_receiver_fails_sends_and_completes_closed() {
        let (tx, rx) = channel(4);
        let rx2 = tx.subscribe();
        let (c, w) = counter();
        let mut closed = tx.closed();
        assert!(poll(&mut closed, &w).is_pending());
        drop(rx);
        assert_eq!(wakes(&c), 0);
        drop(rx2);
        assert_eq!(wakes(&c), 1);
        assert_eq!(poll(&mut closed, &w), Poll::Ready(()));
        assert_eq!(tx.send(5), Err(SendError(5)));
        assert_eq!(tx.receiver_count(), 0);

        // A new subscriber reopens it; it sees only later values.
        let mut rx = tx.subscribe();
        tx.send(6).unwrap();
        assert_eq!(rx.try_recv(), Ok(6));
    }

    #[test]
    fn closed_waits_again_if_someone_resubscribes_first() {
        let (tx, rx) = channel::<u8>(1);
        let (c, w) = counter();
        let mut closed = tx.closed();
        assert!(poll(&mut closed, &w).is_pending());
        drop(rx);
        let rx = tx.subscribe();
        assert_eq!(wakes(&c), 1);
        assert!(poll(&mut closed, &w).is_pending());
        drop(rx);
        assert_eq!(wakes(&c), 2);
        assert_eq!(poll(&mut closed, &w), Poll::Ready(()));
    }

    #[test]
    fn a_cancelled_recv_loses_nothing_and_wakes_nobody() {
        let (tx, mut rx) = channel(4);
        let (c, w) = counter();
        let mut recv = rx.recv();
        assert!(poll(&mut recv, &w).is_pending());
        drop(recv);
        tx.send(1).unwrap();
        assert_eq!(wakes(&c), 0, "the cancelled waiter is not woken");

        // Cancelled after being woken: the value is still there.
        let mut recv = rx.recv();
        assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(1)));
        drop(recv);
        let mut recv = rx.recv();
        assert!(poll(&mut recv, &w).is_pending());
        tx.send(2).unwrap();
        assert_eq!(wakes(&c), 1);
        drop(recv);
        assert_eq!(rx.try_recv(), Ok(2));
        assert!(tx.shared.lock().recv_waiters.is_empty());
    }

    #[test]
    fn a_receiver_between_two_recvs_is_not_woken_and_misses_nothing() {
        let (tx, mut rx) = channel(4);
        let (c, w) = counter();
        tx.send(1).unwrap();
        // Read everything: registered ahead of the next `recv`, unarmed.
        assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(1)));
        assert_eq!(tx.shared.lock().recv_waiters.len(), 1);
        tx.send(2).unwrap();
        assert_eq!(wakes(&c), 0, "no recv was waiting");
        assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(2)));

        // The next `recv` waits on that registration, and is woken.
        let mut recv = rx.recv();
        assert!(poll(&mut recv, &w).is_pending());
        assert_eq!(tx.shared.lock().recv_waiters.len(), 1, "one registration");
        tx.send(3).unwrap();
        assert_eq!(wakes(&c), 1);
        assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(3)));
    }

    #[test]
    fn an_idle_receiver_keeps_no_waker_once_a_send_unlinks_it() {
        let (tx, mut rx) = channel(4);
        let (c, w) = counter();
        tx.send(1).unwrap();
        assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(1)));
        drop(w);
        // Registered ahead of the next `recv`: the list node holds a clone.
        assert_eq!(StdArc::strong_count(&c), 2);
        tx.send(2).unwrap();
        // Unlinked, not woken: nothing keeps the task (or its runtime) now.
        assert_eq!(StdArc::strong_count(&c), 1, "the receiver kept a clone");
        assert_eq!(wakes(&c), 0);
        assert_eq!(rx.try_recv(), Ok(2));
    }

    #[test]
    fn a_registration_follows_the_receiver_to_another_task() {
        let (tx, mut rx) = channel(4);
        let (ca, wa) = counter();
        let (cb, wb) = counter();
        tx.send(1).unwrap();
        assert_eq!(poll(&mut rx.recv(), &wa), Poll::Ready(Ok(1)));
        // Another task waits now: its waker replaces the stored one.
        let mut recv = rx.recv();
        assert!(poll(&mut recv, &wb).is_pending());
        tx.send(2).unwrap();
        assert_eq!((wakes(&ca), wakes(&cb)), (0, 1));
        assert_eq!(poll(&mut recv, &wb), Poll::Ready(Ok(2)));
    }

    #[test]
    fn a_registered_receiver_sees_the_close() {
        let (tx, mut rx) = channel(4);
        let (c, w) = counter();
        tx.send(1).unwrap();
        assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(1)));
        drop(tx);
        assert_eq!(wakes(&c), 0, "no recv was waiting");
        assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Err(RecvError::Closed)));
    }

    #[test]
    fn values_are_freed_by_their_last_reader_and_never_leak() {
        let drops = StdArc::new(AtomicUsize::new(0));
        let value = |n| Tracked(StdArc::clone(&drops), n);
        let (tx, mut a) = channel(4);
        let mut b = a.resubscribe();
        tx.send(value(1)).unwrap();
        tx.send(value(2)).unwrap();

        // `a` reads a clone; the kept value stays for `b`.
        assert_eq!(a.try_recv().unwrap().1, 1);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(tx.len(), 2);
        // `b` is the last reader: it takes the value itself.
        assert_eq!(b.try_recv().unwrap().1, 1);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(tx.len(), 1);

        // Dropping `b` leaves value 2 to `a` alone; dropping `a` frees it.
        drop(b);
        assert_eq!(tx.len(), 1);
        drop(a);
        assert_eq!(tx.len(), 0);
        assert_eq!(drops.load(Ordering::SeqCst), 3);

        // Evicted values are dropped too, and the sender holds no receiver.
        let mut c = tx.subscribe();
        for n in 0..10 {
            tx.send(value(n)).unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), 3 + 6);
        assert_eq!(c.try_recv().err(), Some(TryRecvError::Lagged(6)));
        drop(c);
        assert_eq!(drops.load(Ordering::SeqCst), 3 + 10);
        assert_eq!(StdArc::strong_count(&tx.shared), 1);
        drop(tx);
        assert_eq!(StdArc::strong_count(&drops), 1);
    }

    #[test]
    fn a_value_sent_with_one_receiver_is_never_cloned() {
        struct NoClone;
        impl Clone for NoClone {
            fn clone(&self) -> NoClone {
                panic!("cloned a value that had one reader left");
            }
        }
        let (tx, mut rx) = channel(2);
        tx.send(NoClone).unwrap();
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn resubscribed_receivers_skip_earlier_values() {
        let (tx, rx) = channel(4);
        tx.send(1).unwrap();
        let mut late = rx.resubscribe();
        assert!(late.same_channel(&rx));
        assert_eq!(rx.len(), 1);
        assert!(late.is_empty());
        tx.send(2).unwrap();
        assert_eq!(late.try_recv(), Ok(2));
        assert_eq!(tx.receiver_count(), 2);
        assert!(tx.same_channel(&tx.clone()));
    }

    #[test]
    fn many_receivers_on_threads_see_every_value() {
        let (tx, rx) = channel(64);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = rx.resubscribe();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(v) = rx.blocking_recv() {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for i in 0..50 {
            tx.send(i).unwrap();
        }
        drop(tx);
        for handle in handles {
            assert_eq!(handle.join().unwrap(), (0..50).collect::<Vec<_>>());
        }
    }

    #[test]
    fn errors_display_and_debug_without_t_debug() {
        #[derive(Clone)]
        struct Opaque;
        let e = SendError(Opaque);
        assert_eq!(format!("{e:?}"), "SendError(..)");
        assert_eq!(e.to_string(), "no receiver is subscribed");
        assert_eq!(
            RecvError::Lagged(3).to_string(),
            "the receiver lagged and missed 3 values"
        );
        let (tx, rx) = channel::<Opaque>(1);
        assert!(format!("{tx:?} {rx:?}").contains("receivers: 1"));
    }
}
