//! Bytes allocated per `spawn(async {})`, and the memory a live task holds,
//! on weft, tokio and smol.
//!
//! Not a timing benchmark. First, a counting allocator tallies what one
//! thread allocates while it spawns 1 000 empty tasks (after a warm-up, so
//! queues and registries are at their working size). Then, for each runtime
//! in a fresh process of its own, 1 000 000 tasks that never complete are
//! spawned (1 000 at a time, each batch polled once before the next, so run
//! queues stay small) and the bench reports what they hold per task: heap
//! bytes (allocated and not freed, process-wide, as requested from the
//! allocator) and resident memory (from `/proc/self/statm`, which adds the
//! allocator's own overhead). Run with `cargo bench --bench alloc`.

use std::alloc::{GlobalAlloc, Layout};
use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::task::Poll;
use weft_test_support::alloc;

/// The counting allocator, plus a process-wide tally of live heap bytes.
struct Tracking;

/// Bytes allocated and not yet freed, by every thread.
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the counting allocator (which
// forwards to the system one); the tally is one atomic, which never
// allocates.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { alloc::Counting.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { alloc::Counting.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { alloc::Counting.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

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

/// Live tasks in the footprint measurement, spawned `BATCH` at a time.
const PENDING: usize = 1_000_000;
const BATCH: usize = 1_000;

/// Polls of [`parked`] futures so far.
static POLLED: AtomicUsize = AtomicUsize::new(0);

/// A task as small as `async {}` that never completes, counting its polls.
fn parked() -> impl Future<Output = ()> + Send + 'static {
    poll_fn(|_| {
        POLLED.fetch_add(1, Ordering::Relaxed);
        Poll::Pending
    })
}

/// Resident memory of this process, in bytes (`/proc/self/statm`'s second
/// field, in pages of 4 KiB).
fn rss() -> isize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: isize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("statm's resident field");
    pages * 4096
}

/// Spawns `PENDING` parked tasks with `spawn`, `BATCH` at a time, yielding
/// with `yield_now` until each batch has been polled. Returns heap and
/// resident bytes gained per task.
async fn hold_pending<Y: Future<Output = ()>>(
    mut spawn: impl FnMut(),
    mut yield_now: impl FnMut() -> Y,
) -> (f64, f64) {
    POLLED.store(0, Ordering::Relaxed);
    let (heap, resident) = (LIVE.load(Ordering::Relaxed), rss());
    for round in 1..=PENDING / BATCH {
        for _ in 0..BATCH {
            spawn();
        }
        while POLLED.load(Ordering::Relaxed) < round * BATCH {
            yield_now().await;
        }
    }
    let per_task = |bytes: isize| bytes as f64 / PENDING as f64;
    (
        per_task(LIVE.load(Ordering::Relaxed) - heap),
        per_task(rss() - resident),
    )
}

/// The runtimes of the footprint table, by the name its child process gets.
const FOOTPRINTS: [(&str, &str); 6] = [
    ("weft-ct", "weft, current-thread"),
    ("weft-mt", "weft, multi-thread (spawned from `block_on`)"),
    ("tokio-ct", "tokio, current-thread"),
    ("tokio-mt", "tokio, multi-thread (spawned from `block_on`)"),
    ("smol-local", "smol, `LocalExecutor`"),
    ("smol", "smol, `Executor`"),
];

/// Measures one runtime's footprint (in a process of its own, so that what
/// an earlier runtime freed cannot be reused unseen) and prints it as
/// `heap rss`.
fn footprint(name: &str) {
    let (heap, resident) = match name {
        "weft-ct" => {
            let rt = weft::Builder::new_current_thread().build().unwrap();
            rt.block_on(hold_pending(
                || drop(weft::spawn(parked())),
                weft::task::yield_now,
            ))
        }
        "weft-mt" => {
            let rt = weft::Runtime::builder().worker_threads(2).build().unwrap();
            rt.block_on(hold_pending(
                || drop(weft::spawn(parked())),
                weft::task::yield_now,
            ))
        }
        "tokio-ct" => {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(hold_pending(
                || drop(tokio::spawn(parked())),
                tokio::task::yield_now,
            ))
        }
        "tokio-mt" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            rt.block_on(hold_pending(
                || drop(tokio::spawn(parked())),
                tokio::task::yield_now,
            ))
        }
        "smol-local" => {
            let ex = async_executor::LocalExecutor::new();
            futures_lite::future::block_on(ex.run(hold_pending(
                || ex.spawn(parked()).detach(),
                futures_lite::future::yield_now,
            )))
        }
        "smol" => {
            let ex = async_executor::Executor::new();
            futures_lite::future::block_on(ex.run(hold_pending(
                || ex.spawn(parked()).detach(),
                futures_lite::future::yield_now,
            )))
        }
        other => panic!("no runtime named {other}"),
    };
    println!("{heap:.2} {resident:.2}");
    // Skip tearing down a million tasks: the process ends here.
    std::process::exit(0);
}

fn main() {
    if let Ok(name) = std::env::var("WEFT_ALLOC_FOOTPRINT") {
        footprint(&name);
    }
    spawn_bytes();
    footprints();
}

/// Runs every footprint measurement in a child process and prints the table.
fn footprints() {
    let exe = std::env::current_exe().expect("the bench's own path");
    println!();
    println!("| runtime | heap bytes per live task | resident bytes per live task |");
    println!("| --- | --- | --- |");
    for (name, label) in FOOTPRINTS {
        let out = std::process::Command::new(&exe)
            .env("WEFT_ALLOC_FOOTPRINT", name)
            .output()
            .expect("a child process");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.split_whitespace();
        match (fields.next(), fields.next()) {
            (Some(heap), Some(rss)) if out.status.success() => println!("| {label} | {heap} | {rss} |"),
            _ => println!(
                "| {label} | failed: {} | |",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }
}

/// Bytes allocated per `spawn(async {})`, after a warm-up.
fn spawn_bytes() {
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
