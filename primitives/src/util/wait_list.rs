//! A FIFO queue of waiting futures, kept under the owning primitive's lock.
//!
//! Every primitive that makes a future wait (a bounded send, a lock, an
//! acquire) keeps its waiters here; `Notify` keeps a ring of tickets of
//! its own, since its waiters carry no data. A waiter is a node in an
//! arena-backed doubly linked list, so it is appended, granted from the
//! front and cancelled from anywhere in O(1), and the arena's slots are
//! reused: once the list has grown to the largest number of simultaneous
//! waiters, waiting allocates nothing.
//!
//! # Protocol
//!
//! A node is either **linked** (waiting, in queue order) or **unlinked**
//! (the primitive granted it: it was handed what it waited for, or woken
//! because the primitive closed). Either way the node belongs to exactly
//! one future, which holds its [`Key`] and is the only one to free it:
//!
//! - the primitive calls [`WaitList::pop_front`] (or `drain`) to unlink the
//!   first waiter, records the grant in the node's `data`, and wakes the
//!   returned waker after releasing its lock;
//! - the future, when polled, sees through [`WaitList::is_linked`] that it
//!   was granted and calls [`WaitList::remove`] to take its `data` back
//!   (a primitive that must tell a grant from a close records it there);
//! - a future dropped while waiting calls [`WaitList::remove`] too, and
//!   passes on anything it had been granted but never used, so that a
//!   cancelled waiter loses nothing and leaks nothing.
//!
//! Dropping a waker runs user code that may call back into the primitive,
//! so the list never drops one itself: [`WaitList::set_waker`] and
//! [`WaitList::remove`] hand back the waker they displace, for the caller to
//! drop after releasing its lock.
//!
//! A primitive may also wake its first waiter without granting it anything
//! ([`WaitList::take_front_waker`]): the node stays linked, with no waker,
//! until the future polls and sets a new one (the semaphore does this to
//! let a woken waiter compete for permits that others may take first).
//!
//! A primitive whose waiters can learn of a grant without the lock (the
//! semaphore compares a ticket with an atomic) may instead free the node as it grants
//! it, with [`WaitList::pop_front_free`]. Its futures then hold keys that
//! can outlive their nodes, and ask [`WaitList::holds`] whether the node is
//! still theirs before they touch it.

use super::{Wakers, unlock_then_drop};
use crate::loom::MutexGuard;
use std::fmt;
use std::task::{Poll, Waker};

/// A waiter's place in a [`WaitList`]. Owned by one future; never copied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Key(usize);

/// What [`WaitList::remove`] took out of a node.
#[must_use = "drop the removed waker after releasing the lock"]
#[derive(Debug)]
pub(crate) struct Removed<W> {
    pub(crate) data: W,
    /// The waker the node still held (it was waiting, not granted): drop
    /// it with no lock held.
    pub(crate) waker: Option<Waker>,
}

/// No node: the end of the list, or of the free list.
const NIL: usize = usize::MAX;

struct Node<W> {
    prev: usize,
    next: usize,
    linked: bool,
    waker: Option<Waker>,
    data: W,
}

/// A slot of the arena: a node in use, or a link in the free list.
enum Slot<W> {
    Used(Node<W>),
    Free { next_free: usize },
}

/// Wakes every waiter of the list `list` picks out of the locked state,
/// after releasing the lock.
pub(crate) fn wake_all<S, W>(mut state: MutexGuard<'_, S>, list: impl FnOnce(&mut S) -> &mut WaitList<W>) {
    let mut wakers = Wakers::new();
    list(&mut state).drain(|_| {}, &mut wakers);
    drop(state);
    wakers.wake_all();
}

/// One poll of a future that waits in `list` until `done` holds of the
/// locked state (the `closed` futures of `broadcast` and `watch`): a
/// registration still linked only takes the new waker; otherwise (the first
/// poll, or woken) `done` is checked, and a new registration linked if it
/// does not hold yet. The lock is released before a displaced waker drops.
pub(crate) fn poll_until<S>(
    mut state: MutexGuard<'_, S>,
    list: fn(&mut S) -> &mut WaitList<()>,
    done: impl FnOnce(&S) -> bool,
    key: &mut Option<Key>,
    waker: &Waker,
) -> Poll<()> {
    let mut displaced = None;
    if let Some(linked) = key.take() {
        if list(&mut state).is_linked(&linked) {
            displaced = list(&mut state).set_waker(&linked, waker);
            *key = Some(linked);
            unlock_then_drop(state, displaced);
            return Poll::Pending;
        }
        displaced = list(&mut state).remove(linked).waker;
    }
    let result = if done(&state) {
        Poll::Ready(())
    } else {
        *key = Some(list(&mut state).push_back(waker, ()));
        Poll::Pending
    };
    unlock_then_drop(state, displaced);
    result
}

