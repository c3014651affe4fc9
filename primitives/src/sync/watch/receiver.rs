//! The receiving end of a watch channel: [`Receiver`], and its
//! [`Changed`] future.

use super::error::RecvError;
use super::{Ref, Shared, read};
use crate::loom::{Arc, lock};
use crate::util::unlock_then_drop;
use crate::util::wait_list::Key;
use crate::util::wait_list::wake_all;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Watches the value. Cloning makes another receiver that has seen what
/// this one has.
pub struct Receiver<T> {
    pub(super) shared: Arc<Shared<T>>,
    /// The version this receiver last saw.
    pub(super) version: u64,
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = read(&self.shared.value);
        let has_changed = guard.version != self.version;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = read(&self.shared.value);
        let has_changed = guard.version != self.version;
        self.version = guard.version;
        Ref { guard, has_changed }
    }

    /// True if a value this receiver has not seen exists.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone, whether or not an unseen
    /// value exists (as tokio's does).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let current = read(&self.shared.value);
        if current.tx_gone {
            return Err(RecvError(()));
        }
        Ok(current.version != self.version)
    }

    /// Marks the current value unseen: [`changed`](Receiver::changed) then
    /// completes at once.
    pub fn mark_changed(&mut self) {
        self.version = read(&self.shared.value).version.wrapping_sub(1);
    }

    /// Marks the current value seen.
    pub fn mark_unchanged(&mut self) {
        self.version = read(&self.shared.value).version;
    }

    /// Waits for a value newer than the last one seen, and marks it seen.
    /// Values sent in between are skipped. Completes at once if such a
    /// value exists already.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone and no unseen value exists.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `changed` has marked nothing seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::watch;
    ///
    /// # weft::block_on(async {
    /// let (tx, mut rx) = watch::channel(0);
    /// weft::spawn(async move {
    ///     for i in 1..=3 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// // Wakes for some of the sends, and always sees the last one.
    /// while rx.changed().await.is_ok() {}
    /// assert_eq!(*rx.borrow(), 3);
    /// # });
    /// ```
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            shared: &self.shared,
            version: &mut self.version,
            key: None,
        }
    }

    /// Waits until the value satisfies `predicate`, checking the current
    /// value first, then each value it sees change to; returns it borrowed
    /// and marked seen. The [`Ref::has_changed`] of the result says whether
    /// the value is newer than the one seen when `wait_for` was called.
    ///
    /// `predicate` runs under the value's read lock: it must not send.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone before a value satisfies
    /// `predicate`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, except that values `predicate` rejected stay marked
    /// seen.
    pub async fn wait_for(&mut self, mut predicate: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        // Split borrows: the `Ref` borrows `shared` while `version` moves.
        let shared = &*self.shared;
        let version = &mut self.version;
        let seen_before = *version;
        loop {
            {
                let guard = read(&shared.value);
                let has_changed = guard.version != seen_before;
                *version = guard.version;
                if predicate(&guard.value) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            Changed {
                shared,
                version: &mut *version,
                key: None,
            }
            .await?;
        }
    }

    /// True if both receivers watch the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        lock(&self.shared.state).receivers += 1;
        Receiver {
            shared: Arc::clone(&self.shared),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.receivers -= 1;
        if state.receivers == 0 {
            wake_all(state, |s| &mut s.closed_waiters);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen_version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::changed`].
#[must_use = "futures do nothing unless polled"]
pub struct Changed<'a, T> {
    shared: &'a Shared<T>,
    version: &'a mut u64,
    key: Option<Key>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut state = lock(&this.shared.state);
        let mut displaced = None;
        if let Some(key) = this.key.take() {
            if state.changed_waiters.is_linked(&key) {
                // Nothing changed since it looked.
                displaced = state.changed_waiters.set_waker(&key, cx.waker());
                this.key = Some(key);
                unlock_then_drop(state, displaced);
                return Poll::Pending;
            }
            displaced = state.changed_waiters.remove(key).waker;
        }
        let (version, tx_gone) = {
            let current = read(&this.shared.value);
            (current.version, current.tx_gone)
        };
        let result = if version != *this.version {
            *this.version = version;
            Poll::Ready(Ok(()))
        } else if tx_gone {
            Poll::Ready(Err(RecvError(())))
        } else {
            this.key = Some(state.changed_waiters.push_back(cx.waker(), ()));
            Poll::Pending
        };
        unlock_then_drop(state, displaced);
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = lock(&self.shared.state).changed_waiters.remove(key);
            drop(removed);
        }
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changed")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
