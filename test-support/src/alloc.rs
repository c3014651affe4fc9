//! A counting global allocator.
//!
//! A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: weft_test_support::alloc::Counting = weft_test_support::alloc::Counting;
//! ```
//!
//! and measures with [`count`] (or [`start`] and [`stop`]). Only the
//! allocations made on the current thread while counting is on are tallied,
//! so other threads (the test harness, workers) cannot disturb the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to the system allocator and tallies the current thread's
/// allocations (and reallocations) while counting is on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

std::thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping only touches const-initialised thread-locals without
// destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn record(size: usize) {
    let _ = ON.try_with(|on| {
        if on.get() {
            ALLOCS.with(|a| a.set(a.get() + 1));
            BYTES.with(|b| b.set(b.get() + size));
        }
    });
}

/// What a stretch of code allocated on one thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allocs {
    /// How many allocations and reallocations.
    pub count: usize,
    /// How many bytes they asked for.
    pub bytes: usize,
}

/// Resets this thread's tallies and starts counting.
pub fn start() {
    ALLOCS.with(|a| a.set(0));
    BYTES.with(|b| b.set(0));
    ON.with(|on| on.set(true));
}

/// Stops counting; returns what this thread allocated since [`start`].
pub fn stop() -> Allocs {
    ON.with(|on| on.set(false));
    Allocs {
        count: ALLOCS.with(Cell::get),
        bytes: BYTES.with(Cell::get),
    }
}

/// Runs `f` and returns its result and what it allocated on this thread.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Allocs) {
    start();
    let r = f();
    (r, stop())
}
