//! The receiving end of a broadcast channel: [`Receiver`], and its
//! [`Recv`] future.

use super::error::{RecvError, TryRecvError};
use super::{Shared, WakerId};
use crate::loom::Arc;
use crate::loom::atomic::{AtomicBool, Ordering::SeqCst};
use crate::util::unlock_then_drop;
use crate::util::wait_list::Key;
use crate::util::wait_list::wake_all;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Receives every value sent after it subscribed.
///
/// Make more receivers with [`Sender::subscribe`](super::Sender::subscribe) or
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
    pub(super) fn new(shared: &Arc<Shared<T>>) -> Receiver<T> {
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
