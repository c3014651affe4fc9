//! Unit tests of the broadcast channel.

use super::error::{RecvError, TryRecvError};
use super::*;
use crate::util::test_support::{counter, poll, wakes};
// Test scaffolding: plain std, which loom needn't see.
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A value that counts its drops, shared by its clones.
#[derive(Clone)]
struct Tracked(StdArc<AtomicUsize>, u32);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn every_receiver_sees_every_value_in_order() {
    let (tx, rx) = channel(8);
    let mut rxs: Vec<_> = (0..3).map(|_| rx.resubscribe()).collect();
    rxs.push(rx);
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(4));
    }
    for rx in &mut rxs {
        assert_eq!(rx.len(), 5);
        let got: Vec<_> = (0..5).map(|_| rx.try_recv().unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
    // Everyone read everything: nothing is kept.
    assert_eq!(tx.len(), 0);
}

#[test]
fn a_lagging_receiver_is_told_once_then_reads_the_oldest_kept() {
    let (tx, mut rx) = channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), 2);
    let (_, waker) = counter();
    let mut recv = rx.recv();
    assert_eq!(poll(&mut recv, &waker), Poll::Ready(Err(RecvError::Lagged(3))));
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn capacity_zero_means_one() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_send_wakes_every_waiting_receiver_once() {
    let (tx, mut a) = channel(4);
    let mut b = tx.subscribe();
    let mut idle = tx.subscribe();
    let (ca, wa) = counter();
    let (cb, wb) = counter();
    let mut ra = a.recv();
    let mut rb = b.recv();
    assert!(poll(&mut ra, &wa).is_pending());
    assert!(poll(&mut rb, &wb).is_pending());
    // A second poll with the same waker stores nothing new.
    assert!(poll(&mut ra, &wa).is_pending());
    assert_eq!((wakes(&ca), wakes(&cb)), (0, 0));

    assert_eq!(tx.send(7), Ok(3));
    assert_eq!((wakes(&ca), wakes(&cb)), (1, 1));
    assert_eq!(poll(&mut ra, &wa), Poll::Ready(Ok(7)));
    assert_eq!(poll(&mut rb, &wb), Poll::Ready(Ok(7)));

    // Nobody waits now: another send wakes nobody.
    tx.send(8).unwrap();
    assert_eq!((wakes(&ca), wakes(&cb)), (1, 1));
    assert_eq!(idle.try_recv(), Ok(7));
    assert_eq!(idle.try_recv(), Ok(8));
}

#[test]
fn dropping_the_last_sender_closes_after_the_kept_values() {
    let (tx, mut rx) = channel(4);
    let tx2 = tx.clone();
    let (c, w) = counter();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &w).is_pending());
    drop(tx);
    assert_eq!(wakes(&c), 0, "a sender remains");
    tx2.send(1).unwrap();
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(1)));
    drop(recv);

    tx2.send(2).unwrap();
    let mut recv = rx.recv();
    assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(2)));
    drop(recv);
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &w).is_pending());
    drop(tx2);
    assert_eq!(wakes(&c), 2);
    assert_eq!(poll(&mut recv, &w), Poll::Ready(Err(RecvError::Closed)));
    drop(recv);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.blocking_recv(), Err(RecvError::Closed));
}

#[test]
fn a_closed_channel_still_hands_out_unread_values() {
    let (tx, mut rx) = channel(4);
    tx.send("a").unwrap();
    tx.send("b").unwrap();
    drop(tx);
    assert_eq!(rx.blocking_recv(), Ok("a"));
    assert_eq!(rx.try_recv(), Ok("b"));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn dropping_every_receiver_fails_sends_and_completes_closed() {
    let (tx, rx) = channel(4);
    let rx2 = tx.subscribe();
    let (c, w) = counter();
    let mut closed = tx.closed();
    assert!(poll(&mut closed, &w).is_pending());
    drop(rx);
    assert_eq!(wakes(&c), 0);
    drop(rx2);
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut closed, &w), Poll::Ready(()));
    assert_eq!(tx.send(5), Err(SendError(5)));
    assert_eq!(tx.receiver_count(), 0);

    // A new subscriber reopens it; it sees only later values.
    let mut rx = tx.subscribe();
    tx.send(6).unwrap();
    assert_eq!(rx.try_recv(), Ok(6));
}

#[test]
fn closed_waits_again_if_someone_resubscribes_first() {
    let (tx, rx) = channel::<u8>(1);
    let (c, w) = counter();
    let mut closed = tx.closed();
    assert!(poll(&mut closed, &w).is_pending());
    drop(rx);
    let rx = tx.subscribe();
    assert_eq!(wakes(&c), 1);
    assert!(poll(&mut closed, &w).is_pending());
    drop(rx);
    assert_eq!(wakes(&c), 2);
    assert_eq!(poll(&mut closed, &w), Poll::Ready(()));
}

#[test]
fn a_cancelled_recv_loses_nothing_and_wakes_nobody() {
    let (tx, mut rx) = channel(4);
    let (c, w) = counter();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &w).is_pending());
    drop(recv);
    tx.send(1).unwrap();
    assert_eq!(wakes(&c), 0, "the cancelled waiter is not woken");

    // Cancelled after being woken: the value is still there.
    let mut recv = rx.recv();
    assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(1)));
    drop(recv);
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &w).is_pending());
    tx.send(2).unwrap();
    assert_eq!(wakes(&c), 1);
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(tx.shared.lock().recv_waiters.is_empty());
}

