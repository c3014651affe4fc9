//! The task lifecycle driven through both schedulers, sized to run under
//! miri (`-Zmiri-strict-provenance`): spawning, stealing and overflow,
//! wakes from other threads, join, abort, panics, detaching, shutdown,
//! local tasks, `JoinSet` and the blocking pool. The integration tests in
//! `tests/` repeat these at full scale.

use crate::runtime::{Builder, Runtime};
use crate::task::{self, JoinSet};
use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

/// Small under miri, larger natively (the queue holds 256, so the larger
/// count makes the local queue overflow into the injection queue).
const N: usize = if cfg!(miri) { 40 } else { 2_000 };

fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread().worker_threads(2).build().unwrap(),
    ]
}

#[derive(Clone, Default)]
struct Drops(Arc<AtomicUsize>);

struct Guard(Arc<AtomicUsize>);

impl Drops {
    fn guard(&self) -> Guard {
        Guard(self.0.clone())
    }
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn spawn_join_and_steal() {
    for rt in runtimes() {
        let sum = rt.block_on(async {
            crate::spawn(async {
                let handles: Vec<_> = (0..N).map(|i| crate::spawn(async move { i })).collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            })
            .await
            .unwrap()
        });
        assert_eq!(sum, N * (N - 1) / 2);
    }
}

#[test]
fn wakes_from_another_thread() {
    for rt in runtimes() {
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let ready = Arc::new(AtomicUsize::new(0));
        let (s, r) = (slot.clone(), ready.clone());
        let task = rt.spawn(poll_fn(move |cx| {
            if r.load(Ordering::SeqCst) == 1 {
                return Poll::Ready("woken");
            }
            *s.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }));
        let waker_thread = std::thread::spawn(move || {
            loop {
                let waker = slot.lock().unwrap().take();
                if let Some(w) = waker {
                    ready.store(1, Ordering::SeqCst);
                    w.wake();
                    return;
                }
                std::thread::yield_now();
            }
        });
        assert_eq!(rt.block_on(task).unwrap(), "woken");
        waker_thread.join().unwrap();
    }
}

#[test]
fn abort_panic_and_detach() {
    for rt in runtimes() {
        let drops = Drops::default();
        rt.block_on(async {
            let g = drops.guard();
            let pending = crate::spawn(async move {
                let _g = g;
                std::future::pending::<()>().await;
            });
            task::yield_now().await;
            pending.abort();
            assert!(pending.await.unwrap_err().is_cancelled());

            let err = crate::spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(err.is_panic());

            // Detached before and after completion.
            drop(crate::spawn(async { String::from("dropped unread") }));
            let done = crate::spawn(async { vec![1, 2, 3] });
            while !done.is_finished() {
                task::yield_now().await;
            }
            drop(done);
        });
        assert_eq!(drops.get(), 1);
    }
}

#[test]
fn shutdown_drops_pending_futures() {
    for rt in runtimes() {
        let drops = Drops::default();
        let mut handles = Vec::new();
        for _ in 0..8 {
            let g = drops.guard();
            handles.push(rt.spawn(async move {
                let _g = g;
                std::future::pending::<()>().await;
            }));
        }
        rt.block_on(task::yield_now());
        drop(rt);
        assert_eq!(drops.get(), 8);
        for h in handles {
            assert!(crate::block_on(h).unwrap_err().is_cancelled());
        }
    }
}

#[test]
fn local_tasks_and_join_set() {
    let rt = Builder::new_current_thread().build().unwrap();
    let total = rt.block_on(async {
        let shared = std::rc::Rc::new(5);
        let mut set = JoinSet::new();
        for i in 0..8 {
            let shared = shared.clone();
            set.spawn_local(async move { *shared + i });
        }
        let mut total = 0;
        while let Some(r) = set.join_next().await {
            total += r.unwrap();
        }
        total
    });
    assert_eq!(total, 5 * 8 + 28);
}

#[test]
fn blocking_pool() {
    for rt in runtimes() {
        let out = rt.block_on(async { task::spawn_blocking(|| 40 + 2).await.unwrap() });
        assert_eq!(out, 42);
    }
}
