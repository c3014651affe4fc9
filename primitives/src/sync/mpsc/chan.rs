// About 500 lines of code, over ~600 with its comments, on purpose: one
// concept, the state both flavours share, whose protocol (below) is one
// lock's; every path that takes that lock is here, so it can be checked
// against the protocol in one read.
//! The state both mpsc flavours share.
//!
//! # Protocol
//!
//! One lock guards the buffer, the slot accounting, the receiver's waker
//! and two FIFO wait lists: senders waiting for room, and senders waiting
//! in `closed()`. The sender count is an atomic so that cloning a sender
//! takes no lock; the last one to leave takes the lock to wake the
//! receiver, which checks the count under the lock, so that wake cannot be
//! missed.
//!
//! The receiver takes values in batches: with one lock it swaps the whole
//! shared queue with its own empty buffer, then hands values out of that
//! buffer without locking, telling senders how many it has handed out
//! through [`Progress`], a word read without the lock.
//!
//! Slots: `queue.len() + outboxed + reserved - taken <= bound` always,
//! where `outboxed - taken` is what still sits in the receiver's buffer. A sender either pushes
//! at once (room, and nobody waiting ahead of it) or queues; when a slot
//! frees (a receive, a permit dropped unused) the first waiting sender is
//! granted it, counted in `reserved` until that sender pushes or gives it
//! back. So the buffer never exceeds its bound, senders get room in the
//! order they asked, and a cancelled sender passes its granted slot on.
//!
//! A sender may ask for several slots at once (`reserve_many`): its waiter
//! carries how many, and it is granted only once that many are free, still
//! in FIFO order, so a large request is not starved by small ones.
//!
//! Closing (`close()` or dropping the receiver) fails every waiting and
//! later send, including a waiter granted slots that had not looked yet:
//! it gives them back when it sees the close. Permits already handed out
//! may still be used, and what they send is received, as are the buffered
//! values. Dropping the receiver drops the buffered values, outside the
//! lock.
//!
//! Nothing is woken, and no waker or value dropped, under the lock: a
//! displaced waker's drop is user code that may call back into the
//! channel. What a locked section leaves to do goes into an [`Unlocked`],
//! run once the guard is gone.

use super::error::{TryRecvError, TrySendError};
use crate::loom::Arc;
use crate::loom::atomic::AtomicUsize;
use crate::loom::atomic::Ordering::{self, AcqRel, Acquire};
use crate::loom::{Mutex, MutexGuard, lock};
use crate::util::Wakers;
use crate::util::replace_waker;
use crate::util::wait_list::{Key, WaitList};
use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Poll, Waker, ready};

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    senders: AtomicUsize,
    progress: Progress,
    /// False for an unbounded channel, which keeps no slot count.
    bounded: bool,
}

/// What the receiver and the waiting senders tell each other without the
/// lock (bounded channels only), in one atomic word.
///
/// The receiver moves the whole shared queue into its own buffer with one
/// lock, then hands values out of that buffer without locking. Each value
/// it hands out frees a slot: it adds it to the *taken* count, which
/// senders read (under the lock) when they look for room. A sender about
/// to wait sets the *waiting* bit and reads the taken count in the same
/// read-modify-write; the receiver adds to the count and reads the bit in
/// another. Read-modify-writes of one word are totally ordered, so one of
/// the two sees the other: either the sender finds the slot, or the
/// receiver sees the bit and locks to grant the slot to the first waiter.
#[derive(Debug)]
struct Progress(AtomicUsize);

/// Some sender waits for room (mirrors `!State::room.is_empty()`).
const WAITING: usize = 1;
/// One value taken, in the count above the `WAITING` bit.
const TAKEN: usize = 2;

impl Progress {
    fn taken(&self) -> usize {
        self.0.load(Acquire) / TAKEN
    }

    /// Sets the waiting bit; returns the taken count seen in that instant.
    fn announce_waiting(&self) -> usize {
        self.0.fetch_or(WAITING, AcqRel) / TAKEN
    }

    fn clear_waiting(&self) {
        self.0.fetch_and(!WAITING, AcqRel);
    }

    /// Counts `n` more values taken; true if a sender waits for room.
    fn add_taken(&self, n: usize) -> bool {
        self.0.fetch_add(n * TAKEN, AcqRel) & WAITING != 0
    }

