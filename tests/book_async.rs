//! The code of the book's "async and await" chapter, run as tests: what an
//! `async fn` becomes, how dropping a future cancels it, a task that owns
//! its state and answers over channels, waiting on two things at once
//! without a `select!` macro, and the same channel code on weft, tokio and
//! smol through the `Spawn` interface.

mod support;

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use weft::spawner::{BoxFuture, Spawn, Spawner};
use weft::sync::{Semaphore, mpsc, oneshot, watch};
use weft::time::timeout;

// ANCHOR: async-fn
/// Waits for a number, then adds one.
async fn add_one(number: oneshot::Receiver<u32>) -> u32 {
    let n = number.await.unwrap_or(0);
    n + 1
}
// ANCHOR_END: async-fn

/// `add_one` written out as the kind of state machine the compiler makes of
/// it: one variant for each place the function can be stopped, holding
/// what is alive there.
enum AddOne {
    /// At the `.await` (or not started yet): the receiver is alive.
    Waiting(oneshot::Receiver<u32>),
    /// It returned; polling again is a bug.
    Done,
}

impl Future for AddOne {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        match &mut *self {
            AddOne::Waiting(number) => {
                // `.await` is this: poll the inner future, and if it is not
                // ready, return `Pending` too. The waker in `cx` goes along.
                let n = match Pin::new(number).poll(cx) {
                    Poll::Ready(result) => result.unwrap_or(0),
                    Poll::Pending => return Poll::Pending,
                };
                *self = AddOne::Done;
                Poll::Ready(n + 1)
            }
            AddOne::Done => panic!("`AddOne` polled after it returned"),
        }
    }
}

#[test]
fn the_async_fn_and_the_hand_written_machine_agree() {
    weft::block_on(async {
        let (tx, rx) = oneshot::channel();
        let by_compiler = weft::spawn(add_one(rx));
        tx.send(41).unwrap();
        assert_eq!(by_compiler.await.unwrap(), 42);

        let (tx, rx) = oneshot::channel();
        let by_hand = weft::spawn(AddOne::Waiting(rx));
        tx.send(41).unwrap();
        assert_eq!(by_hand.await.unwrap(), 42);
    });
}

/// Counts how many times its body started.
async fn count_start(starts: &AtomicU32) {
    starts.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn calling_an_async_fn_runs_none_of_its_body() {
    let starts = AtomicU32::new(0);
    let future = count_start(&starts);
    assert_eq!(starts.load(Ordering::Relaxed), 0, "not started yet");
    weft::block_on(future);
    assert_eq!(starts.load(Ordering::Relaxed), 1, "started when polled");
}

// ANCHOR: sizes
/// Keeps a 1 KiB buffer alive across its `.await`.
async fn keeps_buffer(number: oneshot::Receiver<u32>) -> usize {
    let buffer = [1u8; 1024];
    let n = number.await.unwrap_or(0) as usize;
    buffer.iter().map(|&b| b as usize).sum::<usize>() + n
}

/// Uses the same buffer, but is done with it before the `.await`.
async fn drops_buffer_first(number: oneshot::Receiver<u32>) -> usize {
    let sum = {
        let buffer = [1u8; 1024];
        buffer.iter().map(|&b| b as usize).sum::<usize>()
    };
    let n = number.await.unwrap_or(0) as usize;
    sum + n
}

#[test]
fn what_lives_across_an_await_lives_in_the_future() {
    let (_tx, rx) = oneshot::channel();
    assert!(size_of_val(&keeps_buffer(rx)) > 1024);
    let (_tx, rx) = oneshot::channel();
    assert!(size_of_val(&drops_buffer_first(rx)) < 64);
}
// ANCHOR_END: sizes

#[test]
fn both_sized_futures_compute_the_same() {
    weft::block_on(async {
        let (tx, rx) = oneshot::channel();
        tx.send(1).unwrap();
        assert_eq!(keeps_buffer(rx).await, 1025);
        let (tx, rx) = oneshot::channel();
        tx.send(1).unwrap();
        assert_eq!(drops_buffer_first(rx).await, 1025);
    });
}

// ANCHOR: cancel-timeout
#[test]
fn a_timeout_drops_the_future_and_loses_nothing() {
    weft::block_on(async {
        let (tx, mut rx) = mpsc::channel::<&str>(4);
        // Nothing arrives in time: `timeout` drops the `recv` future.
        let early = timeout(Duration::from_millis(10), rx.recv()).await;
        assert!(early.is_err());
        // The receiver is as good as before, and nothing was lost.
        tx.send("late").await.unwrap();
        assert_eq!(rx.recv().await, Some("late"));
    });
}
// ANCHOR_END: cancel-timeout

// ANCHOR: abort
/// Reports on a oneshot when it is dropped.
struct Goodbye(Option<oneshot::Sender<&'static str>>);

impl Drop for Goodbye {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send("the task's locals were dropped");
        }
    }
}

