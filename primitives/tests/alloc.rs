//! What the hot paths allocate: nothing per message on a warm bounded mpsc
//! channel, one allocation per oneshot channel, and no waker clone when
//! the same task polls again.
//!
//! A counting global allocator tallies the allocations made on the current
//! thread while counting is switched on; futures are polled by hand, so no
//! runtime allocates behind the test's back.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};
use weft_primitives::sync::{mpsc, oneshot};
use weft_test_support::{alloc, poll};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Runs `f` and returns the allocations and bytes it made on this thread.
fn counted(f: impl FnOnce()) -> (usize, usize) {
    let ((), allocs) = alloc::count(f);
    (allocs.count, allocs.bytes)
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
