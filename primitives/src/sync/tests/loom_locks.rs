//! Semaphore, Mutex and Notify under loom.

use crate::sync::{Mutex, Notify, Semaphore};
use loom::future::block_on;
use loom::thread;
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
