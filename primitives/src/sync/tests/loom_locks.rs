//! Semaphore, Mutex and Notify under loom.
//!
//! The clock stands still under loom, so a lock built with the default
//! fairness bound always lets releases barge (a waiter is woken to look),
//! and one built with a zero bound always hands off: the models below run
//! the semaphore's protocol both ways.

use crate::sync::{Mutex, Notify, Semaphore};
use loom::future::block_on;
use loom::thread;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

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

#[test]
fn notify_last_racing_the_drop_of_the_newest_reaches_the_other() {
    // notify_last picks `second`, or `second` left first and it picks
    // `first`; a grant `second` dropped unseen passes to `first`.
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let waker = futures_noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut first = Box::pin(notify.notified());
        let mut second = Box::pin(notify.notified());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        let notifier = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_last())
        };
        drop(second);
        block_on(first);
        notifier.join().unwrap();
        let mut next = Box::pin(notify.notified());
        assert!(
            next.as_mut().poll(&mut cx).is_pending(),
            "one notification, used once"
        );
    });
}

#[test]
fn notify_last_and_notify_one_release_two_waiters() {
    // The waiter notify_last picks may be let through by notify_one's
    // lock-free grant check, or find out under the lock: either way both
    // complete and nothing is stored.
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let waker = futures_noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut first = Box::pin(notify.notified());
        let mut second = Box::pin(notify.notified());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        let last = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_last())
        };
        let one = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_one())
        };
        block_on(second);
        block_on(first);
        last.join().unwrap();
        one.join().unwrap();
        let mut next = Box::pin(notify.notified());
        assert!(next.as_mut().poll(&mut cx).is_pending());
    });
}

#[test]
fn notify_enable_racing_notify_one_takes_it_once() {
    // enable takes the permit notify_one stored, or registers first and is
    // granted: never both, never neither.
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let notifier = {
            let notify = Arc::clone(&notify);
            thread::spawn(move || notify.notify_one())
        };
        let mut notified = Box::pin(notify.notified());
        let _ = notified.as_mut().enable();
        block_on(notified);
        notifier.join().unwrap();
        let waker = futures_noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut next = Box::pin(notify.notified());
        assert!(next.as_mut().poll(&mut cx).is_pending());
    });
}

#[test]
fn semaphore_forget_permits_racing_a_release_and_an_acquire_counts_true() {
    // forget_permits takes the lock while the others run lock-free: the
    // permits it reports gone are exactly the ones missing afterwards.
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let held = sem.try_acquire().unwrap().detach_for_test();
        let releaser = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.add_permits(held))
        };
        let acquirer = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.try_acquire().map(|p| p.detach_for_test()).unwrap_or(0))
        };
        let forgotten = sem.forget_permits(2);
        releaser.join().unwrap();
        let kept = acquirer.join().unwrap();
        assert_eq!(sem.available_permits() + forgotten + kept, 2);
    });
}

#[test]
fn mutex_strict_two_threads_each_increment_once() {
    loom::model(|| {
        let count = Arc::new(Mutex::with_fairness_bound(0, Duration::ZERO));
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
fn mutex_a_barging_relocker_and_a_waiter_both_get_in() {
    // One thread unlocks and locks again (barging, a wake in flight, the
    // lock-free release); the other waits and is woken to look. Neither
    // lock may be lost, nor the wake.
    loom::model(|| {
        let count = Arc::new(Mutex::new(0));
        let other = {
            let count = Arc::clone(&count);
            thread::spawn(move || *block_on(count.lock()) += 1)
        };
        for _ in 0..2 {
            *block_on(count.lock()) += 1;
        }
        other.join().unwrap();
        assert_eq!(*block_on(count.lock()), 3);
    });
}

#[test]
fn semaphore_a_woken_waiter_cancelled_passes_the_wake_on() {
    // `first` is woken to look (barging mode) and dropped as a release
    // races it: `second` still gets the permit, and it is not lost.
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap().detach_for_test();
        let waker = futures_noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut first = Box::pin(sem.acquire());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let second = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || block_on(sem.acquire()).map(|p| p.num_permits()))
        };
        let releaser = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.add_permits(held))
        };
        drop(first);
        releaser.join().unwrap();
        assert_eq!(second.join().unwrap(), Ok(1));
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_strict_a_waiter_cancelled_while_granted_gives_the_permit_back() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::with_fairness_bound(1, Duration::ZERO));
        let held = sem.try_acquire().unwrap().detach_for_test();
        let canceller = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || {
                let waker = futures_noop_waker();
                let mut cx = std::task::Context::from_waker(&waker);
                let mut acquire = Box::pin(sem.acquire());
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
fn semaphore_strict_close_racing_a_release_loses_no_permit() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::with_fairness_bound(1, Duration::ZERO));
        let held = sem.try_acquire().unwrap().detach_for_test();
        let waiter = {
            let sem = Arc::clone(&sem);
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
