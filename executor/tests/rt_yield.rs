//! `yield_now`: the other ready tasks run first, the driver gets a turn
//! before the yielder runs again, and without a runtime it just returns.

mod support;

use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;
use weft_executor::park::{CondvarPark, Park};
use weft_executor::{Runtime, task};
use weft_test_support::CountingWaker;

/// A driver that counts its turns: every `park`, blocking or not.
#[derive(Default)]
struct Turns {
    inner: CondvarPark,
    turns: AtomicUsize,
}

impl Park for Turns {
    fn park(&self, timeout: Option<Duration>) {
        self.turns.fetch_add(1, Ordering::SeqCst);
        self.inner.park(timeout);
    }

    fn unpark(&self) {
        self.inner.unpark();
    }
}

/// The two setups where one thread runs every task, with a counting driver.
fn with_turns() -> Vec<(&'static str, Runtime, Arc<Turns>)> {
    let current = Arc::new(Turns::default());
    let worker = Arc::new(Turns::default());
    vec![
        (
            "current_thread",
            Runtime::builder()
                .current_thread()
                .driver(current.clone())
                .build()
                .unwrap(),
            current,
        ),
        (
            "one_worker",
            Runtime::builder()
                .worker_threads(1)
                .driver(worker.clone())
                .build()
                .unwrap(),
            worker,
        ),
    ]
}

#[test]
fn a_yielding_task_runs_again_only_after_a_turn_of_the_driver() {
    for (name, rt, driver) in with_turns() {
        let turns_seen = rt
            .block_on(rt.spawn({
                let driver = driver.clone();
                async move {
                    let mut seen = Vec::new();
                    for _ in 0..20 {
                        let before = driver.turns.load(Ordering::SeqCst);
                        task::yield_now().await;
                        seen.push(driver.turns.load(Ordering::SeqCst) - before);
                    }
                    seen
                }
            }))
            .unwrap();
        assert!(
            turns_seen.iter().all(|&n| n >= 1),
            "{name}: turns per yield {turns_seen:?}"
        );
    }
}

#[test]
fn a_block_on_future_that_yields_runs_again_only_after_a_turn_of_the_driver() {
    let driver = Arc::new(Turns::default());
    let rt = Runtime::builder()
        .current_thread()
        .driver(driver.clone())
        .build()
        .unwrap();
    let turns_seen = rt.block_on(async {
        let mut seen = Vec::new();
        for _ in 0..20 {
            let before = driver.turns.load(Ordering::SeqCst);
            task::yield_now().await;
            seen.push(driver.turns.load(Ordering::SeqCst) - before);
        }
        seen
    });
    assert!(
        turns_seen.iter().all(|&n| n >= 1),
        "turns per yield {turns_seen:?}"
    );
}

#[test]
fn a_block_on_future_that_wakes_itself_still_lets_the_driver_turn() {
    // No yield_now: a future that wakes itself every poll, as a `try_read`
    // loop does. The driver must still get turns, every `event_interval`
    // polls at the latest.
    let driver = Arc::new(Turns::default());
    let rt = Runtime::builder()
        .current_thread()
        .event_interval(7)
        .driver(driver.clone())
        .build()
        .unwrap();
    let before = driver.turns.load(Ordering::SeqCst);
    let mut polls = 0;
    rt.block_on(poll_fn(|cx| {
        polls += 1;
        if polls == 700 {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }));
    let turns = driver.turns.load(Ordering::SeqCst) - before;
    assert!(turns >= 700 / 7 - 1, "{turns} turns in 700 polls");
}

#[test]
fn yield_now_lets_every_ready_task_run_first() {
    for (name, rt) in support::setups() {
        if name == "four_workers" {
            // Other workers may steal the yielder: no order to assert.
            continue;
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(rt.spawn({
            let log = log.clone();
            async move {
                let others: Vec<_> = (0..3)
                    .map(|i| {
                        let log = log.clone();
                        weft_executor::spawn(async move { log.lock().unwrap().push(i) })
                    })
                    .collect();
                task::yield_now().await;
                log.lock().unwrap().push(99);
                for other in others {
                    other.await.unwrap();
                }
            }
        }))
        .unwrap();
        let mut log = log.lock().unwrap().clone();
        assert_eq!(log.pop(), Some(99), "{name}: the yielder went first");
        log.sort_unstable();
        assert_eq!(log, [0, 1, 2], "{name}");
    }
}

#[test]
fn yield_loops_complete_without_a_driver() {
    // No driver at all: the scheduler's turn of it does nothing, and the
    // yielders are woken all the same.
    for (name, rt) in support::setups() {
        let done = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..100 {
                        task::yield_now().await;
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for _ in 0..100 {
                task::yield_now().await;
            }
            for t in tasks {
                t.await.unwrap();
            }
            done.store(true, Ordering::SeqCst);
        });
        assert!(done.load(Ordering::SeqCst), "{name}");
    }
}

#[test]
fn yield_now_outside_a_runtime_wakes_at_once() {
    let mut yielded = Box::pin(task::yield_now());
    let woken = Arc::new(CountingWaker::default());
    let waker = std::task::Waker::from(woken.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(yielded.as_mut().poll(&mut cx).is_pending());
    assert_eq!(woken.wakes(), 1);
    assert!(yielded.as_mut().poll(&mut cx).is_ready());
    weft_executor::block_on(task::yield_now());
}

/// Runs `f` on a thread of its own; fails, instead of hanging, if it has
/// not finished within a generous bound.
fn within_seconds(secs: u64, what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(secs)).is_ok(),
        "{what}: still waiting after {secs} s"
    );
}

