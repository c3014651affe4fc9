//! The locks and signals spend weft's cooperative budget: a task that keeps
//! finding them ready still lets the other tasks of its worker run.
//!
//! Each test spawns a looping task, then a task that raises a flag, on a
//! current-thread runtime. The looper runs first and never waits on
//! anything but the primitive under test: only the budget can make it give
//! the thread to the flag task before its loop ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;
use weft_primitives::sync::{Barrier, Mutex, Notify, RwLock, Semaphore};

/// More rounds than one budget holds.
const ROUNDS: usize = 1_000;

/// Runs `looper` (given the flag) as the first task and a flag raiser as
/// the second; asserts that the looper saw the flag raised before it ended.
fn the_other_task_runs<F, Fut>(looper: F)
where
    F: FnOnce(Arc<AtomicBool>) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let saw_other = current_thread().block_on(async {
        let other_ran = Arc::new(AtomicBool::new(false));
        let looping = weft::spawn(looper(Arc::clone(&other_ran)));
        weft::spawn(async move { other_ran.store(true, Ordering::SeqCst) });
        looping.await.unwrap()
    });
    assert!(saw_other, "the looping task kept the thread for {ROUNDS} rounds");
}

/// True once the other task has run.
fn ran(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}

#[test]
fn coop_an_uncontended_mutex_lock_loop_yields() {
    the_other_task_runs(|other| async move {
        let mutex = Mutex::new(0);
        for _ in 0..ROUNDS {
            *mutex.lock().await += 1;
            if ran(&other) {
                return true;
            }
        }
        false
    });
}

#[test]
fn coop_an_owned_mutex_lock_loop_yields() {
    the_other_task_runs(|other| async move {
        let mutex = Arc::new(Mutex::new(0));
        for _ in 0..ROUNDS {
            *Arc::clone(&mutex).lock_owned().await += 1;
            if ran(&other) {
                return true;
            }
        }
        false
    });
}

#[test]
fn coop_rwlock_read_and_write_loops_yield() {
    the_other_task_runs(|other| async move {
        let lock = RwLock::new(0);
        for _ in 0..ROUNDS {
            drop(lock.read().await);
            if ran(&other) {
                return true;
            }
        }
        false
    });
    the_other_task_runs(|other| async move {
        let lock = Arc::new(RwLock::new(0));
        for _ in 0..ROUNDS {
            *Arc::clone(&lock).write_owned().await += 1;
            if ran(&other) {
                return true;
            }
        }
        false
    });
}

#[test]
fn coop_a_semaphore_acquire_loop_yields() {
    the_other_task_runs(|other| async move {
        let sem = Semaphore::new(1);
        for _ in 0..ROUNDS {
            drop(sem.acquire().await.unwrap());
            if ran(&other) {
                return true;
            }
        }
        false
    });
    the_other_task_runs(|other| async move {
        let sem = Arc::new(Semaphore::new(3));
        for _ in 0..ROUNDS {
            drop(Arc::clone(&sem).acquire_many_owned(3).await.unwrap());
            if ran(&other) {
                return true;
            }
        }
        false
    });
}

#[test]
fn coop_a_notified_loop_fed_by_stored_permits_yields() {
    the_other_task_runs(|other| async move {
        let notify = Notify::new();
        for _ in 0..ROUNDS {
            notify.notify_one();
            notify.notified().await;
            if ran(&other) {
                return true;
            }
        }
        false
    });
}

#[test]
fn coop_a_barrier_of_one_yields() {
    the_other_task_runs(|other| async move {
        let barrier = Barrier::new(1);
        for _ in 0..ROUNDS {
            assert!(barrier.wait().await.is_leader());
            if ran(&other) {
                return true;
            }
        }
        false
    });
}

/// Spends the rest of the current task's budget, then polls `future` once
/// in the same poll of the task.
async fn poll_with_the_budget_spent<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| {
        while weft_executor::coop::poll_proceed(cx).is_ready() {}
        Poll::Ready(Pin::new(&mut *future).poll(cx))
    })
    .await
}

