//! Promises and callback timers beside the same work written with plain
//! futures, on the same runtime (weft's current-thread runtime, and tokio's
//! for the timer storm).
//!
//! - `promise/then_chain_1000`: a promise resolved after 1 000 `then`s are
//!   attached, awaited at the end of the chain; vs a chain of 1 000
//!   futures-util `Shared` futures, each mapping the one before (the
//!   plain-futures way to get a shareable chain).
//! - `promise/all_10000`: `Promise::all` over 10 000 promises resolved one
//!   by one; vs futures-util `join_all` over 10 000 shared oneshot
//!   receivers.
//! - `timers/storm_10000`: 10 000 callback timers of 1 ms (`set_timeout`)
//!   vs 10 000 tasks each sleeping 1 ms (`spawn(sleep)`), on weft and on
//!   tokio; measured until the last has fired.

use criterion::{Criterion, criterion_group, criterion_main};

use futures_util::future::{Shared, join_all};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weft::promise::Promise;

type BoxShared = Shared<Pin<Box<dyn Future<Output = u64> + Send>>>;

fn weft_rt() -> weft::Runtime {
    weft::Runtime::builder().current_thread().build().unwrap()
}

fn then_chain(c: &mut Criterion) {
    let rt = weft_rt();
    let mut g = c.benchmark_group("promise/then_chain_1000");
    g.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (first, resolver) = Promise::<u64, String>::with_resolvers();
                let mut last = first;
                for _ in 0..1000 {
                    last = last.then(|v| Ok(v + 1));
                }
                resolver.resolve(0).unwrap();
                assert_eq!(last.await, Ok(1000));
            })
        })
    });
    g.bench_function("futures", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = futures_channel::oneshot::channel::<u64>();
                let first: Pin<Box<dyn Future<Output = u64> + Send>> =
                    Box::pin(futures_util::FutureExt::map(rx, |v| v.unwrap()));
                let mut last: BoxShared = futures_util::FutureExt::shared(first);
                for _ in 0..1000 {
                    let prev = last.clone();
                    let next: Pin<Box<dyn Future<Output = u64> + Send>> =
                        Box::pin(futures_util::FutureExt::map(prev, |v| v + 1));
                    last = futures_util::FutureExt::shared(next);
                }
                tx.send(0).unwrap();
                assert_eq!(last.await, 1000);
            })
        })
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    const N: usize = 10_000;
    let rt = weft_rt();
    let mut g = c.benchmark_group("promise/all_10000");
    g.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (promises, resolvers): (Vec<_>, Vec<_>) =
                    (0..N).map(|_| Promise::<u64, String>::with_resolvers()).unzip();
                let all = Promise::all(promises);
                for (i, r) in resolvers.into_iter().enumerate() {
                    r.resolve(i as u64).unwrap();
                }
                assert_eq!(all.await.unwrap().len(), N);
            })
        })
    });
    g.bench_function("futures", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (senders, receivers): (Vec<_>, Vec<_>) = (0..N)
                    .map(|_| {
                        let (tx, rx) = futures_channel::oneshot::channel::<u64>();
                        (tx, futures_util::FutureExt::shared(rx))
                    })
                    .unzip();
                let all = join_all(receivers);
                for (i, tx) in senders.into_iter().enumerate() {
                    tx.send(i as u64).unwrap();
                }
                assert_eq!(all.await.len(), N);
            })
        })
    });
    g.finish();
}

fn timer_storm(c: &mut Criterion) {
    const N: usize = 10_000;
    const DELAY: Duration = Duration::from_millis(1);
    let mut g = c.benchmark_group("timers/storm_10000_callbacks");
    let rt = weft_rt();
    g.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let fired = Arc::new(AtomicUsize::new(0));
                let (tx, rx) = weft::sync::oneshot::channel();
                let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
                for _ in 0..N {
                    let (fired, tx) = (fired.clone(), tx.clone());
                    weft::callback::set_timeout(DELAY, move || {
                        if fired.fetch_add(1, Ordering::Relaxed) + 1 == N {
                            let _ = tx.lock().unwrap().take().unwrap().send(());
                        }
                    });
                }
                rx.await.unwrap();
            })
        })
    });
    drop(rt);
    g.finish();

    let mut g = c.benchmark_group("timers/storm_10000_spawn_sleep");
    let rt = weft_rt();
    g.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..N).map(|_| weft::spawn(weft::time::sleep(DELAY))).collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    drop(rt);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..N).map(|_| tokio::spawn(tokio::time::sleep(DELAY))).collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = then_chain, all, timer_storm
}
criterion_main!(benches);
