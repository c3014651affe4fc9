// Over ~600 lines on purpose: STYLE.md keeps one bench file per area, and
// this is the `sync` area; each section (mpsc, oneshot, broadcast, notify,
// locks) runs one workload on weft, tokio and smol side by side.
//! Sync-primitive benchmarks: weft's runtime-agnostic `weft::sync` beside its
//! peers, on the same weft runtime for all, so that only the primitive differs.
//!
//! Run with `cargo bench --bench sync`; for the ratios table,
//! `python3 benches/report.py --launches 3 --bench sync`.
//!
//! Every group is `<area>/<workload>` (criterion stores it as
//! `target/criterion/<area>_<workload>/`, which `report.py` reads) and holds
//! the bench ids `weft`, `tokio` and `smol`. `weft` is `weft::sync`, `tokio`
//! is `tokio::sync`, and `smol` is the crate smol's ecosystem uses:
//!
//! | area | `smol` is |
//! | --- | --- |
//! | `mpsc` | `async-channel` |
//! | `oneshot` | `futures-channel`'s `oneshot` |
//! | `broadcast` | `async-broadcast` |
//! | `mutex`, `rwlock`, `semaphore` | `async-lock` |
//! | `notify` | none: weft and tokio only |
//!
//! Runtimes: a weft current-thread runtime for the single-task workloads, a
//! weft multi-thread runtime with `worker_threads(2)` for the contended ones
//! (`mpsc/contention_*`, `broadcast/*`, `notify/*`, `*/contended_8x10k`).
//! Coordination that is not under test (the broadcast wait group) uses
//! `tokio::sync::Notify` for all three, as `benches/common` does.
//!
//! The parameters are tokio's own (`benches/sync_*.rs` in tokio):
//!
//! * `mpsc/uncontended_{bounded,unbounded}`: one task sends 5 000 values then
//!   receives them (bounded capacity 1 000 000).
//! * `mpsc/contention_{bounded,bounded_full,unbounded}`: 5 producer tasks ×
//!   1 000 values, one consumer; capacity 1 000 000 and 100 for the bounded.
//! * `mpsc/create_100_000_medium`: create and drop a bounded channel of
//!   100 000 512-byte values. `async-channel` allocates its whole buffer up
//!   front, tokio and weft do not: this is the cost of that choice, and it
//!   also weighs on `async-channel` in the capacity-1 000 000 workloads.
//! * `oneshot/create_send_await`: create, send, await; one per iteration,
//!   timed inside one `block_on`.
//! * `broadcast/{10,100,1000}_receivers`: that many receiver tasks, 100 sends,
//!   each waited for until every receiver has it (tokio's `do_work` per
//!   message is left out).
//! * `notify/notify_one_{10,50,100,200,500}_waiters`: that many tasks loop on
//!   `notified().await`; a thread outside the runtime calls `notify_one`
//!   until 500 wake-ups were counted. Unlike tokio's spin it yields its core
//!   between calls (`std::thread::yield_now`): the machine has 2 cores.
//! * `{mutex,rwlock,semaphore}/uncontended`: 6 sequential acquire + release
//!   (read locks for the `RwLock`, a semaphore of 10 permits).
//! * `{mutex,rwlock,semaphore}/concurrent`: 6 spawned tasks each acquire
//!   once, all joined.
//! * `{mutex,semaphore}/contended_8x10k`: 8 tasks × 10 000 acquire + release
//!   of one lock (a semaphore of 1 permit), multi-thread.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use std::future::Future;
use std::hint::black_box;
use std::ops::DerefMut;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// ---- runtimes ----

fn current_rt() -> weft::Runtime {
    weft::Runtime::builder().current_thread().build().unwrap()
}

fn multi_rt() -> weft::Runtime {
    weft::Runtime::builder().worker_threads(2).build().unwrap()
}

