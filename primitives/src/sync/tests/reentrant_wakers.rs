//! Every primitive drops a displaced waker only after releasing its lock.
//!
//! Each test registers a waker whose drop calls back into the primitive
//! (sends, locks, notifies, acquires: try_* or a fresh poll), then makes
//! the primitive replace or drop that waker. Dropped under the lock, the
//! call back would deadlock; the watchdog turns that into a failure.

use crate::sync::{Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore, broadcast, oneshot, watch};
use crate::util::test_support::{counter, poll, waker_dropping_with, watchdog};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Polls a fresh future once with a no-op waker, then drops it: a second
/// waiter that takes the primitive's lock to queue and to leave.
fn poll_once_and_drop<F: Future>(future: F) {
    let mut future = std::pin::pin!(future);
    let _ = future.as_mut().poll(&mut Context::from_waker(Waker::noop()));
}

/// Polls `future` with `first`, drops the test's copy of `first` (so the
/// primitive holds the last one), then polls with another task's waker,
/// which displaces it. Returns the result of the second poll.
fn displace<F: Future + Unpin>(future: &mut F, first: Waker) -> Poll<F::Output> {
    assert!(poll(future, &first).is_pending());
    drop(first);
    let (_, other) = counter();
    poll(future, &other)
}

#[test]
fn oneshot_a_replaced_receiver_waker_is_dropped_after_use() {
    watchdog(|| {
        let (tx, mut rx) = oneshot::channel();
        let first = waker_dropping_with(move || tx.send(5).unwrap());
        assert!(poll(&mut rx, &first).is_pending());
        drop(first);
        // Replacing the waker drops it, which sends. The oneshot has no
        // lock: the send either lands before the new waker is published
        // (this poll sees it) or after (the new waker is woken).
        let (count, other) = counter();
        match poll(&mut rx, &other) {
            Poll::Ready(value) => assert_eq!(value, Ok(5)),
            Poll::Pending => {
                assert_eq!(crate::util::test_support::wakes(&count), 1);
                assert_eq!(poll(&mut rx, &other), Poll::Ready(Ok(5)));
            }
        }
        assert!(rx.is_terminated());
    });
}

#[test]
fn broadcast_a_replaced_recv_waker_is_dropped_outside_the_lock() {
    watchdog(|| {
        let (tx, mut rx) = broadcast::channel(4);
        let tx2 = tx.clone();
        let first = waker_dropping_with(move || {
            let _ = tx2.send(9);
        });
        let mut recv = rx.recv();
        let second = displace(&mut recv, first);
        drop(recv);
        assert!(second.is_pending());
        assert_eq!(rx.try_recv(), Ok(9));
    });
}

#[test]
fn broadcast_an_unarmed_waker_unlinked_by_a_send_is_dropped_outside_the_lock() {
    watchdog(|| {
        let (tx, mut rx) = broadcast::channel(4);
        tx.send(1).unwrap();
        let tx2 = tx.clone();
        let first = waker_dropping_with(move || {
            let _ = tx2.send(9);
        });
        // Reading the last value registers the receiver, unarmed, with
        // `first`; the next send unlinks it and drops it.
        assert_eq!(poll(&mut rx.recv(), &first), Poll::Ready(Ok(1)));
        drop(first);
        tx.send(2).unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Ok(9));
    });
}

#[test]
fn broadcast_closed_and_dropped_receivers_drop_wakers_outside_the_lock() {
    watchdog(|| {
        let (tx, mut rx) = broadcast::channel::<u8>(4);
        let tx2 = tx.clone();
        let first = waker_dropping_with(move || {
            let _ = tx2.send(9);
        });
        let mut closed = tx.closed();
        assert!(displace(&mut closed, first).is_pending());
        drop(closed);
        assert_eq!(rx.try_recv(), Ok(9));

        // A receiver dropped while registered drops its registration.
        let tx2 = tx.clone();
        let first = waker_dropping_with(move || {
            let _ = tx2.send(10);
        });
        let mut other = tx.subscribe();
        assert!(poll(&mut other.recv(), &first).is_pending());
        drop(first);
        drop(other);
        assert_eq!(rx.try_recv(), Ok(10));
    });
}

