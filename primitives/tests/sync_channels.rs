//! mpsc and oneshot, run under weft, tokio and smol.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use support::any_runtime::{on_every_runtime, poll_once, yield_n};
use weft_primitives::sync::mpsc::error::{TryRecvError, TrySendError};
use weft_primitives::sync::{mpsc, oneshot};

/// Counts drops, to prove a value was dropped (not leaked) exactly once.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn mpsc_closing_delivers_the_buffer_then_none() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(4);
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Ok(1));
        drop(tx2);
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

#[test]
fn mpsc_send_gives_the_value_back_once_the_receiver_is_gone() {
    on_every_runtime(|_| async {
        let (tx, rx) = mpsc::channel::<String>(1);
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        let err = tx.send("lost?".to_string()).await.unwrap_err();
        assert_eq!(err.0, "lost?");
        assert!(matches!(tx.try_send("x".into()), Err(TrySendError::Closed(s)) if s == "x"));
        tx.closed().await;

        let (tx, rx) = mpsc::unbounded_channel::<u8>();
        drop(rx);
        assert_eq!(tx.send(9).unwrap_err().into_inner(), 9);
    });
}

#[test]
fn mpsc_dropping_the_receiver_drops_the_buffer() {
    on_every_runtime(|_| async {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel(8);
        for _ in 0..5 {
            tx.send(Counted(Arc::clone(&drops))).await.unwrap();
        }
        drop(rx);
        assert_eq!(drops.load(Ordering::SeqCst), 5);
    });
}

#[test]
fn mpsc_bounded_send_waits_for_room_in_fifo_order() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        let mut first = tx.send(1);
        let mut second = tx.send(2);
        assert!(poll_once(&mut first).await.is_pending());
        assert!(poll_once(&mut second).await.is_pending());
        // Room for one: it goes to the first waiter, even when the second
        // is polled first.
        assert_eq!(rx.recv().await, Some(0));
        assert!(poll_once(&mut second).await.is_pending());
        assert!(matches!(poll_once(&mut first).await, Poll::Ready(Ok(()))));
        assert_eq!(rx.recv().await, Some(1));
        assert!(matches!(poll_once(&mut second).await, Poll::Ready(Ok(()))));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(tx.capacity(), 1);
        assert_eq!(tx.max_capacity(), 1);
    });
}

#[test]
fn mpsc_a_cancelled_send_leaks_no_slot_and_passes_its_grant_on() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        let mut cancelled = tx.send(1);
        let mut next = tx.send(2);
        assert!(poll_once(&mut cancelled).await.is_pending());
        assert!(poll_once(&mut next).await.is_pending());
        // The slot freed here is granted to `cancelled`…
        assert_eq!(rx.recv().await, Some(0));
        // …which is dropped before it used it: the slot passes on.
        drop(cancelled);
        assert!(matches!(poll_once(&mut next).await, Poll::Ready(Ok(()))));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(tx.capacity(), 1);
        // A receive cancelled while waiting took nothing.
        {
            let mut recv = Box::pin(rx.recv());
            assert!(poll_once(&mut recv).await.is_pending());
        }
        tx.send(3).await.unwrap();
        assert_eq!(rx.recv().await, Some(3));
    });
}

#[test]
fn mpsc_close_fails_waiting_senders_and_keeps_the_buffer() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(1).await.unwrap();
        let mut waiting = tx.send(2);
        assert!(poll_once(&mut waiting).await.is_pending());
        let permit_holder = tx.clone();
        rx.close();
        match poll_once(&mut waiting).await {
            Poll::Ready(Err(e)) => assert_eq!(e.0, 2),
            other => panic!("expected a closed error, got {other:?}"),
        }
        assert!(permit_holder.try_reserve().is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    });
}

// ANCHOR: permit-after-close
#[test]
fn mpsc_a_permit_given_back_after_close_ends_a_waiting_recv() {
    on_every_runtime(|spawner| async move {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let permit = tx.try_reserve().unwrap();
        rx.close();
        assert!(tx.is_closed() && rx.is_closed());
        let (pending_tx, pending_rx) = oneshot::channel();
        let receiver = spawner.spawn(async move {
            // The permit could still send: the receiver must wait…
            let mut recv = Box::pin(rx.recv());
            assert!(poll_once(&mut recv).await.is_pending());
            pending_tx.send(()).unwrap();
            recv.await
        });
        pending_rx.await.unwrap();
        // …until the permit comes back unused: then nothing more can come,
        // and the waiting receiver must be woken to see it.
        drop(permit);
        assert_eq!(receiver.await, None);
    });
}
// ANCHOR_END: permit-after-close

#[test]
fn mpsc_receiver_is_closed_once_every_sender_is_gone() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel::<u8>(2);
        tx.send(1).await.unwrap();
        assert!(!rx.is_closed());
        drop(tx);
        assert!(rx.is_closed());
        // Closed, yet what was buffered is still received.
        assert_eq!(rx.recv().await, Some(1));
    });
}

#[test]
fn mpsc_permits_reserve_room_and_give_it_back() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(2);
        let a = tx.reserve().await.unwrap();
        let b = tx.try_reserve().unwrap();
        assert_eq!(tx.capacity(), 0);
        assert!(matches!(tx.try_send(0), Err(TrySendError::Full(0))));
        drop(a);
        assert_eq!(tx.capacity(), 1);
        b.send(7);
        let owned = tx.clone().reserve_owned().await.unwrap();
        let sender = owned.send(8);
        assert!(sender.same_channel(&tx));
        assert_eq!(rx.recv().await, Some(7));
        assert_eq!(rx.recv().await, Some(8));
        // A closed channel refuses reservations.
        rx.close();
        assert!(tx.reserve().await.is_err());
    });
}