#[test]
fn abort_drops_the_task_and_detach_lets_it_run() {
    weft::block_on(async {
        // Aborted while it waits forever: its future, and all it holds,
        // is dropped at its `.await`.
        let (tx, dropped) = oneshot::channel();
        let (started_tx, started) = oneshot::channel();
        let task = weft::spawn(async move {
            let _goodbye = Goodbye(Some(tx));
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        started.await.unwrap();
        task.abort();
        assert_eq!(dropped.await, Ok("the task's locals were dropped"));
        assert!(task.await.unwrap_err().is_cancelled());

        // Dropping the handle detaches: the task runs to its end.
        let (tx, finished) = oneshot::channel();
        drop(weft::spawn(async move {
            weft::task::yield_now().await;
            tx.send("the detached task finished").unwrap();
        }));
        assert_eq!(finished.await, Ok("the detached task finished"));
    });
}
// ANCHOR_END: abort

// ANCHOR: actor
/// What the counter task can be asked.
enum Command {
    Add(u64),
    Get(oneshot::Sender<u64>),
}

/// Owns the count: no lock, because no other task can reach it. It stops
/// when every sender is gone.
async fn counter(mut inbox: mpsc::Receiver<Command>) {
    let mut count = 0;
    while let Some(command) = inbox.recv().await {
        match command {
            Command::Add(n) => count += n,
            Command::Get(reply) => {
                let _ = reply.send(count);
            }
        }
    }
}
// ANCHOR_END: actor

// ANCHOR: count-anywhere
/// Starts a counter task through `spawner`, adds 1 to 100 over a channel of
/// 8 places (so the sender keeps waiting for the counter to catch up), and
/// asks for the total.
async fn count_to_100(spawner: Spawner) -> u64 {
    let (tx, inbox) = mpsc::channel(8);
    spawner.spawn(counter(inbox));
    for n in 1..=100 {
        tx.send(Command::Add(n)).await.expect("the counter runs");
    }
    let (reply, total) = oneshot::channel();
    tx.send(Command::Get(reply)).await.expect("the counter runs");
    total.await.expect("the counter answers")
}
// ANCHOR_END: count-anywhere

// ANCHOR: spawn-tokio-smol
/// tokio, as weft's primitives see it.
struct Tokio(tokio::runtime::Handle);

impl Spawn for Tokio {
    fn spawn(&self, future: BoxFuture) {
        drop(self.0.spawn(future));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

/// smol (async-executor, with async-io's timers), as weft's primitives see
/// it.
struct Smol(Arc<async_executor::Executor<'static>>);

impl Spawn for Smol {
    fn spawn(&self, future: BoxFuture) {
        self.0.spawn(future).detach();
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture {
        Box::pin(async move {
            async_io::Timer::at(deadline).await;
        })
    }
}
// ANCHOR_END: spawn-tokio-smol

// ANCHOR: three-runtimes
#[test]
fn the_same_counter_runs_on_weft_tokio_and_smol() {
    let weft = weft::Runtime::new().unwrap();
    let spawner = weft.handle().spawner().clone();
    assert_eq!(weft.block_on(count_to_100(spawner)), 5050);

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let spawner = Spawner::new(Tokio(tokio.handle().clone()));
    assert_eq!(tokio.block_on(count_to_100(spawner)), 5050);

    let smol = Arc::new(async_executor::Executor::new());
    let spawner = Spawner::new(Smol(smol.clone()));
    let total = futures_lite::future::block_on(smol.run(count_to_100(spawner)));
    assert_eq!(total, 5050);
}
// ANCHOR_END: three-runtimes

// ANCHOR: either
/// What a worker woke up for.
#[derive(Debug, PartialEq)]
enum Wake {
    Job(u32),
    /// The job channel closed.
    NoMoreJobs,
    Shutdown,
}

/// Waits for whichever comes first, a job or the shutdown signal: one
/// `poll_fn` polls both. Both waits are cancel-safe, so the one that loses
/// can be dropped without losing a job or a signal.
async fn next_wake(jobs: &mut mpsc::Receiver<u32>, shutdown: &mut watch::Receiver<bool>) -> Wake {
    let mut stop = pin!(shutdown.wait_for(|stop| *stop));
    poll_fn(|cx| {
        if stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Shutdown);
        }
        jobs.poll_recv(cx)
            .map(|job| job.map_or(Wake::NoMoreJobs, Wake::Job))
    })
    .await
}
// ANCHOR_END: either

#[test]
fn a_worker_takes_jobs_until_told_to_stop() {
    // On the paused clock, the sleep below ends only once every task is
    // idle: the worker has taken both jobs and waits for the next wake.
    let rt = support::paused_current_thread();
    rt.block_on(async {
        let (jobs_tx, mut jobs) = mpsc::channel(4);
        let (stop_tx, mut stop) = watch::channel(false);
        jobs_tx.send(1).await.unwrap();
        assert_eq!(next_wake(&mut jobs, &mut stop).await, Wake::Job(1));
        let worker = weft::spawn(async move {
            let mut done = Vec::new();
            loop {
                match next_wake(&mut jobs, &mut stop).await {
                    Wake::Job(job) => done.push(job),
                    other => return (done, other),
                }
            }
        });
        jobs_tx.send(2).await.unwrap();
        jobs_tx.send(3).await.unwrap();
        weft::time::sleep(Duration::from_millis(5)).await;
        stop_tx.send(true).unwrap();
        assert_eq!(worker.await.unwrap(), (vec![2, 3], Wake::Shutdown));
    });
}

// ANCHOR: semaphore
#[test]
fn a_semaphore_bounds_how_many_run_at_once() {
    weft::block_on(async {
        let slots = Arc::new(Semaphore::new(3));
        let running = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let mut tasks = weft::task::JoinSet::new();
        for _ in 0..20 {
            let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
            tasks.spawn(async move {
                let _permit = slots.acquire().await.unwrap();
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                weft::time::sleep(Duration::from_millis(1)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
    });
}
// ANCHOR_END: semaphore
