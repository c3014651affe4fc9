//! Scheduling behaviour that the book's executor chapter describes, checked:
//! the order in which a worker runs the tasks it has just spawned (the LIFO
//! slot), and an idle worker stealing from a busy one.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use weft_executor::Runtime;

/// The order in which the spawned tasks ran.
type Order = Arc<Mutex<Vec<&'static str>>>;

/// Spawns three tasks that record their names, then waits for all three.
async fn spawn_three(order: Order) {
    let handles: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let order = order.clone();
            weft_executor::spawn(async move { order.lock().unwrap().push(name) })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

// ANCHOR: lifo-order
#[test]
fn the_last_task_spawned_on_a_worker_runs_first() {
    // On a worker, each spawn takes the LIFO slot and pushes the task that
    // was there to the back of the local queue: "c" runs first, then "a"
    // and "b" in the order they were queued.
    let order = Order::default();
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(rt.spawn(spawn_three(order.clone()))).unwrap();
    assert_eq!(*order.lock().unwrap(), ["c", "a", "b"]);

    // The current-thread scheduler has no LIFO slot: first in, first out.
    let order = Order::default();
    let rt = Runtime::builder().current_thread().build().unwrap();
    rt.block_on(spawn_three(order.clone()));
    assert_eq!(*order.lock().unwrap(), ["a", "b", "c"]);
}
// ANCHOR_END: lifo-order

/// Where two tasks wait for each other, each blocking its thread.
#[derive(Default)]
struct Meeting {
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Meeting {
    /// Arrives and waits for the other; false if it has not come within
    /// ten seconds, so a scheduler that never steals fails instead of
    /// hanging.
    fn arrive_and_wait(&self) -> bool {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        let (arrived, waited) = self
            .all_here
            .wait_timeout_while(arrived, Duration::from_secs(10), |arrived| *arrived < 2)
            .unwrap();
        drop(arrived);
        !waited.timed_out()
    }
}

// ANCHOR: work-is-stolen
#[test]
fn an_idle_worker_steals_from_a_busy_one() {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let spawner = rt.spawn(async {
        // Both tasks are queued on this task's worker, and each blocks its
        // thread (never do this in real code) until the other has started.
        // A worker runs one of them at a time, so they can only meet if
        // the other worker, woken by the spawns, steals one.
        let meeting = Arc::new(Meeting::default());
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let meeting = meeting.clone();
                weft_executor::spawn(async move {
                    assert!(meeting.arrive_and_wait(), "no worker stole the other task");
                    std::thread::current().id()
                })
            })
            .collect();
        let mut threads = HashSet::new();
        for handle in handles {
            threads.insert(handle.await.unwrap());
        }
        threads
    });
    let threads = rt.block_on(spawner).unwrap();
    assert_eq!(threads.len(), 2, "both workers ran some of the tasks");
}
// ANCHOR_END: work-is-stolen