/// Polls `future` once.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

fn current_thread() -> weft::Runtime {
    weft::Runtime::builder().current_thread().build().unwrap()
}

#[test]
fn coop_a_lock_handed_over_while_the_budget_is_spent_stays_with_its_future() {
    current_thread().block_on(async {
        // A zero fairness bound: unlock hands the lock over.
        let mutex = Mutex::with_fairness_bound(0, Duration::ZERO);
        let held = mutex.lock().await;
        let mut waiting = Box::pin(mutex.lock());
        assert!(poll_once(&mut waiting).await.is_pending());
        // Handed over to `waiting`, which cannot take it this poll.
        drop(held);
        assert!(poll_with_the_budget_spent(&mut waiting).await.is_pending());
        assert!(mutex.try_lock().is_err(), "the lock stays with its future");
        // The task was woken; with a fresh budget the lock is there.
        *waiting.await += 1;
        assert_eq!(*mutex.try_lock().unwrap(), 1);

        // Dropped while it cannot look, the future passes the lock on.
        let held = mutex.lock().await;
        let mut waiting = Box::pin(mutex.lock());
        assert!(poll_once(&mut waiting).await.is_pending());
        drop(held);
        assert!(poll_with_the_budget_spent(&mut waiting).await.is_pending());
        drop(waiting);
        assert!(mutex.try_lock().is_ok());
    });
}

#[test]
fn coop_a_waiter_woken_while_the_budget_is_spent_passes_the_wake_on_when_dropped() {
    current_thread().block_on(async {
        // Within the (hour-long) bound: unlock frees the lock and wakes the
        // first waiter to take it.
        let mutex = Mutex::with_fairness_bound(0, Duration::from_secs(3600));
        let held = mutex.lock().await;
        let (second_woken, second_waker) = weft_test_support::CountingWaker::new();
        let mut first = Box::pin(mutex.lock());
        let mut second = Box::pin(mutex.lock());
        assert!(poll_once(&mut first).await.is_pending());
        assert!(weft_test_support::poll(second.as_mut(), &second_waker).is_pending());
        drop(held);
        assert!(poll_with_the_budget_spent(&mut first).await.is_pending());
        assert_eq!(second_woken.wakes(), 0, "only the first waiter is woken");
        // Dropped before it looked: the wake, and the free lock, pass on.
        drop(first);
        assert_eq!(second_woken.wakes(), 1);
        // A fresh budget for the look.
        weft::task::yield_now().await;
        match weft_test_support::poll(second.as_mut(), &second_waker) {
            Poll::Ready(mut guard) => *guard += 1,
            Poll::Pending => panic!("the free lock was there for `second`"),
        }
        assert_eq!(*mutex.try_lock().unwrap(), 1);
    });
}

#[test]
fn coop_a_spent_budget_takes_no_permit_and_no_notification() {
    current_thread().block_on(async {
        let sem = Semaphore::new(2);
        let mut acquire = Box::pin(sem.acquire_many(2));
        assert!(poll_with_the_budget_spent(&mut acquire).await.is_pending());
        assert_eq!(sem.available_permits(), 2);
        drop(acquire);

        let notify = Notify::new();
        notify.notify_one();
        let mut notified = Box::pin(notify.notified());
        assert!(poll_with_the_budget_spent(&mut notified).await.is_pending());
        drop(notified);
        // The stored permit is still there for the next waiter.
        weft::task::yield_now().await;
        let mut next = Box::pin(notify.notified());
        assert!(poll_once(&mut next).await.is_ready());

        let barrier = Barrier::new(1);
        let mut wait = Box::pin(barrier.wait());
        assert!(poll_with_the_budget_spent(&mut wait).await.is_pending());
        assert!(wait.await.is_leader());
    });
}
