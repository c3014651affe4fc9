//! Scheduler benchmarks: tokio's own workloads, run on weft, tokio and smol
//! in the same process, in a multi-thread flavour (two workers each) and a
//! current-thread flavour.
//!
//! `spawn_growth_{1000,100000}/multi` spawns 1 000 and 100 000 tasks from a
//! task on the multi-thread flavours, reported per task.
//!
//! Run with `cargo bench --bench executor`; `benches/report.py` runs it several
//! times and prints the table recorded in `benches/RESULTS.md`.

mod common;

use common::{Bench, Exec, Smol, SmolLocal, Tokio, Weft};
use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};

/// 10 000 no-op tasks spawned from a task.
fn spawn_many_local<B: Bench>(rt: &B) {
    spawn_local_n(rt, 10_000);
}

/// `n` no-op tasks spawned from a task, all of them waited for.
fn spawn_local_n<B: Bench>(rt: &B, n: usize) {
    let e = rt.exec();
    let done = Arc::new(Notify::new());
    let rem = Arc::new(AtomicUsize::new(n));
    rt.block_on(async {
        let (done2, rem2) = (done.clone(), rem.clone());
        e.spawn_detached(async move {
            for _ in 0..n {
                let (done, rem) = (done2.clone(), rem2.clone());
                e.spawn_detached(async move {
                    if rem.fetch_sub(1, Ordering::Relaxed) == 1 {
                        done.notify_one();
                    }
                });
            }
        });
        done.notified().await;
    });
}

/// 10 000 tasks spawned from outside onto an idle runtime, then joined.
fn spawn_many_remote_idle<B: Bench>(rt: &B) {
    const N: usize = 10_000;
    let e = rt.exec();
    // The spawns happen outside any task: from the thread calling block_on
    // (for current-thread flavours, before their tasks can run).
    let handles: Vec<_> = rt.block_on(async { (0..N).map(|_| e.spawn(async {})).collect() });
    rt.block_on(async {
        for h in handles {
            h.await;
        }
    });
}

/// 200 tasks, each yielding 1 000 times.
fn yield_many<B: Bench>(rt: &B) {
    const TASKS: usize = 200;
    const YIELDS: usize = 1_000;
    let e = rt.exec();
    rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                e.spawn(async move {
                    for _ in 0..YIELDS {
                        e.yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
    });
}

/// 1 000 tasks, each a oneshot there and back with a spawned peer.
fn ping_pong<B: Bench>(rt: &B) {
    const PINGS: usize = 1_000;
    let e = rt.exec();
    let done = Arc::new(Notify::new());
    let rem = Arc::new(AtomicUsize::new(PINGS));
    rt.block_on(async {
        let (done2, rem2) = (done.clone(), rem.clone());
        e.spawn_detached(async move {
            for _ in 0..PINGS {
                let (done, rem) = (done2.clone(), rem2.clone());
                e.spawn_detached(async move {
                    let (tx1, rx1) = oneshot::channel::<()>();
                    let (tx2, rx2) = oneshot::channel::<()>();
                    e.spawn_detached(async move {
                        rx1.await.unwrap();
                        tx2.send(()).unwrap();
                    });
                    tx1.send(()).unwrap();
                    rx2.await.unwrap();
                    if rem.fetch_sub(1, Ordering::Relaxed) == 1 {
                        done.notify_one();
                    }
                });
            }
        });
        done.notified().await;
    });
}

/// A chain of 1 000 tasks, each spawning the next.
fn chained_spawn<B: Bench>(rt: &B) {
    const DEPTH: usize = 1_000;
    fn link<E: Exec>(e: E, done: Arc<Notify>, n: usize) {
        if n == 0 {
            done.notify_one();
        } else {
            e.spawn_detached(async move { link(e, done, n - 1) });
        }
    }
    let e = rt.exec();
    let done = Arc::new(Notify::new());
    rt.block_on(async {
        let d = done.clone();
        e.spawn_detached(async move { link(e, d, DEPTH) });
        done.notified().await;
    });
}

/// 1 000 sequential round trips: a request and its oneshot reply sent over
/// a bounded channel to a server task.
fn request_reply<B: Bench>(rt: &B) {
    const ROUNDS: u64 = 1_000;
    let e = rt.exec();
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(32);
        let server = e.spawn(async move {
            while let Some((n, reply)) = rx.recv().await {
                let _ = reply.send(n + 1);
            }
        });
        let client = e.spawn(async move {
            let mut sum = 0;
            for n in 0..ROUNDS {
                let (reply_tx, reply_rx) = oneshot::channel();
                tx.send((n, reply_tx)).await.unwrap();
                sum += reply_rx.await.unwrap();
            }
            sum
        });
        assert_eq!(client.await, ROUNDS * (ROUNDS + 1) / 2);
        server.await;
    });
}

