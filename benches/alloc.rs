//! Bytes allocated per `spawn(async {})`, on weft, tokio and smol.
//!
//! Not a timing benchmark: a counting allocator tallies what one thread
//! allocates while it spawns 1 000 empty tasks (after a warm-up, so queues
//! and registries are at their working size), and the figures are printed.
//! Run with `cargo bench --bench alloc`.

use weft_test_support::alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const N: usize = 1_000;

/// Spawns `N` tasks with `spawn` and runs them (a warm-up, so queues and
/// registries reach their working size), then counts what spawning `N` more
/// allocates on this thread. Returns allocations and bytes per task.
async fn per_spawn<H: std::future::Future>(mut spawn: impl FnMut() -> H) -> (f64, f64) {
    let mut handles = Vec::with_capacity(N);
    for _ in 0..2 {
        handles.extend((0..N).map(|_| spawn()));
        for h in handles.drain(..) {
            h.await;
        }
    }
    alloc::start();
    handles.extend((0..N).map(|_| spawn()));
    let counted = alloc::stop();
    // Read before the next await: a task may resume on another worker,
    // whose counters are not these.
    let allocs = counted.count as f64 / N as f64;
    let bytes = counted.bytes as f64 / N as f64;
    for h in handles.drain(..) {
        h.await;
    }
    (allocs, bytes)
}

fn main() {
    let mut rows = Vec::new();

    let weft_ct = weft::Builder::new_current_thread().build().unwrap();
    rows.push((
        "weft, current-thread",
        weft_ct.block_on(per_spawn(|| weft::spawn(async {}))),
    ));
    let weft_mt = weft::Runtime::builder().worker_threads(2).build().unwrap();
    let r = weft_mt.block_on(async { weft::spawn(per_spawn(|| weft::spawn(async {}))).await.unwrap() });
    rows.push(("weft, multi-thread (from a worker)", r));

    let tokio_ct = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rows.push((
        "tokio, current-thread",
        tokio_ct.block_on(per_spawn(|| tokio::spawn(async {}))),
    ));
    let tokio_mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let r = tokio_mt.block_on(async { tokio::spawn(per_spawn(|| tokio::spawn(async {}))).await.unwrap() });
    rows.push(("tokio, multi-thread (from a worker)", r));

    let local = async_executor::LocalExecutor::new();
    let r = futures_lite::future::block_on(local.run(per_spawn(|| local.spawn(async {}))));
    rows.push(("smol, LocalExecutor", r));
    let ex = async_executor::Executor::new();
    let r = futures_lite::future::block_on(ex.run(per_spawn(|| ex.spawn(async {}))));
    rows.push(("smol, Executor", r));

    println!("| runtime | allocations per spawn | bytes per spawn(async {{}}) |");
    println!("| --- | --- | --- |");
    for (name, (allocs, bytes)) in rows {
        println!("| {name} | {allocs:.2} | {bytes:.0} |");
    }
}