/// Spawns on the weft runtime this is called from and waits for the tasks.
async fn join_all<F>(futures: impl IntoIterator<Item = F>)
where
    F: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(weft::spawn).collect();
    for h in handles {
        h.await.expect("benchmark task failed");
    }
}

/// The bench id of an implementation.
trait Named {
    const NAME: &'static str;
}

/// A group of `samples` samples with one bench per listed implementation,
/// each running `$work::<Impl>($args)` once per iteration.
macro_rules! trio {
    ($c:expr, $name:expr, $samples:expr, $work:ident $args:tt, $($ty:ty),+) => {{
        let mut g = $c.benchmark_group($name);
        g.sample_size($samples);
        $( g.bench_function(<$ty as Named>::NAME, |b| b.iter(|| $work::<$ty> $args)); )+
        g.finish();
    }};
}

// ---- mpsc ----

#[derive(Clone, Copy)]
#[allow(dead_code)]
struct Medium([usize; 64]);

trait Mpsc: Named {
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    type UTx: Clone + Send + 'static;
    type URx: Send + 'static;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx);
    fn unbounded() -> (Self::UTx, Self::URx);
    fn send(tx: &Self::Tx, value: usize) -> impl Future<Output = ()> + Send + '_;
    fn usend(tx: &Self::UTx, value: usize);
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send + '_;
    fn urecv(rx: &mut Self::URx) -> impl Future<Output = Option<usize>> + Send + '_;
    /// Creates and drops a bounded channel of `Medium`s.
    fn create_medium(capacity: usize);
}

/// `weft::sync` (every area).
struct Weft;
/// `tokio::sync` (every area).
struct Tokio;
/// `async-channel` plays `smol` for mpsc.
struct AsyncChannel;

impl Named for Weft {
    const NAME: &'static str = "weft";
}
impl Named for Tokio {
    const NAME: &'static str = "tokio";
}
impl Named for AsyncChannel {
    const NAME: &'static str = "smol";
}

impl Mpsc for Weft {
    type Tx = weft::sync::mpsc::Sender<usize>;
    type Rx = weft::sync::mpsc::Receiver<usize>;
    type UTx = weft::sync::mpsc::UnboundedSender<usize>;
    type URx = weft::sync::mpsc::UnboundedReceiver<usize>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        weft::sync::mpsc::channel(capacity)
    }
    fn unbounded() -> (Self::UTx, Self::URx) {
        weft::sync::mpsc::unbounded_channel()
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.unwrap();
    }
    fn usend(tx: &Self::UTx, value: usize) {
        tx.send(value).unwrap();
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send + '_ {
        rx.recv()
    }
    fn urecv(rx: &mut Self::URx) -> impl Future<Output = Option<usize>> + Send + '_ {
        rx.recv()
    }
    fn create_medium(capacity: usize) {
        black_box(&weft::sync::mpsc::channel::<Medium>(capacity));
    }
}

impl Mpsc for Tokio {
    type Tx = tokio::sync::mpsc::Sender<usize>;
    type Rx = tokio::sync::mpsc::Receiver<usize>;
    type UTx = tokio::sync::mpsc::UnboundedSender<usize>;
    type URx = tokio::sync::mpsc::UnboundedReceiver<usize>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }
    fn unbounded() -> (Self::UTx, Self::URx) {
        tokio::sync::mpsc::unbounded_channel()
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.unwrap();
    }
    fn usend(tx: &Self::UTx, value: usize) {
        tx.send(value).unwrap();
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send + '_ {
        rx.recv()
    }
    fn urecv(rx: &mut Self::URx) -> impl Future<Output = Option<usize>> + Send + '_ {
        rx.recv()
    }
    fn create_medium(capacity: usize) {
        black_box(&tokio::sync::mpsc::channel::<Medium>(capacity));
    }
}

