//! Room reserved in a bounded channel: [`Permit`], [`OwnedPermit`] and
//! [`PermitIterator`]. Each holds slots the channel counts as reserved;
//! sending through one uses its slot, dropping it unused gives the slot
//! back (to the first waiting sender).

use super::Sender;
use super::chan::Chan;
use crate::loom::Arc;
use std::fmt;
use std::iter::FusedIterator;

/// Room reserved in a bounded channel: sending through it never waits and
/// never fails. Dropped unused, it gives the room back.
pub struct Permit<'a, T> {
    chan: &'a Arc<Chan<T>>,
}

impl<'a, T> Permit<'a, T> {
    /// A permit for one slot the caller has reserved.
    pub(super) fn new(chan: &'a Arc<Chan<T>>) -> Permit<'a, T> {
        Permit { chan }
    }

    /// Sends `value` into the reserved room. If the receiver is gone the
    /// value is dropped.
    pub fn send(self, value: T) {
        self.chan.send_reserved(value);
        std::mem::forget(self);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// Room for several values, reserved at once by
/// [`Sender::reserve_many`] or [`Sender::try_reserve_many`]: yields one
/// [`Permit`] per slot. Dropping it gives back the slots not yet yielded.
pub struct PermitIterator<'a, T> {
    chan: &'a Arc<Chan<T>>,
    /// Slots reserved and not yet yielded.
    left: usize,
}

impl<'a, T> PermitIterator<'a, T> {
    /// An iterator over `n` slots the caller has reserved.
    pub(super) fn new(chan: &'a Arc<Chan<T>>, n: usize) -> PermitIterator<'a, T> {
        PermitIterator { chan, left: n }
    }
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(Permit::new(self.chan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved(self.left);
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("left", &self.left)
            .finish_non_exhaustive()
    }
}

/// Room reserved by [`Sender::reserve_owned`] or
/// [`Sender::try_reserve_owned`]; owns the sender.
pub struct OwnedPermit<T> {
    /// `None` once used.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// A permit for one slot `sender` has reserved.
    pub(super) fn new(sender: Sender<T>) -> OwnedPermit<T> {
        OwnedPermit { sender: Some(sender) }
    }

    /// Sends `value` into the reserved room and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("an owned permit is used once");
        sender.chan.send_reserved(value);
        sender
    }

    /// Gives the room back unused, and the sender with it.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("an owned permit is used once");
        sender.chan.release_reserved(1);
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.release_reserved(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}
