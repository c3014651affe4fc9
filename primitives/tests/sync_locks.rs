//! Mutex, RwLock, Semaphore, Notify, Barrier and OnceCell, run under weft,
//! tokio and smol.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;
use support::any_runtime::{on_every_runtime, poll_once, yield_n};
use weft_primitives::sync::{Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore, TryAcquireError};

#[test]
fn mutex_counts_every_increment_under_contention() {
    on_every_runtime(|spawner| async move {
        let count = Arc::new(Mutex::new(0u64));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let count = Arc::clone(&count);
                spawner.spawn(async move {
                    for i in 0..1_000 {
                        let mut guard = count.lock().await;
                        let seen = *guard;
                        if i % 50 == 0 {
                            // Hold the lock across a yield: nobody else may
                            // get in meanwhile.
                            yield_n(1).await;
                        }
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert_eq!(*count.lock().await, 8_000);
    });
}

#[test]
fn mutex_hands_off_in_fifo_order_and_survives_cancellation() {
    on_every_runtime(|_| async {
        // A zero fairness bound: strict hand-off, as tokio's.
        let mutex = Mutex::with_fairness_bound(Vec::new(), Duration::ZERO);
        let held = mutex.lock().await;
        let mut a = Box::pin(mutex.lock());
        let mut b = Box::pin(mutex.lock());
        let mut c = Box::pin(mutex.lock());
        assert!(poll_once(&mut a).await.is_pending());
        assert!(poll_once(&mut b).await.is_pending());
        assert!(poll_once(&mut c).await.is_pending());
        // Queued waiters come first: no barging.
        assert!(mutex.try_lock().is_err());
        drop(held);
        // The lock went to `a`, which is dropped unpolled: it passes to `b`.
        drop(a);
        assert!(poll_once(&mut c).await.is_pending());
        match poll_once(&mut b).await {
            Poll::Ready(mut guard) => guard.push('b'),
            Poll::Pending => panic!("b was next in line"),
        }
        match poll_once(&mut c).await {
            Poll::Ready(mut guard) => guard.push('c'),
            Poll::Pending => panic!("c was next in line"),
        }
        assert_eq!(*mutex.try_lock().unwrap(), ['b', 'c']);
    });
}

#[test]
fn mutex_owned_guards_move_into_tasks() {
    on_every_runtime(|spawner| async move {
        let mutex = Arc::new(Mutex::new(1));
        let guard = Arc::clone(&mutex).lock_owned().await;
        let task = spawner.spawn(async move {
            let mut guard = guard;
            *guard += 1;
        });
        task.await;
        assert_eq!(*mutex.lock().await, 2);
        let mut owned = Arc::clone(&mutex).try_lock_owned().unwrap();
        *owned = 5;
        drop(owned);
        assert_eq!(Arc::try_unwrap(mutex).unwrap().into_inner(), 5);
    });
}

#[test]
fn rwlock_readers_share_and_a_waiting_writer_is_not_starved() {
    on_every_runtime(|_| async {
        let lock = RwLock::with_fairness_bound(0, Duration::ZERO);
        let r1 = lock.read().await;
        let r2 = lock.try_read().unwrap();
        let mut writer = Box::pin(lock.write());
        assert!(poll_once(&mut writer).await.is_pending());
        // A reader arriving after the writer waits behind it.
        assert!(lock.try_read().is_err());
        let mut late_reader = Box::pin(lock.read());
        assert!(poll_once(&mut late_reader).await.is_pending());
        drop(r1);
        assert!(poll_once(&mut writer).await.is_pending());
        drop(r2);
        let mut w = match poll_once(&mut writer).await {
            Poll::Ready(w) => w,
            Poll::Pending => panic!("the writer was first in line"),
        };
        assert!(poll_once(&mut late_reader).await.is_pending());
        *w = 1;
        // Downgrading lets the queued reader in beside it.
        let r = w.downgrade();
        match poll_once(&mut late_reader).await {
            Poll::Ready(late) => assert_eq!(*late + *r, 2),
            Poll::Pending => panic!("the reader may share with a downgraded writer"),
        }
    });
}

#[test]
fn rwlock_writers_exclude_everyone() {
    on_every_runtime(|spawner| async move {
        let lock = Arc::new(RwLock::new((0u64, 0u64)));
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let lock = Arc::clone(&lock);
                spawner.spawn(async move {
                    for _ in 0..500 {
                        if i % 2 == 0 {
                            let mut w = lock.write().await;
                            w.0 += 1;
                            yield_n(1).await;
                            w.1 += 1;
                        } else {
                            let r = lock.read().await;
                            // A writer never leaves the pair half-updated
                            // while a reader looks.
                            assert_eq!(r.0, r.1);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert_eq!(*lock.read().await, (1_500, 1_500));
    });
}

#[test]
fn semaphore_serves_in_order_and_cancelled_acquires_leak_nothing() {
    on_every_runtime(|_| async {
        let sem = Semaphore::with_fairness_bound(3, Duration::ZERO);
        let two = sem.acquire_many(2).await.unwrap();
        // Wants 3: waits, and holds back the smaller request behind it.
        let mut big = Box::pin(sem.acquire_many(3));
        let mut small = Box::pin(sem.acquire());
        assert!(poll_once(&mut big).await.is_pending());
        assert!(poll_once(&mut small).await.is_pending());
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        drop(two);
        // All three went to `big`; it is cancelled, so they pass on.
        assert_eq!(sem.available_permits(), 0);
        drop(big);
        match poll_once(&mut small).await {
            Poll::Ready(Ok(permit)) => assert_eq!(permit.num_permits(), 1),
            other => panic!("expected a permit, got {:?}", other.map(|r| r.is_ok())),
        }
        assert_eq!(sem.available_permits(), 3);
        // Forgotten permits stay out; added ones come in.
        sem.acquire().await.unwrap().forget();
        assert_eq!(sem.available_permits(), 2);
        sem.add_permits(5);
        assert_eq!(sem.available_permits(), 7);
        assert!(sem.acquire_many(0).await.is_ok());
    });
}

#[test]
fn semaphore_close_fails_waiters_and_later_acquires() {
    on_every_runtime(|spawner| async move {
        let sem = Arc::new(Semaphore::new(1));
        let held = Arc::clone(&sem).acquire_owned().await.unwrap();
        let waiter = {
            let sem = Arc::clone(&sem);
            spawner.spawn(async move { sem.acquire().await.is_err() })
        };
        yield_n(3).await;
        sem.close();
        assert!(waiter.await);
        assert!(sem.is_closed());
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
        assert!(sem.acquire().await.is_err());
        // Permits out before the close still come back.
        drop(held);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_a_grant_made_before_close_is_kept_and_one_after_is_not() {
    on_every_runtime(|_| async {
        // Grants (rather than wakes to look) need the hand-off: a zero bound.
        let sem = Semaphore::with_fairness_bound(1, Duration::ZERO);
        let held = sem.try_acquire().unwrap();
        let mut first = Box::pin(sem.acquire());
        let mut second = Box::pin(sem.acquire());
        assert!(poll_once(&mut first).await.is_pending());
        assert!(poll_once(&mut second).await.is_pending());
        // `first` is granted, then the semaphore closes under `second`.
        drop(held);
        sem.close();
        let permit = match poll_once(&mut first).await {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("a grant made before close must stand: {other:?}"),
        };
        assert!(matches!(poll_once(&mut second).await, Poll::Ready(Err(_))));
        drop(permit);
        assert_eq!(sem.available_permits(), 1);

        // Granted and dropped unseen: the permit comes back.
        let sem = Semaphore::with_fairness_bound(1, Duration::ZERO);
        let held = sem.try_acquire().unwrap();
        let mut unseen = Box::pin(sem.acquire());
        assert!(poll_once(&mut unseen).await.is_pending());
        drop(held);
        assert_eq!(sem.available_permits(), 0, "counted out to `unseen`");
        drop(unseen);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_bounds_concurrency() {
    on_every_runtime(|spawner| async move {
        let sem = Arc::new(Semaphore::new(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (sem, inside, peak) = (sem.clone(), inside.clone(), peak.clone());
                spawner.spawn(async move {
                    for _ in 0..50 {
                        let _permit = sem.acquire().await.unwrap();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        yield_n(1).await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn notify_one_stores_a_permit_and_notify_waiters_wakes_all() {
    on_every_runtime(|_| async {
        let notify = Notify::new();
        // With nobody waiting, the notification is kept for the next one.
        notify.notify_one();
        notify.notified().await;
        let mut fresh = Box::pin(notify.notified());
        assert!(poll_once(&mut fresh).await.is_pending());

        // notify_waiters reaches registered waiters and futures created
        // before it, even unpolled, and stores nothing.
        let mut unpolled = Box::pin(notify.notified());
        notify.notify_waiters();
        assert!(poll_once(&mut fresh).await.is_ready());
        assert!(poll_once(&mut unpolled).await.is_ready());
        let mut after = Box::pin(notify.notified());
        assert!(poll_once(&mut after).await.is_pending());
    });
}

#[test]
fn notify_a_cancelled_waiter_passes_its_notification_on() {
    on_every_runtime(|_| async {
        let notify = Notify::new();
        let mut first = Box::pin(notify.notified());
        let mut second = Box::pin(notify.notified());
        assert!(poll_once(&mut first).await.is_pending());
        assert!(poll_once(&mut second).await.is_pending());
        notify.notify_one();
        // `first` got it but is dropped before seeing it.
        drop(first);
        assert!(poll_once(&mut second).await.is_ready());
        // With nobody left, a second cancelled grant becomes the permit.
        let mut third = Box::pin(notify.notified());
        assert!(poll_once(&mut third).await.is_pending());
        notify.notify_one();
        drop(third);
        notify.notified().await;
    });
}

#[test]
fn notify_a_grant_followed_by_notify_waiters_is_seen_once_and_passed_on_once() {
    on_every_runtime(|_| async {
        let notify = Notify::new();
        // Granted by notify_one, then notify_waiters: still complete.
        let mut first = Box::pin(notify.notified());
        assert!(poll_once(&mut first).await.is_pending());
        notify.notify_one();
        notify.notify_waiters();
        assert!(poll_once(&mut first).await.is_ready());
        let mut none_left = Box::pin(notify.notified());
        assert!(
            poll_once(&mut none_left).await.is_pending(),
            "the grant was used once"
        );
        drop(none_left);

        // The same, dropped unseen: the grant becomes the permit, once.
        let mut unseen = Box::pin(notify.notified());
        assert!(poll_once(&mut unseen).await.is_pending());
        notify.notify_one();
        notify.notify_waiters();
        drop(unseen);
        let mut heir = Box::pin(notify.notified());
        assert!(poll_once(&mut heir).await.is_ready(), "the grant was passed on");
        let mut next = Box::pin(notify.notified());
        assert!(poll_once(&mut next).await.is_pending(), "and not twice");
    });
}

#[test]
fn notify_a_waiter_woken_by_notify_waiters_passes_on_no_later_grant() {
    on_every_runtime(|_| async {
        let notify = Notify::new();
        let mut early = Box::pin(notify.notified());
        assert!(poll_once(&mut early).await.is_pending());
        notify.notify_waiters();
        // A later waiter is granted: its ticket is past `early`'s.
        let mut late = Box::pin(notify.notified());
        assert!(poll_once(&mut late).await.is_pending());
        notify.notify_one();
        // `early` was woken by notify_waiters, not granted: dropping it
        // unseen passes nothing on.
        drop(early);
        assert!(poll_once(&mut late).await.is_ready());
        let mut after = Box::pin(notify.notified());
        assert!(poll_once(&mut after).await.is_pending());
    });
}

#[test]
fn notify_a_granted_waiter_whose_slot_was_reused_still_completes() {
    on_every_runtime(|_| async {
        let notify = Notify::new();
        let mut first = Box::pin(notify.notified());
        assert!(poll_once(&mut first).await.is_pending());
        notify.notify_one();
        // `first`'s node was freed by the grant; `second` takes its slot.
        let mut second = Box::pin(notify.notified());
        assert!(poll_once(&mut second).await.is_pending());
        // Moving the notify_waiters count sends `first` down the locked
        // path, where the slot now holds `second`'s ticket.
        notify.notify_waiters();
        assert!(poll_once(&mut first).await.is_ready());
        assert!(poll_once(&mut second).await.is_ready());
        let mut third = Box::pin(notify.notified());
        assert!(poll_once(&mut third).await.is_pending(), "nothing stored");
        notify.notify_one();
        assert!(poll_once(&mut third).await.is_ready());
    });
}

// ANCHOR: notify-ready
#[test]
fn notify_wakes_a_spawned_task() {
    on_every_runtime(|spawner| async move {
        let notify = Arc::new(Notify::new());
        let ready = Arc::new(Notify::new());
        let waiter = {
            let (notify, ready) = (notify.clone(), ready.clone());
            spawner.spawn(async move {
                let notified = notify.notified();
                ready.notify_one();
                notified.await;
                7
            })
        };
        ready.notified().await;
        notify.notify_waiters();
        assert_eq!(waiter.await, 7);
    });
}
// ANCHOR_END: notify-ready

#[test]
fn barrier_releases_rounds_with_one_leader() {
    on_every_runtime(|spawner| async move {
        let barrier = Arc::new(Barrier::new(4));
        let leaders = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (barrier, leaders) = (barrier.clone(), leaders.clone());
                spawner.spawn(async move {
                    for _ in 0..10 {
                        if barrier.wait().await.is_leader() {
                            leaders.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert_eq!(leaders.load(Ordering::SeqCst), 10);
    });
}

#[test]
fn barrier_a_cancelled_wait_withdraws() {
    on_every_runtime(|_| async {
        let barrier = Barrier::new(2);
        let mut quitter = Box::pin(barrier.wait());
        assert!(poll_once(&mut quitter).await.is_pending());
        drop(quitter);
        // Had the quitter still counted, this wait would complete the round.
        let mut a = Box::pin(barrier.wait());
        assert!(poll_once(&mut a).await.is_pending());
        let b = barrier.wait().await;
        assert!(b.is_leader());
        match poll_once(&mut a).await {
            Poll::Ready(r) => assert!(!r.is_leader()),
            Poll::Pending => panic!("the round completed"),
        }
    });
}

#[test]
fn once_cell_runs_one_initializer_under_contention() {
    on_every_runtime(|spawner| async move {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                spawner.spawn(async move {
                    *cell
                        .get_or_init(|| async move {
                            runs.fetch_add(1, Ordering::SeqCst);
                            yield_n(3).await;
                            i
                        })
                        .await
                })
            })
            .collect();
        let mut values = Vec::new();
        for task in tasks {
            values.push(task.await);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(values.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(cell.get(), Some(&values[0]));
        assert!(cell.set(99).is_err());
    });
}

#[test]
fn once_cell_a_failed_or_cancelled_initializer_lets_the_next_one_run() {
    on_every_runtime(|_| async {
        let cell = OnceCell::<u32>::new();
        let failed = cell.get_or_try_init(|| async { Err::<u32, &str>("no") }).await;
        assert_eq!(failed, Err("no"));
        assert!(!cell.initialized());

        // An initializer cancelled midway leaves the cell empty.
        let mut stuck = Box::pin(cell.get_or_init(std::future::pending));
        assert!(poll_once(&mut stuck).await.is_pending());
        // Meanwhile `set` sees an initializer running.
        assert!(matches!(
            cell.set(1),
            Err(weft_primitives::sync::SetError::Initializing(1))
        ));
        drop(stuck);
        assert_eq!(*cell.get_or_init(|| async { 2 }).await, 2);
        assert_eq!(cell.get(), Some(&2));
    });
}

#[test]
fn mutex_an_unlocking_task_may_lock_again_while_the_waiter_is_fresh() {
    on_every_runtime(|_| async {
        // An hour-long bound, so that a slow machine cannot make the test
        // see a hand-off: the counted tests of the bound are unit tests on
        // a clock moved by hand.
        let mutex = Mutex::with_fairness_bound(Vec::new(), Duration::from_secs(3600));
        let held = mutex.lock().await;
        let mut waiter = Box::pin(mutex.lock());
        assert!(poll_once(&mut waiter).await.is_pending());
        drop(held);
        // The waiter has not waited out the bound: the lock is free for
        // whoever comes first, here the task that just unlocked.
        for _ in 0..100 {
            mutex
                .try_lock()
                .expect("a fresh waiter is not handed the lock")
                .push('a');
        }
        // It was woken, and takes the lock once it runs.
        match poll_once(&mut waiter).await {
            Poll::Ready(mut guard) => guard.push('w'),
            Poll::Pending => panic!("the free lock was there for the woken waiter"),
        }
        assert_eq!(mutex.try_lock().unwrap().len(), 101);
    });
}

#[test]
fn rwlock_a_reader_may_join_readers_while_the_waiting_writer_is_fresh() {
    on_every_runtime(|_| async {
        // An hour-long bound: the writer never waits it out here.
        let lock = RwLock::with_fairness_bound(0, Duration::from_secs(3600));
        let r1 = lock.read().await;
        let mut writer = Box::pin(lock.write());
        assert!(poll_once(&mut writer).await.is_pending());
        // Within the bound, a reader joins the readers ahead of the writer.
        let r2 = lock.try_read().expect("readers share while the writer is fresh");
        drop((r1, r2));
        let mut w = match poll_once(&mut writer).await {
            Poll::Ready(w) => w,
            Poll::Pending => panic!("the readers left: the writer was woken to take the lock"),
        };
        *w += 1;
        drop(w);
        assert_eq!(*lock.try_read().unwrap(), 1);
    });
}