impl Mpsc for AsyncChannel {
    type Tx = async_channel::Sender<usize>;
    type Rx = async_channel::Receiver<usize>;
    type UTx = async_channel::Sender<usize>;
    type URx = async_channel::Receiver<usize>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(capacity)
    }
    fn unbounded() -> (Self::UTx, Self::URx) {
        async_channel::unbounded()
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.unwrap();
    }
    fn usend(tx: &Self::UTx, value: usize) {
        // An unbounded channel is never full: this is its plain send.
        tx.try_send(value).unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
    async fn urecv(rx: &mut Self::URx) -> Option<usize> {
        rx.recv().await.ok()
    }
    fn create_medium(capacity: usize) {
        black_box(&async_channel::bounded::<Medium>(capacity));
    }
}

const MPSC_UNCONTENDED: usize = 5_000;
const MPSC_PRODUCERS: usize = 5;
const MPSC_PER_PRODUCER: usize = 1_000;

fn mpsc_uncontended_bounded<M: Mpsc>(rt: &weft::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = M::bounded(1_000_000);
        for i in 0..MPSC_UNCONTENDED {
            M::send(&tx, i).await;
        }
        for _ in 0..MPSC_UNCONTENDED {
            black_box(M::recv(&mut rx).await.unwrap());
        }
    });
}

fn mpsc_uncontended_unbounded<M: Mpsc>(rt: &weft::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = M::unbounded();
        for i in 0..MPSC_UNCONTENDED {
            M::usend(&tx, i);
        }
        for _ in 0..MPSC_UNCONTENDED {
            black_box(M::urecv(&mut rx).await.unwrap());
        }
    });
}

fn mpsc_contention_bounded<M: Mpsc>(rt: &weft::Runtime, capacity: usize) {
    rt.block_on(async {
        let (tx, mut rx) = M::bounded(capacity);
        for _ in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            drop(weft::spawn(async move {
                for i in 0..MPSC_PER_PRODUCER {
                    M::send(&tx, i).await;
                }
            }));
        }
        for _ in 0..MPSC_PRODUCERS * MPSC_PER_PRODUCER {
            black_box(M::recv(&mut rx).await.unwrap());
        }
    });
}

fn mpsc_contention_unbounded<M: Mpsc>(rt: &weft::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = M::unbounded();
        for _ in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            drop(weft::spawn(async move {
                for i in 0..MPSC_PER_PRODUCER {
                    M::usend(&tx, i);
                }
            }));
        }
        for _ in 0..MPSC_PRODUCERS * MPSC_PER_PRODUCER {
            black_box(M::urecv(&mut rx).await.unwrap());
        }
    });
}

fn mpsc_create_medium<M: Mpsc>() {
    M::create_medium(100_000);
}

fn mpsc(c: &mut Criterion) {
    let (cur, multi) = (current_rt(), multi_rt());
    macro_rules! mpsc_group {
        ($name:expr, $samples:expr, $work:ident $args:tt) => {
            trio!(c, $name, $samples, $work $args, Weft, Tokio, AsyncChannel)
        };
    }
    mpsc_group!("mpsc/uncontended_bounded", 20, mpsc_uncontended_bounded(&cur));
    mpsc_group!("mpsc/uncontended_unbounded", 20, mpsc_uncontended_unbounded(&cur));
    mpsc_group!(
        "mpsc/contention_bounded",
        20,
        mpsc_contention_bounded(&multi, 1_000_000)
    );
    mpsc_group!(
        "mpsc/contention_bounded_full",
        20,
        mpsc_contention_bounded(&multi, 100)
    );
    mpsc_group!("mpsc/contention_unbounded", 20, mpsc_contention_unbounded(&multi));
    mpsc_group!("mpsc/create_100_000_medium", 10, mpsc_create_medium());
}

// ---- oneshot ----

trait Oneshot: Named {
    /// Creates a channel, sends `value` and awaits it.
    fn create_send_await(value: usize) -> impl Future<Output = usize>;
}

impl Oneshot for Weft {
    async fn create_send_await(value: usize) -> usize {
        let (tx, rx) = weft::sync::oneshot::channel();
        tx.send(value).unwrap();
        rx.await.unwrap()
    }
}

