//! The queue when its connection dies, through a loopback proxy of the
//! test's own ([`Proxy`]), which can hold back what the broker sends and
//! cut the connection: the broker's confirm reaches the proxy, which tells
//! the test and drops it, and the test then cuts the connection, so the
//! client never learns the outcome.
//!
//! With recovery (the default) such a publish is sent again on the new
//! connection, confirmed, and its second copy flagged as redelivered;
//! without ([`Recovery::never`]) it is `StoreError::Unknown`, and stored.

use crate::broker::proxy::Proxy;
use crate::unique;
use std::sync::atomic::Ordering;
use std::time::Duration;
use weft::queue::{AckError, PublishError, Utf8};
use weft_rabbitmq::lapin::options::QueueDeclareOptions;
use weft_rabbitmq::lapin::types::FieldTable;
use weft_rabbitmq::{Connection, QueueOptions, Recovery, Status};
use weft_test_support::rabbitmq::broker;

const BOUND: Duration = Duration::from_secs(30);

/// The connection's statuses, as they change.
fn statuses(conn: &Connection) -> weft::sync::mpsc::UnboundedReceiver<Status> {
    let (tx, rx) = weft::sync::mpsc::unbounded_channel();
    conn.on_status(move |status: &Status| {
        let _ = tx.send(status.clone());
    });
    rx
}

/// Waits for `want` among the statuses, bounded.
async fn wait_for(rx: &mut weft::sync::mpsc::UnboundedReceiver<Status>, want: fn(&Status) -> bool) {
    let seen = weft::time::timeout(BOUND, async {
        while let Some(status) = rx.recv().await {
            if want(&status) {
                return;
            }
        }
        panic!("the connection dropped its status callbacks");
    })
    .await;
    assert!(seen.is_ok(), "the awaited status never came");
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn without_recovery_a_publish_whose_confirm_is_lost_is_unknown_not_unstored() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, mut held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Proxy::start(broker.port(), held_tx);
        let through = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
        let kit = weft::compat::async_rs::current();
        let conn = Connection::connect_with_runtime(&through, kit).await.unwrap();
        conn.set_recovery(Recovery::never());
        let name = unique("weft-loss");
        let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();

        proxy.hold.store(true, Ordering::SeqCst);
        let producer = queue.producer();
        let publishing = weft::spawn(async move { producer.publish("in doubt".to_string()).await });
        // The broker answered (its confirm reached the proxy, and no further).
        let answered = weft::time::timeout(Duration::from_secs(30), held_rx.recv()).await;
        assert!(matches!(answered, Ok(Some(()))), "the broker never answered");
        proxy.cut();

        let result = weft::time::timeout(Duration::from_secs(30), publishing)
            .await
            .expect("the publish never ended")
            .unwrap();
        match result {
            Err(PublishError::Store(store)) => assert!(store.is_unknown(), "{store:?}"),
            other => panic!("expected an unknown outcome, got {other:?}"),
        }
        assert_eq!(queue.stats().published, 0);

        // Unknown, not lost: the broker did store it.
        let direct = Connection::connect_with_runtime(&broker.uri(), weft::compat::async_rs::current())
            .await
            .unwrap();
        let channel = direct.channel().await.unwrap();
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let stored = channel
            .queue_declare(name.as_str().into(), passive, FieldTable::default())
            .await
            .unwrap()
            .message_count();
        assert_eq!(stored, 1);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_publish_whose_confirm_is_lost_is_republished_confirmed_and_its_copy_flagged() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, mut held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Proxy::start(broker.port(), held_tx);
        let kit = weft::compat::async_rs::current();
        let conn = Connection::connect_with_runtime(&proxy.uri(), kit).await.unwrap();
        let mut status = statuses(&conn);
        let name = unique("weft-loss");
        let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();

        proxy.hold.store(true, Ordering::SeqCst);
        let producer = queue.producer();
        let publishing = weft::spawn(async move { producer.publish("in doubt".to_string()).await });
        let answered = weft::time::timeout(BOUND, held_rx.recv()).await;
        assert!(matches!(answered, Ok(Some(()))), "the broker never answered");
        proxy.hold.store(false, Ordering::SeqCst);
        proxy.cut();

        wait_for(&mut status, |s| matches!(s, Status::Lost { .. })).await;
        wait_for(&mut status, Status::is_connected).await;
        let result = weft::time::timeout(BOUND, publishing)
            .await
            .expect("the publish never ended")
            .unwrap();
        assert!(result.is_ok(), "republished and confirmed: {result:?}");
        assert_eq!(queue.stats().published, 1);

        // Stored twice: the first copy as published, the second flagged.
        let mut consumer = queue.consumer();
        let first = weft::time::timeout(BOUND, consumer.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((first.as_str(), first.redelivered()), ("in doubt", false));
        let second = weft::time::timeout(BOUND, consumer.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((second.as_str(), second.redelivered()), ("in doubt", true));
        assert!(second.properties().is_none(), "the mark is not a user header");
        first.ack().unwrap();
        second.ack().unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn deliveries_in_hand_when_the_connection_dies_fail_their_ack_and_come_back() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, _held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Proxy::start(broker.port(), held_tx);
        let kit = weft::compat::async_rs::current();
        let conn = Connection::connect_with_runtime(&proxy.uri(), kit).await.unwrap();
        let mut status = statuses(&conn);
        let name = unique("weft-loss");
        let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        queue.producer().publish("in hand".to_string()).await.unwrap();
        let mut consumer = queue.consumer();
        let in_hand = weft::time::timeout(BOUND, consumer.recv())
            .await
            .unwrap()
            .unwrap();

        proxy.cut();
        wait_for(&mut status, |s| matches!(s, Status::Lost { .. })).await;
        // Its channel died with the connection: a typed error, not a
        // silent success, and not an unknown outcome.
        match in_hand.ack() {
            Err(AckError::Store(store)) => assert!(!store.is_unknown(), "{store:?}"),
            other => panic!("expected a store error, got {other:?}"),
        }

        // The same consumer resumes on the new connection, and the broker
        // gave the message back.
        let again = weft::time::timeout(BOUND, consumer.recv())
            .await
            .expect("the consumer did not resume")
            .unwrap();
        assert_eq!((again.as_str(), again.delivery_count()), ("in hand", 2));
        assert!(again.redelivered());
        again.ack().unwrap();
        assert!(conn.status().is_connected());
    });
}
