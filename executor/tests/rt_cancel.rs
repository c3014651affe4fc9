//! Panics, aborts and shutdown, each on the three setups: current-thread,
//! one worker, four workers.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{DropCounter, pending_with, setups};
use weft_executor::task::{self, JoinError};

fn panic_message(err: JoinError) -> String {
    let payload = err.into_panic();
    match payload.downcast::<&str>() {
        Ok(s) => (*s).to_owned(),
        Err(payload) => *payload.downcast::<String>().unwrap(),
    }
}

// ANCHOR: panic-reaches-join-handle
#[test]
fn a_panic_while_polling_reaches_the_join_handle_and_the_runtime_goes_on() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        rt.block_on(async {
            let err = weft_executor::spawn(async { panic!("poll panic") })
                .await
                .unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled());
            assert_eq!(panic_message(err), "poll panic");
            // Every worker is still there: a batch of tasks still runs.
            let handles: Vec<_> = (0..100).map(|i| weft_executor::spawn(async move { i })).collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            assert_eq!(sum, 4950);
        });
    }
}
// ANCHOR_END: panic-reaches-join-handle

/// A future that panics when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[test]
fn a_panic_while_dropping_an_aborted_future_reaches_the_join_handle() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        rt.block_on(async {
            let guard = PanicOnDrop("drop panic");
            let handle = weft_executor::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            task::yield_now().await;
            handle.abort();
            let err = handle.await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(panic_message(err), "drop panic");
        });
    }
}

#[test]
fn a_panic_while_dropping_the_future_after_it_completed_is_reported() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        rt.block_on(async {
            let guard = PanicOnDrop("teardown panic");
            let err = weft_executor::spawn(async move {
                let _keep = &guard;
                1
            })
            .await
            .unwrap_err();
            assert_eq!(panic_message(err), "teardown panic");
        });
    }
}

/// An output whose drop panics, counting the attempt.
struct PanickyOutput(Arc<AtomicUsize>);

impl Drop for PanickyOutput {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("output drop panic");
    }
}

#[test]
fn a_panic_while_dropping_the_output_is_caught() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        let drops = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            // Detached: the task side drops the output.
            let (tx, rx) = support::oneshot();
            let d = drops.clone();
            drop(weft_executor::spawn(async move {
                tx.send(());
                PanickyOutput(d)
            }));
            rx.await.unwrap();
            // Joined, then the handle dropped unread: the handle drops it.
            let d = drops.clone();
            let handle = weft_executor::spawn(async move { PanickyOutput(d) });
            while !handle.is_finished() {
                task::yield_now().await;
            }
            drop(handle);
            // The runtime goes on.
            assert_eq!(weft_executor::spawn(async { 5 }).await.unwrap(), 5);
        });
        // The detached task's output is dropped once it completes, which may
        // be just after `rx` fired; dropping the runtime settles it.
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}

#[test]
fn abort_of_a_pending_task_drops_its_future_and_reports_cancelled() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        let drops = DropCounter::default();
        rt.block_on(async {
            let handle = weft_executor::spawn(pending_with(drops.guard()));
            task::yield_now().await; // let it be polled once
            handle.abort();
            let err = handle.await.unwrap_err();
            assert!(err.is_cancelled());
        });
        assert_eq!(drops.count(), 1);
    }
}

#[test]
fn abort_before_the_first_poll_never_polls() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        let polled = Arc::new(AtomicUsize::new(0));
        let p = polled.clone();
        let handle = rt.spawn(async move {
            p.fetch_add(1, Ordering::SeqCst);
        });
        handle.abort();
        // Aborting twice is harmless.
        handle.abort_handle().abort();
        let result = rt.block_on(handle);
        // It might have run before the abort landed on a multi-thread runtime.
        match result {
            Ok(()) => assert_eq!(polled.load(Ordering::SeqCst), 1),
            Err(e) => {
                assert!(e.is_cancelled());
                assert_eq!(polled.load(Ordering::SeqCst), 0);
            }
        }
    }
}

// ANCHOR: abort-running-task
#[test]
fn abort_of_a_running_task_takes_effect_when_its_poll_ends() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        let after_abort = Arc::new(AtomicUsize::new(0));
        let drops = DropCounter::default();
        rt.block_on(async {
            let (tx, rx) = support::oneshot::<task::AbortHandle>();
            let a = after_abort.clone();
            let guard = drops.guard();
            let handle = weft_executor::spawn(async move {
                let _guard = guard;
                let me = rx.await.unwrap();
                // Aborted while running: the rest of this poll still runs…
                me.abort();
                a.fetch_add(1, Ordering::SeqCst);
                // …but the task never resumes after this await.
                task::yield_now().await;
                a.fetch_add(100, Ordering::SeqCst);
            });
            tx.send(handle.abort_handle());
            assert!(handle.await.unwrap_err().is_cancelled());
        });
        assert_eq!(after_abort.load(Ordering::SeqCst), 1);
        assert_eq!(drops.count(), 1);
    }
}
// ANCHOR_END: abort-running-task

#[test]
fn abort_from_another_thread_while_the_task_is_mid_poll() {
    for (name, rt) in setups().into_iter().skip(1) {
        eprintln!("setup: {name}");
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let handle = rt.spawn(async move {
            started_tx.send(()).unwrap();
            // Hold the worker until the abort has been issued.
            go_rx.recv().unwrap();
            task::yield_now().await;
            "resumed"
        });
        started_rx.recv().unwrap();
        handle.abort();
        go_tx.send(()).unwrap();
        assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    }
}

