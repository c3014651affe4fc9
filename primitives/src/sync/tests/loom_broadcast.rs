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