    /// Resets the taken count to zero, keeping the waiting bit; returns
    /// the count.
    fn reset_taken(&self) -> usize {
        self.0.fetch_and(WAITING, AcqRel) / TAKEN
    }
}

struct State<T> {
    queue: VecDeque<T>,
    /// `usize::MAX` for an unbounded channel.
    bound: usize,
    /// Slots granted to senders that have not pushed yet.
    reserved: usize,
    /// Values moved into the receiver's own buffer, `Progress::taken` of
    /// which it has handed out since.
    outboxed: usize,
    /// No new sends: `close()` was called or the receiver dropped.
    closed: bool,
    /// The receiver is gone: values are dropped, not kept.
    rx_gone: bool,
    rx_waker: Option<Waker>,
    /// Senders waiting for slots.
    room: WaitList<Room>,
    /// Senders waiting in `closed()`.
    closing: WaitList<()>,
}

/// A sender waiting for room: how many slots, and whether it got them.
#[derive(Debug)]
struct Room {
    wanted: usize,
    granted: bool,
}

/// What a locked section leaves to do once the lock is released: wakers to
/// wake and displaced wakers to drop (their drop may call back into the
/// channel). Run it with [`Unlocked::run`] after dropping the guard.
#[derive(Default)]
#[must_use = "run it once the lock is released"]
struct Unlocked {
    wake: Wakers,
    displaced: Option<Waker>,
}

impl Unlocked {
    /// Inlined for the usual case, an uncontended send or receive that
    /// leaves nothing to do.
    #[inline]
    fn run(self) {
        if !self.wake.is_empty() || self.displaced.is_some() {
            self.run_gathered();
        }
    }

    #[inline(never)]
    fn run_gathered(self) {
        self.wake.wake_all();
        drop(self.displaced);
    }
}

impl<T> State<T> {
    fn has_room(&self, progress: &Progress, n: usize) -> bool {
        self.has_room_after(progress.taken(), n)
    }

    /// Whether there is room for `n` more once `taken` values have left the
    /// receiver's buffer.
    fn has_room_after(&self, taken: usize, n: usize) -> bool {
        if self.bound == usize::MAX {
            return true;
        }
        let held = self.queue.len() + self.outboxed + self.reserved - taken;
        n <= self.bound - held
    }

    /// Clears the waiting bit once no sender waits for room. (A sender
    /// sets it itself, before it queues: see `Progress`.)
    fn sync_room_flag(&self, progress: &Progress) {
        if self.room.is_empty() {
            progress.clear_waiting();
        }
    }

    /// Pushes and takes the receiver's waker, to wake without the lock.
    fn push(&mut self, value: T) -> Option<Waker> {
        self.queue.push_back(value);
        self.rx_waker.take()
    }

    /// Grants free slots to the waiting senders, front first, while there
    /// are enough for the front one; their wakers go to `wakers`.
    fn grant_room(&mut self, progress: &Progress, wakers: &mut Wakers) {
        let mut granted = false;
        while let Some(wanted) = self.room.front_mut().map(|room| room.wanted) {
            if !self.has_room(progress, wanted) {
                break;
            }
            self.reserved += wanted;
            granted = true;
            if let Some(waker) = self.room.pop_front(|room| room.granted = true) {
                wakers.push(waker);
            }
        }
        if granted {
            self.sync_room_flag(progress);
        }
    }

    /// `n` reserved slots come back unused: they go to the waiting senders;
    /// or, on a closed channel where they were the last ones out, the
    /// receiver waiting for them learns that nothing more can come.
    fn give_back(&mut self, n: usize, progress: &Progress, after: &mut Unlocked) {
        self.reserved -= n;
        if self.closed {
            if self.reserved == 0
                && let Some(waker) = self.rx_waker.take()
            {
                after.wake.push(waker);
            }
        } else {
            self.grant_room(progress, &mut after.wake);
        }
    }
}

