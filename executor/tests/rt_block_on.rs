//! `block_on`: where it may block, and the clear panic where it may not.

mod support;

use weft_executor::runtime::Handle;
use weft_executor::{Runtime, block_on, task};

fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => (*p.downcast::<&str>().unwrap()).to_owned(),
    }
}

#[test]
fn block_on_runs_a_future_without_a_runtime() {
    let value = block_on(async {
        task::yield_now().await;
        "done"
    });
    assert_eq!(value, "done");
}

#[test]
fn block_on_inside_a_task_panics_telling_what_to_do_instead() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let err = rt
            .block_on(async { weft_executor::spawn(async { block_on(async {}) }).await })
            .unwrap_err();
        let msg = message(err.into_panic());
        assert!(msg.contains("spawn_blocking") && msg.contains(".await"), "{msg}");
    }
}

#[test]
fn block_on_inside_block_on_panics_instead_of_deadlocking() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { rt.block_on(async {}) });
        }))
        .unwrap_err();
        assert!(message(payload).contains("spawn_blocking"));
        // The runtime is still usable afterwards.
        assert_eq!(rt.block_on(async { 3 }), 3);
    }
}

#[test]
fn blocking_threads_may_block_on_and_see_the_runtime() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let out = rt.block_on(async {
            task::spawn_blocking(|| {
                let handle = Handle::current();
                let inner = handle.spawn(async { 20 });
                block_on(inner).unwrap() + 1
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 21);
    }
}

#[test]
fn a_panicking_block_on_future_leaves_the_runtime_usable() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let spawned = rt.spawn(async { 1 });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { panic!("in block_on") })
        }));
        assert!(caught.is_err());
        assert_eq!(rt.block_on(spawned).unwrap(), 1);
    }
}

#[test]
fn current_thread_block_on_from_two_threads_at_once() {
    // One thread drives the tasks; the other waits for the core, and both
    // futures complete.
    let rt = std::sync::Arc::new(Runtime::builder().current_thread().build().unwrap());
    let (tx, rx) = support::oneshot();
    let rt2 = rt.clone();
    let other = std::thread::spawn(move || rt2.block_on(async { rx.await.unwrap() * 2 }));
    let first = rt.block_on(async {
        let task = weft_executor::spawn(async { 21 });
        let v = task.await.unwrap();
        tx.send(v);
        v
    });
    assert_eq!(first, 21);
    assert_eq!(other.join().unwrap(), 42);
}

#[test]
fn handle_block_on_runs_spawned_tasks_from_a_plain_thread() {
    for (name, rt) in support::setups() {
        let handle = rt.handle().clone();
        // Nobody else is inside `block_on`: on a current-thread runtime this
        // thread runs the tasks itself.
        let out = std::thread::spawn(move || {
            handle.block_on(async {
                let inner = Handle::current().spawn(async { 20 });
                task::yield_now().await;
                weft_executor::spawn(async { 1 }).await.unwrap() + inner.await.unwrap()
            })
        })
        .join()
        .unwrap();
        assert_eq!(out, 21, "{name}");
    }
}

#[test]
fn handle_block_on_waits_while_another_thread_runs_the_tasks() {
    // The main thread holds the current-thread core inside `block_on`; a
    // second thread's `Handle::block_on` spawns a task, which the main
    // thread runs, and waits for it.
    let rt = Runtime::builder().current_thread().build().unwrap();
    let handle = rt.handle().clone();
    let (start_tx, start_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = support::oneshot();
    let other = std::thread::spawn(move || {
        start_rx.recv().unwrap();
        let out = handle.block_on(async {
            let here = std::thread::current().id();
            let ran_on = weft_executor::spawn(async { std::thread::current().id() })
                .await
                .unwrap();
            ran_on != here
        });
        done_tx.send(out);
    });
    let ran_elsewhere = rt.block_on(async {
        start_tx.send(()).unwrap();
        done_rx.await.unwrap()
    });
    assert!(ran_elsewhere, "the task ran on the waiting thread");
    other.join().unwrap();
}

#[test]
fn handle_block_on_from_a_blocking_task() {
    for (name, rt) in support::setups() {
        let out = rt.block_on(async {
            task::spawn_blocking(|| {
                Handle::current().block_on(async { weft_executor::spawn(async { 7 }).await.unwrap() })
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 7, "{name}");
    }
}

#[test]
fn handle_block_on_inside_the_runtime_panics_as_block_on_does() {
    for (name, rt) in support::setups() {
        let handle = rt.handle().clone();
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { handle.block_on(async {}) });
        }))
        .unwrap_err();
        let msg = message(payload);
        assert!(
            msg.contains("spawn_blocking") && msg.contains(".await"),
            "{name}: {msg}"
        );
        let handle = rt.handle().clone();
        let err = rt
            .block_on(rt.spawn(async move { handle.block_on(async {}) }))
            .unwrap_err();
        assert!(message(err.into_panic()).contains("spawn_blocking"), "{name}");
        // Still usable.
        assert_eq!(rt.handle().block_on(async { 3 }), 3, "{name}");
    }
}

#[test]
fn handle_block_on_after_the_runtime_is_dropped_still_runs_the_future() {
    for (name, rt) in support::setups() {
        let handle = rt.handle().clone();
        drop(rt);
        let cancelled = handle.block_on(async {
            task::yield_now().await;
            weft_executor::spawn(async {}).await.unwrap_err().is_cancelled()
        });
        assert!(cancelled, "{name}");
    }
}