/// A `block_on` of another executor's making: it parks its thread until
/// its own waker fires.
fn foreign_block_on<F: Future>(future: F) -> F::Output {
    use std::task::{Context, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::park();
    }
}

/// Only the polled task's own waker waits for the driver: another
/// executor's `block_on` inside a task, which blocks the worker until its
/// waker fires, gets its yield woken at once.
#[test]
fn a_yield_under_another_executors_block_on_inside_a_task_is_woken_at_once() {
    for flavour in ["current_thread", "multi_thread"] {
        within_seconds(20, flavour, move || {
            let rt = match flavour {
                "current_thread" => Runtime::builder().current_thread().build().unwrap(),
                _ => Runtime::builder().worker_threads(2).build().unwrap(),
            };
            rt.block_on(async {
                weft_executor::spawn(async { foreign_block_on(task::yield_now()) })
                    .await
                    .unwrap();
            });
        });
    }
}

/// A yield kept back during the last poll of `block_on` is woken when
/// `block_on` returns, not left in the core for a `block_on` that may never
/// come (here a `LocalSet` task, driven afterwards elsewhere, and the
/// runtime dropped in between).
#[test]
fn a_yield_kept_back_when_block_on_returns_is_woken() {
    for drop_runtime_first in [false, true] {
        within_seconds(20, "LocalSet task", move || {
            let rt = Runtime::builder().current_thread().build().unwrap();
            let mut local = task::LocalSet::new();
            let seven = local.spawn_local(async {
                task::yield_now().await;
                7
            });
            // One poll of the set inside the runtime: its task yields, and
            // the `block_on` future completes at once.
            rt.block_on(poll_fn(|cx| {
                let _ = std::pin::Pin::new(&mut local).poll(cx);
                Poll::Ready(())
            }));
            if drop_runtime_first {
                drop(rt);
                assert_eq!(weft_executor::block_on(local.run_until(seven)).unwrap(), 7);
            } else {
                assert_eq!(weft_executor::block_on(local.run_until(seven)).unwrap(), 7);
                drop(rt);
            }
        });
    }
}

/// A task that yielded on a worker is back in that worker's stealable
/// queue before the task in its LIFO slot runs, so another worker can run
/// it even if that LIFO task blocks the thread waiting for it.
#[test]
fn a_yielded_task_can_be_stolen_while_its_worker_is_blocked() {
    within_seconds(20, "multi_thread", || {
        let rt = Runtime::builder().worker_threads(2).build().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        rt.block_on(async move {
            weft_executor::spawn(async move {
                // Into this worker's LIFO slot: it runs right after this poll
                // and blocks the thread until the yielder below sends.
                let blocker = weft_executor::spawn(async move { rx.recv().unwrap() });
                task::yield_now().await;
                tx.send(()).unwrap();
                blocker.await.unwrap();
            })
            .await
            .unwrap();
        });
    });
}
