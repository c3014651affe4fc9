//! What a live task costs in heap memory, all included: its allocation, its
//! entry in the registry of live tasks, and that registry's growth.
//!
//! A global allocator tallies, per thread, the bytes allocated minus the
//! bytes freed while counting is on. On a current-thread runtime every task
//! is allocated, recorded and polled on the counting thread, so the figure
//! is exact and the same on every run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{Future, pending, poll_fn};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use weft_executor::{Runtime, task};

/// Forwards to the system allocator; while `ON`, adds every allocation made
/// on this thread to `LIVE` and subtracts every one freed on it.
struct LiveBytes;

std::thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn record(delta: isize) {
    let _ = ON.try_with(|on| {
        if on.get() {
            LIVE.with(|live| live.set(live.get() + delta));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping only touches const-initialised thread-locals without
// destructors, which never allocate.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size() as isize);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(-(layout.size() as isize));
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: LiveBytes = LiveBytes;

/// Polls of [`parked`] futures so far.
static POLLED: AtomicUsize = AtomicUsize::new(0);

/// A future as small as `async {}` that never completes, counting its polls.
fn parked() -> impl Future<Output = ()> + Send {
    poll_fn(|_| {
        POLLED.fetch_add(1, Ordering::Relaxed);
        Poll::Pending
    })
}

/// Heap bytes still held, per task, after `rounds` rounds of `batch` spawns
/// of a task that never completes, each round run until every task has been
/// polled once and parked. Batches keep the run queue small, so what remains
/// is the tasks and the registry.
fn live_bytes_per_pending_task(rounds: usize, batch: usize) -> f64 {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let live = rt.block_on(async {
        POLLED.store(0, Ordering::Relaxed);
        LIVE.with(|live| live.set(0));
        ON.with(|on| on.set(true));
        for round in 1..=rounds {
            for _ in 0..batch {
                // Detached: the registry keeps the task alive.
                drop(weft_executor::spawn(parked()));
            }
            while POLLED.load(Ordering::Relaxed) < round * batch {
                task::yield_now().await;
            }
        }
        ON.with(|on| on.set(false));
        LIVE.with(Cell::get)
    });
    assert_eq!(rt.handle().num_alive_tasks(), rounds * batch);
    live as f64 / (rounds * batch) as f64
}

#[test]
fn a_pending_task_holds_at_most_72_bytes_of_heap() {
    // 100 000 tasks: the registry has grown well past its first pages.
    let per_task = live_bytes_per_pending_task(100, 1_000);
    eprintln!("heap per pending task: {per_task:.2} bytes");
    // A 56-byte task (the future is as small as `async {}`) and an 8-byte
    // registry entry, plus the last partly used page.
    assert!(per_task <= 72.0, "{per_task:.2} bytes of heap per pending task");
}

#[test]
fn shutdown_cancels_a_hundred_thousand_pending_tasks() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    rt.block_on(async {
        for _ in 0..100 {
            for _ in 0..1_000 {
                let guard = DropCount(dropped.clone());
                drop(weft_executor::spawn(async move {
                    let _guard = guard;
                    pending::<()>().await;
                }));
            }
            task::yield_now().await;
        }
    });
    assert_eq!(rt.handle().num_alive_tasks(), 100_000);
    drop(rt);
    assert_eq!(dropped.load(std::sync::atomic::Ordering::Relaxed), 100_000);
}

/// Counts its drops.
struct DropCount(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
