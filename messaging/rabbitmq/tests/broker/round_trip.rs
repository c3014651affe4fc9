//! A first round trip over a quorum queue: a publish the broker confirms,
//! a consume, an ack the broker keeps.

use crate::{runtimes, unique};
use futures_lite::StreamExt;
use weft_rabbitmq::Connection;
use weft_rabbitmq::lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use weft_rabbitmq::lapin::types::{AMQPValue, FieldTable};
use weft_rabbitmq::lapin::{BasicProperties, Channel};
use weft_test_support::rabbitmq::broker;

fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    args
}

/// Messages ready in `queue` (not delivered, or delivered and requeued).
async fn ready(channel: &Channel, queue: &str) -> u32 {
    let options = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .unwrap()
        .message_count()
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_confirmed_publish_is_consumed_and_acked_on_a_quorum_queue() {
    let Some(broker) = broker() else { return };
    for (name, rt) in runtimes() {
        let queue = unique("weft-round-trip");
        rt.block_on(async {
            let kit = weft::compat::async_rs::current();
            let conn = Connection::connect_with_runtime(&broker.uri(), kit)
                .await
                .unwrap();
            let channel = conn.channel().await.unwrap();
            let durable = QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            };
            channel
                .queue_declare(queue.as_str().into(), durable, quorum())
                .await
                .unwrap();

            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .unwrap();
            let confirm = channel
                .basic_publish(
                    "".into(),
                    queue.as_str().into(),
                    BasicPublishOptions::default(),
                    b"hello, quorum",
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .unwrap();
            assert!(
                confirm.await.unwrap().is_ack(),
                "{name}: the broker nacked the publish"
            );

            channel.basic_qos(1, BasicQosOptions::default()).await.unwrap();
            let mut consumer = channel
                .basic_consume(
                    queue.as_str().into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .unwrap();
            let delivery = consumer.next().await.unwrap().unwrap();
            assert_eq!(delivery.data, b"hello, quorum", "{name}");
            assert!(!delivery.redelivered, "{name}");
            delivery.acker.ack(BasicAckOptions::default()).await.unwrap();

            // Closing the channel requeues whatever it holds unacked: the
            // queue is empty only if the ack reached the broker.
            channel.close(200, "done".into()).await.unwrap();
            let check = conn.channel().await.unwrap();
            assert_eq!(ready(&check, &queue).await, 0, "{name}: the ack was lost");
            conn.close().await.unwrap();
        });
    }
}
