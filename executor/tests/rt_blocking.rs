//! The blocking pool: results, panics, its cap, abort and shutdown.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weft_executor::{Runtime, task};

#[test]
fn blocking_results_and_panics_reach_the_join_handle() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        rt.block_on(async {
            assert_eq!(task::spawn_blocking(|| 6 * 7).await.unwrap(), 42);
            let err = task::spawn_blocking(|| panic!("blocking panic"))
                .await
                .unwrap_err();
            assert!(err.is_panic());
        });
    }
}

#[test]
fn the_pool_never_exceeds_its_cap_and_runs_everything() {
    let rt = Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (running, peak) = (running.clone(), peak.clone());
            rt.spawn_blocking(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::yield_now();
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    let sum = rt.block_on(async {
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 190);
    assert!(peak.load(Ordering::SeqCst) <= 2);
}

#[test]
fn aborting_a_queued_blocking_task_cancels_it() {
    let rt = Runtime::builder()
        .current_thread()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let busy = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let queued = rt.spawn_blocking(move || r.fetch_add(1, Ordering::SeqCst));
    queued.abort();
    release_tx.send(()).unwrap();
    rt.block_on(async {
        busy.await.unwrap();
        assert!(queued.await.unwrap_err().is_cancelled());
    });
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn shutdown_timeout_returns_while_blocking_work_is_stuck() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let stuck = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = rx.recv();
    });
    started_rx.recv().unwrap();
    // Returns although the closure is still blocked.
    rt.shutdown_timeout(Duration::from_millis(1));
    tx.send(()).unwrap();
    // Its result is still delivered once the detached thread finishes.
    weft_executor::block_on(stuck).unwrap();
}

#[test]
fn dropping_the_runtime_waits_for_running_blocking_work() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let d = done.clone();
    drop(rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        for _ in 0..1_000 {
            std::thread::yield_now();
        }
        d.fetch_add(1, Ordering::SeqCst);
    }));
    started_rx.recv().unwrap();
    drop(rt);
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[test]
fn idle_blocking_threads_exit_after_the_keep_alive() {
    let rt = Runtime::builder()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_millis(1))
        .build()
        .unwrap();
    let first = rt
        .block_on(rt.spawn_blocking(|| std::thread::current().id()))
        .unwrap();
    // Wait (by asking, not by sleeping) until a new task lands on a new
    // thread: the first one left after its keep-alive.
    let mut attempts = 0;
    loop {
        let id = rt
            .block_on(rt.spawn_blocking(|| std::thread::current().id()))
            .unwrap();
        if id != first {
            break;
        }
        attempts += 1;
        assert!(attempts < 1_000_000, "the idle thread never exited");
        std::thread::yield_now();
    }
}
