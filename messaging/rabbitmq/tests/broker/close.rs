//! Closing a connection right after dropping what used it: the queue's
//! channels are closed by weft as the queue drops, so the close is the
//! client's clean `connection.close`, never failed by lapin's own
//! close-on-drop of a channel racing it (issue #24's cluster test met that
//! as `InvalidChannelState(Closing, "channel.close")`).

use crate::{runtimes, unique};
use std::time::Duration;
use weft::queue::Utf8;
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

/// Rounds per runtime: before the fix, about seven closes in eight failed.
const ROUNDS: usize = 10;

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_connection_closes_cleanly_right_after_its_queue_drops() {
    let Some(broker) = broker() else { return };
    let name = unique("weft-close");
    for (flavour, rt) in runtimes() {
        for round in 0..ROUNDS {
            let closed = rt.block_on(async {
                let kit = weft::compat::async_rs::current();
                let conn = Connection::connect_with_runtime(&broker.uri(), kit).await.unwrap();
                let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
                    .await
                    .unwrap();
                // A consumer with a delivery in hand too: its channel is
                // the third the drop closes.
                queue.producer().publish(format!("{round}")).await.unwrap();
                let mut consumer = queue.consumer();
                let delivery = weft::time::timeout(Duration::from_secs(30), consumer.recv())
                    .await
                    .expect("the delivery within 30 s")
                    .unwrap();
                drop((delivery, consumer, queue));
                conn.close().await
            });
            assert!(closed.is_ok(), "{flavour}, round {round}: {closed:?}");
        }
    }
}
