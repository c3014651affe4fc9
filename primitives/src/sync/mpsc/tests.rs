//! Orderings the integration suite cannot make certain: hand-polled
//! futures and wakers that count, or that call back into the channel when
//! they are dropped.

use super::error::{SendError, TryRecvError, TrySendError};
use super::*;
use crate::util::test_support::{counter, poll, waker_dropping_with, wakes, watchdog};
use std::task::{Context, Poll, Waker};

#[test]
fn a_reserve_handed_a_slot_just_before_close_fails() {
    let (tx, mut rx) = channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    let (count, waker) = counter();
    let mut reserve = tx.reserve();
    assert!(poll(&mut reserve, &waker).is_pending());
    // The dropped permit hands its slot to the waiting reserve...
    drop(permit);
    assert_eq!(wakes(&count), 1);
    // ...but the receiver closes before that reserve looks.
    rx.close();
    assert!(matches!(
        poll(&mut reserve, &waker),
        Poll::Ready(Err(SendError(())))
    ));
    drop(reserve);
    // The slot was given back: nothing more can come.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn a_send_handed_a_slot_just_before_close_gives_its_value_back() {
    let (tx, mut rx) = channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    let (_, waker) = counter();
    let mut send = tx.send(7);
    assert!(poll(&mut send, &waker).is_pending());
    drop(permit);
    rx.close();
    assert!(matches!(poll(&mut send, &waker), Poll::Ready(Err(SendError(7)))));
    drop(send);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_waiting_recv_is_woken_when_the_last_handed_over_slot_fails() {
    // The receiver waits for the end of a closed channel while a slot is
    // out; the reserve that holds it fails, and that ends the channel.
    let (tx, mut rx) = channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    let (_, sender) = counter();
    let mut reserve = tx.reserve();
    assert!(poll(&mut reserve, &sender).is_pending());
    drop(permit);
    rx.close();
    let (count, receiver) = counter();
    assert!(rx.poll_recv(&mut Context::from_waker(&receiver)).is_pending());
    assert!(poll(&mut reserve, &sender).is_ready());
    assert_eq!(wakes(&count), 1);
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&receiver)),
        Poll::Ready(None)
    );
}

/// A waker that sends on `tx` when dropped: dropped under the channel's
/// lock, it would deadlock.
fn sending_waker(tx: &Sender<u8>) -> Waker {
    let tx = tx.clone();
    waker_dropping_with(move || {
        let _ = tx.try_send(9);
    })
}

#[test]
fn a_replaced_sender_waker_is_dropped_outside_the_lock() {
    watchdog(|| {
        let (tx, mut rx) = channel::<u8>(1);
        tx.try_send(1).unwrap();
        let mut reserve = tx.reserve();
        assert!(poll(&mut reserve, &sending_waker(&tx)).is_pending());
        let (_, other) = counter();
        // Another task polls: the first waker is replaced, and dropped.
        assert!(poll(&mut reserve, &other).is_pending());
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(poll(&mut reserve, &other).is_ready());
    });
}

#[test]
fn a_cancelled_sender_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let (tx, _rx) = channel::<u8>(1);
        tx.try_send(1).unwrap();
        let mut send = tx.send(2);
        assert!(poll(&mut send, &sending_waker(&tx)).is_pending());
        drop(send);
        let mut closed = tx.closed();
        assert!(poll(&mut closed, &sending_waker(&tx)).is_pending());
        let (_, other) = counter();
        assert!(poll(&mut closed, &other).is_pending());
        drop(closed);
    });
}

#[test]
fn a_replaced_receiver_waker_is_dropped_outside_the_lock() {
    watchdog(|| {
        let (tx, mut rx) = channel::<u8>(1);
        let first = sending_waker(&tx);
        assert!(rx.poll_recv(&mut Context::from_waker(&first)).is_pending());
        drop(first);
        let (_, other) = counter();
        assert!(rx.poll_recv(&mut Context::from_waker(&other)).is_pending());
        // The dropped waker sent 9.
        assert_eq!(rx.try_recv(), Ok(9));
    });
}

#[test]
fn a_dropped_receiver_drops_its_waker_outside_the_lock() {
    watchdog(|| {
        let (tx, mut rx) = channel::<u8>(1);
        let first = sending_waker(&tx);
        assert!(rx.poll_recv(&mut Context::from_waker(&first)).is_pending());
        drop(first);
        drop(rx);
        assert!(matches!(tx.try_send(1), Err(TrySendError::Closed(1))));
    });
}