/// Drops the registration of a future made by [`poll_until`], if it has one,
/// with the lock released before its waker drops.
pub(crate) fn forget<S>(
    mut state: MutexGuard<'_, S>,
    list: impl FnOnce(&mut S) -> &mut WaitList<()>,
    key: Key,
) {
    let removed = list(&mut state).remove(key);
    drop(state);
    drop(removed);
}

/// FIFO waiters carrying `W` each; see the module docs.
pub(crate) struct WaitList<W> {
    slots: Vec<Slot<W>>,
    head: usize,
    tail: usize,
    free: usize,
    linked: usize,
}

impl<W> WaitList<W> {
    pub(crate) const fn new() -> WaitList<W> {
        WaitList {
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            linked: 0,
        }
    }

    /// True if no waiter is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// How many waiters are linked.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// Appends a waiter at the back.
    pub(crate) fn push_back(&mut self, waker: &Waker, data: W) -> Key {
        let node = Node {
            prev: self.tail,
            next: NIL,
            linked: true,
            waker: Some(waker.clone()),
            data,
        };
        let index = if self.free == NIL {
            self.slots.push(Slot::Used(node));
            self.slots.len() - 1
        } else {
            let index = self.free;
            let Slot::Free { next_free } = self.slots[index] else {
                unreachable!("the free list holds free slots only")
            };
            self.free = next_free;
            self.slots[index] = Slot::Used(node);
            index
        };
        match self.tail {
            NIL => self.head = index,
            tail => self.node_mut(tail).next = index,
        }
        self.tail = index;
        self.linked += 1;
        Key(index)
    }

    /// The data of the first linked waiter.
    pub(crate) fn front_mut(&mut self) -> Option<&mut W> {
        match self.head {
            NIL => None,
            head => Some(&mut self.node_mut(head).data),
        }
    }

    /// Unlinks the first waiter, lets `grant` record what it was given, and
    /// returns its waker for the caller to wake once its lock is released.
    pub(crate) fn pop_front(&mut self, grant: impl FnOnce(&mut W)) -> Option<Waker> {
        let head = self.head;
        if head == NIL {
            return None;
        }
        self.unlink(head);
        let node = self.node_mut(head);
        grant(&mut node.data);
        node.waker.take()
    }

    /// Takes the first waiter's waker, leaving it linked: the primitive
    /// woke it to look again without granting it anything. It sets a new
    /// waker when it polls.
    pub(crate) fn take_front_waker(&mut self) -> Option<Waker> {
        match self.head {
            NIL => None,
            head => self.node_mut(head).waker.take(),
        }
    }

    /// Unlinks every waiter, front first, passing each to `grant`; their
    /// wakers go to `wakers`.
    pub(crate) fn drain(&mut self, mut grant: impl FnMut(&mut W), wakers: &mut Wakers) {
        while let Some(waker) = self.pop_front(&mut grant) {
            wakers.push(waker);
        }
    }

    /// True if the waiter of `key` is first in line.
    pub(crate) fn is_front(&self, key: &Key) -> bool {
        self.head == key.0
    }

    /// True while the waiter of `key` has not been granted.
    pub(crate) fn is_linked(&self, key: &Key) -> bool {
        self.node(key.0).linked
    }

    /// Stores `waker` for a linked waiter, cloning only if it would wake a
    /// different task than the one stored; returns the waker it displaced,
    /// to drop once the lock is released.
    #[must_use = "drop the displaced waker after releasing the lock"]
    pub(crate) fn set_waker(&mut self, key: &Key, waker: &Waker) -> Option<Waker> {
        super::replace_waker(&mut self.node_mut(key.0).waker, waker)
    }

    /// Frees the waiter of `key`, unlinking it if it was still waiting, and
    /// returns its data and the waker it still held (a waiter not granted),
    /// to drop once the lock is released.
    pub(crate) fn remove(&mut self, key: Key) -> Removed<W> {
        let index = key.0;
        if self.node(index).linked {
            self.unlink(index);
        }
        let node = self.release(index);
        Removed {
            data: node.data,
            waker: node.waker,
        }
    }

    /// Unlinks the first waiter and frees its node at once, returning its
    /// waker and data: for a primitive whose waiters see their grant
    /// without the lock (see the module docs).
    pub(crate) fn pop_front_free(&mut self) -> Option<(Option<Waker>, W)> {
        let head = self.head;
        if head == NIL {
            return None;
        }
        self.unlink(head);
        let node = self.release(head);
        Some((node.waker, node.data))
    }

