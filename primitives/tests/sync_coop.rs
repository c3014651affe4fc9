//! The channels spend weft's cooperative budget: a task that always finds a
//! value ready still lets the other tasks of its thread run.
//!
//! Each test runs on a current-thread runtime, where the looping task and
//! the task that sets a flag share one thread: the flag can only be seen
//! set before the loop ends if the loop yielded.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use weft_primitives::sync::{broadcast, mpsc, oneshot, watch};

const VALUES: usize = 10_000;

/// Runs `looping` on a current-thread runtime beside a task that sets a
/// flag, and returns after how many iterations `looping` first saw it set
/// (`None`: it never yielded).
fn iterations_before_the_other_task_ran<F, Fut>(looping: F) -> Option<usize>
where
    F: FnOnce(Arc<AtomicBool>) -> Fut,
    Fut: Future<Output = Option<usize>>,
{
    let rt = weft::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let flag = Arc::new(AtomicBool::new(false));
        let set = Arc::clone(&flag);
        let other = weft::spawn(async move { set.store(true, Ordering::SeqCst) });
        let seen = looping(flag).await;
        other.await.unwrap();
        seen
    })
}

/// Asserts the loop saw the other task run before it was done.
fn assert_yielded(seen: Option<usize>) {
    match seen {
        Some(n) => assert!(n < VALUES, "seen only at the end ({n})"),
        None => panic!("the loop never let the other task run"),
    }
}

fn first_seen(flag: &AtomicBool, seen: &mut Option<usize>, n: usize) {
    if seen.is_none() && flag.load(Ordering::SeqCst) {
        *seen = Some(n);
    }
}

#[test]
fn mpsc_unbounded_recv_on_a_full_channel_yields() {
    assert_yielded(iterations_before_the_other_task_ran(|flag| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..VALUES {
            tx.send(i).unwrap();
        }
        let mut seen = None;
        for n in 0..VALUES {
            assert_eq!(rx.recv().await, Some(n));
            first_seen(&flag, &mut seen, n);
        }
        seen
    }));
}

#[test]
fn mpsc_bounded_recv_on_a_full_channel_yields() {
    assert_yielded(iterations_before_the_other_task_ran(|flag| async move {
        let (tx, mut rx) = mpsc::channel(VALUES);
        for i in 0..VALUES {
            tx.try_send(i).unwrap();
        }
        let mut seen = None;
        for n in 0..VALUES {
            assert_eq!(rx.recv().await, Some(n));
            first_seen(&flag, &mut seen, n);
        }
        seen
    }));
}

#[test]
fn mpsc_bounded_send_with_room_yields() {
    assert_yielded(iterations_before_the_other_task_ran(|flag| async move {
        let (tx, _rx) = mpsc::channel(VALUES);
        let mut seen = None;
        for n in 0..VALUES {
            tx.send(n).await.unwrap();
            first_seen(&flag, &mut seen, n);
        }
        seen
    }));
}

#[test]
fn mpsc_reserve_with_room_yields() {
    assert_yielded(iterations_before_the_other_task_ran(|flag| async move {
        let (tx, mut rx) = mpsc::channel(1);
        let mut seen = None;
        for n in 0..VALUES {
            tx.reserve().await.unwrap().send(n);
            assert_eq!(rx.try_recv(), Ok(n));
            first_seen(&flag, &mut seen, n);
        }
        seen
    }));
}

#[test]
fn broadcast_recv_on_a_full_channel_yields() {
    assert_yielded(iterations_before_the_other_task_ran(|flag| async move {
        let (tx, mut rx) = broadcast::channel(VALUES);
        for i in 0..VALUES {
            tx.send(i).unwrap();
        }
        let mut seen = None;
        for n in 0..VALUES {
            assert_eq!(rx.recv().await, Ok(n));
            first_seen(&flag, &mut seen, n);
        }
        seen
    }));
}

#[test]
fn watch_changed_that_is_always_ready_yields() {
    assert_yielded(iterations_before_the_other_task_ran(|flag| async move {
        let (tx, mut rx) = watch::channel(0);
        let mut seen = None;
        for n in 0..VALUES {
            tx.send(n).unwrap();
            rx.changed().await.unwrap();
            first_seen(&flag, &mut seen, n);
        }
        seen
    }));
}

#[test]
fn oneshot_receivers_in_a_loop_yield() {
    assert_yielded(iterations_before_the_other_task_ran(|flag| async move {
        let mut seen = None;
        for n in 0..VALUES {
            let (tx, rx) = oneshot::channel();
            tx.send(n).unwrap();
            assert_eq!(rx.await, Ok(n));
            first_seen(&flag, &mut seen, n);
        }
        seen
    }));
}

#[test]
fn try_recv_never_reports_empty_because_of_the_budget() {
    let rt = weft::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..VALUES {
            tx.send(i).unwrap();
        }
        let (btx, mut brx) = broadcast::channel(4);
        btx.send(1).unwrap();
        poll_fn(|cx| {
            // Spend the whole budget in this one poll: `poll_recv` turns
            // `Pending` while values wait...
            let mut received = 0;
            while rx.poll_recv(cx).is_ready() {
                received += 1;
                assert!(received < VALUES, "the budget never ran out");
            }
            // ...but the non-waiting forms still find them.
            assert_eq!(rx.try_recv(), Ok(received));
            assert_eq!(brx.try_recv(), Ok(1));
            Poll::Ready(())
        })
        .await;
    });
}
