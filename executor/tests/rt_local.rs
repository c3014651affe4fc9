//! `spawn_local`: `!Send` tasks on the current-thread runtime.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use weft_executor::{Runtime, task};

#[test]
fn local_tasks_share_non_send_state() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let log = rt.block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..10 {
            let log = log.clone();
            handles.push(task::spawn_local(async move {
                task::yield_now().await;
                log.borrow_mut().push(i);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(log, (0..10).collect::<Vec<_>>());
}

#[test]
fn local_tasks_are_dropped_at_shutdown_on_their_thread() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let drops = support::DropCounter::default();
    let guard = drops.guard();
    rt.block_on(async move {
        let not_send = Rc::new(guard);
        drop(task::spawn_local(async move {
            let _keep = not_send;
            std::future::pending::<()>().await;
        }));
        task::yield_now().await;
    });
    drop(rt);
    assert_eq!(drops.count(), 1);
}

#[test]
fn spawn_local_outside_a_current_thread_runtime_panics_clearly() {
    let outside = std::panic::catch_unwind(|| task::spawn_local(async {})).unwrap_err();
    assert!(
        outside
            .downcast_ref::<String>()
            .is_none_or(|m| m.contains("current-thread"))
    );
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let err = rt
        .block_on(async { weft_executor::spawn(async { drop(task::spawn_local(async {})) }).await })
        .unwrap_err();
    let payload = err.into_panic();
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(msg.contains("current-thread") && msg.contains("spawn"), "{msg}");
}

#[test]
fn a_runtime_with_local_tasks_refuses_other_threads() {
    let rt = std::sync::Arc::new(Runtime::builder().current_thread().build().unwrap());
    rt.block_on(async { task::spawn_local(async {}).await.unwrap() });
    let rt2 = rt.clone();
    let other = std::thread::spawn(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt2.block_on(async {}))).is_err()
    });
    assert!(other.join().unwrap(), "block_on on another thread must panic");
    // The owning thread still drives it.
    assert_eq!(rt.block_on(async { 1 }), 1);
}

#[test]
fn dropped_on_another_thread_local_futures_leak_but_their_handles_resolve() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let drops = support::DropCounter::default();
    let guard = drops.guard();
    let handle = rt.block_on(async move {
        let not_send = Rc::new(guard);
        let handle = task::spawn_local(async move {
            let _keep = not_send;
            std::future::pending::<u32>().await
        });
        // Returned, not awaited: the task stays pending on purpose.
        Some(handle)
    });
    let handle = handle.unwrap();
    // Dropped off the owning thread: the `Rc` must not be dropped there.
    std::thread::spawn(move || drop(rt)).join().unwrap();
    assert_eq!(drops.count(), 0, "a !Send future was dropped on the wrong thread");
    let err = weft_executor::block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
}
