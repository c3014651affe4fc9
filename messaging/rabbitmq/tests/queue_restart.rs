//! The queue across broker-side losses, on a node of this binary's own
//! (the restarts would break the tests sharing the node of
//! `tests/broker.rs`): confirmed publishes survive `rabbitmqctl stop_app`
//! / `start_app`, and the queue recovers by itself from a restart and
//! from `close_all_connections` in the middle of a stream of publishes and
//! consumes, losing no confirmed message and flagging every duplicate.
//!
//! The tests take turns (`TURN`): each breaks every connection to the
//! node. `WEFT_RABBITMQ_DEEP=1` runs the restart with 100 000 messages
//! instead of 10 000.

#[path = "broker/churn.rs"]
mod churn;

use self::churn::{assert_recovered, churn};
use std::sync::Mutex;
use std::time::Duration;
use weft::queue::{Utf8, Verdict};
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

const MESSAGES: usize = 200;

/// One test at a time on the node.
static TURN: Mutex<()> = Mutex::new(());

async fn connect(uri: &str) -> Connection {
    Connection::connect_with_runtime(uri, weft::compat::async_rs::current())
        .await
        .unwrap()
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn confirmed_publishes_survive_a_restart_of_the_broker() {
    let Some(broker) = broker() else { return };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let rt = weft::Runtime::new().unwrap();
    let name = "weft-restart";
    rt.block_on(async {
        let conn = connect(&broker.uri()).await;
        let queue = weft_rabbitmq::queue(&conn, name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        let producer = queue.producer();
        for n in 0..MESSAGES {
            producer.publish(format!("m{n}")).await.unwrap();
        }
        assert_eq!(queue.stats().published, MESSAGES as u64);
        conn.close().await.unwrap();
    });

    broker.restart_app().unwrap();

    rt.block_on(async {
        let conn = connect(&broker.uri()).await;
        let queue = weft_rabbitmq::queue(&conn, name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        let mut consumer = queue.consumer();
        let mut got = Vec::new();
        while got.len() < MESSAGES {
            let delivery = weft::time::timeout(Duration::from_secs(30), consumer.recv())
                .await
                .expect("a confirmed message was lost in the restart")
                .unwrap();
            got.push(delivery.to_string());
            delivery.settle(Verdict::Ack).await.unwrap();
        }
        // In publication order, each once.
        let expected: Vec<String> = (0..MESSAGES).map(|n| format!("m{n}")).collect();
        assert_eq!(got, expected);
        conn.close().await.unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_restart_mid_stream_is_recovered_from_losing_no_confirmed_message() {
    let Some(broker) = broker() else { return };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let deep = std::env::var_os("WEFT_RABBITMQ_DEEP").is_some();
    let messages = if deep { 100_000 } else { 10_000 };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect(&broker.uri()).await;
        // ANCHOR: restart-mid-stream
        let queue = weft_rabbitmq::queue(&conn, "weft-restart-churn", &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        let outcome = churn(&conn, &queue, messages, move || broker.restart_app().unwrap()).await;
        assert_recovered(&outcome);
        // ANCHOR_END: restart-mid-stream
        eprintln!(
            "restart: {messages} messages, {} duplicates, {} failed acks, {} statuses",
            outcome.duplicates,
            outcome.failed_acks,
            outcome.statuses.len()
        );
        conn.close().await.unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn connections_closed_by_the_broker_mid_stream_are_recovered_from() {
    let Some(broker) = broker() else { return };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect(&broker.uri()).await;
        let queue = weft_rabbitmq::queue(&conn, "weft-close-all", &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        let close_all = move || {
            broker
                .ctl(&["close_all_connections", "closed by the test"])
                .unwrap();
        };
        let outcome = churn(&conn, &queue, 5_000, close_all).await;
        assert_recovered(&outcome);
        eprintln!(
            "close_all_connections: {} duplicates, {} failed acks",
            outcome.duplicates, outcome.failed_acks
        );
        conn.close().await.unwrap();
    });
}
