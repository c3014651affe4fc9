//! Timers and the entry cost: weft beside tokio and smol's async-io, each on
//! one thread (weft and tokio current-thread runtimes; async-io's own
//! `block_on`, which drives its reactor), the same workload for all.
//!
//! * `timeout_ready_10k`: 10 000 `timeout(1 s, ready)` created, polled and
//!   dropped — the deadline is computed, the timer never registered.
//! * `register_cancel/{0,1M}_live`: one sleep registered (polled once) and
//!   cancelled (dropped), with no other timer and with a million live ones
//!   (spread over 60–160 s); its deadline, 30 s, is before all of them.
//! * `register_cancel/1M_live_among`: the same, but each new deadline falls
//!   among the million live ones, a different place each time: the case in
//!   which a sorted structure (async-io's `BTreeMap`) must find its place
//!   and a wheel need not.
//! * `timeout_armed_10k/{current,multi}`: 10 000 `timeout(1 s, f)` awaited
//!   in turn, each `f` pending once (it wakes itself at once) and then
//!   ready: the clock is read, the timer made, registered when `f` is first
//!   found pending, and cancelled when `f` completes. The peers' timeout
//!   semantics, on one thread and (in a task) on two workers.
//! * `sleeps_fire_10k`: 10 000 tasks sleeping 0–10 ms, all awaited.
//! * `block_on_ready`: `block_on` of a future that is ready at once.

mod common;

use common::{Bench, Exec, Smol};
use criterion::{Criterion, criterion_group, criterion_main};
use std::future::{Future, ready};
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

const N: usize = 10_000;

fn weft_rt() -> weft::Runtime {
    weft::Runtime::builder().current_thread().build().unwrap()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future>(future: F) {
    let mut cx = Context::from_waker(Waker::noop());
    let _ = pin!(future).poll(&mut cx);
}

fn timeout_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers/timeout_ready_10k");
    let rt = weft_rt();
    group.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..N {
                    black_box(
                        weft::time::timeout(Duration::from_secs(1), ready(i))
                            .await
                            .unwrap(),
                    );
                }
            })
        })
    });
    drop(rt);
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..N {
                    black_box(
                        tokio::time::timeout(Duration::from_secs(1), ready(i))
                            .await
                            .unwrap(),
                    );
                }
            })
        })
    });
    drop(rt);
    group.bench_function("smol", |b| {
        use futures_lite::FutureExt;
        b.iter(|| {
            async_io::block_on(async {
                for i in 0..N {
                    // Made here, as weft's and tokio's are: an async block
                    // alone would never even compute the deadline.
                    let timer = async_io::Timer::after(Duration::from_secs(1));
                    let timer = async move {
                        timer.await;
                        None
                    };
                    black_box(async { Some(i) }.or(timer).await.unwrap());
                }
            })
        })
    });
    group.finish();
}

/// Pending on its first poll, waking itself at once, and ready with its
/// value on the second: every runtime arms the timeout around it and then
/// cancels it, with no trip through any runtime's driver in between.
struct PendingOnce {
    polled: bool,
    value: usize,
}

fn pending_once(value: usize) -> PendingOnce {
    PendingOnce { polled: false, value }
}

impl Future for PendingOnce {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        if self.polled {
            return Poll::Ready(self.value);
        }
        self.polled = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

async fn armed_weft() {
    for i in 0..N {
        let armed = weft::time::timeout(Duration::from_secs(1), pending_once(i));
        black_box(armed.await.unwrap());
    }
}

async fn armed_tokio() {
    for i in 0..N {
        let armed = tokio::time::timeout(Duration::from_secs(1), pending_once(i));
        black_box(armed.await.unwrap());
    }
}

async fn armed_smol() {
    use futures_lite::FutureExt;
    for i in 0..N {
        let timer = async_io::Timer::after(Duration::from_secs(1));
        let timer = async move {
            timer.await;
            None
        };
        let work = async { Some(pending_once(i).await) };
        black_box(work.or(timer).await.unwrap());
    }
}

fn timeout_armed(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers/timeout_armed_10k/current");
    let rt = weft_rt();
    group.bench_function("weft", |b| b.iter(|| rt.block_on(armed_weft())));
    drop(rt);
    let rt = tokio_rt();
    group.bench_function("tokio", |b| b.iter(|| rt.block_on(armed_tokio())));
    drop(rt);
    group.bench_function("smol", |b| b.iter(|| async_io::block_on(armed_smol())));
    group.finish();

    let mut group = c.benchmark_group("timers/timeout_armed_10k/multi");
    let rt = common::Weft::multi();
    group.bench_function("weft", |b| {
        b.iter(|| rt.block_on(async { weft::spawn(armed_weft()).await.unwrap() }))
    });
    drop(rt);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    group.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(async { tokio::spawn(armed_tokio()).await.unwrap() }))
    });
    drop(rt);
    let smol = Smol;
    group.bench_function("smol", |b| {
        b.iter(|| smol.block_on(smol.exec().spawn(armed_smol())))
    });
    group.finish();
}