#[test]
fn a_receiver_between_two_recvs_is_not_woken_and_misses_nothing() {
    let (tx, mut rx) = channel(4);
    let (c, w) = counter();
    tx.send(1).unwrap();
    // Read everything: registered ahead of the next `recv`, unarmed.
    assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(1)));
    assert_eq!(tx.shared.lock().recv_waiters.len(), 1);
    tx.send(2).unwrap();
    assert_eq!(wakes(&c), 0, "no recv was waiting");
    assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(2)));

    // The next `recv` waits on that registration, and is woken.
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &w).is_pending());
    assert_eq!(tx.shared.lock().recv_waiters.len(), 1, "one registration");
    tx.send(3).unwrap();
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut recv, &w), Poll::Ready(Ok(3)));
}

#[test]
fn an_idle_receiver_keeps_no_waker_once_a_send_unlinks_it() {
    let (tx, mut rx) = channel(4);
    let (c, w) = counter();
    tx.send(1).unwrap();
    assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(1)));
    drop(w);
    // Registered ahead of the next `recv`: the list node holds a clone.
    assert_eq!(StdArc::strong_count(&c), 2);
    tx.send(2).unwrap();
    // Unlinked, not woken: nothing keeps the task (or its runtime) now.
    assert_eq!(StdArc::strong_count(&c), 1, "the receiver kept a clone");
    assert_eq!(wakes(&c), 0);
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_registration_follows_the_receiver_to_another_task() {
    let (tx, mut rx) = channel(4);
    let (ca, wa) = counter();
    let (cb, wb) = counter();
    tx.send(1).unwrap();
    assert_eq!(poll(&mut rx.recv(), &wa), Poll::Ready(Ok(1)));
    // Another task waits now: its waker replaces the stored one.
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &wb).is_pending());
    tx.send(2).unwrap();
    assert_eq!((wakes(&ca), wakes(&cb)), (0, 1));
    assert_eq!(poll(&mut recv, &wb), Poll::Ready(Ok(2)));
}

#[test]
fn a_registered_receiver_sees_the_close() {
    let (tx, mut rx) = channel(4);
    let (c, w) = counter();
    tx.send(1).unwrap();
    assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Ok(1)));
    drop(tx);
    assert_eq!(wakes(&c), 0, "no recv was waiting");
    assert_eq!(poll(&mut rx.recv(), &w), Poll::Ready(Err(RecvError::Closed)));
}

#[test]
fn values_are_freed_by_their_last_reader_and_never_leak() {
    let drops = StdArc::new(AtomicUsize::new(0));
    let value = |n| Tracked(StdArc::clone(&drops), n);
    let (tx, mut a) = channel(4);
    let mut b = a.resubscribe();
    tx.send(value(1)).unwrap();
    tx.send(value(2)).unwrap();

    // `a` reads a clone; the kept value stays for `b`.
    assert_eq!(a.try_recv().unwrap().1, 1);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(tx.len(), 2);
    // `b` is the last reader: it takes the value itself.
    assert_eq!(b.try_recv().unwrap().1, 1);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(tx.len(), 1);

    // Dropping `b` leaves value 2 to `a` alone; dropping `a` frees it.
    drop(b);
    assert_eq!(tx.len(), 1);
    drop(a);
    assert_eq!(tx.len(), 0);
    assert_eq!(drops.load(Ordering::SeqCst), 3);

    // Evicted values are dropped too, and the sender holds no receiver.
    let mut c = tx.subscribe();
    for n in 0..10 {
        tx.send(value(n)).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 3 + 6);
    assert_eq!(c.try_recv().err(), Some(TryRecvError::Lagged(6)));
    drop(c);
    assert_eq!(drops.load(Ordering::SeqCst), 3 + 10);
    assert_eq!(StdArc::strong_count(&tx.shared), 1);
    drop(tx);
    assert_eq!(StdArc::strong_count(&drops), 1);
}

#[test]
fn a_value_sent_with_one_receiver_is_never_cloned() {
    struct NoClone;
    impl Clone for NoClone {
        fn clone(&self) -> NoClone {
            panic!("cloned a value that had one reader left");
        }
    }
    let (tx, mut rx) = channel(2);
    tx.send(NoClone).unwrap();
    assert!(rx.try_recv().is_ok());
}

#[test]
fn resubscribed_receivers_skip_earlier_values() {
    let (tx, rx) = channel(4);
    tx.send(1).unwrap();
    let mut late = rx.resubscribe();
    assert!(late.same_channel(&rx));
    assert_eq!(rx.len(), 1);
    assert!(late.is_empty());
    tx.send(2).unwrap();
    assert_eq!(late.try_recv(), Ok(2));
    assert_eq!(tx.receiver_count(), 2);
    assert!(tx.same_channel(&tx.clone()));
}

#[test]
fn many_receivers_on_threads_see_every_value() {
    let (tx, rx) = channel(64);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let mut rx = rx.resubscribe();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = rx.blocking_recv() {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    drop(rx);
    for i in 0..50 {
        tx.send(i).unwrap();
    }
    drop(tx);
    for handle in handles {
        assert_eq!(handle.join().unwrap(), (0..50).collect::<Vec<_>>());
    }
}

#[test]
fn errors_display_and_debug_without_t_debug() {
    #[derive(Clone)]
    struct Opaque;
    let e = SendError(Opaque);
    assert_eq!(format!("{e:?}"), "SendError(..)");
    assert_eq!(e.to_string(), "no receiver is subscribed");
    assert_eq!(
        RecvError::Lagged(3).to_string(),
        "the receiver lagged and missed 3 values"
    );
    let (tx, rx) = channel::<Opaque>(1);
    assert!(format!("{tx:?} {rx:?}").contains("receivers: 1"));
}
