//! The everyday lock and signal APIs tokio users reach for (reader limits,
//! mapped downgrades, permit surgery, blocking locks, `notify_last`,
//! `Notified::enable`), run under weft, tokio and smol.

mod support;

use std::sync::Arc;
use std::task::Poll;
use support::any_runtime::{on_every_runtime, poll_once};
use weft_primitives::sync::{
    Mutex, Notified, Notify, OwnedSemaphorePermit, RwLock, RwLockReadGuard, RwLockWriteGuard, Semaphore,
    SemaphorePermit, oneshot,
};

#[test]
fn rwlock_with_max_readers_makes_the_reader_past_the_limit_wait() {
    on_every_runtime(|_| async {
        let lock = RwLock::with_max_readers(7, 2);
        let a = lock.read().await;
        let b = lock.read().await;
        let mut third = Box::pin(lock.read());
        assert!(poll_once(&mut third).await.is_pending());
        assert!(lock.try_read().is_err());
        drop(a);
        let c = match poll_once(&mut third).await {
            Poll::Ready(c) => c,
            Poll::Pending => panic!("a reader left: the third may enter"),
        };
        assert_eq!(*b + *c, 14);
        // A writer takes all `max` permits: it waits for both readers.
        drop(b);
        let mut writer = Box::pin(lock.write());
        assert!(poll_once(&mut writer).await.is_pending());
        drop(c);
        assert!(poll_once(&mut writer).await.is_ready());
        drop(writer);
        // Zero readers means one; a write still excludes it.
        let one = RwLock::with_max_readers((), 0);
        let r = one.try_read().unwrap();
        assert!(one.try_read().is_err());
        assert!(one.try_write().is_err());
        drop(r);
        let w = one.write().await;
        let r = RwLockWriteGuard::downgrade_map(w, |unit| unit);
        assert!(one.try_write().is_err());
        drop(r);
        assert!(one.try_write().is_ok());
    });
}

#[test]
fn rwlock_downgrade_map_lets_readers_in_and_keeps_writers_out() {
    on_every_runtime(|_| async {
        let lock = RwLock::new((1, vec![2, 3]));
        let mut w = lock.write().await;
        let mut reader = Box::pin(lock.read());
        assert!(poll_once(&mut reader).await.is_pending());
        w.1.push(4);
        // A miss gives the write guard back, still exclusive.
        let w = RwLockWriteGuard::try_downgrade_map(w, |pair| pair.1.get(9)).unwrap_err();
        assert!(poll_once(&mut reader).await.is_pending());
        let last = RwLockWriteGuard::try_downgrade_map(w, |pair| pair.1.last()).unwrap();
        assert_eq!(*last, 4);
        match poll_once(&mut reader).await {
            Poll::Ready(r) => assert_eq!(r.0, 1),
            Poll::Pending => panic!("a reader may share with a downgraded writer"),
        }
        let mut writer = Box::pin(lock.write());
        assert!(poll_once(&mut writer).await.is_pending());
        drop(last);
        match poll_once(&mut writer).await {
            Poll::Ready(mut w) => {
                w.0 = 5;
                let first = RwLockWriteGuard::downgrade_map(w, |pair| &pair.1[0]);
                assert_eq!(*first, 2);
                assert!(lock.try_read().is_ok());
                assert!(lock.try_write().is_err());
            }
            Poll::Pending => panic!("the mapped read guard was the last holder"),
        }
        assert_eq!(lock.try_write().unwrap().0, 5);
    });
}

#[test]
fn semaphore_forget_permits_takes_only_free_permits_and_keeps_waiters_waiting() {
    on_every_runtime(|_| async {
        let sem = Semaphore::new(5);
        let held = sem.acquire_many(2).await.unwrap();
        assert_eq!(sem.forget_permits(1), 1);
        let mut waiter = Box::pin(sem.acquire_many(4));
        assert!(poll_once(&mut waiter).await.is_pending());
        // Two are free (the waiter needs four); only those go.
        assert_eq!(sem.forget_permits(10), 2);
        assert_eq!(sem.available_permits(), 0);
        drop(held);
        assert!(poll_once(&mut waiter).await.is_pending());
        assert_eq!(sem.available_permits(), 2);
        sem.add_permits(2);
        let permit = match poll_once(&mut waiter).await {
            Poll::Ready(permit) => permit.unwrap(),
            Poll::Pending => panic!("four permits came back"),
        };
        assert_eq!(permit.num_permits(), 4);
        assert_eq!(sem.forget_permits(1), 0);
    });
}

#[test]
fn semaphore_permits_split_and_merge_and_each_part_gives_back_its_share() {
    on_every_runtime(|spawner| async move {
        let sem = Semaphore::new(4);
        let mut permit = sem.acquire_many(3).await.unwrap();
        assert!(permit.split(4).is_none());
        assert_eq!(permit.num_permits(), 3);
        let two = permit.split(2).unwrap();
        assert_eq!((permit.num_permits(), two.num_permits()), (1, 2));
        drop(two);
        assert_eq!(sem.available_permits(), 3);
        permit.merge(sem.try_acquire_many(3).unwrap());
        assert_eq!(permit.num_permits(), 4);
        let none = permit.split(0).unwrap();
        drop(none);
        assert_eq!(sem.available_permits(), 0);
        drop(permit);
        assert_eq!(sem.available_permits(), 4);

        let sem = Arc::new(Semaphore::new(4));
        let mut owned = Arc::clone(&sem).acquire_many_owned(4).await.unwrap();
        let half = owned.split(2).unwrap();
        // The halves live in different tasks.
        spawner.spawn(async move { drop(half) }).await;
        assert_eq!(sem.available_permits(), 2);
        owned.merge(Arc::clone(&sem).try_acquire_owned().unwrap());
        assert_eq!(owned.num_permits(), 3);
        drop(owned);
        assert_eq!(sem.available_permits(), 4);
    });
}

