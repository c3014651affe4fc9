//! `LocalSet`: `!Send` tasks on the multi-thread runtime, woken from other
//! threads, dropped on their own thread.

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use weft_executor::task::{self, LocalSet};
use weft_executor::{Runtime, block_on};

#[test]
fn local_tasks_share_rc_state_on_the_multi_thread_runtime() {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let local = LocalSet::new();
    let here = thread::current().id();
    let log = Rc::new(RefCell::new(Vec::new()));
    let total = local.block_on(&rt, async {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let log = log.clone();
                task::spawn_local(async move {
                    task::yield_now().await;
                    assert_eq!(thread::current().id(), here);
                    log.borrow_mut().push(i);
                    i
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..20).sum::<i32>());
    let mut seen = log.borrow().clone();
    seen.sort();
    assert_eq!(seen, (0..20).collect::<Vec<_>>());
}

#[test]
fn a_wake_from_another_thread_reaches_a_local_task() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let local = LocalSet::new();
        let here = thread::current().id();
        let got = local.block_on(&rt, async {
            let (tx, rx) = support::oneshot::<u32>();
            let polled_on = Rc::new(Cell::new(None::<ThreadId>));
            let local_task = task::spawn_local({
                let polled_on = polled_on.clone();
                async move {
                    let v = rx.await.unwrap();
                    polled_on.set(Some(thread::current().id()));
                    v
                }
            });
            // Let the local task park on the channel first.
            task::yield_now().await;
            // A `Send` task on the runtime, or a plain thread, sends.
            let sender = weft_executor::spawn(async move { tx.send(7) });
            sender.await.unwrap();
            let v = local_task.await.unwrap();
            assert_eq!(polled_on.get(), Some(here));
            v
        });
        assert_eq!(got, 7);

        // From a plain thread, while the set runs as a future of its own.
        let (tx, rx) = support::oneshot::<u32>();
        let out = Rc::new(Cell::new(0));
        let o = out.clone();
        local.spawn_local(async move { o.set(rx.await.unwrap()) });
        let sender = thread::spawn(move || tx.send(9));
        rt.block_on(&mut std::pin::pin!(local));
        sender.join().unwrap();
        assert_eq!(out.get(), 9);
    }
}

#[test]
fn dropping_the_set_drops_pending_local_futures_on_its_thread() {
    struct OnDrop(Rc<RefCell<Vec<ThreadId>>>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.borrow_mut().push(thread::current().id());
        }
    }
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let dropped = Rc::new(RefCell::new(Vec::new()));
    let local = LocalSet::new();
    let (handle, abort) = local.block_on(&rt, async {
        let guard = OnDrop(dropped.clone());
        let h = task::spawn_local(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        // Another one that never even started.
        let g2 = OnDrop(dropped.clone());
        let abort = h.abort_handle();
        task::yield_now().await;
        local_spawn_unstarted(g2);
        (h, abort)
    });
    assert!(dropped.borrow().is_empty());
    assert!(!abort.is_finished());
    drop(local);
    assert_eq!(*dropped.borrow(), [thread::current().id(); 2]);
    assert!(abort.is_finished());
    assert!(block_on(handle).unwrap_err().is_cancelled());

    fn local_spawn_unstarted(guard: impl std::any::Any) {
        drop(task::spawn_local(async move {
            let _guard = guard;
        }));
    }
}

#[test]
fn an_abort_from_another_thread_cancels_on_the_owner_thread() {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let local = LocalSet::new();
    let here = thread::current().id();
    let dropped_on = Arc::new(Mutex::new(None));
    let err = local.block_on(&rt, async {
        struct Probe(Arc<Mutex<Option<ThreadId>>>, std::marker::PhantomData<Rc<()>>);
        impl Drop for Probe {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = Some(thread::current().id());
            }
        }
        let probe = Probe(dropped_on.clone(), std::marker::PhantomData);
        let h = task::spawn_local(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        });
        task::yield_now().await;
        let abort = h.abort_handle();
        thread::spawn(move || abort.abort()).join().unwrap();
        h.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    assert_eq!(*dropped_on.lock().unwrap(), Some(here));
}

#[test]
fn the_set_as_a_future_completes_when_its_tasks_do() {
    let local = LocalSet::new();
    let count = Rc::new(Cell::new(0));
    for _ in 0..200 {
        let count = count.clone();
        local.spawn_local(async move {
            for _ in 0..3 {
                task::yield_now().await;
            }
            // Nested: spawn_local inside a task of the set goes to the set.
            let c = count.clone();
            task::spawn_local(async move { c.set(c.get() + 1) });
        });
    }
    block_on(local);
    assert_eq!(count.get(), 200);
}

#[test]
fn run_until_leaves_unfinished_tasks_for_later() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let local = LocalSet::new();
    let (tx, rx) = support::oneshot::<()>();
    let done = Rc::new(Cell::new(false));
    let d = done.clone();
    local.block_on(&rt, async move {
        task::spawn_local(async move {
            rx.await;
            d.set(true);
        });
    });
    assert!(!done.get());
    tx.send(());
    rt.block_on(local);
    assert!(done.get());
}