impl Oneshot for Tokio {
    async fn create_send_await(value: usize) -> usize {
        let (tx, rx) = tokio::sync::oneshot::channel();
        tx.send(value).unwrap();
        rx.await.unwrap()
    }
}

/// `futures-channel`'s oneshot plays `smol` here.
struct FuturesOneshot;

impl Named for FuturesOneshot {
    const NAME: &'static str = "smol";
}

impl Oneshot for FuturesOneshot {
    async fn create_send_await(value: usize) -> usize {
        let (tx, rx) = futures_channel::oneshot::channel();
        tx.send(value).unwrap();
        rx.await.unwrap()
    }
}

fn oneshot_bench<O: Oneshot>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &weft::Runtime) {
    g.bench_function(O::NAME, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    black_box(O::create_send_await(black_box(i as usize)).await);
                }
                start.elapsed()
            })
        })
    });
}

fn oneshot(c: &mut Criterion) {
    let rt = current_rt();
    let mut g = c.benchmark_group("oneshot/create_send_await");
    g.sample_size(30);
    oneshot_bench::<Weft>(&mut g, &rt);
    oneshot_bench::<Tokio>(&mut g, &rt);
    oneshot_bench::<FuturesOneshot>(&mut g, &rt);
    g.finish();
}

// ---- broadcast ----

trait Broadcast: Named {
    type Tx: Send + Sync + 'static;
    type Rx: Send + 'static;
    fn channel(capacity: usize) -> (Self::Tx, Self::Rx);
    fn subscribe(tx: &Self::Tx, rx: &Self::Rx) -> Self::Rx;
    fn send(tx: &Self::Tx, value: usize);
    /// `None` once the channel is closed.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send + '_;
}

/// `async-broadcast` plays `smol` here.
struct AsyncBroadcast;

impl Named for AsyncBroadcast {
    const NAME: &'static str = "smol";
}

impl Broadcast for Weft {
    type Tx = weft::sync::broadcast::Sender<usize>;
    type Rx = weft::sync::broadcast::Receiver<usize>;
    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        weft::sync::broadcast::channel(capacity)
    }
    fn subscribe(tx: &Self::Tx, _rx: &Self::Rx) -> Self::Rx {
        tx.subscribe()
    }
    fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
}

impl Broadcast for Tokio {
    type Tx = tokio::sync::broadcast::Sender<usize>;
    type Rx = tokio::sync::broadcast::Receiver<usize>;
    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::broadcast::channel(capacity)
    }
    fn subscribe(tx: &Self::Tx, _rx: &Self::Rx) -> Self::Rx {
        tx.subscribe()
    }
    fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
}

impl Broadcast for AsyncBroadcast {
    type Tx = async_broadcast::Sender<usize>;
    type Rx = async_broadcast::Receiver<usize>;
    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        async_broadcast::broadcast(capacity)
    }
    fn subscribe(_tx: &Self::Tx, rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
    fn send(tx: &Self::Tx, value: usize) {
        // Never full here (each value is read by all before the next):
        // the synchronous send, like weft's and tokio's.
        tx.try_broadcast(value).unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
}

const BROADCAST_SENDS: usize = 100;

fn broadcast_bench<B: Broadcast>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &weft::Runtime, receivers: usize) {
    let (tx, first) = B::channel(1_000);
    // Receivers still to read the value in flight, and their signal.
    let wg = Arc::new((AtomicUsize::new(0), tokio::sync::Notify::new()));
    for _ in 0..receivers {
        let mut rx = B::subscribe(&tx, &first);
        let wg = wg.clone();
        drop(rt.spawn(async move {
            while let Some(v) = B::recv(&mut rx).await {
                black_box(v);
                if wg.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                    wg.1.notify_one();
                }
            }
        }));
    }
    // An idle receiver would hold back async-broadcast (it waits for every
    // receiver); weft and tokio would only let it lag.
    drop(first);
    g.bench_function(B::NAME, |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..BROADCAST_SENDS {
                    assert_eq!(wg.0.fetch_add(receivers, Ordering::AcqRel), 0);
                    B::send(&tx, i);
                    while wg.0.load(Ordering::Acquire) > 0 {
                        wg.1.notified().await;
                    }
                }
            })
        })
    });
    // Closing the channel ends the receiver tasks.
    drop(tx);
}