#[test]
#[should_panic(expected = "same semaphore")]
fn semaphore_merging_permits_of_two_semaphores_panics() {
    let a = Arc::new(Semaphore::new(1));
    let b = Arc::new(Semaphore::new(1));
    let mut permit = a.try_acquire_owned().unwrap();
    permit.merge(b.try_acquire_owned().unwrap());
}

#[test]
fn blocking_locks_wait_on_a_plain_thread_for_an_async_holder() {
    on_every_runtime(|_| async {
        let mutex = Arc::new(Mutex::new(1));
        let held = mutex.lock().await;
        let (tx, mut rx) = oneshot::channel();
        let thread = {
            let mutex = Arc::clone(&mutex);
            std::thread::spawn(move || {
                let mut guard = mutex.blocking_lock();
                *guard += 1;
                tx.send(*guard).unwrap();
            })
        };
        // The thread cannot have the lock while this task holds it.
        assert!(poll_once(&mut rx).await.is_pending());
        drop(held);
        assert_eq!(rx.await, Ok(2));
        thread.join().unwrap();
        let owned = Arc::clone(&mutex).lock_owned().await;
        let (tx, mut rx) = oneshot::channel();
        let thread = {
            let mutex = Arc::clone(&mutex);
            std::thread::spawn(move || tx.send(*mutex.blocking_lock_owned()).unwrap())
        };
        assert!(poll_once(&mut rx).await.is_pending());
        drop(owned);
        assert_eq!(rx.await, Ok(2));
        thread.join().unwrap();

        let lock = Arc::new(RwLock::new(1));
        let read = lock.read().await;
        let (tx, mut rx) = oneshot::channel();
        let thread = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || {
                // Readers share: this read does not wait.
                let value = *lock.blocking_read();
                *lock.blocking_write() += value;
                tx.send(()).unwrap();
            })
        };
        assert!(poll_once(&mut rx).await.is_pending());
        drop(read);
        rx.await.unwrap();
        thread.join().unwrap();
        assert_eq!(*lock.read().await, 2);
    });
}

#[test]
fn notify_last_wakes_the_newest_waiter_or_stores_a_permit() {
    on_every_runtime(|_| async {
        let notify = Notify::new();
        let mut first = Box::pin(notify.notified());
        let mut second = Box::pin(notify.notified());
        assert!(poll_once(&mut first).await.is_pending());
        assert!(poll_once(&mut second).await.is_pending());
        notify.notify_last();
        assert!(poll_once(&mut first).await.is_pending());
        assert!(poll_once(&mut second).await.is_ready());
        // Dropped before it looks, the newest passes it to the (new) newest.
        let mut third = Box::pin(notify.notified());
        let mut fourth = Box::pin(notify.notified());
        assert!(poll_once(&mut third).await.is_pending());
        assert!(poll_once(&mut fourth).await.is_pending());
        notify.notify_last();
        drop(fourth);
        assert!(poll_once(&mut first).await.is_pending());
        assert!(poll_once(&mut third).await.is_ready());
        notify.notify_last();
        assert!(poll_once(&mut first).await.is_ready());
        // Nobody waits: one permit, for the next one.
        notify.notify_last();
        notify.notify_last();
        notify.notified().await;
        let mut fresh = Box::pin(notify.notified());
        assert!(poll_once(&mut fresh).await.is_pending());
    });
}

#[test]
fn notified_enable_registers_without_polling() {
    on_every_runtime(|_| async {
        let notify = Notify::new();
        // A permit stored before: enable takes it and says so.
        notify.notify_one();
        let mut early = Box::pin(notify.notified());
        assert!(early.as_mut().enable());
        assert!(poll_once(&mut early).await.is_ready());

        // Enabled, it is a waiter: notify_one picks it over storing a
        // permit, and notify_last counts it as the newest.
        let mut a = Box::pin(notify.notified());
        let mut b = Box::pin(notify.notified());
        assert!(!a.as_mut().enable());
        assert!(!b.as_mut().enable());
        notify.notify_last();
        assert!(b.as_mut().enable());
        notify.notify_one();
        let mut fresh = Box::pin(notify.notified());
        assert!(poll_once(&mut fresh).await.is_pending(), "no permit stored");
        assert!(poll_once(&mut a).await.is_ready());
        assert!(poll_once(&mut b).await.is_ready());

        // notify_waiters reaches futures created before it, enabled or not,
        // and no later one.
        let mut enabled = Box::pin(notify.notified());
        assert!(!enabled.as_mut().enable());
        notify.notify_waiters();
        let mut later = Box::pin(notify.notified());
        assert!(enabled.as_mut().enable());
        assert!(poll_once(&mut fresh).await.is_ready());
        assert!(!later.as_mut().enable());
        assert!(poll_once(&mut later).await.is_pending());
    });
}

/// The guards and futures these APIs return cross threads as tokio's do.
#[test]
fn the_new_guards_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
    send_sync::<RwLockReadGuard<'static, [u8]>>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<OwnedSemaphorePermit>();
    send_sync::<Notified<'static>>();
}
