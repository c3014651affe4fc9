//! watch under loom.
//!
//! The value's std `RwLock` is invisible to loom (see the watch module's
//! protocol); a model must not hold a `Ref` across a loom operation.

use crate::sync::watch;
use loom::future::block_on;
use loom::thread;

#[test]
fn watch_the_latest_value_is_always_seen() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        let mut seen = Vec::new();
        while block_on(rx.changed()).is_ok() {
            seen.push(*rx.borrow_and_update());
        }
        sender.join().unwrap();
        // Skipped values are fine; the last one is never missed.
        assert_eq!(seen.last(), Some(&2));
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    });
}

#[test]
fn watch_a_send_wakes_two_waiting_receivers() {
    loom::model(|| {
        let (tx, mut a) = watch::channel(0);
        let mut b = a.clone();
        let other = thread::spawn(move || {
            block_on(b.changed()).unwrap();
            *b.borrow()
        });
        let sender = thread::spawn(move || tx.send_modify(|n| *n = 7));
        block_on(a.changed()).unwrap();
        assert_eq!(*a.borrow(), 7);
        assert_eq!(other.join().unwrap(), 7);
        sender.join().unwrap();
    });
}

#[test]
fn watch_closed_completes_when_the_receivers_go() {
    loom::model(|| {
        let (tx, rx) = watch::channel(());
        let rx2 = rx.clone();
        let a = thread::spawn(move || drop(rx));
        let b = thread::spawn(move || drop(rx2));
        block_on(tx.closed());
        assert!(tx.is_closed());
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn watch_the_last_of_two_senders_leaving_ends_a_waiting_changed() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let tx2 = tx.clone();
        let a = thread::spawn(move || drop(tx));
        let b = thread::spawn(move || {
            tx2.send(1).unwrap();
        });
        // The send may be seen or skipped; the end is always seen.
        while block_on(rx.changed()).is_ok() {
            assert_eq!(*rx.borrow_and_update(), 1);
        }
        a.join().unwrap();
        b.join().unwrap();
    });
}