fn broadcast(c: &mut Criterion) {
    let rt = multi_rt();
    for receivers in [10, 100, 1_000] {
        let mut g = c.benchmark_group(format!("broadcast/{receivers}_receivers"));
        g.sample_size(if receivers >= 1_000 { 10 } else { 20 });
        broadcast_bench::<Weft>(&mut g, &rt, receivers);
        broadcast_bench::<Tokio>(&mut g, &rt, receivers);
        broadcast_bench::<AsyncBroadcast>(&mut g, &rt, receivers);
        g.finish();
    }
}

// ---- notify (weft and tokio only) ----

trait NotifyLike: Named + Send + Sync + 'static {
    fn new() -> Self;
    fn notified(&self) -> impl Future<Output = ()> + Send + '_;
    fn notify_one(&self);
}

impl Named for weft::sync::Notify {
    const NAME: &'static str = "weft";
}
impl Named for tokio::sync::Notify {
    const NAME: &'static str = "tokio";
}

impl NotifyLike for weft::sync::Notify {
    fn new() -> Self {
        weft::sync::Notify::new()
    }
    fn notified(&self) -> impl Future<Output = ()> + Send + '_ {
        weft::sync::Notify::notified(self)
    }
    fn notify_one(&self) {
        weft::sync::Notify::notify_one(self);
    }
}

impl NotifyLike for tokio::sync::Notify {
    fn new() -> Self {
        tokio::sync::Notify::new()
    }
    fn notified(&self) -> impl Future<Output = ()> + Send + '_ {
        tokio::sync::Notify::notified(self)
    }
    fn notify_one(&self) {
        tokio::sync::Notify::notify_one(self);
    }
}

const NOTIFY_WAKEUPS: usize = 500;

