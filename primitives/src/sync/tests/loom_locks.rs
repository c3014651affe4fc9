//! Semaphore, Mutex and Notify under loom.

use crate::sync::{Mutex, Notify, Semaphore};
use loom::future::block_on;
use loom::thread;
use std::future::Future;
use std::sync::Arc;

#[test]
fn mutex_two_threads_each_increment_once() {
    loom::model(|| {
        let count = Arc::new(Mutex::new(0));
        let other = {
            let count = Arc::clone(&count);
            thread::spawn(move || *block_on(count.lock()) += 1)
        };
        *block_on(count.lock()) += 1;
        other.join().unwrap();
        assert_eq!(*block_on(count.lock()), 2);
    });
}

#[test]
fn semaphore_a_released_permit_reaches_the_waiter() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let permit = sem.try_acquire().unwrap().detach_for_test();
        let waiter = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || block_on(sem.acquire()).map(|p| p.num_permits()))
        };
        sem.add_permits(permit);
        assert_eq!(waiter.join().unwrap(), Ok(1));
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_close_wakes_the_waiter() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let waiter = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || block_on(sem.acquire()).is_err())
        };
        sem.close();
        assert!(waiter.join().unwrap());
    });
}

#[test]
fn notify_one_is_never_lost() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let notifier = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_one())
        };
        block_on(notify.notified());
        notifier.join().unwrap();
    });
}

#[test]
fn notify_a_grant_dropped_unseen_becomes_the_permit_once() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let mut waiter = Box::pin(notify.notified());
        let waker = futures_noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(waiter.as_mut().poll(&mut cx).is_pending());
        let one = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_one())
        };
        let all = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_waiters())
        };
        drop(waiter);
        one.join().unwrap();
        all.join().unwrap();
        // Whatever the order, the one notify_one is now the permit.
        let mut heir = Box::pin(notify.notified());
        assert!(heir.as_mut().poll(&mut cx).is_ready());
        let mut next = Box::pin(notify.notified());
        assert!(next.as_mut().poll(&mut cx).is_pending());
    });
}

#[test]
fn notify_a_waiter_racing_both_notifies_completes_and_leaves_at_most_one_permit() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let mut waiter = Box::pin(notify.notified());
        let waker = futures_noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let registered = waiter.as_mut().poll(&mut cx).is_pending();
        assert!(registered);
        let one = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_one())
        };
        let all = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_waiters())
        };
        block_on(waiter);
        one.join().unwrap();
        all.join().unwrap();
        let mut a = Box::pin(notify.notified());
        let mut b = Box::pin(notify.notified());
        let stored = usize::from(a.as_mut().poll(&mut cx).is_ready())
            + usize::from(b.as_mut().poll(&mut cx).is_ready());
        assert!(stored <= 1);
    });
}

#[test]
fn notify_two_notify_ones_release_two_waiters() {
    // The first waiter is queued; the second registers while the queue
    // empties under the lock and the permit moves without it: neither
    // notification may be lost.
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let mut first = Box::pin(notify.notified());
        let waker = futures_noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let notifiers: Vec<_> = (0..2)
            .map(|_| {
                let notify = Arc::clone(&notify);
                thread::spawn(move || notify.notify_one())
            })
            .collect();
        block_on(first);
        block_on(notify.notified());
        for notifier in notifiers {
            notifier.join().unwrap();
        }
    });
}

fn futures_noop_waker() -> std::task::Waker {
    std::task::Waker::noop().clone()
}

#[test]
fn semaphore_two_acquirers_and_a_release_all_get_through() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap().detach_for_test();
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let sem = Arc::clone(&sem);
                // Each holds the one permit, then gives it back on drop.
                thread::spawn(move || block_on(sem.acquire()).map(|p| p.num_permits()))
            })
            .collect();
        sem.add_permits(held);
        for acquirer in acquirers {
            assert_eq!(acquirer.join().unwrap(), Ok(1));
        }
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.try_acquire().is_ok());
    });
}

#[test]
fn semaphore_a_waiter_cancelled_while_granted_gives_the_permit_back() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap().detach_for_test();
        let canceller = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || {
                let waker = futures_noop_waker();
                let mut cx = std::task::Context::from_waker(&waker);
                let mut acquire = Box::pin(sem.acquire());
                // Pending or granted at once, then dropped either way.
                if let std::task::Poll::Ready(permit) = acquire.as_mut().poll(&mut cx) {
                    drop(permit);
                }
            })
        };
        sem.add_permits(held);
        canceller.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.try_acquire().is_ok());
    });
}

#[test]
fn semaphore_close_racing_a_release_loses_no_permit() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap().detach_for_test();
        let waiter = {
            let sem = Arc::clone(&sem);
            // Granted (and given back on drop) or turned away by the close.
            thread::spawn(move || block_on(sem.acquire()).is_ok())
        };
        let closer = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.close())
        };
        sem.add_permits(held);
        waiter.join().unwrap();
        closer.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}
