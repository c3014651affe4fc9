//! `JoinSet`: results in the order tasks finish; abort, detach, drop.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use weft_executor::task::{self, JoinSet};
use weft_test_support::CountingWaker;

#[test]
fn results_come_in_the_order_tasks_finish() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let order = rt.block_on(async {
            let mut set = JoinSet::new();
            let mut senders = Vec::new();
            for i in 0..5 {
                let (tx, rx) = support::oneshot::<()>();
                senders.push(tx);
                set.spawn(async move {
                    rx.await;
                    i
                });
            }
            let mut order = Vec::new();
            // Release them in reverse order, one at a time.
            while let Some(tx) = senders.pop() {
                tx.send(());
                order.push(set.join_next().await.unwrap().unwrap());
            }
            assert!(set.join_next().await.is_none());
            order
        });
        assert_eq!(order, [4, 3, 2, 1, 0]);
    }
}

#[test]
fn many_tasks_are_joined_once_each() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let total = rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..10_000u64 {
                set.spawn(async move {
                    task::yield_now().await;
                    i
                });
            }
            assert_eq!(set.len(), 10_000);
            let mut total = 0;
            while let Some(r) = set.join_next().await {
                total += r.unwrap();
            }
            assert!(set.is_empty());
            total
        });
        assert_eq!(total, (0..10_000u64).sum::<u64>());
    }
}

#[test]
fn abort_all_and_drop_cancel_the_tasks() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let drops = support::DropCounter::default();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..10 {
                set.spawn(support::pending_with(drops.guard()));
            }
            set.abort_all();
            let mut cancelled = 0;
            while let Some(r) = set.join_next().await {
                assert!(r.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 10);

            let mut dropped_set = JoinSet::new();
            for _ in 0..10 {
                dropped_set.spawn(support::pending_with(drops.guard()));
            }
            drop(dropped_set);
            // Let the aborted tasks be cancelled.
            for _ in 0..10 {
                task::yield_now().await;
            }
        });
        drop(rt);
        assert_eq!(drops.count(), 20);
    }
}

#[test]
fn detach_all_lets_tasks_run_on() {
    let rt = weft_executor::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = support::oneshot();
    rt.block_on(async {
        let mut set = JoinSet::new();
        let r = ran.clone();
        set.spawn(async move {
            r.fetch_add(1, Ordering::SeqCst);
            tx.send(());
        });
        set.detach_all();
        assert!(set.is_empty());
        drop(set);
        rx.await.unwrap();
    });
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn try_join_next_does_not_wait() {
    let rt = weft_executor::Runtime::builder()
        .current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut set = JoinSet::new();
        assert!(set.try_join_next().is_none());
        set.spawn(async { 1 });
        assert!(set.try_join_next().is_none(), "not run yet");
        task::yield_now().await;
        assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
        set.shutdown().await;
    });
}

/// Spends the whole cooperative budget of the current task without yielding.
async fn exhaust_budget() {
    std::future::poll_fn(|cx| {
        while weft_executor::coop::has_budget_remaining() {
            let _ = weft_executor::coop::poll_proceed(cx);
        }
        std::task::Poll::Ready(())
    })
    .await;
}

#[test]
fn try_join_next_finds_finished_tasks_with_the_budget_spent() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        rt.block_on(async {
            let mut set = JoinSet::new();
            let aborts: Vec<_> = (0..3).map(|i| set.spawn(async move { i })).collect();
            while !aborts.iter().all(|a| a.is_finished()) {
                task::yield_now().await;
            }
            exhaust_budget().await;
            assert!(!weft_executor::coop::has_budget_remaining());
            let mut got = Vec::new();
            while let Some(res) = set.try_join_next() {
                got.push(res.unwrap());
            }
            got.sort();
            assert_eq!(got, [0, 1, 2]);
            // It spent nothing and gave nothing back.
            assert!(!weft_executor::coop::has_budget_remaining());
        });
    }
}

#[test]
fn join_all_returns_every_value_and_collect_spawns() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let mut values = rt.block_on(async {
            let mut set: JoinSet<u32> = (0..50).map(|i| async move { i }).collect();
            set.extend((50..100).map(|i| async move {
                task::yield_now().await;
                i
            }));
            assert_eq!(set.len(), 100);
            set.join_all().await
        });
        values.sort();
        assert_eq!(values, (0..100).collect::<Vec<_>>());
    }
}

#[test]
fn join_all_resumes_a_panic_and_aborts_the_rest() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let dropped = support::DropCounter::default();
        let guard = dropped.guard();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                let mut set = JoinSet::new();
                set.spawn(async move {
                    support::pending_with(guard).await;
                    0_u32
                });
                set.spawn(async { std::panic::panic_any(7_u32) });
                set.join_all().await
            })
        }));
        let payload = result.unwrap_err();
        assert_eq!(*payload.downcast::<u32>().unwrap(), 7);
        // The pending task was aborted when the set dropped; its future is
        // dropped once the runtime reaches it, at the latest at shutdown.
        drop(rt);
        assert_eq!(dropped.count(), 1);
    }
}

#[test]
#[should_panic(expected = "no weft runtime")]
fn collecting_outside_a_runtime_panics() {
    let _set: JoinSet<()> = std::iter::once(async {}).collect();
}

#[test]
fn try_join_next_keeps_a_registered_waiter() {
    let rt = weft_executor::Runtime::builder()
        .current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut set = JoinSet::new();
        let (tx, rx) = support::oneshot::<()>();
        set.spawn(async move {
            rx.await;
            5
        });
        let counter = Arc::new(CountingWaker::default());
        let waker = std::task::Waker::from(counter.clone());
        // Register through the waiting poll, then look without waiting: the
        // look must not replace the registered waker.
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(set.poll_join_next(&mut cx).is_pending());
        assert!(set.try_join_next().is_none());
        tx.send(());
        // On this runtime the woken task runs, completes and notifies the
        // set before this task runs again.
        task::yield_now().await;
        assert_eq!(counter.wakes(), 1);
        assert_eq!(set.try_join_next().unwrap().unwrap(), 5);
    });
}