/// [`State::give_back`], then releases the lock and wakes.
fn give_back_slots<T>(mut state: MutexGuard<'_, State<T>>, n: usize, progress: &Progress) {
    let mut after = Unlocked::default();
    state.give_back(n, progress, &mut after);
    drop(state);
    after.run();
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl<T> Chan<T> {
    pub(super) fn new(bound: usize) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                bound,
                reserved: 0,
                outboxed: 0,
                closed: false,
                rx_gone: false,
                rx_waker: None,
                room: WaitList::new(),
                closing: WaitList::new(),
            }),
            senders: AtomicUsize::new(1),
            progress: Progress(AtomicUsize::new(0)),
            bounded: bound != usize::MAX,
        }
    }

    // ----- senders -----

    /// Counts one more sender of `chan`, and returns the sender's share.
    pub(super) fn new_sender(chan: &Arc<Chan<T>>) -> Arc<Chan<T>> {
        chan.senders.fetch_add(1, Ordering::Relaxed);
        Arc::clone(chan)
    }

    pub(super) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            let waker = lock(&self.state).rx_waker.take();
            wake(waker);
        }
    }

    /// Sends without waiting, if there is room and nobody waits for it.
    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(TrySendError::Closed(value));
        }
        if !state.room.is_empty() || !state.has_room(&self.progress, 1) {
            return Err(TrySendError::Full(value));
        }
        let waker = state.push(value);
        drop(state);
        wake(waker);
        Ok(())
    }

    /// Reserves `n` slots if they are free and nobody waits for any.
    pub(super) fn try_reserve(&self, n: usize) -> Result<(), TrySendError<()>> {
        let mut state = lock(&self.state);
        if state.closed {
            Err(TrySendError::Closed(()))
        } else if n == 0 || state.room.is_empty() && state.has_room(&self.progress, n) {
            state.reserved += n;
            Ok(())
        } else {
            Err(TrySendError::Full(()))
        }
    }

    /// Polls for `n` slots. `Ok(())`: they are reserved for the caller,
    /// which must [`send_reserved`](Chan::send_reserved) or
    /// [`release_reserved`](Chan::release_reserved) each. `Err(())`: closed.
    pub(super) fn poll_reserve(
        &self,
        key: &mut Option<Key>,
        n: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut after = Unlocked::default();
        let mut state = lock(&self.state);
        let result = self.poll_room(&mut state, key, n, cx, &mut after);
        drop(state);
        after.run();
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }

    /// Sends `value` once there is room: the send future's whole poll,
    /// under one lock. `Err` gives the value back: the channel is closed.
    pub(super) fn poll_send(
        &self,
        value: &mut Option<T>,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), T>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut after = Unlocked::default();
        let mut discarded = None;
        let mut state = lock(&self.state);
        let result = match self.poll_room(&mut state, key, 1, cx, &mut after) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(reserved) => {
                let value = value.take().expect("polled after completion");
                match reserved {
                    Err(()) => Poll::Ready(Err(value)),
                    Ok(()) => {
                        state.reserved -= 1;
                        if state.rx_gone {
                            // The receiver left after the slot was
                            // granted: the send still counts, and the
                            // value is dropped after the lock.
                            discarded = Some(value);
                        } else if let Some(waker) = state.push(value) {
                            after.wake.push(waker);
                        }
                        Poll::Ready(Ok(()))
                    }
                }
            }
        };
        drop(state);
        after.run();
        drop(discarded);
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }

    /// [`poll_reserve`](Chan::poll_reserve) with the lock held; leaves in
    /// `after` what to do once it is released.
    fn poll_room(
        &self,
        state: &mut State<T>,
        key: &mut Option<Key>,
        n: usize,
        cx: &mut Context<'_>,
        after: &mut Unlocked,
    ) -> Poll<Result<(), ()>> {
        match key.take() {
            None => {
                if state.closed {
                    return Poll::Ready(Err(()));
                }
                if n == 0 || state.room.is_empty() && state.has_room(&self.progress, n) {
                    state.reserved += n;
                    return Poll::Ready(Ok(()));
                }
                // About to wait: say so before the last look at what the
                // receiver has taken (see `Progress`).
                let taken = self.progress.announce_waiting();
                if state.room.is_empty() && state.has_room_after(taken, n) {
                    state.sync_room_flag(&self.progress);
                    state.reserved += n;
                    return Poll::Ready(Ok(()));
                }
                let room = Room {
                    wanted: n,
                    granted: false,
                };
                *key = Some(state.room.push_back(cx.waker(), room));
                Poll::Pending
            }
            Some(k) if state.room.is_linked(&k) => {
                after.displaced = state.room.set_waker(&k, cx.waker());
                *key = Some(k);
                Poll::Pending
            }
            Some(k) => {
                let removed = state.room.remove(k);
                after.displaced = removed.waker;
                if !removed.data.granted {
                    // `close` let it go.
                    return Poll::Ready(Err(()));
                }
                if state.closed {
                    // Granted, then closed before it looked: a waiting
                    // sender does not succeed after the close.
                    state.give_back(removed.data.wanted, &self.progress, after);
                    return Poll::Ready(Err(()));
                }
                Poll::Ready(Ok(()))
            }
        }
    }

    /// Leaves the room queue, giving back slots granted meanwhile.
    pub(super) fn cancel_reserve(&self, key: &mut Option<Key>) {
        let Some(k) = key.take() else {
            return;
        };
        let mut after = Unlocked::default();
        let mut state = lock(&self.state);
        let removed = state.room.remove(k);
        after.displaced = removed.waker;
        if removed.data.granted {
            state.give_back(removed.data.wanted, &self.progress, &mut after);
        } else if !state.room.is_empty() {
            // The front one leaving may let the next (which may want
            // fewer slots) through.
            state.grant_room(&self.progress, &mut after.wake);
        }
        state.sync_room_flag(&self.progress);
        drop(state);
        after.run();
    }

    /// Sends through a reserved slot. Never fails: after `close()` the value
    /// is still received; with the receiver gone it is dropped.
    pub(super) fn send_reserved(&self, value: T) {
        let mut state = lock(&self.state);
        state.reserved -= 1;
        if state.rx_gone {
            drop(state);
            drop(value);
            return;
        }
        let waker = state.push(value);
        drop(state);
        wake(waker);
    }

    /// Gives back `n` reserved slots unused.
    pub(super) fn release_reserved(&self, n: usize) {
        if n > 0 {
            give_back_slots(lock(&self.state), n, &self.progress);
        }
    }

    /// Sends on an unbounded channel.
    pub(super) fn send_unbounded(&self, value: T) -> Result<(), T> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(value);
        }
        let waker = state.push(value);
        drop(state);
        wake(waker);
        Ok(())
    }

    /// True once sends fail: the receiver closed or is gone.
    pub(super) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// True once no new value can be sent: closed, or every sender gone.
    pub(super) fn is_closed_for_receiver(&self) -> bool {
        self.senders.load(Ordering::Acquire) == 0 || self.is_closed()
    }

    pub(super) fn poll_closed(&self, key: &mut Option<Key>, cx: &mut Context<'_>) -> Poll<()> {
        // Declared before the guard: dropped after it is released.
        let displaced;
        let mut state = lock(&self.state);
        if state.closed {
            displaced = key.take().and_then(|k| state.closing.remove(k).waker);
            drop(state);
            drop(displaced);
            return Poll::Ready(());
        }
        displaced = match key {
            Some(k) => state.closing.set_waker(k, cx.waker()),
            None => {
                *key = Some(state.closing.push_back(cx.waker(), ()));
                None
            }
        };
        drop(state);
        drop(displaced);
        Poll::Pending
    }

    pub(super) fn cancel_closed(&self, key: &mut Option<Key>) {
        if let Some(k) = key.take() {
            let removed = lock(&self.state).closing.remove(k);
            drop(removed);
        }
    }

    /// Free slots (`usize::MAX` when unbounded).
    pub(super) fn capacity(&self) -> usize {
        let state = lock(&self.state);
        if state.bound == usize::MAX {
            return usize::MAX;
        }
        let held = state.queue.len() + state.outboxed + state.reserved;
        state.bound - (held - self.progress.taken())
    }

    pub(super) fn bound(&self) -> usize {
        lock(&self.state).bound
    }

    // ----- the receiver -----
    //
    // The receiver owns a buffer (`outbox`) of values already moved out of
    // the shared queue: it hands those out without the lock, and takes the
    // lock only to move the whole queue over once its buffer is empty.

    fn finished(&self, state: &State<T>) -> bool {
        state.reserved == 0 && (state.closed || self.senders.load(Ordering::Acquire) == 0)
    }

    /// Makes sure `outbox` holds a value if the channel has one: refills it
    /// from the shared queue once it is empty. Returns the locked state if
    /// there is no value to hand out, for the caller to decide between
    /// waiting and the end of the channel.
    fn refill<'a>(&'a self, outbox: &mut VecDeque<T>) -> Option<MutexGuard<'a, State<T>>> {
        if !outbox.is_empty() {
            return None;
        }
        let mut state = lock(&self.state);
        if state.queue.is_empty() {
            return Some(state);
        }
        if self.bounded {
            // Everything moved over last time has been handed out.
            let taken = self.progress.reset_taken();
            state.outboxed -= taken;
            debug_assert_eq!(state.outboxed, 0);
        }
        // Swapping keeps both buffers' capacity: no allocation.
        std::mem::swap(&mut state.queue, outbox);
        state.outboxed = outbox.len();
        None
    }

    /// Counts `n` values handed out of the receiver's buffer, and grants the
    /// freed slots to waiting senders.
    fn took(&self, n: usize) {
        if n == 0 || !self.bounded {
            return;
        }
        if self.progress.add_taken(n) {
            let mut state = lock(&self.state);
            let mut wakers = Wakers::new();
            state.grant_room(&self.progress, &mut wakers);
            drop(state);
            wakers.wake_all();
        }
    }

    /// Takes the next value, once one is buffered, or `None` when no more
    /// can come.
    pub(super) fn poll_recv(&self, outbox: &mut VecDeque<T>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        if let Some(state) = self.refill(outbox) {
            if self.finished(&state) {
                coop.made_progress();
                return Poll::Ready(None);
            }
            self.wait_to_recv(state, cx);
            return Poll::Pending;
        }
        let value = outbox.pop_front();
        self.took(1);
        coop.made_progress();
        Poll::Ready(value)
    }

    /// Stores the receiver's waker, and drops the one it replaces once the
    /// lock is released.
    fn wait_to_recv(&self, mut state: MutexGuard<'_, State<T>>, cx: &mut Context<'_>) {
        let displaced = replace_waker(&mut state.rx_waker, cx.waker());
        drop(state);
        drop(displaced);
    }

    /// Moves up to `limit` buffered values into `buf`, waiting for at
    /// least one; 0 when no more can come (or `limit` is 0).
    pub(super) fn poll_recv_many(
        &self,
        outbox: &mut VecDeque<T>,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let coop = ready!(crate::coop::poll_proceed(cx));
        if let Some(state) = self.refill(outbox) {
            if self.finished(&state) {
                coop.made_progress();
                return Poll::Ready(0);
            }
            self.wait_to_recv(state, cx);
            return Poll::Pending;
        }
        let n = limit.min(outbox.len());
        buf.extend(outbox.drain(..n));
        self.took(n);
        coop.made_progress();
        Poll::Ready(n)
    }

    pub(super) fn try_recv(&self, outbox: &mut VecDeque<T>) -> Result<T, TryRecvError> {
        if let Some(state) = self.refill(outbox) {
            return Err(if self.finished(&state) {
                TryRecvError::Disconnected
            } else {
                TryRecvError::Empty
            });
        }
        let value = outbox.pop_front();
        self.took(1);
        value.ok_or(TryRecvError::Empty)
    }

    /// Values buffered now, besides the `outbox` ones.
    pub(super) fn len(&self) -> usize {
        lock(&self.state).queue.len()
    }

    /// Stops new sends; wakes every sender waiting for room or in
    /// `closed()`.
    pub(super) fn close(&self) {
        let state = lock(&self.state);
        close(state, &self.progress);
    }

    /// Closes, and drops the buffered values.
    pub(super) fn drop_receiver(&self) {
        let mut state = lock(&self.state);
        state.rx_gone = true;
        let waker = state.rx_waker.take();
        let values = std::mem::take(&mut state.queue);
        close(state, &self.progress);
        // User code (destructors, a waker's drop) runs without the lock.
        drop(waker);
        drop(values);
    }
}

fn close<T>(mut state: MutexGuard<'_, State<T>>, progress: &Progress) {
    state.closed = true;
    let mut wakers = Wakers::new();
    state.room.drain(|_| {}, &mut wakers);
    state.sync_room_flag(progress);
    state.closing.drain(|_| {}, &mut wakers);
    drop(state);
    wakers.wake_all();
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        let mut d = f.debug_struct("Chan");
        d.field("buffered", &state.queue.len());
        if state.bound != usize::MAX {
            d.field("bound", &state.bound);
        }
        d.field("senders", &self.senders.load(Ordering::Relaxed))
            .field("closed", &state.closed)
            .finish()
    }
}