fn notify_one_bench<N: NotifyLike>(g: &mut BenchmarkGroup<'_, WallTime>, waiters: usize) {
    // A runtime of its own: the waiters never end, and go with it.
    let rt = multi_rt();
    let notify = Arc::new(N::new());
    let counter = Arc::new(AtomicUsize::new(0));
    for _ in 0..waiters {
        let (notify, counter) = (notify.clone(), counter.clone());
        drop(rt.spawn(async move {
            loop {
                notify.notified().await;
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    g.bench_function(N::NAME, |b| {
        b.iter(|| {
            counter.store(0, Ordering::Relaxed);
            loop {
                notify.notify_one();
                if counter.load(Ordering::Relaxed) >= NOTIFY_WAKEUPS {
                    break;
                }
                std::thread::yield_now();
            }
        })
    });
    drop(rt);
}

fn notify(c: &mut Criterion) {
    for waiters in [10, 50, 100, 200, 500] {
        let mut g = c.benchmark_group(format!("notify/notify_one_{waiters}_waiters"));
        g.sample_size(20);
        notify_one_bench::<weft::sync::Notify>(&mut g, waiters);
        notify_one_bench::<tokio::sync::Notify>(&mut g, waiters);
        g.finish();
    }
}

// ---- mutex, rwlock, semaphore ----

/// A lock of some kind; `acquire` takes the mutex, a read lock or one permit.
trait Acquire: Named + Send + Sync + 'static {
    type Guard<'a>: DerefMut<Target = u64> + Send
    where
        Self: 'a;
    /// A lock guarding 0 (a semaphore: with `permits` permits; the others
    /// ignore it).
    fn new(permits: usize) -> Self;
    fn acquire(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_;
}

/// What a permit or a read guard derefs to, so that one trait covers all.
struct Held<G>(G, u64);

impl<G> std::ops::Deref for Held<G> {
    type Target = u64;
    fn deref(&self) -> &u64 {
        &self.1
    }
}

impl<G> DerefMut for Held<G> {
    fn deref_mut(&mut self) -> &mut u64 {
        &mut self.1
    }
}

impl Named for weft::sync::Mutex<u64> {
    const NAME: &'static str = "weft";
}
impl Named for tokio::sync::Mutex<u64> {
    const NAME: &'static str = "tokio";
}
impl Named for async_lock::Mutex<u64> {
    const NAME: &'static str = "smol";
}

impl Acquire for weft::sync::Mutex<u64> {
    type Guard<'a> = weft::sync::MutexGuard<'a, u64>;
    fn new(_: usize) -> Self {
        weft::sync::Mutex::new(0)
    }
    fn acquire(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        self.lock()
    }
}

impl Acquire for tokio::sync::Mutex<u64> {
    type Guard<'a> = tokio::sync::MutexGuard<'a, u64>;
    fn new(_: usize) -> Self {
        tokio::sync::Mutex::new(0)
    }
    fn acquire(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        self.lock()
    }
}

impl Acquire for async_lock::Mutex<u64> {
    type Guard<'a> = async_lock::MutexGuard<'a, u64>;
    fn new(_: usize) -> Self {
        async_lock::Mutex::new(0)
    }
    fn acquire(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        self.lock()
    }
}

impl Named for weft::sync::RwLock<u64> {
    const NAME: &'static str = "weft";
}
impl Named for tokio::sync::RwLock<u64> {
    const NAME: &'static str = "tokio";
}
impl Named for async_lock::RwLock<u64> {
    const NAME: &'static str = "smol";
}

impl Acquire for weft::sync::RwLock<u64> {
    type Guard<'a> = Held<weft::sync::RwLockReadGuard<'a, u64>>;
    fn new(_: usize) -> Self {
        weft::sync::RwLock::new(0)
    }
    async fn acquire(&self) -> Self::Guard<'_> {
        let g = self.read().await;
        let v = *g;
        Held(g, v)
    }
}

impl Acquire for tokio::sync::RwLock<u64> {
    type Guard<'a> = Held<tokio::sync::RwLockReadGuard<'a, u64>>;
    fn new(_: usize) -> Self {
        tokio::sync::RwLock::new(0)
    }
    async fn acquire(&self) -> Self::Guard<'_> {
        let g = self.read().await;
        let v = *g;
        Held(g, v)
    }
}

impl Acquire for async_lock::RwLock<u64> {
    type Guard<'a> = Held<async_lock::RwLockReadGuard<'a, u64>>;
    fn new(_: usize) -> Self {
        async_lock::RwLock::new(0)
    }
    async fn acquire(&self) -> Self::Guard<'_> {
        let g = self.read().await;
        let v = *g;
        Held(g, v)
    }
}

impl Named for weft::sync::Semaphore {
    const NAME: &'static str = "weft";
}
impl Named for tokio::sync::Semaphore {
    const NAME: &'static str = "tokio";
}
impl Named for async_lock::Semaphore {
    const NAME: &'static str = "smol";
}

impl Acquire for weft::sync::Semaphore {
    type Guard<'a> = Held<weft::sync::SemaphorePermit<'a>>;
    fn new(permits: usize) -> Self {
        weft::sync::Semaphore::new(permits)
    }
    async fn acquire(&self) -> Self::Guard<'_> {
        Held(weft::sync::Semaphore::acquire(self).await.unwrap(), 0)
    }
}

impl Acquire for tokio::sync::Semaphore {
    type Guard<'a> = Held<tokio::sync::SemaphorePermit<'a>>;
    fn new(permits: usize) -> Self {
        tokio::sync::Semaphore::new(permits)
    }
    async fn acquire(&self) -> Self::Guard<'_> {
        Held(tokio::sync::Semaphore::acquire(self).await.unwrap(), 0)
    }
}

