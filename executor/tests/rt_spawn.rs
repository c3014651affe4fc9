//! Spawning at scale, from inside and outside the runtime, and the contracts
//! of a single task's life: exactly-once rescheduling, no concurrent polls.

mod support;

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use weft_executor::Runtime;
use weft_executor::runtime::Handle;

const N: u64 = 100_000;

fn spawn_inside(rt: &Runtime) {
    let checked = rt.block_on(async {
        // From a task, not just from the `block_on` future.
        weft_executor::spawn(async {
            let handles: Vec<_> = (0..N)
                .map(|i| weft_executor::spawn(async move { i * 2 }))
                .collect();
            let mut checked = 0;
            for (i, handle) in (0u64..).zip(handles) {
                assert_eq!(handle.await.unwrap(), i * 2);
                checked += 1;
            }
            checked
        })
        .await
        .unwrap()
    });
    assert_eq!(checked, N);
}

fn spawn_outside(rt: &Runtime) {
    let handles: Vec<_> = (0..N).map(|i| rt.spawn(async move { i * 3 })).collect();
    let checked = rt.block_on(async {
        let mut checked = 0;
        for (i, handle) in (0u64..).zip(handles) {
            assert_eq!(handle.await.unwrap(), i * 3);
            checked += 1;
        }
        checked
    });
    assert_eq!(checked, N);
}

#[test]
fn a_hundred_thousand_tasks_spawned_inside_complete_with_their_outputs() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        spawn_inside(&rt);
    }
}

#[test]
fn a_hundred_thousand_tasks_spawned_outside_complete_with_their_outputs() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        spawn_outside(&rt);
    }
}

#[test]
fn detached_tasks_all_run() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let remaining = Arc::new(AtomicUsize::new(10_000));
        let (tx, rx) = support::oneshot();
        let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
        rt.block_on(async {
            for _ in 0..10_000 {
                let remaining = remaining.clone();
                let tx = tx.clone();
                drop(weft_executor::spawn(async move {
                    if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                        tx.lock().unwrap().take().unwrap().send(());
                    }
                }));
            }
            rx.await.unwrap();
        });
        assert_eq!(remaining.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn spawning_from_many_foreign_threads_at_once() {
    let rt = Runtime::builder().worker_threads(4).build().unwrap();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let handle = rt.handle().clone();
            std::thread::spawn(move || {
                (0..10_000u64)
                    .map(|i| handle.spawn(async move { t * 100_000 + i }))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        all.extend(t.join().unwrap());
    }
    let outputs = rt.block_on(async {
        let mut out = Vec::new();
        for h in all {
            out.push(h.await.unwrap());
        }
        out
    });
    let expected: Vec<u64> = (0..4u64)
        .flat_map(|t| (0..10_000u64).map(move |i| t * 100_000 + i))
        .collect();
    assert_eq!(outputs, expected);
}

#[test]
fn spawn_outside_a_runtime_panics_naming_the_fix() {
    assert!(Handle::try_current().unwrap_err().is_missing_context());
    let err = std::panic::catch_unwind(|| weft_executor::spawn(async {})).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("Runtime::spawn"), "{msg}");
}

#[test]
fn handle_current_and_enter() {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let inside = rt.block_on(async { Handle::try_current().is_ok() });
    assert!(inside);
    let task = {
        let _guard = rt.enter();
        weft_executor::spawn(async { 9 })
    };
    assert!(Handle::try_current().is_err());
    assert_eq!(rt.block_on(task).unwrap(), 9);
}

// ANCHOR: woken-many-times
#[test]
fn a_task_woken_many_times_during_one_poll_is_polled_once_more() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let polls = Arc::new(AtomicUsize::new(0));
        let p = polls.clone();
        let task = rt.spawn(poll_fn(move |cx| {
            if p.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.waker().wake_by_ref();
                cx.waker().wake_by_ref();
                let by_value = cx.waker().clone();
                by_value.wake();
                let w = cx.waker().clone();
                std::thread::spawn(move || w.wake()).join().unwrap();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        rt.block_on(task).unwrap();
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }
}
// ANCHOR_END: woken-many-times

#[test]
fn no_task_is_ever_polled_concurrently_with_itself() {
    let rt = Runtime::builder().worker_threads(4).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let wakers = Arc::new(std::sync::Mutex::new(Vec::new()));
    for _ in 0..64 {
        let in_poll = Arc::new(AtomicBool::new(false));
        let wakers = wakers.clone();
        let stop = stop.clone();
        let mut polls = 0u32;
        tasks.push(rt.spawn(poll_fn(move |cx| {
            assert!(
                !in_poll.swap(true, Ordering::SeqCst),
                "polled concurrently with itself"
            );
            polls += 1;
            wakers.lock().unwrap().push(cx.waker().clone());
            std::hint::spin_loop();
            in_poll.store(false, Ordering::SeqCst);
            if stop.load(Ordering::SeqCst) && polls > 1 {
                Poll::Ready(polls)
            } else {
                Poll::Pending
            }
        })));
    }
    // Wake everyone from several threads, over and over.
    let wakers_threads: Vec<_> = (0..3)
        .map(|_| {
            let wakers = wakers.clone();
            std::thread::spawn(move || {
                for _ in 0..2_000 {
                    let batch: Vec<_> = wakers.lock().unwrap().drain(..).collect();
                    for w in batch {
                        w.wake_by_ref();
                        w.wake();
                    }
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    for t in wakers_threads {
        t.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for w in wakers.lock().unwrap().drain(..) {
        w.wake();
    }
    // Keep waking until each task has seen `stop` (it finishes on a poll
    // after the flag is set, and every poll leaves a waker behind).
    let results = rt.block_on(async move {
        let mut out = Vec::new();
        for t in tasks {
            let waker_pump = {
                let wakers = wakers.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        for w in wakers.lock().unwrap().drain(..) {
                            w.wake();
                        }
                        std::thread::yield_now();
                    }
                })
            };
            out.push(t.await.unwrap());
            waker_pump.join().unwrap();
        }
        out
    });
    assert!(results.iter().all(|&polls| polls > 1));
}

#[test]
fn build_rejects_zero_settings_with_an_error() {
    let err = Runtime::builder().worker_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads"));
    assert!(Runtime::builder().max_blocking_threads(0).build().is_err());
    assert!(Runtime::builder().global_queue_interval(0).build().is_err());
    assert!(Runtime::builder().event_interval(0).build().is_err());
}