#[test]
fn mpsc_recv_many_takes_what_is_there() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(10);
        for i in 0..6 {
            tx.send(i).await.unwrap();
        }
        let mut buf = Vec::new();
        assert_eq!(rx.recv_many(&mut buf, 4).await, 4);
        assert_eq!(rx.recv_many(&mut buf, 4).await, 2);
        assert_eq!(buf, [0, 1, 2, 3, 4, 5]);
        assert_eq!(rx.recv_many(&mut buf, 0).await, 0);
        drop(tx);
        assert_eq!(rx.recv_many(&mut buf, 4).await, 0);
    });
}

#[test]
fn mpsc_receivers_are_streams() {
    on_every_runtime(|_| async {
        use futures_lite::StreamExt;
        let (tx, rx) = mpsc::unbounded_channel();
        for i in 0..4 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let all: Vec<i32> = rx.collect().await;
        assert_eq!(all, [0, 1, 2, 3]);
    });
}

#[test]
fn mpsc_many_producers_deliver_every_message_exactly_once() {
    const PRODUCERS: u64 = 4;
    const EACH: u64 = 2_000;
    on_every_runtime(|spawner| async move {
        for capacity in [1, 8, 1_000_000] {
            let (tx, mut rx) = mpsc::channel(capacity);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let tx = tx.clone();
                    spawner.spawn(async move {
                        for i in 0..EACH {
                            tx.send(p * EACH + i).await.unwrap();
                            if i % 64 == 0 {
                                yield_n(1).await;
                            }
                        }
                    })
                })
                .collect();
            drop(tx);
            let mut seen = HashSet::new();
            let mut last = vec![None::<u64>; PRODUCERS as usize];
            while let Some(v) = rx.recv().await {
                assert!(seen.insert(v), "{v} received twice");
                // Each producer's messages arrive in the order it sent them.
                let p = (v / EACH) as usize;
                assert!(last[p] < Some(v));
                last[p] = Some(v);
            }
            assert_eq!(seen.len() as u64, PRODUCERS * EACH, "capacity {capacity}");
            for producer in producers {
                producer.await;
            }
        }
    });
}

#[test]
fn mpsc_senders_cancelled_mid_flight_lose_nothing_they_reported_sent() {
    on_every_runtime(|spawner| async move {
        let (tx, mut rx) = mpsc::channel(2);
        let sent = Arc::new(AtomicUsize::new(0));
        let producer = {
            let sent = Arc::clone(&sent);
            spawner.spawn(async move {
                for i in 0..500u32 {
                    let mut send = tx.send(i);
                    // Every third send is abandoned after one poll.
                    match poll_once(&mut send).await {
                        Poll::Ready(result) => {
                            result.unwrap();
                            sent.fetch_add(1, Ordering::SeqCst);
                        }
                        Poll::Pending if i % 3 == 0 => drop(send),
                        Poll::Pending => {
                            send.await.unwrap();
                            sent.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        };
        let mut received = 0;
        while rx.recv().await.is_some() {
            received += 1;
        }
        producer.await;
        assert_eq!(received, sent.load(Ordering::SeqCst));
    });
}

#[test]
fn oneshot_sends_once_and_reports_a_dropped_sender() {
    on_every_runtime(|spawner| async move {
        let (tx, rx) = oneshot::channel();
        spawner.spawn(async move { tx.send("hi").unwrap() });
        assert_eq!(rx.await, Ok("hi"));

        let (tx, rx) = oneshot::channel::<u8>();
        let dropper = spawner.spawn(async move { drop(tx) });
        assert!(rx.await.is_err());
        dropper.await;

        let (tx, mut rx) = oneshot::channel::<u8>();
        assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty));
        tx.send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed));
    });
}

#[test]
fn oneshot_a_gone_receiver_fails_the_send_and_completes_closed() {
    on_every_runtime(|spawner| async move {
        let (mut tx, rx) = oneshot::channel::<String>();
        assert!(!tx.is_closed());
        let closer = spawner.spawn(async move { drop(rx) });
        tx.closed().await;
        closer.await;
        assert!(tx.is_closed());
        assert_eq!(tx.send("back".into()).unwrap_err(), "back");

        // close() keeps a value sent before it.
        let (tx, mut rx) = oneshot::channel();
        tx.send(5).unwrap();
        rx.close();
        assert_eq!(rx.await, Ok(5));
    });
}

#[test]
fn oneshot_a_closed_receiver_stops_waiting() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = oneshot::channel::<u8>();
        rx.close();
        // The sender is alive, but can no longer send: nothing will come.
        assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed));
        assert!(rx.await.is_err());
        assert!(tx.is_closed());
    });
}

#[test]
fn oneshot_an_abandoned_poll_loses_nothing() {
    on_every_runtime(|spawner| async move {
        let (tx, mut rx) = oneshot::channel();
        // Poll the receiver by reference and walk away.
        assert!(poll_once(&mut rx).await.is_pending());
        spawner.spawn(async move { tx.send(3).unwrap() }).await;
        assert_eq!(rx.await, Ok(3));

        // A value in a dropped receiver is dropped, once.
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel();
        tx.send(Counted(Arc::clone(&drops))).ok().unwrap();
        drop(rx);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn blocking_receives_from_plain_threads() {
    let (tx, rx) = oneshot::channel();
    let (mtx, mut mrx) = mpsc::channel(1);
    std::thread::scope(|s| {
        s.spawn(move || {
            weft::block_on(async {
                tx.send(1).unwrap();
                mtx.send(2).await.unwrap();
            })
        });
        assert_eq!(rx.blocking_recv(), Ok(1));
        assert_eq!(mrx.blocking_recv(), Some(2));
    });
    assert_eq!(mrx.blocking_recv(), None);
}