impl Acquire for async_lock::Semaphore {
    type Guard<'a> = Held<async_lock::SemaphoreGuard<'a>>;
    fn new(permits: usize) -> Self {
        async_lock::Semaphore::new(permits)
    }
    async fn acquire(&self) -> Self::Guard<'_> {
        Held(async_lock::Semaphore::acquire(self).await, 0)
    }
}

/// tokio's semaphore benches use 10 permits for 6 acquirers.
const PERMITS: usize = 10;
const ACQUIRES: usize = 6;
const CONTENDERS: usize = 8;
const CONTENDED_ROUNDS: usize = 10_000;

fn uncontended<L: Acquire>(rt: &weft::Runtime, lock: &Arc<L>) {
    rt.block_on(async {
        for _ in 0..ACQUIRES {
            black_box(lock.acquire().await);
        }
    });
}

fn concurrent<L: Acquire>(rt: &weft::Runtime, lock: &Arc<L>) {
    rt.block_on(join_all((0..ACQUIRES).map(|_| {
        let lock = lock.clone();
        async move {
            black_box(lock.acquire().await);
        }
    })));
}

fn contended<L: Acquire>(rt: &weft::Runtime, lock: &Arc<L>) {
    rt.block_on(join_all((0..CONTENDERS).map(|_| {
        let lock = lock.clone();
        async move {
            for _ in 0..CONTENDED_ROUNDS {
                let mut guard = lock.acquire().await;
                *guard += 1;
            }
        }
    })));
}

/// A group with one bench per listed lock type, each on a lock of its own
/// made once (`new(permits)`), running `$work::<Lock>(rt, &lock)` once per
/// iteration.
macro_rules! lock_trio {
    ($c:expr, $name:expr, $samples:expr, $work:ident($rt:expr, $permits:expr), $($ty:ty),+) => {{
        let mut g = $c.benchmark_group($name);
        g.sample_size($samples);
        $({
            let lock = Arc::new(<$ty as Acquire>::new($permits));
            g.bench_function(<$ty as Named>::NAME, |b| b.iter(|| $work::<$ty>($rt, &lock)));
        })+
        g.finish();
    }};
}

/// `uncontended` and `concurrent` for `area`, and `contended_8x10k` if
/// `contended_permits` is given (the permits of its semaphore).
fn locks<W: Acquire, T: Acquire, S: Acquire>(
    c: &mut Criterion,
    area: &str,
    contended_permits: Option<usize>,
) {
    let (cur, multi) = (current_rt(), multi_rt());
    lock_trio!(
        c,
        format!("{area}/uncontended"),
        30,
        uncontended(&cur, PERMITS),
        W,
        T,
        S
    );
    lock_trio!(
        c,
        format!("{area}/concurrent"),
        30,
        concurrent(&cur, PERMITS),
        W,
        T,
        S
    );
    if let Some(permits) = contended_permits {
        lock_trio!(
            c,
            format!("{area}/contended_8x10k"),
            10,
            contended(&multi, permits),
            W,
            T,
            S
        );
    }
}

fn mutex(c: &mut Criterion) {
    type W = weft::sync::Mutex<u64>;
    type T = tokio::sync::Mutex<u64>;
    type S = async_lock::Mutex<u64>;
    locks::<W, T, S>(c, "mutex", Some(1));
}

fn rwlock(c: &mut Criterion) {
    type W = weft::sync::RwLock<u64>;
    type T = tokio::sync::RwLock<u64>;
    type S = async_lock::RwLock<u64>;
    locks::<W, T, S>(c, "rwlock", None);
}

fn semaphore(c: &mut Criterion) {
    type W = weft::sync::Semaphore;
    type T = tokio::sync::Semaphore;
    type S = async_lock::Semaphore;
    locks::<W, T, S>(c, "semaphore", Some(1));
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1_500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = mpsc, oneshot, broadcast, notify, mutex, rwlock, semaphore
}
criterion_main!(benches);
