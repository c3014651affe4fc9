//! The registry under concurrency: binds, removals and shutdown racing on
//! one shard, across a page boundary (pages hold two entries under loom).
//! Every task must end up run or cancelled exactly once, counted out of the
//! registry, and freed: loom reports a task that leaks, because its
//! scheduler `Arc` leaks with it.

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Arc, thread};
use crate::task::registry::Registry;
use crate::task::{JoinError, JoinHandle, Notified, Schedule, Task, new_task};
use std::future::{Future, pending};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A scheduler whose tasks are run by hand: nothing is ever woken in these
/// models, so `schedule` only releases the reference.
struct Sched {
    registry: Registry<Arc<Sched>>,
}

impl Schedule for Arc<Sched> {
    fn schedule(&self, task: Notified<Self>) {
        drop(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.registry.remove(task)
    }
}

/// Counts its drops.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Allocates a task and binds it: its first `Notified` if recorded, and its
/// handle.
fn bind<F>(sched: &Arc<Sched>, future: F) -> (Option<Notified<Arc<Sched>>>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, notified, join) = new_task(future, sched.clone());
    (sched.registry.bind(task, notified, false), join)
}

/// A task that counts the drop of its future and completes at once with 7,
/// or never.
fn counted(drops: &Arc<AtomicUsize>, completes: bool) -> impl Future<Output = u32> + Send + 'static {
    let guard = DropCount(drops.clone());
    async move {
        let _guard = guard;
        if !completes {
            pending::<()>().await;
        }
        7
    }
}

fn poll_join<T>(join: &mut JoinHandle<T>) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_bind_racing_a_removal_across_a_page_boundary_keeps_both() {
    loom::model(|| {
        let sched = Arc::new(Sched {
            registry: Registry::new(1),
        });
        let drops = Arc::new(AtomicUsize::new(0));
        // Fill the first page: one task that will complete, one that waits.
        let (first, mut first_join) = bind(&sched, counted(&drops, true));
        let (second, _second_join) = bind(&sched, counted(&drops, false));
        second.unwrap().run();
        let (s2, d2) = (sched.clone(), drops.clone());
        // One thread binds a third task (a new page); this one completes the
        // first (freeing its slot) meanwhile.
        let binder = thread::spawn(move || {
            let (third, join) = bind(&s2, counted(&d2, false));
            third.unwrap().run();
            join
        });
        first.unwrap().run();
        let _third_join = binder.join().unwrap();
        assert!(matches!(poll_join(&mut first_join), Poll::Ready(Ok(7))));
        assert_eq!(sched.registry.len(), 2);
        // A fourth task takes the vacated slot; shutdown finds all three.
        let (fourth, _fourth_join) = bind(&sched, counted(&drops, false));
        fourth.unwrap().run();
        assert_eq!(sched.registry.len(), 3);
        sched.registry.close_and_shutdown_all(0, true);
        assert_eq!(sched.registry.len(), 0);
        assert_eq!(drops.load(Ordering::Relaxed), 4);
    });
}

#[test]
fn a_bind_racing_shutdown_is_cancelled_exactly_once() {
    loom::model(|| {
        let sched = Arc::new(Sched {
            registry: Registry::new(1),
        });
        let drops = Arc::new(AtomicUsize::new(0));
        let (s2, d2) = (sched.clone(), drops.clone());
        let binder = thread::spawn(move || {
            let (notified, join) = bind(&s2, counted(&d2, false));
            // Recorded before the close: shutdown cancels it, and the queued
            // `Notified` finds it complete. Else it was cancelled on the spot.
            if let Some(notified) = notified {
                notified.run();
            }
            join
        });
        sched.registry.close_and_shutdown_all(0, true);
        let mut join = binder.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        match poll_join(&mut join) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            other => panic!("a task bound around shutdown must be cancelled, got {other:?}"),
        }
        assert_eq!(sched.registry.len(), 0);
    });
}

#[test]
fn a_completion_racing_shutdown_leaves_the_registry_once() {
    loom::model(|| {
        let sched = Arc::new(Sched {
            registry: Registry::new(2),
        });
        let drops = Arc::new(AtomicUsize::new(0));
        let (done, mut done_join) = bind(&sched, counted(&drops, true));
        let (_idle, mut idle_join) = bind(&sched, counted(&drops, false));
        // The idle one's first poll is left queued: shutdown cancels it.
        let runner = thread::spawn(move || done.unwrap().run());
        sched.registry.close_and_shutdown_all(1, true);
        runner.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        match poll_join(&mut done_join) {
            Poll::Ready(Ok(v)) => assert_eq!(v, 7),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            Poll::Pending => panic!("a shut-down task must finish"),
        }
        assert!(matches!(poll_join(&mut idle_join), Poll::Ready(Err(e)) if e.is_cancelled()));
        assert_eq!(sched.registry.len(), 0);
    });
}
