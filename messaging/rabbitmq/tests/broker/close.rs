//! How channels end. Closing a connection right after dropping what used
//! it: the queue's channels are closed by weft as the queue drops, so the
//! close is the client's clean `connection.close`, never failed by lapin's
//! own close-on-drop of a channel racing it (issue #24's cluster test met
//! that as `InvalidChannelState(Closing, "channel.close")`). And a channel
//! the broker closes: its reply code and text reach the user.

use crate::{runtimes, unique};
use std::time::Duration;
use weft::queue::Utf8;
use weft_rabbitmq::lapin::ErrorKind;
use weft_rabbitmq::lapin::options::{QueueDeclareOptions, QueueDeleteOptions};
use weft_rabbitmq::lapin::types::FieldTable;
use weft_rabbitmq::{Connection, Error, QueueOptions};
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
                let conn = Connection::connect_with_runtime(&broker.uri(), kit)
                    .await
                    .unwrap();
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

/// The other way a channel ends: the broker closes it. What the user gets
/// is the broker's reply code and text, not a channel state.
#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_declaration_the_broker_refuses_carries_its_reply_code_and_text() {
    let Some(broker) = broker() else { return };
    let name = unique("weft-taken");
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let kit = weft::compat::async_rs::current();
        let conn = Connection::connect_with_runtime(&broker.uri(), kit)
            .await
            .unwrap();
        // The name taken by a classic queue: the quorum queue's arguments differ.
        let channel = conn.channel().await.unwrap();
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(name.as_str().into(), durable, FieldTable::default())
            .await
            .unwrap();
        let refused = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .expect_err("the broker refuses the declaration");
        let Error::Amqp(amqp) = &refused else {
            panic!("not the broker's refusal: {refused:?}")
        };
        let ErrorKind::ProtocolError(reply) = amqp.kind() else {
            panic!("no reply code: {refused:?}")
        };
        assert_eq!(reply.get_id(), 406, "{refused}");
        assert!(refused.to_string().contains("PRECONDITION_FAILED"), "{refused}");
        assert!(refused.to_string().contains("inequivalent arg"), "{refused}");
        // The connection stays up: the refusal closed one channel only.
        channel
            .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
            .await
            .unwrap();
        assert!(conn.close().await.is_ok());
    });
}