#[test]
fn aborting_a_finished_task_keeps_its_output() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        rt.block_on(async {
            let handle = weft_executor::spawn(async { 7 });
            while !handle.is_finished() {
                task::yield_now().await;
            }
            handle.abort();
            assert_eq!(handle.await.unwrap(), 7);
        });
    }
}

#[test]
fn dropping_the_runtime_drops_every_future_and_cancels_every_handle() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        let drops = DropCounter::default();
        let mut handles = Vec::new();
        // Idle tasks that were polled and wait forever.
        for _ in 0..50 {
            handles.push(rt.spawn(pending_with(drops.guard())));
        }
        rt.block_on(async {
            task::yield_now().await;
            // Tasks that spawn more pending tasks, some never polled at all.
            for _ in 0..50 {
                handles.push(weft_executor::spawn(pending_with(drops.guard())));
            }
        });
        // Queued, never polled.
        for _ in 0..50 {
            handles.push(rt.spawn(pending_with(drops.guard())));
        }
        drop(rt);
        assert_eq!(
            drops.count(),
            150,
            "every future was dropped before `drop` returned"
        );
        for h in handles {
            assert!(h.is_finished());
            let err = weft_executor::block_on(h).unwrap_err();
            assert!(err.is_cancelled());
        }
    }
}

#[test]
fn futures_are_dropped_on_runtime_threads() {
    for (name, rt) in setups().into_iter().skip(1) {
        eprintln!("setup: {name}");
        let names = Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Where(Arc<std::sync::Mutex<Vec<Option<String>>>>);
        impl Drop for Where {
            fn drop(&mut self) {
                let name = std::thread::current().name().map(str::to_owned);
                self.0.lock().unwrap().push(name);
            }
        }
        for _ in 0..20 {
            let w = Where(names.clone());
            drop(rt.spawn(async move {
                let _w = w;
                std::future::pending::<()>().await;
            }));
        }
        rt.block_on(task::yield_now());
        drop(rt);
        let names = names.lock().unwrap();
        assert_eq!(names.len(), 20);
        assert!(
            names.iter().all(|n| n.as_deref() == Some("weft-worker")),
            "{names:?}"
        );
    }
}

#[test]
fn spawning_after_shutdown_gives_a_cancelled_handle() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        let handle = rt.handle().clone();
        drop(rt);
        let drops = DropCounter::default();
        let late = handle.spawn(pending_with(drops.guard()));
        assert_eq!(drops.count(), 1);
        assert!(weft_executor::block_on(late).unwrap_err().is_cancelled());
        let blocking = handle.spawn_blocking(|| 1);
        assert!(weft_executor::block_on(blocking).unwrap_err().is_cancelled());
    }
}

#[test]
fn a_join_handle_awaited_from_another_runtime() {
    let a = weft_executor::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    let b = weft_executor::Runtime::builder()
        .current_thread()
        .build()
        .unwrap();
    let task = a.spawn(async { "from a" });
    assert_eq!(b.block_on(task).unwrap(), "from a");
}

#[test]
fn a_runtime_dropped_on_its_own_blocking_thread_does_not_hang() {
    for (name, rt) in setups() {
        eprintln!("setup: {name}");
        let rt = Arc::new(rt);
        let drops = DropCounter::default();
        drop(rt.spawn(pending_with(drops.guard())));
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let last = rt.clone();
        drop(rt.spawn_blocking(move || {
            // The last reference goes away on a pool thread of the runtime.
            drop(last);
            done_tx.send(()).unwrap();
        }));
        drop(rt);
        done_rx.recv().unwrap();
        assert_eq!(drops.count(), 1);
    }
}

#[test]
fn a_runtime_dropped_by_its_own_task_does_not_hang() {
    let rt = Arc::new(
        weft_executor::Runtime::builder()
            .worker_threads(2)
            .build()
            .unwrap(),
    );
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let last = rt.clone();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    drop(rt.spawn(async move {
        go_rx.recv().unwrap();
        drop(last);
        done_tx.send(()).unwrap();
    }));
    drop(rt);
    go_tx.send(()).unwrap();
    done_rx.recv().unwrap();
}

#[test]
fn a_worker_whose_driver_panics_shuts_the_runtime_down_instead_of_hanging() {
    use weft_executor::park::{CondvarPark, Park};
    struct Exploding(CondvarPark);
    impl Park for Exploding {
        fn park(&self, timeout: Option<std::time::Duration>) {
            if timeout.is_none() {
                panic!("driver failure");
            }
            self.0.park(timeout);
        }
        fn unpark(&self) {
            self.0.unpark();
        }
    }
    let rt = weft_executor::Runtime::builder()
        .worker_threads(1)
        .driver(Arc::new(Exploding(CondvarPark::new())))
        .build()
        .unwrap();
    // With nothing to do, the worker parks in the driver, which panics; the
    // runtime shuts down, and a task spawned afterwards is cancelled.
    let drops = DropCounter::default();
    let task = rt.spawn(pending_with(drops.guard()));
    let result = weft_executor::block_on(task);
    assert!(result.unwrap_err().is_cancelled());
    drop(rt);
    assert_eq!(drops.count(), 1);
}
