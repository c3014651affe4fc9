//! Runs one test body under weft (both schedulers), tokio (both) and smol,
//! to prove that weft's primitives are runtime-agnostic.
//!
//! A body gets a [`Spawner`] for the runtime it runs on; it spawns through
//! that and joins with [`Join`], which does not depend on the runtime
//! either. A watchdog turns a hang into a failure naming the runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A generous bound: a correct body finishes in milliseconds.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Spawns onto the runtime a body runs on, and sleeps on its clock.
#[derive(Clone)]
pub struct Spawner(Arc<dyn Fn(BoxFuture) + Send + Sync>, Sleeper);

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawner").finish_non_exhaustive()
    }
}

/// Sleeps until an instant on a runtime's own timer.
type Sleeper = Arc<dyn Fn(std::time::Instant) -> BoxFuture + Send + Sync>;

/// The harness's runtime as promises, callbacks and queues see it: what a
/// user of tokio or smol would write to run them there.
impl weft::spawner::Spawn for Spawner {
    fn spawn(&self, future: BoxFuture) {
        (self.0)(future);
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> BoxFuture {
        (self.1)(deadline)
    }
}

impl Spawner {
    /// A weft spawner over this runtime.
    pub fn weft_spawner(&self) -> weft::spawner::Spawner {
        weft::spawner::Spawner::new(self.clone())
    }

    /// Spawns `future`; the [`Join`] yields its output.
    pub fn spawn<F>(&self, future: F) -> Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let slot = JoinSlot::new();
        let guard = Finish(Arc::clone(&slot));
        (self.0)(Box::pin(async move {
            let guard = guard;
            let output = future.await;
            guard.set(JoinState::Done(output));
        }));
        Join(slot)
    }
}

enum JoinState<T> {
    Running,
    Done(T),
    /// The task was dropped before finishing: it panicked.
    Lost,
    Taken,
}

struct JoinSlot<T> {
    state: JoinState<T>,
    waker: Option<Waker>,
}

impl<T> JoinSlot<T> {
    fn new() -> Arc<Mutex<JoinSlot<T>>> {
        Arc::new(Mutex::new(JoinSlot {
            state: JoinState::Running,
            waker: None,
        }))
    }
}

/// Completes the join slot; if dropped unfinished, marks the task lost.
struct Finish<T>(Arc<Mutex<JoinSlot<T>>>);

impl<T> Finish<T> {
    fn set(&self, state: JoinState<T>) {
        let waker = {
            let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if matches!(slot.state, JoinState::Running) {
                slot.state = state;
            }
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Finish<T> {
    fn drop(&mut self) {
        self.set(JoinState::Lost);
    }
}

/// The output of a task spawned through a [`Spawner`].
pub struct Join<T>(Arc<Mutex<JoinSlot<T>>>);

impl<T> std::fmt::Debug for Join<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Join").finish_non_exhaustive()
    }
}

impl<T> Future for Join<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::replace(&mut slot.state, JoinState::Taken) {
            JoinState::Done(value) => Poll::Ready(value),
            JoinState::Lost => panic!("a spawned task panicked"),
            JoinState::Taken => panic!("joined twice"),
            JoinState::Running => {
                slot.state = JoinState::Running;
                if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    slot.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

/// Runs `body` once on each runtime, failing with the runtime's name if it
/// panics or hangs.
pub fn on_every_runtime<F, Fut>(body: F)
where
    F: Fn(Spawner) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let body = Arc::new(body);
    for (name, run) in RUNTIMES {
        let body = Arc::clone(&body);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("suite-{name}"))
            .spawn(move || {
                run(Box::new(move |spawner| Box::pin(body(spawner))));
                let _ = done_tx.send(());
            })
            .unwrap();
        // ANCHOR: watchdog
        match done_rx.recv_timeout(WATCHDOG) {
            Ok(()) => thread.join().unwrap(),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // The body panicked: report it under the runtime's name.
                if let Err(panic) = thread.join() {
                    eprintln!("failed on {name}");
                    std::panic::resume_unwind(panic);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("hung on {name}"),
        }
        // ANCHOR_END: watchdog
    }
}

type Body = Box<dyn FnOnce(Spawner) -> BoxFuture + Send>;

/// Builds a runtime and runs a body on it.
type Run = fn(Body);

const RUNTIMES: [(&str, Run); 5] = [
    ("weft current_thread", |body| {
        let rt = weft::Runtime::builder().current_thread().build().unwrap();
        run_weft(rt, body);
    }),
    ("weft multi_thread", |body| {
        let rt = weft::Runtime::builder().worker_threads(2).build().unwrap();
        run_weft(rt, body);
    }),
    ("tokio current_thread", |body| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        run_tokio(rt, body);
    }),
    ("tokio multi_thread", |body| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        run_tokio(rt, body);
    }),
    ("smol", run_smol),
];

fn run_weft(rt: weft::Runtime, body: Body) {
    let handle = rt.handle().clone();
    let spawner = Spawner(
        Arc::new(move |f| drop(handle.spawn(f))),
        Arc::new(|deadline| Box::pin(weft::time::sleep_until(deadline.into()))),
    );
    rt.block_on(body(spawner));
}

fn run_tokio(rt: tokio::runtime::Runtime, body: Body) {
    let handle = rt.handle().clone();
    let spawner = Spawner(
        Arc::new(move |f| drop(handle.spawn(f))),
        Arc::new(|deadline| Box::pin(tokio::time::sleep_until(deadline.into()))),
    );
    rt.block_on(body(spawner));
}

/// smol: a shared executor run by this thread and one more.
fn run_smol(body: Body) {
    let ex = Arc::new(async_executor::Executor::new());
    let (stop_tx, stop_rx) = stop_signal();
    let helper = {
        let ex = Arc::clone(&ex);
        std::thread::spawn(move || futures_lite::future::block_on(ex.run(stop_rx)))
    };
    let spawner = {
        let ex = Arc::clone(&ex);
        Spawner(
            Arc::new(move |f| ex.spawn(f).detach()),
            Arc::new(|deadline| {
                Box::pin(async move {
                    async_io::Timer::at(deadline).await;
                })
            }),
        )
    };
    futures_lite::future::block_on(ex.run(body(spawner)));
    stop_tx.send();
    helper.join().unwrap();
}

/// A stop signal for smol's helper thread, built on the join slot above.
fn stop_signal() -> (Stop, Join<()>) {
    let slot = JoinSlot::new();
    (Stop(Finish(Arc::clone(&slot))), Join(slot))
}

struct Stop(Finish<()>);

impl Stop {
    fn send(self) {
        self.0.set(JoinState::Done(()));
    }
}

// ANCHOR: poll-once
/// Polls `future` once with the current task's waker.
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}
// ANCHOR_END: poll-once

/// Yields to the runtime `n` times, letting other tasks run.
pub async fn yield_n(n: usize) {
    for _ in 0..n {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }
}
