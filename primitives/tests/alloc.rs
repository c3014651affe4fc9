//! What the hot paths allocate: nothing per message on a warm bounded mpsc
//! channel, one allocation per oneshot channel, and no waker clone when
//! the same task polls again.
//!
//! A counting global allocator tallies the allocations made on the current
//! thread while counting is switched on; futures are polled by hand, so no
//! runtime allocates behind the test's back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use weft_primitives::sync::{mpsc, oneshot};

struct Counting;

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

#[global_allocator]
static GLOBAL: Counting = Counting;

fn record(size: usize) {
    let _ = ON.try_with(|on| {
        if on.get() {
            ALLOCS.with(|a| a.set(a.get() + 1));
            BYTES.with(|b| b.set(b.get() + size));
        }
    });
}

/// Runs `f` and returns the allocations and bytes it made on this thread.
fn counted(f: impl FnOnce()) -> (usize, usize) {
    ALLOCS.with(|a| a.set(0));
    BYTES.with(|b| b.set(0));
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    (ALLOCS.with(Cell::get), BYTES.with(Cell::get))
}

fn poll<F: Future>(future: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_warm_bounded_channel_allocates_nothing_per_message() {
    let waker = Waker::noop();
    let (tx, mut rx) = mpsc::channel::<u64>(16);
    // Warm-up: the buffers grow to their working size once (the receiver
    // swaps its buffer with the channel's, so both), and so does the wait
    // list, by one waiting sender.
    for _ in 0..2 {
        for i in 0..16 {
            assert!(poll(pin!(tx.send(i)), waker).is_ready());
        }
        for i in 0..16 {
            assert_eq!(rx.try_recv(), Ok(i));
        }
    }
    for i in 0..16 {
        assert!(poll(pin!(tx.send(i)), waker).is_ready());
    }
    {
        let mut send = pin!(tx.send(16));
        assert!(poll(send.as_mut(), waker).is_pending());
        for _ in 0..16 {
            assert!(rx.try_recv().is_ok());
        }
        assert!(poll(send.as_mut(), waker).is_ready());
        assert_eq!(rx.try_recv(), Ok(16));
    }
    let (allocs, _) = counted(|| {
        for i in 0..10_000 {
            assert!(poll(pin!(tx.send(i)), waker).is_ready());
            assert_eq!(rx.try_recv(), Ok(i));
        }
        // A full channel: the sender waits in the (warm) wait list.
        for i in 0..16 {
            tx.try_send(i).unwrap();
        }
        for i in 0..100 {
            let mut send = pin!(tx.send(100 + i));
            assert!(poll(send.as_mut(), waker).is_pending());
            // FIFO: the buffered values first, then the waiters' in turn.
            let expected = if i < 16 { i } else { 100 + i - 16 };
            assert_eq!(rx.try_recv(), Ok(expected));
            assert!(poll(send.as_mut(), waker).is_ready());
        }
    });
    assert_eq!(allocs, 0, "allocations on the hot path");
}

#[test]
fn a_oneshot_channel_is_one_allocation() {
    let waker = Waker::noop();
    let _ = oneshot::channel::<()>(); // Warm up thread-locals, if any.
    let (allocs, bytes) = counted(|| {
        let (tx, rx) = oneshot::channel::<()>();
        tx.send(()).unwrap();
        assert_eq!(poll(pin!(rx), waker), Poll::Ready(Ok(())));
    });
    assert_eq!(allocs, 1);
    assert!(bytes <= 64, "a oneshot::<()> takes {bytes} bytes");
}

/// A waker that counts its clones.
fn counting_waker(clones: &Arc<AtomicUsize>) -> Waker {
    fn clone(data: *const ()) -> RawWaker {
        // SAFETY: `data` came from `Arc::into_raw` in `counting_waker` and the
        // waker holding it is alive, so the count is at least one.
        let arc = unsafe { Arc::from_raw(data.cast::<AtomicUsize>()) };
        arc.fetch_add(1, Ordering::SeqCst);
        let copy = Arc::clone(&arc);
        std::mem::forget(arc);
        RawWaker::new(Arc::into_raw(copy).cast(), &VTABLE)
    }
    fn drop_waker(data: *const ()) {
        // SAFETY: each RawWaker owns one count of the Arc it points to.
        drop(unsafe { Arc::from_raw(data.cast::<AtomicUsize>()) });
    }
    fn noop(_: *const ()) {}
    fn wake(data: *const ()) {
        drop_waker(data);
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, noop, drop_waker);
    let raw = RawWaker::new(Arc::into_raw(Arc::clone(clones)).cast(), &VTABLE);
    // SAFETY: the vtable's functions keep the Arc's count balanced, as the
    // RawWaker contract asks.
    unsafe { Waker::from_raw(raw) }
}

#[test]
fn a_waker_is_cloned_only_when_it_changes() {
    let clones = Arc::new(AtomicUsize::new(0));
    let waker = counting_waker(&clones);
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let mut recv = pin!(rx.recv());
    for _ in 0..10 {
        assert!(poll(recv.as_mut(), &waker).is_pending());
    }
    assert_eq!(clones.load(Ordering::SeqCst), 1);
    tx.try_send(1).unwrap();
    assert_eq!(poll(recv.as_mut(), &waker), Poll::Ready(Some(1)));

    let (_tx, rx) = oneshot::channel::<u8>();
    let mut rx = pin!(rx);
    for _ in 0..10 {
        assert!(poll(rx.as_mut(), &waker).is_pending());
    }
    assert_eq!(clones.load(Ordering::SeqCst), 2);
}
