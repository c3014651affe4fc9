//! Confirmed publishes survive a restart of the broker's application
//! (`rabbitmqctl stop_app` / `start_app`): a quorum queue keeps what it
//! confirmed. A binary of its own, because the restart would break the
//! tests sharing the node of `tests/broker.rs`; it starts its own node.
//!
//! The queue does not recover its connection yet: the test connects and
//! opens the queue afresh after the restart.

use std::time::Duration;
use weft::queue::{Utf8, Verdict};
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

const MESSAGES: usize = 200;

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
    });

    broker.ctl(&["stop_app"]).unwrap();
    broker.ctl(&["start_app"]).unwrap();
    broker.ctl(&["await_startup"]).unwrap();

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
    });
}