/// `request_reply` with the client in `block_on` itself, as a `main`
/// driving a client is written: 1 000 sequential round trips to a server
/// task. The thread in `block_on` runs tasks while its future waits on
/// weft (multi-thread since issue 27, current-thread always) and on smol
/// (`block_on(executor.run(..))`); tokio's multi-thread `block_on` thread
/// only sleeps, so every round trip crosses to a worker and back.
fn request_reply_block_on<B: Bench>(rt: &B) {
    const ROUNDS: u64 = 1_000;
    let e = rt.exec();
    rt.block_on_main(async {
        let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(32);
        let server = e.spawn(async move {
            while let Some((n, reply)) = rx.recv().await {
                let _ = reply.send(n + 1);
            }
        });
        let mut sum = 0;
        for n in 0..ROUNDS {
            let (reply_tx, reply_rx) = oneshot::channel();
            tx.send((n, reply_tx)).await.unwrap();
            sum += reply_rx.await.unwrap();
        }
        assert_eq!(sum, ROUNDS * (ROUNDS + 1) / 2);
        drop(tx);
        server.await;
    });
}

type Workload<B> = fn(&B);

fn workloads<B: Bench>() -> [(&'static str, Workload<B>); 7] {
    [
        ("spawn_many_local", spawn_many_local::<B>),
        ("spawn_many_remote_idle", spawn_many_remote_idle::<B>),
        ("yield_many", yield_many::<B>),
        ("ping_pong", ping_pong::<B>),
        ("chained_spawn", chained_spawn::<B>),
        ("request_reply", request_reply::<B>),
        ("request_reply_block_on", request_reply_block_on::<B>),
    ]
}

fn run_flavour<W: Bench, T: Bench, S: Bench>(c: &mut Criterion, flavour: &str, weft: W, tokio: T, smol: S) {
    let (w, t, s) = (workloads::<W>(), workloads::<T>(), workloads::<S>());
    for i in 0..w.len() {
        let mut group = c.benchmark_group(format!("{}/{flavour}", w[i].0));
        group.bench_function(W::NAME, |b| b.iter(|| (w[i].1)(&weft)));
        group.bench_function(T::NAME, |b| b.iter(|| (t[i].1)(&tokio)));
        group.bench_function(S::NAME, |b| b.iter(|| (s[i].1)(&smol)));
        group.finish();
    }
}

fn multi(c: &mut Criterion) {
    run_flavour(c, "multi", Weft::multi(), Tokio::multi(), Smol);
}

fn current(c: &mut Criterion) {
    run_flavour(c, "current", Weft::current(), Tokio::current(), SmolLocal);
}

/// Spawn cost against the number spawned: `spawn_many_local` with 1 000
/// and 100 000 tasks on the multi-thread flavours, reported per task
/// (criterion's throughput). A flat cost per task means nothing grows
/// with the number of live tasks (a registry, a queue that reallocates).
fn spawn_growth(c: &mut Criterion) {
    let (weft, tokio) = (Weft::multi(), Tokio::multi());
    for n in [1_000, 100_000] {
        let mut group = c.benchmark_group(format!("spawn_growth_{n}/multi"));
        group.throughput(criterion::Throughput::Elements(n as u64));
        group.bench_function(Weft::NAME, |b| b.iter(|| spawn_local_n(&weft, n)));
        group.bench_function(Tokio::NAME, |b| b.iter(|| spawn_local_n(&tokio, n)));
        group.bench_function(Smol::NAME, |b| b.iter(|| spawn_local_n(&Smol, n)));
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = multi, current, spawn_growth
}
criterion_main!(benches);
