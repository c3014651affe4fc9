//! The thread inside a multi-thread `Runtime::block_on` runs tasks from the
//! injection queue while its future waits, and every contract of the
//! scheduler holds meanwhile: the future comes first when it is woken,
//! tasks it wakes stay reachable by the workers, yields wait for a driver
//! turn, the driver turns every `event_interval` polls, panics stay in
//! their task, a nested `block_on` still panics, and a runtime shut down
//! runs nothing more.
//!
//! Most tests keep the runtime's only worker blocked in a task, so that
//! whatever runs, runs on the `block_on` thread: before that thread ran
//! tasks, they waited forever (`within_seconds` turns that into a failure).

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use weft_executor::park::{CondvarPark, Park};
use weft_executor::runtime::Handle;
use weft_executor::{Runtime, task};

/// Runs `f` on a thread of its own; fails, instead of hanging, if it has
/// not finished within a generous bound.
fn within_seconds(secs: u64, what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(secs)).is_ok(),
        "{what}: still waiting after {secs} s"
    );
}

/// Keeps the worker that runs it blocked until dropped.
struct Occupied(#[allow(dead_code)] mpsc::Sender<()>);

/// Blocks the only worker of `rt` in a task, and returns once it is.
fn occupy_the_worker(rt: &Runtime) -> Occupied {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    // Spawned from outside `block_on`: only the worker can take it.
    drop(rt.spawn(async move {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv();
    }));
    started_rx.recv().unwrap();
    Occupied(release_tx)
}

/// One worker, blocked: every task runs on the `block_on` thread.
fn runtime_with_worker_occupied(driver: Option<Arc<dyn Park>>) -> (Runtime, Occupied) {
    let mut builder = Runtime::builder();
    builder.worker_threads(1).event_interval(10);
    if let Some(driver) = driver {
        builder.driver(driver);
    }
    let rt = builder.build().unwrap();
    let occupied = occupy_the_worker(&rt);
    (rt, occupied)
}

#[test]
fn tasks_run_on_the_block_on_thread_while_every_worker_is_busy() {
    within_seconds(20, "request/reply", || {
        let (rt, _occupied) = runtime_with_worker_occupied(None);
        let main = std::thread::current().id();
        let served_here = rt.block_on(async move {
            let (tx, mut rx) = support::channel::<(u32, support::Sender<u32>)>();
            let server = weft_executor::spawn(async move {
                let mut served_here = 0;
                while let Some((n, reply)) = rx.recv().await {
                    served_here += u32::from(std::thread::current().id() == main);
                    reply.send(n * 2);
                }
                served_here
            });
            for n in 0..100 {
                let (reply_tx, reply_rx) = support::oneshot();
                tx.send((n, reply_tx));
                assert_eq!(reply_rx.await, Some(n * 2));
            }
            drop(tx);
            server.await.unwrap()
        });
        assert_eq!(served_here, 100);
    });
}

#[test]
fn the_future_is_polled_before_the_next_task_once_it_is_woken() {
    within_seconds(20, "woken future", || {
        let (rt, occupied) = runtime_with_worker_occupied(None);
        let ran_before = rt.block_on(async move {
            let others_ran = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = support::oneshot::<()>();
            // Queued first, so run first: it wakes the future.
            drop(weft_executor::spawn(async move { tx.send(()) }));
            let others: Vec<_> = (0..10)
                .map(|_| {
                    let others_ran = others_ran.clone();
                    weft_executor::spawn(async move {
                        others_ran.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            rx.await.unwrap();
            let ran_before = others_ran.load(Ordering::SeqCst);
            // The rest is the worker's: this thread takes a task only
            // after a poll that handed one off.
            drop(occupied);
            for other in others {
                other.await.unwrap();
            }
            assert_eq!(others_ran.load(Ordering::SeqCst), 10);
            ran_before
        });
        assert_eq!(ran_before, 0, "tasks ran between the wake and the poll");
    });
}

/// The future wakes a task and then blocks its thread until that task has
/// run: the task must not be kept where only this thread could run it.
#[test]
fn a_task_the_future_wakes_runs_on_a_worker_while_the_future_blocks_the_thread() {
    within_seconds(20, "blocked future", || {
        let rt = Runtime::builder().worker_threads(1).build().unwrap();
        let ran = rt.block_on(async {
            let (ready_tx, ready_rx) = support::oneshot::<()>();
            let (go_tx, go_rx) = support::oneshot::<()>();
            let (done_tx, done_rx) = mpsc::channel();
            drop(weft_executor::spawn(async move {
                ready_tx.send(());
                go_rx.await.unwrap();
                done_tx.send(std::thread::current().id()).unwrap();
            }));
            ready_rx.await.unwrap();
            go_tx.send(());
            // Blocks this thread: only the worker can run the woken task.
            done_rx.recv().unwrap()
        });
        assert_ne!(ran, std::thread::current().id());
    });
}

#[test]
fn a_task_that_panics_on_the_block_on_thread_fails_only_itself() {
    within_seconds(20, "panicking task", || {
        let (rt, _occupied) = runtime_with_worker_occupied(None);
        let out = rt.block_on(async {
            let err = weft_executor::spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(err.is_panic());
            weft_executor::spawn(async { 7 }).await.unwrap()
        });
        assert_eq!(out, 7);
    });
}

#[test]
fn block_on_inside_a_task_on_the_block_on_thread_still_panics() {
    within_seconds(20, "nested block_on", || {
        let (rt, _occupied) = runtime_with_worker_occupied(None);
        let main = std::thread::current().id();
        let (on_main, nested_panicked) = rt.block_on(async move {
            weft_executor::spawn(async move {
                let nested = std::panic::catch_unwind(|| Handle::current().block_on(async {}));
                (std::thread::current().id() == main, nested.is_err())
            })
            .await
            .unwrap()
        });
        assert!(on_main, "the task ran on the block_on thread");
        assert!(nested_panicked, "block_on inside a task did not panic");
    });
}

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

#[test]
fn a_task_yielding_on_the_block_on_thread_runs_again_only_after_a_driver_turn() {
    within_seconds(20, "yield", || {
        let driver = Arc::new(Turns::default());
        let (rt, occupied) = runtime_with_worker_occupied(Some(driver.clone()));
        let main = std::thread::current().id();
        let (first_on_main, turns) = rt.block_on(async move {
            let (yielding_tx, yielding_rx) = support::oneshot::<()>();
            // Spawned by the future: its first poll is this thread's to run.
            let yielder = weft_executor::spawn({
                let driver = driver.clone();
                async move {
                    let on_main = std::thread::current().id() == main;
                    let before = driver.turns.load(Ordering::SeqCst);
                    yielding_tx.send(());
                    task::yield_now().await;
                    (on_main, driver.turns.load(Ordering::SeqCst) - before)
                }
            });
            yielding_rx.await.unwrap();
            // The yielder waits in the injection queue: the worker's now.
            drop(occupied);
            yielder.await.unwrap()
        });
        assert!(first_on_main, "the first poll ran on a worker");
        assert!(turns >= 1, "it ran again after {turns} driver turns");
    });
}

#[test]
fn polls_of_tasks_count_towards_the_driver_turn() {
    within_seconds(20, "event_interval", || {
        let driver = Arc::new(Turns::default());
        let (rt, _occupied) = runtime_with_worker_occupied(Some(driver.clone()));
        let before = driver.turns.load(Ordering::SeqCst);
        rt.block_on(async {
            // 100 tasks, each spawned by the future and run by this thread
            // after that poll: 200 polls, the thread never sleeping.
            for i in 0..100 {
                assert_eq!(weft_executor::spawn(async move { i }).await.unwrap(), i);
            }
        });
        // `event_interval(10)`: at least one turn per ten polls.
        let turns = driver.turns.load(Ordering::SeqCst) - before;
        assert!(turns >= 9, "{turns} driver turns for over 100 polls");
    });
}

#[test]
fn with_block_on_runs_tasks_off_every_task_runs_on_a_worker() {
    within_seconds(20, "opt-out", || {
        let rt = Runtime::builder()
            .worker_threads(1)
            .block_on_runs_tasks(false)
            .build()
            .unwrap();
        let main = std::thread::current().id();
        let served_here = rt.block_on(async move {
            let (tx, mut rx) = support::channel::<(u32, support::Sender<u32>)>();
            let server = weft_executor::spawn(async move {
                let mut served_here = 0;
                while let Some((n, reply)) = rx.recv().await {
                    served_here += u32::from(std::thread::current().id() == main);
                    reply.send(n + 1);
                }
                served_here
            });
            for n in 0..100 {
                let (reply_tx, reply_rx) = support::oneshot();
                tx.send((n, reply_tx));
                assert_eq!(reply_rx.await, Some(n + 1));
            }
            drop(tx);
            server.await.unwrap()
        });
        assert_eq!(served_here, 0);
    });
}

#[test]
fn a_runtime_shut_down_runs_no_task_on_a_block_on_thread() {
    within_seconds(20, "shutdown", || {
        let rt = Runtime::builder().worker_threads(1).build().unwrap();
        let handle = rt.handle().clone();
        rt.shutdown_timeout(Duration::from_secs(5));
        let err = handle
            .block_on(async { weft_executor::spawn(async { 1 }).await })
            .unwrap_err();
        assert!(err.is_cancelled());
    });
}

/// A driver that counts how often workers sleep in it and are woken.
#[derive(Default)]
struct Counting {
    inner: CondvarPark,
    parks: AtomicUsize,
    unparks: AtomicUsize,
}

impl Park for Counting {
    fn park(&self, timeout: Option<Duration>) {
        if timeout != Some(Duration::ZERO) {
            self.parks.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.park(timeout);
    }
    fn unpark(&self) {
        self.unparks.fetch_add(1, Ordering::Relaxed);
        self.inner.unpark();
    }
}

/// Request/reply with the client as the `block_on` future and the server a
/// task: prints counts per round trip (and the time, never asserted). Run
/// with `cargo test -p weft-executor --release --test rt_block_on_tasks --
/// --ignored --nocapture` (and `WEFT_SPIN=64` to let idle workers spin).
#[test]
#[ignore = "a measurement, not a test: prints counts and times"]
fn measure_request_reply_from_block_on() {
    const ROUNDS: usize = 20_000;
    for workers in [1, 2] {
        let driver = Arc::new(Counting::default());
        // `WEFT_SPIN=n`: idle workers search n more times before parking.
        let spins = std::env::var("WEFT_SPIN")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let rt = Runtime::builder()
            .worker_threads(workers)
            .spin_before_park(spins)
            .driver(driver.clone())
            .build()
            .unwrap();
        let on_main = Arc::new(AtomicUsize::new(0));
        let polls = Arc::new(AtomicUsize::new(0));
        let main = std::thread::current().id();
        let start = std::time::Instant::now();
        let (on_main2, polls2) = (on_main.clone(), polls.clone());
        rt.block_on(async move {
            let (tx, mut rx) = support::channel::<(usize, support::Sender<usize>)>();
            let server = weft_executor::spawn(async move {
                while let Some((n, reply)) = rx.recv().await {
                    if std::thread::current().id() == main {
                        on_main2.fetch_add(1, Ordering::Relaxed);
                    }
                    reply.send(n + 1);
                }
            });
            let mut sum = 0;
            for n in 0..ROUNDS {
                let (reply_tx, reply_rx) = support::oneshot();
                tx.send((n, reply_tx));
                let mut reply_rx = std::pin::pin!(reply_rx);
                sum += std::future::poll_fn(|cx| {
                    polls2.fetch_add(1, Ordering::Relaxed);
                    reply_rx.as_mut().poll(cx)
                })
                .await
                .unwrap();
            }
            drop(tx);
            server.await.unwrap();
            assert_eq!(sum, ROUNDS * (ROUNDS + 1) / 2);
        });
        let elapsed = start.elapsed();
        let per = |n: usize| n as f64 / ROUNDS as f64;
        println!(
            "{workers} worker(s): {:.2} driver parks, {:.2} driver unparks, {:.2} client polls per round trip; \
             {:.0} % served on the block_on thread; {:?} per round trip",
            per(driver.parks.load(Ordering::Relaxed)),
            per(driver.unparks.load(Ordering::Relaxed)),
            per(polls.load(Ordering::Relaxed)),
            100.0 * per(on_main.load(Ordering::Relaxed)),
            elapsed / ROUNDS as u32,
        );
    }
}
