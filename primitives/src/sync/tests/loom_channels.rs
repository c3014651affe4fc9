//! oneshot and mpsc under loom.

use crate::sync::{mpsc, oneshot};
use loom::future::block_on;
use loom::thread;
use std::future::Future;

#[test]
fn oneshot_send_wakes_a_waiting_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(block_on(rx), Ok(1));
        sender.join().unwrap();
    });
}

#[test]
fn oneshot_a_dropped_sender_wakes_the_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        dropper.join().unwrap();
    });
}

#[test]
fn oneshot_closed_completes_when_the_receiver_goes() {
    loom::model(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert_eq!(tx.send(1), Err(1));
        dropper.join().unwrap();
    });
}

// ANCHOR: close-racing-send
#[test]
fn oneshot_close_racing_send_hands_the_value_to_exactly_one_side() {
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7));
        rx.close();
        let received = rx.try_recv();
        // The value is either received or given back, never both, never lost.
        match sender.join().unwrap() {
            Ok(()) => {
                // Sent before the close took effect: still receivable.
                let value = received.or_else(|_| rx.try_recv());
                assert_eq!(value, Ok(7));
            }
            Err(value) => {
                assert_eq!(value, 7);
                assert!(received.is_err());
            }
        }
    });
}
// ANCHOR_END: close-racing-send

#[test]
fn oneshot_a_receiver_that_changes_waker_is_still_woken() {
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(3).unwrap());
        // First poll with one waker, then wait with another.
        let noop = std::task::Waker::noop();
        let first = std::pin::Pin::new(&mut rx).poll(&mut std::task::Context::from_waker(noop));
        let value = match first {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => block_on(rx),
        };
        assert_eq!(value, Ok(3));
        sender.join().unwrap();
    });
}

#[test]
fn oneshot_a_sender_that_changes_waker_sees_the_close() {
    loom::model(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(rx));
        let noop = std::task::Waker::noop();
        if tx
            .poll_closed(&mut std::task::Context::from_waker(noop))
            .is_pending()
        {
            block_on(tx.closed());
        }
        assert!(tx.is_closed());
        dropper.join().unwrap();
    });
}

#[test]
fn mpsc_two_senders_one_slot_nothing_lost() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let b = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let mut got = [block_on(rx.recv()).unwrap(), block_on(rx.recv()).unwrap()];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        // Both senders are gone once joined: the channel ends.
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn mpsc_room_freed_from_the_receivers_buffer_reaches_a_waiting_sender() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        // Moves both values into the receiver's own buffer and hands out 0:
        // the freed slot is counted without the lock.
        assert_eq!(rx.try_recv(), Ok(0));
        let sender = thread::spawn(move || {
            block_on(tx.send(2)).unwrap();
            block_on(tx.send(3)).unwrap();
        });
        for expected in 1..=3 {
            assert_eq!(block_on(rx.recv()), Some(expected));
        }
        sender.join().unwrap();
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn mpsc_the_last_sender_leaving_ends_a_waiting_recv() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
        let tx2 = tx.clone();
        let a = thread::spawn(move || drop(tx));
        let b = thread::spawn(move || {
            tx2.send(5).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(5));
        assert_eq!(block_on(rx.recv()), None);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn mpsc_a_receiver_dropped_while_a_sender_waits_fails_the_send() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(1)).map_err(|e| e.0));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(1));
    });
}

#[test]
fn mpsc_reserve_many_gets_slots_freed_without_the_lock() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let sender = thread::spawn(move || {
            let permits = block_on(tx.reserve_many(2)).unwrap();
            for (permit, value) in permits.zip([2, 3]) {
                permit.send(value);
            }
        });
        for expected in 0..=3 {
            assert_eq!(block_on(rx.recv()), Some(expected));
        }
        sender.join().unwrap();
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn mpsc_close_racing_a_handed_over_slot_leaks_nothing() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let permit = tx.try_reserve().unwrap();
        let sender = thread::spawn(move || match block_on(tx2.reserve()) {
            Ok(permit) => {
                permit.send(1);
                true
            }
            Err(_) => false,
        });
        // The slot goes to the waiting reserve as the receiver closes: it
        // either sends before the close or fails and gives the slot back,
        // and either way the receiver sees the end.
        drop(permit);
        rx.close();
        let got = block_on(rx.recv());
        let sent = sender.join().unwrap();
        assert_eq!(got, sent.then_some(1));
        assert_eq!(block_on(rx.recv()), None);
        drop(tx);
    });
}
