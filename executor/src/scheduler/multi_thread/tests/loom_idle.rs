//! The hand-off between a producer and the last searcher, as it goes to
//! sleep or as it stops searching because it found a task: in every
//! interleaving, either the producer wakes a worker or the searcher sees
//! the work. Never neither, or a task would sit unrun.

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::{Arc, thread};
use crate::scheduler::multi_thread::idle::Idle;

/// Two workers: worker 1 is asleep, worker 0 searches. A producer pushes a
/// task and, if it sees a searcher, wakes nobody; meanwhile worker 0 stops
/// searching through `stop` (which must find it was the last searcher) and
/// then looks at the queues. Returns whether worker 0 saw the task and
/// whether the producer woke a worker.
fn search_ends_while_a_task_is_pushed(stop: impl FnOnce(&Idle) -> bool) -> (bool, bool) {
    let idle = Arc::new(Idle::new(2));
    assert!(!idle.transition_worker_to_parked(1, false));
    assert!(idle.transition_worker_to_searching());
    let work = Arc::new(AtomicBool::new(false));

    let producer = {
        let (idle, work) = (idle.clone(), work.clone());
        thread::spawn(move || {
            work.store(true, Ordering::Release);
            idle.worker_to_notify().is_some()
        })
    };
    assert!(stop(&idle), "worker 0 was the only searcher");
    let saw_work = work.load(Ordering::Acquire);
    (saw_work, producer.join().unwrap())
}

#[test]
fn new_work_is_seen_by_the_parking_searcher_or_wakes_a_worker() {
    loom::model(|| {
        // Worker 0 finds nothing and parks.
        let (saw_work, woke_someone) =
            search_ends_while_a_task_is_pushed(|idle| idle.transition_worker_to_parked(0, true));
        assert!(saw_work || woke_someone, "the task would be left unrun");
    });
}

#[test]
fn only_one_worker_is_woken_for_one_task() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(3));
        for w in 0..3 {
            let _ = idle.transition_worker_to_parked(w, false);
        }
        let a = {
            let idle = idle.clone();
            thread::spawn(move || idle.worker_to_notify())
        };
        let b = idle.worker_to_notify();
        let a = a.join().unwrap();
        // The first wake makes a searcher; the second sees it and stands back.
        assert_eq!(usize::from(a.is_some()) + usize::from(b.is_some()), 1);
    });
}

#[test]
fn new_work_is_seen_by_the_searcher_that_found_work_or_wakes_a_worker() {
    loom::model(|| {
        // Worker 0 has just found a task in its own queue, so it stops
        // searching and, the last searcher, wakes someone only if it sees
        // more work.
        let (saw_work, woke_someone) =
            search_ends_while_a_task_is_pushed(|idle| idle.transition_worker_from_searching());
        assert!(
            saw_work || woke_someone,
            "the second task would wait for a worker that nobody wakes"
        );
    });
}