#[test]
fn watch_a_replaced_or_cancelled_changed_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let (tx, mut rx) = watch::channel(0);
        let tx = Arc::new(tx);
        let sender = Arc::clone(&tx);
        let first = waker_dropping_with(move || {
            let _ = sender.send(1);
        });
        let mut changed = rx.changed();
        // The displaced waker sent: the next poll sees the change.
        assert!(displace(&mut changed, first).is_pending());
        let (_, w) = counter();
        assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
        drop(changed);

        let sender = Arc::clone(&tx);
        let first = waker_dropping_with(move || {
            let _ = sender.send(2);
        });
        let mut changed = rx.changed();
        assert!(poll(&mut changed, &first).is_pending());
        drop(first);
        drop(changed);
        assert_eq!(*rx.borrow(), 2);

        let sender = Arc::clone(&tx);
        let first = waker_dropping_with(move || {
            let _ = sender.send(3);
        });
        let mut closed = tx.closed();
        assert!(displace(&mut closed, first).is_pending());
        drop(closed);
        assert_eq!(*rx.borrow(), 3);
    });
}

#[test]
fn mutex_a_replaced_or_cancelled_lock_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let mutex = Arc::new(Mutex::new(0));
        let guard = mutex.try_lock().unwrap();
        let m = Arc::clone(&mutex);
        let first = waker_dropping_with(move || poll_once_and_drop(m.lock()));
        let mut lock = mutex.lock();
        assert!(displace(&mut lock, first).is_pending());
        // Cancelled while queued: the node's waker goes too.
        let m = Arc::clone(&mutex);
        let first = waker_dropping_with(move || poll_once_and_drop(m.lock()));
        let mut second = mutex.lock();
        assert!(poll(&mut second, &first).is_pending());
        drop(first);
        drop(second);
        drop(guard);
        let (_, w) = counter();
        assert!(poll(&mut lock, &w).is_ready());
    });
}

#[test]
fn rwlock_a_replaced_read_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let lock = Arc::new(RwLock::new(0));
        let writer = lock.try_write().unwrap();
        let l = Arc::clone(&lock);
        let first = waker_dropping_with(move || poll_once_and_drop(l.write()));
        let mut read = lock.read();
        assert!(displace(&mut read, first).is_pending());
        drop(writer);
        let (_, w) = counter();
        assert!(poll(&mut read, &w).is_ready());
    });
}

#[test]
fn semaphore_a_replaced_or_cancelled_acquire_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = Arc::clone(&sem);
        let first = waker_dropping_with(move || poll_once_and_drop(s.acquire()));
        let mut acquire = sem.acquire();
        assert!(displace(&mut acquire, first).is_pending());
        // The front waiter cancelled: its waker is dropped after the lock.
        let s = Arc::clone(&sem);
        let first = waker_dropping_with(move || s.add_permits(1));
        let mut front = sem.acquire();
        drop(acquire);
        assert!(poll(&mut front, &first).is_pending());
        drop(first);
        drop(front);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn notify_a_replaced_or_cancelled_notified_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let notify = Arc::new(Notify::new());
        let n = Arc::clone(&notify);
        let first = waker_dropping_with(move || n.notify_one());
        let mut notified = notify.notified();
        // The displaced waker notified: this waiter was the one granted.
        let second = displace(&mut notified, first);
        let (_, w) = counter();
        assert!(second.is_ready() || poll(&mut notified, &w).is_ready());

        let n = Arc::clone(&notify);
        let first = waker_dropping_with(move || n.notify_waiters());
        let mut notified = notify.notified();
        assert!(poll(&mut notified, &first).is_pending());
        drop(first);
        drop(notified);
    });
}

#[test]
fn barrier_a_replaced_wait_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let barrier = Arc::new(Barrier::new(3));
        let b = Arc::clone(&barrier);
        let first = waker_dropping_with(move || poll_once_and_drop(b.wait()));
        let mut wait = barrier.wait();
        assert!(displace(&mut wait, first).is_pending());
        // A cancelled wait drops its waker after the lock too.
        let b = Arc::clone(&barrier);
        let first = waker_dropping_with(move || poll_once_and_drop(b.wait()));
        let mut other = barrier.wait();
        assert!(poll(&mut other, &first).is_pending());
        drop(first);
        drop(other);
    });
}

#[test]
fn once_cell_a_replaced_initializer_waiter_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let cell = Arc::new(OnceCell::<u8>::new());
        // The first initializer never finishes while the test looks.
        let mut init = Box::pin(cell.get_or_init(std::future::pending));
        let (_, w) = counter();
        assert!(init.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
        let c = Arc::clone(&cell);
        let first = waker_dropping_with(move || poll_once_and_drop(c.get_or_init(|| async { 1 })));
        let mut waiting: Pin<Box<dyn Future<Output = &u8> + Send>> =
            Box::pin(cell.get_or_init(|| async { 2 }));
        assert!(displace(&mut waiting, first).is_pending());
        drop(init);
        assert!(poll(&mut waiting, &w).is_ready());
    });
}