    /// True if `key` still names a used node whose data `is_mine` accepts:
    /// with [`pop_front_free`](WaitList::pop_front_free), a key may outlive
    /// its node, and the slot may hold another waiter's node since.
    pub(crate) fn holds(&self, key: &Key, is_mine: impl FnOnce(&W) -> bool) -> bool {
        match self.slots.get(key.0) {
            Some(Slot::Used(node)) => is_mine(&node.data),
            _ => false,
        }
    }

    /// Puts the node at `index` on the free list and returns it.
    fn release(&mut self, index: usize) -> Node<W> {
        let slot = std::mem::replace(&mut self.slots[index], Slot::Free { next_free: self.free });
        self.free = index;
        let Slot::Used(node) = slot else {
            unreachable!("a key names a used slot")
        };
        node
    }

    fn unlink(&mut self, index: usize) {
        let node = self.node_mut(index);
        debug_assert!(node.linked);
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        node.prev = NIL;
        node.next = NIL;
        match prev {
            NIL => self.head = next,
            prev => self.node_mut(prev).next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.node_mut(next).prev = prev,
        }
        self.linked -= 1;
    }

    fn node(&self, index: usize) -> &Node<W> {
        match &self.slots[index] {
            Slot::Used(node) => node,
            Slot::Free { .. } => unreachable!("a key names a used slot"),
        }
    }

    fn node_mut(&mut self, index: usize) -> &mut Node<W> {
        match &mut self.slots[index] {
            Slot::Used(node) => node,
            Slot::Free { .. } => unreachable!("a key names a used slot"),
        }
    }
}

impl<W> fmt::Debug for WaitList<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList").field("waiting", &self.linked).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waker() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn grants_in_fifo_order_and_removes_from_the_middle() {
        let mut list = WaitList::new();
        let w = waker();
        let keys: Vec<Key> = (0..5).map(|i| list.push_back(&w, (i, false))).collect();
        let mut keys = keys.into_iter();
        let (k0, k1, k2, k3, k4) = (
            keys.next().unwrap(),
            keys.next().unwrap(),
            keys.next().unwrap(),
            keys.next().unwrap(),
            keys.next().unwrap(),
        );
        // Cancel the middle one and the last one.
        let removed = list.remove(k2);
        assert_eq!(removed.data, (2, false));
        assert!(removed.waker.is_some(), "a waiting node gives its waker back");
        assert_eq!(list.remove(k4).data, (4, false));
        let mut order = Vec::new();
        while list.pop_front(|d| d.1 = true).is_some() {}
        for key in [k0, k1, k3] {
            assert!(!list.is_linked(&key));
            let removed = list.remove(key);
            assert!(removed.data.1);
            assert!(removed.waker.is_none(), "the grant took the waker");
            order.push(removed.data.0);
        }
        assert_eq!(order, [0, 1, 3]);
        assert!(list.is_empty());
    }

    #[test]
    fn slots_are_reused() {
        let mut list = WaitList::new();
        let w = waker();
        for _ in 0..1000 {
            let a = list.push_back(&w, ());
            let b = list.push_back(&w, ());
            drop(list.remove(a));
            list.pop_front(|_| {});
            drop(list.remove(b));
        }
        assert_eq!(list.slots.len(), 2);
        assert!(list.is_empty());
    }

    #[test]
    fn front_and_drain() {
        let mut list = WaitList::new();
        let w = waker();
        let a = list.push_back(&w, 7);
        let b = list.push_back(&w, 8);
        assert_eq!(list.front_mut(), Some(&mut 7));
        let mut wakers = Wakers::new();
        list.drain(|d| *d += 1, &mut wakers);
        assert_eq!(wakers.len(), 2);
        let (a, b) = (list.remove(a), list.remove(b));
        assert_eq!((a.data, b.data), (8, 9));
        assert_eq!(list.front_mut(), None);
    }

    #[test]
    #[cfg(not(loom))]
    fn set_waker_hands_back_the_waker_it_replaces() {
        use crate::util::test_support::counter;
        let mut list = WaitList::new();
        let (first, w1) = counter();
        let (_, w2) = counter();
        let key = list.push_back(&w1, ());
        // Under miri a waker's vtable may have several addresses, so
        // `will_wake` may say no to the same waker: keeping it is an
        // optimisation, checked natively only.
        let same = list.set_waker(&key, &w1);
        assert!(cfg!(miri) || same.is_none(), "the same task: kept");
        drop(same);
        let old = list.set_waker(&key, &w2).expect("another task: replaced");
        assert!(cfg!(miri) || old.will_wake(&w1));
        drop((old, w1));
        assert_eq!(std::sync::Arc::strong_count(&first), 1, "the list kept no clone");
        let removed = list.remove(key);
        assert!(removed.waker.is_some_and(|w| cfg!(miri) || w.will_wake(&w2)));
    }
}
