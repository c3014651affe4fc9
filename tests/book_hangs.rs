//! The code of the book's "Debugging a hang" chapter, run as tests: four
//! ways a task stops making progress (a lost wakeup, a lock held across
//! `.await`, blocking inside a task, a task that never yields), each made
//! small and deterministic, and the tools that find them: a timeout on the
//! paused clock, `JoinHandle::is_finished`, task ids, `num_alive_tasks`.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;
use weft::sync::{Mutex, oneshot};
use weft::time::timeout;

// ANCHOR: paused-runtime
/// A current-thread runtime on the paused clock: a hang becomes a timeout
/// that fires at once in real time, because the paused clock jumps to the
/// next timer as soon as every task is waiting.
fn paused() -> weft::Runtime {
    weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}
// ANCHOR_END: paused-runtime

// ANCHOR: lost-wakeup
/// Waits until `flag` is set. BUG: it returns `Pending` without keeping
/// the waker anywhere, so nobody can wake it when the flag changes.
async fn wait_for_flag_broken(flag: Arc<AtomicBool>) {
    poll_fn(|_cx| {
        if flag.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending // and no waker stored: a lost wakeup
        }
    })
    .await
}

#[test]
fn a_lost_wakeup_shows_as_a_task_that_never_finishes() {
    paused().block_on(async {
        let flag = Arc::new(AtomicBool::new(false));
        let waiter = weft::spawn(wait_for_flag_broken(flag.clone()));
        let id = waiter.id();
        weft::task::yield_now().await; // let it poll once and return Pending
        flag.store(true, Ordering::Release); // set, but nobody is woken

        // The tools: a timeout turns "hangs" into an error; is_finished and
        // the task's id say which task is stuck.
        let mut waiter = waiter;
        let waited = timeout(Duration::from_secs(5), &mut waiter).await;
        assert!(waited.is_err(), "task {id} is stuck");
        assert!(!waiter.is_finished());
        assert_eq!(weft::Handle::current().num_alive_tasks(), 1);
        waiter.abort();
    });
}
// ANCHOR_END: lost-wakeup

// ANCHOR: lock-across-await
#[test]
fn a_lock_held_across_an_await_deadlocks_two_tasks() {
    paused().block_on(async {
        let state = Arc::new(Mutex::new(0));
        let (go_tx, go_rx) = oneshot::channel::<()>();

        // A locks the state, then waits for B's signal while holding it.
        let a = weft::spawn({
            let state = state.clone();
            async move {
                let mut guard = state.lock().await;
                go_rx.await.unwrap(); // BUG: waits with the lock held
                *guard += 1;
            }
        });
        // B must lock the state before it sends the signal.
        let b = weft::spawn({
            let state = state.clone();
            async move {
                *state.lock().await += 10;
                go_tx.send(()).unwrap();
            }
        });

        // Give both tasks time to get stuck (no real time: the clock is
        // paused), then look.
        weft::time::sleep(Duration::from_secs(5)).await;
        assert!(!a.is_finished() && !b.is_finished());
        assert_eq!(weft::Handle::current().num_alive_tasks(), 2);
        // Who holds the lock? `try_lock` fails: someone does, and forever.
        assert!(state.try_lock().is_err());
    });
}
// ANCHOR_END: lock-across-await

// ANCHOR: blocking
#[test]
fn blocking_inside_a_task_stops_every_task_on_its_thread() {
    paused().block_on(async {
        let (std_tx, std_rx) = std::sync::mpsc::channel::<u32>();
        // The sender is a task on the same thread...
        let sender = weft::spawn(async move { std_tx.send(1).unwrap() });
        // ...and this blocking receive keeps the thread, so the sender never
        // runs. A bounded wait stands in for "forever" here.
        let got = std_rx.recv_timeout(Duration::from_millis(50));
        assert!(got.is_err(), "the sender could not run while we blocked");
        // Once we yield the thread back to the runtime, it runs at once.
        sender.await.unwrap();
        assert_eq!(std_rx.try_recv(), Ok(1));
    });
}
// ANCHOR_END: blocking

// ANCHOR: starvation
#[test]
fn a_task_that_never_yields_starves_the_others() {
    paused().block_on(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let other = weft::spawn({
            let ran = ran.clone();
            async move {
                ran.fetch_add(1, Ordering::SeqCst);
            }
        });
        // A busy loop with no `.await` inside: on this thread, nothing else
        // runs until it ends, however long that is.
        let mut spins = 0;
        while ran.load(Ordering::SeqCst) == 0 && spins < 100_000 {
            spins += 1;
        }
        assert_eq!(spins, 100_000, "the other task never got a turn");
        // The fix: give the thread back in the loop.
        while ran.load(Ordering::SeqCst) == 0 {
            weft::task::yield_now().await;
        }
        other.await.unwrap();
    });
}
// ANCHOR_END: starvation