/// One sleep registered and cancelled, beside `live` other pending timers.
/// With `among` false its deadline (30 s) comes before every live timer's;
/// with `among` true it falls among them, a different place each time.
fn register_cancel(c: &mut Criterion, live: usize, among: bool, label: &str) {
    let mut group = c.benchmark_group(format!("timers/register_cancel/{label}"));
    let spread = |i: usize| Duration::from_secs(60) + Duration::from_millis((i % 100_000) as u64);
    let mut k = 0usize;
    let mut next = move || {
        k = k.wrapping_add(1);
        if among {
            // A stride prime to 100 000 visits every millisecond of the spread.
            spread(k.wrapping_mul(7_919))
        } else {
            Duration::from_secs(30)
        }
    };

    let rt = weft_rt();
    let _enter = rt.enter();
    let mut keep: Vec<_> = (0..live)
        .map(|i| Box::pin(weft::time::sleep(spread(i))))
        .collect();
    keep.iter_mut().for_each(|s| poll_once(s.as_mut()));
    group.bench_function("weft", |b| b.iter(|| poll_once(weft::time::sleep(next()))));
    drop(keep);
    drop(_enter);

    drop(rt);
    let rt = tokio_rt();
    let _enter = rt.enter();
    let mut keep: Vec<_> = (0..live)
        .map(|i| Box::pin(tokio::time::sleep(spread(i))))
        .collect();
    keep.iter_mut().for_each(|s| poll_once(s.as_mut()));
    group.bench_function("tokio", |b| b.iter(|| poll_once(tokio::time::sleep(next()))));
    drop(keep);
    drop(_enter);

    drop(rt);
    let mut keep: Vec<_> = (0..live).map(|i| async_io::Timer::after(spread(i))).collect();
    keep.iter_mut().for_each(poll_once);
    group.bench_function("smol", |b| b.iter(|| poll_once(async_io::Timer::after(next()))));
    drop(keep);
    group.finish();
}

fn register_cancel_empty(c: &mut Criterion) {
    register_cancel(c, 0, false, "0_live");
}

fn register_cancel_million(c: &mut Criterion) {
    register_cancel(c, 1_000_000, false, "1M_live");
    register_cancel(c, 1_000_000, true, "1M_live_among");
}

fn sleeps_fire(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers/sleeps_fire_10k");
    group.sample_size(20);
    let ms = |i: usize| Duration::from_millis((i % 11) as u64);
    let rt = weft_rt();
    group.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..N).map(|i| weft::spawn(weft::time::sleep(ms(i)))).collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    drop(rt);
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..N).map(|i| tokio::spawn(tokio::time::sleep(ms(i)))).collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    drop(rt);
    group.bench_function("smol", |b| {
        let ex = async_executor::LocalExecutor::new();
        b.iter(|| {
            async_io::block_on(ex.run(async {
                let tasks: Vec<_> = (0..N)
                    .map(|i| {
                        ex.spawn(async move {
                            async_io::Timer::after(ms(i)).await;
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
            }))
        })
    });
    group.finish();
}

fn block_on_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("entry/block_on_ready");
    group.bench_function("weft", |b| b.iter(|| weft::block_on(ready(black_box(1)))));
    let rt = weft_rt();
    group.bench_function("weft_runtime", |b| b.iter(|| rt.block_on(ready(black_box(1)))));
    drop(rt);
    let rt = tokio_rt();
    group.bench_function("tokio", |b| b.iter(|| rt.block_on(ready(black_box(1)))));
    drop(rt);
    group.bench_function("smol", |b| b.iter(|| async_io::block_on(ready(black_box(1)))));
    group.finish();
}

criterion_group!(
    benches,
    timeout_ready,
    timeout_armed,
    register_cancel_empty,
    register_cancel_million,
    sleeps_fire,
    block_on_ready
);
criterion_main!(benches);
