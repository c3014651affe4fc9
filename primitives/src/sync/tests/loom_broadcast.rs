//! broadcast under loom.

use crate::sync::broadcast::{self, error::RecvError};
use loom::future::block_on;
use loom::thread;

#[test]
fn broadcast_a_send_wakes_a_waiting_receiver() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(1);
        let sender = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(block_on(rx.recv()), Ok(1));
        // The sender is gone once joined: the channel ends.
        assert_eq!(sender.join().unwrap(), 1);
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    });
}

#[test]
fn broadcast_two_receivers_each_see_every_value() {
    loom::model(|| {
        let (tx, mut a) = broadcast::channel(2);
        let mut b = tx.subscribe();
        let reader = thread::spawn(move || {
            let got = [block_on(b.recv()), block_on(b.recv())];
            (got, block_on(b.recv()))
        });
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        drop(tx);
        assert_eq!(block_on(a.recv()), Ok(1));
        assert_eq!(block_on(a.recv()), Ok(2));
        assert_eq!(block_on(a.recv()), Err(RecvError::Closed));
        let (got, last) = reader.join().unwrap();
        assert_eq!(got, [Ok(1), Ok(2)]);
        assert_eq!(last, Err(RecvError::Closed));
    });
}

#[test]
fn broadcast_the_last_sender_leaving_ends_a_waiting_recv() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel::<u8>(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || drop(tx));
        let b = thread::spawn(move || drop(tx2));
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn broadcast_a_receiver_dropped_during_sends_leaves_nothing_kept() {
    loom::model(|| {
        let (tx, rx) = broadcast::channel(2);
        let mut other = tx.subscribe();
        let dropper = thread::spawn(move || drop(rx));
        tx.send(1).unwrap();
        assert_eq!(other.try_recv(), Ok(1));
        dropper.join().unwrap();
        // Everyone left has read value 1: nothing stays.
        assert_eq!(tx.len(), 0);
        drop(other);
        assert!(tx.send(2).is_err());
    });
}

#[test]
fn broadcast_closed_completes_when_the_receivers_go() {
    loom::model(|| {
        let (tx, rx) = broadcast::channel::<u8>(1);
        let rx2 = rx.resubscribe();
        let a = thread::spawn(move || drop(rx));
        let b = thread::spawn(move || drop(rx2));
        block_on(tx.closed());
        assert_eq!(tx.receiver_count(), 0);
        a.join().unwrap();
        b.join().unwrap();
    });
}

// The next three models drive both receives from the crate's own
// `util::block_on`, so the second `recv` polls with the waker the first
// registered: it arms the registration and waits without the lock, racing
// the other thread. (loom's own `block_on` would do, but its waker's
// vtable is duplicated across codegen units, so `will_wake` says false and
// the lock-free path would never run.)

#[test]
fn broadcast_a_registered_receiver_waits_without_the_lock_and_is_woken() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        tx.send(1).unwrap();
        let sender = thread::spawn(move || tx.send(2).unwrap());
        let got = crate::util::block_on(async { (rx.recv().await, rx.recv().await) });
        assert_eq!(got, (Ok(1), Ok(2)));
        sender.join().unwrap();
    });
}

#[test]
fn broadcast_the_last_sender_leaving_wakes_a_registered_receiver() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(1);
        tx.send(1).unwrap();
        let dropper = thread::spawn(move || drop(tx));
        let got = crate::util::block_on(async { (rx.recv().await, rx.recv().await) });
        assert_eq!(got, (Ok(1), Err(RecvError::Closed)));
        dropper.join().unwrap();
    });
}

#[test]
fn broadcast_a_recv_cancelled_while_a_send_lands_loses_nothing() {
    use std::future::{Future, poll_fn};
    use std::pin::Pin;
    use std::task::Poll;
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        tx.send(1).unwrap();
        let sender = thread::spawn(move || tx.send(2).unwrap());
        crate::util::block_on(async {
            assert_eq!(rx.recv().await, Ok(1));
            // Polled once (it may find 2, or arm and wait), then dropped.
            let mut recv = rx.recv();
            let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut recv).poll(cx))).await;
            drop(recv);
            match first {
                Poll::Ready(got) => assert_eq!(got, Ok(2)),
                Poll::Pending => assert_eq!(rx.recv().await, Ok(2)),
            }
        });
        sender.join().unwrap();
    });
}
