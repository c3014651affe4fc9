//! weft's work queue on a quorum queue of the private node: what only a
//! broker has or does its own way, beside the shared contract suite
//! (`tests/contract.rs`, which checks publish / recv / ack, redelivery
//! counts, dead letters by reject, limit and TTL, priorities, properties,
//! batches, purge, redrive, a dropped consumer and close on every
//! backend): TTLs and what RabbitMQ strips from an expired letter, ack
//! deadlines enforced by the client, `nack_after`, publishes the broker
//! refuses, undecodable bytes, an ack just before its consumer drops, and
//! an at-least-once run under random verdicts.

use crate::{BOUND, bounded, connect, ready, runtimes, unique};
use std::time::Duration;
use weft::queue::{AckError, DeadLetter, DeadReason, Properties, PublishError, Queue, Utf8, Verdict};
use weft_rabbitmq::lapin::options::QueueDeleteOptions;
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

async fn open(conn: &Connection, options: &QueueOptions) -> (String, Queue<String>) {
    let name = unique("weft-queue");
    let queue = weft_rabbitmq::queue(conn, &name, options, Utf8).await.unwrap();
    (name, queue)
}

async fn dead(queue: &Queue<String>) -> DeadLetter<String> {
    bounded("a dead letter", queue.dead_letter()).await.unwrap()
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn messages_past_the_queue_or_their_own_ttl_are_dead_letters_with_reason_expired() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        // The queue's TTL.
        let (_, queue) = open(&conn, QueueOptions::new().ttl(Duration::from_millis(20))).await;
        queue.producer().publish("stale".to_string()).await.unwrap();
        let letter = dead(&queue).await;
        assert_eq!(
            (letter.message.as_str(), letter.reason),
            ("stale", DeadReason::Expired)
        );

        // The message's own.
        let (_, queue) = open(&conn, &QueueOptions::new()).await;
        let props = Properties::new().with_ttl(Duration::from_millis(20));
        queue
            .producer()
            .publish_with("brief".to_string(), props)
            .await
            .unwrap();
        let letter = dead(&queue).await;
        assert_eq!(
            (letter.message.as_str(), letter.reason),
            ("brief", DeadReason::Expired)
        );
        // RabbitMQ removes `expiration` from a dead letter, so that it does
        // not expire again in the dead-letter queue.
        assert_eq!(letter.properties.unwrap().ttl(), None);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_delivery_past_its_ack_deadline_is_given_back_and_its_late_ack_refused() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let options = QueueOptions::new()
            .ack_deadline(Duration::from_millis(50))
            .clone();
        let (_, queue) = open(&conn, &options).await;
        queue.producer().publish("slow".to_string()).await.unwrap();
        let mut consumer = queue.consumer();
        let late = bounded("first", consumer.recv()).await.unwrap();
        // The deadline passes while `late` is held: the message comes back.
        let again = bounded("again", consumer.recv()).await.unwrap();
        assert_eq!((again.as_str(), again.delivery_count()), ("slow", 2));
        assert_eq!(late.ack(), Err(AckError::NotInFlight));
        again.extend_deadline(BOUND).unwrap();
        again.settle(Verdict::Ack).await.unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_publish_no_queue_takes_is_not_stored_and_gives_the_message_back() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (queue_name, queue) = open(&conn, &QueueOptions::new()).await;
        let channel = conn.channel().await.unwrap();
        channel
            .queue_delete(queue_name.as_str().into(), QueueDeleteOptions::default())
            .await
            .unwrap();
        let err = queue.producer().publish("lost?".to_string()).await.unwrap_err();
        assert!(
            matches!(&err, PublishError::Store(store) if !store.is_unknown()),
            "{err:?}"
        );
        assert_eq!(err.into_inner().as_deref(), Some("lost?"));
        assert_eq!(queue.stats().published, 0);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn an_ack_sent_just_before_its_consumer_drops_is_kept() {
    let Some(_) = broker() else { return };
    for (name, rt) in runtimes() {
        rt.block_on(async {
            let conn = connect().await;
            // Rounds, because a lost ack was a race lapin's tasks could win.
            for round in 0..5 {
                let (queue_name, queue) = open(&conn, &QueueOptions::new()).await;
                for n in 0..20 {
                    queue.producer().publish(n.to_string()).await.unwrap();
                }
                let mut consumer = queue.consumer();
                for _ in 0..20 {
                    // Not awaited: `ack` has queued the frame when it
                    // returns, ahead of the channel's close.
                    bounded("a job", consumer.recv()).await.unwrap().ack().unwrap();
                }
                drop(consumer);
                let left = ready(&conn, &queue_name).await;
                assert_eq!(left, 0, "{name}, round {round}: an ack was lost");
            }
        });
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_delayed_nack_comes_back_after_its_delay_and_batches_take_what_is_ready() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (_, queue) = open(&conn, &QueueOptions::new()).await;
        let producer = queue.producer();
        producer.try_publish("sent, not awaited".to_string()).unwrap();
        for n in 0..4 {
            producer.publish(n.to_string()).await.unwrap();
        }
        let mut consumer = queue.consumer();
        let mut got = Vec::new();
        while got.len() < 5 {
            let batch = bounded("a batch", consumer.recv_batch(5, BOUND)).await.unwrap();
            assert!(!batch.is_empty() && got.len() + batch.len() <= 5);
            got.extend(batch);
        }
        let mut texts: Vec<String> = got.iter().map(|d| d.to_string()).collect();
        texts.sort();
        assert_eq!(texts, ["0", "1", "2", "3", "sent, not awaited"]);

        let retry = got.pop().unwrap();
        let text = retry.to_string();
        retry.nack_after(Duration::from_millis(30)).unwrap();
        assert_eq!(queue.stats().delayed, 1);
        for delivery in got {
            delivery.settle(Verdict::Ack).await.unwrap();
        }
        let again = bounded("the retry", consumer.recv()).await.unwrap();
        assert_eq!((again.to_string(), again.delivery_count()), (text, 2));
        assert_eq!(queue.stats().delayed, 0);
        again.settle(Verdict::Ack).await.unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn every_message_is_acked_or_dead_lettered_exactly_once_under_random_verdicts() {
    const MESSAGES: usize = 60;
    const MAX: u32 = 3;
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (queue_name, queue) = open(&conn, QueueOptions::new().max_deliveries(MAX)).await;
        for n in 0..MESSAGES {
            queue.producer().publish(format!("m{n}")).await.unwrap();
        }
        let mut consumer = queue.consumer();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let (mut acked, mut rejected, mut exhausted) = (Vec::new(), Vec::new(), Vec::new());
        while acked.len() + rejected.len() + exhausted.len() < MESSAGES {
            let delivery = bounded("a delivery", consumer.recv()).await.unwrap();
            let text = delivery.to_string();
            let last = delivery.delivery_count() >= MAX;
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            match seed % 6 {
                0 | 1 => {
                    delivery.ack().unwrap();
                    acked.push(text);
                    continue;
                }
                2 => {
                    delivery.reject().unwrap();
                    rejected.push(text);
                    continue;
                }
                3 => delivery.nack(true).unwrap(),
                4 => drop(delivery),
                _ => delivery.nack_after(Duration::from_millis(1)).unwrap(),
            }
            if last {
                exhausted.push(text);
            }
        }
        let mut dead = Vec::new();
        for _ in 0..rejected.len() + exhausted.len() {
            let letter = dead_letter_of(&queue).await;
            dead.push(letter);
        }
        for (text, reason) in &dead {
            let expected = if rejected.contains(text) {
                DeadReason::Rejected
            } else {
                DeadReason::MaxDeliveries
            };
            assert_eq!(*reason, expected, "{text}");
        }
        let mut all: Vec<String> = acked
            .into_iter()
            .chain(dead.into_iter().map(|(t, _)| t))
            .collect();
        all.sort();
        let mut expected: Vec<String> = (0..MESSAGES).map(|n| format!("m{n}")).collect();
        expected.sort();
        assert_eq!(all, expected, "each message once, acked or dead");
        drop(consumer);
        assert_eq!(ready(&conn, &queue_name).await, 0);
    });
}

async fn dead_letter_of(queue: &Queue<String>) -> (String, DeadReason) {
    let letter = dead(queue).await;
    (letter.message, letter.reason)
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn bytes_the_codec_cannot_read_are_dead_lettered_and_reported_not_delivered() {
    use weft_rabbitmq::lapin::BasicProperties;
    use weft_rabbitmq::lapin::options::BasicPublishOptions;

    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (queue_name, queue) = open(&conn, &QueueOptions::new()).await;
        // Not UTF-8, published around weft.
        let channel = conn.channel().await.unwrap();
        channel
            .basic_publish(
                "".into(),
                queue_name.as_str().into(),
                BasicPublishOptions::default(),
                &[0xff, 0xfe],
                BasicProperties::default(),
            )
            .await
            .unwrap();
        queue.producer().publish("readable".to_string()).await.unwrap();

        let mut consumer = queue.consumer();
        let delivery = bounded("the readable one", consumer.recv()).await.unwrap();
        assert_eq!(*delivery, "readable");
        delivery.settle(Verdict::Ack).await.unwrap();
        let err = bounded("the unreadable dead letter", queue.dead_letter())
            .await
            .unwrap_err();
        assert!(err.is_unknown(), "{err:?}");
        assert_eq!(err.io_error().kind(), std::io::ErrorKind::InvalidData);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_publish_the_broker_nacks_is_not_stored_and_gives_the_message_back() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        // A length limit of one, set by policy before the queue exists: the
        // queue's `x-overflow = reject-publish` then nacks what exceeds it.
        let name = unique("weft-full");
        broker
            .ctl(&[
                "set_policy",
                &name,
                &format!("^{name}$"),
                r#"{"max-length":1}"#,
                "--apply-to",
                "queues",
            ])
            .unwrap();
        let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        // A quorum queue applies the limit once it is exceeded, so the
        // first refusal may come a publish or two later.
        let mut refused = None;
        for n in 0..8 {
            if let Err(err) = queue.producer().publish(format!("m{n}")).await {
                refused = Some((n, err));
                break;
            }
        }
        let (n, err) = refused.expect("the broker never refused a publish");
        assert!(
            matches!(&err, PublishError::Store(store) if !store.is_unknown()),
            "{err:?}"
        );
        assert_eq!(err.into_inner(), Some(format!("m{n}")));
        assert_eq!(queue.stats().published, n as u64);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_deadline_extended_beyond_the_clock_is_lifted_not_enforced_at_once() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let options = QueueOptions::new()
            .ack_deadline(Duration::from_millis(50))
            .clone();
        let (_, queue) = open(&conn, &options).await;
        for text in ["kept", "witness"] {
            queue.producer().publish(text.to_string()).await.unwrap();
        }
        let mut consumer = queue.consumer();
        let kept = bounded("kept", consumer.recv()).await.unwrap();
        let witness = bounded("witness", consumer.recv()).await.unwrap();
        assert_eq!((kept.as_str(), witness.as_str()), ("kept", "witness"));
        kept.extend_deadline(Duration::MAX).unwrap();
        // The witness's deadline, later than the first one, passed: it
        // comes back.
        let again = bounded("the witness again", consumer.recv()).await.unwrap();
        assert_eq!((again.as_str(), again.delivery_count()), ("witness", 2));
        assert_eq!(witness.ack(), Err(AckError::NotInFlight));
        again.settle(Verdict::Ack).await.unwrap();
        kept.settle(Verdict::Ack).await.unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_try_dead_letter_leaves_a_waiting_dead_letter_registered() {
    let Some(_) = broker() else { return };
    // One thread: the waiter has certainly polled once before the `try_`.
    let rt = weft::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let (_, queue) = open(&conn, &QueueOptions::new()).await;
        let waiter = {
            let queue = queue.clone();
            weft::spawn(async move { queue.dead_letter().await.map(|letter| letter.message) })
        };
        weft::task::yield_now().await;
        assert!(queue.try_dead_letter().unwrap().is_none());

        queue.producer().publish("doomed".to_string()).await.unwrap();
        let mut consumer = queue.consumer();
        bounded("doomed", consumer.recv())
            .await
            .unwrap()
            .reject()
            .unwrap();
        let letter = bounded("the waiter's letter", waiter).await.unwrap().unwrap();
        assert_eq!(letter, "doomed");
    });
}
