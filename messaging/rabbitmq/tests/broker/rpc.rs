//! Request / reply on the private node (`weft_rabbitmq::requester` /
//! `responder`, direct reply-to): replies reach their own callers, many
//! at once; responders compete; a request dropped without a reply is
//! answered by another responder; a late reply is counted and given to
//! nobody; replies never touch a queue; the requester declares the queue
//! as `queue()` does; a request to a full queue is refused as `Full`; a
//! request no queue takes comes back; a request
//! without reply-to cannot be answered, while one from another AMQP
//! client (no message id) is; a reply to a requester that is gone is not
//! the responder's error; a lost connection fails the waiting callers at
//! once, then requests work again on the new one; and a request whose
//! confirm was lost is sent again on the new channel and answered there.

use crate::broker::proxy::Proxy;
use crate::{BOUND, bounded, connect, connect_to, runtimes, unique};
use std::io;
use std::time::Duration;
use weft::queue::{PublishError, ReplyError, RequestError, StoreError, Utf8};
use weft_rabbitmq::{Connection, QueueOptions, Requester, Responder, Status};
use weft_test_support::rabbitmq::broker;

async fn requester(conn: &Connection, name: &str, options: &QueueOptions) -> Requester<String, String> {
    weft_rabbitmq::requester(conn, name, options, Utf8, Utf8)
        .await
        .unwrap()
}

async fn responder(conn: &Connection, name: &str, options: &QueueOptions) -> Responder<String, String> {
    weft_rabbitmq::responder(conn, name, options, Utf8, Utf8)
        .await
        .unwrap()
}

/// The square of a number, as text.
fn square(n: &str) -> String {
    let n: u64 = n.parse().unwrap();
    (n * n).to_string()
}

// ANCHOR: serve
/// Answers every request with its square until the queue ends.
fn serve(mut responder: Responder<String, String>) {
    weft::spawn(async move {
        while let Ok(request) = responder.recv().await {
            let reply = square(&request);
            request.reply(reply).await.unwrap(); // published, confirmed, then acked
        }
    });
}
// ANCHOR_END: serve

fn assert_lost<T>(result: Result<String, RequestError<T>>) {
    match result {
        Err(RequestError::Publish(PublishError::Store(StoreError::Unknown { error }))) => {
            assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted, "{error}");
        }
        Err(other) => panic!("expected a lost reply, got {other}"),
        Ok(reply) => panic!("expected a lost reply, got the reply {reply}"),
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_request_gets_its_reply() {
    let Some(_) = broker() else { return };
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let conn = connect().await;
            let name = unique("weft-rpc");
            let options = QueueOptions::new();
            // ANCHOR: request
            serve(responder(&conn, &name, &options).await);
            let requester = requester(&conn, &name, &options).await;
            let reply = bounded("a reply", requester.request("7".into(), BOUND)).await;
            assert_eq!(reply.unwrap(), "49", "{flavour}");
            // ANCHOR_END: request
            assert_eq!(requester.late_replies(), 0, "{flavour}");
        });
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn fifty_concurrent_requests_from_four_clones_each_get_their_own_reply() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        serve(responder(&conn, &name, &options).await);
        serve(responder(&conn, &name, &options).await);
        let requester = requester(&conn, &name, &options).await;
        let clones: Vec<_> = (0..4).map(|_| requester.clone()).collect();
        let mut calls = Vec::new();
        for n in 0..50u64 {
            let requester = clones[n as usize % 4].clone();
            calls.push(weft::spawn(async move {
                (n, requester.request(n.to_string(), BOUND).await)
            }));
        }
        for call in calls {
            let (n, reply) = bounded("a reply", call).await.unwrap();
            assert_eq!(reply.unwrap(), (n * n).to_string());
        }
        assert_eq!(requester.late_replies(), 0);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn two_responders_compete_for_the_requests() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        // One request in hand at a time: a responder holding one leaves
        // the next to the other.
        let options = QueueOptions::new().prefetch(1).clone();
        let barrier = std::sync::Arc::new(weft::sync::Barrier::new(2));
        let (seen_tx, mut seen_rx) = weft::sync::mpsc::unbounded_channel();
        for who in ["a", "b"] {
            let mut responder = responder(&conn, &name, &options).await;
            let (barrier, seen) = (barrier.clone(), seen_tx.clone());
            weft::spawn(async move {
                let mut first = true;
                while let Ok(request) = responder.recv().await {
                    if first {
                        // Both hold a request before either answers.
                        barrier.wait().await;
                        first = false;
                    }
                    let _ = seen.send(who);
                    let reply = square(&request);
                    request.reply(reply).await.unwrap();
                }
            });
        }
        let requester = requester(&conn, &name, &options).await;
        let calls: Vec<_> = (0..10u64)
            .map(|n| {
                let requester = requester.clone();
                weft::spawn(async move { requester.request(n.to_string(), BOUND).await })
            })
            .collect();
        for call in calls {
            bounded("a reply", call).await.unwrap().unwrap();
        }
        let mut seen = Vec::new();
        while let Ok(who) = seen_rx.try_recv() {
            seen.push(who);
        }
        assert_eq!(seen.len(), 10);
        assert!(seen.contains(&"a") && seen.contains(&"b"), "{seen:?}");
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_request_dropped_without_a_reply_is_answered_by_another_responder() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        let requester = requester(&conn, &name, &options).await;
        let caller = requester.clone();
        let call = weft::spawn(async move { caller.request("9".into(), BOUND).await });

        let mut failing = responder(&conn, &name, &options).await;
        let request = bounded("the request", failing.recv()).await.unwrap();
        let id = request.correlation_id().cloned().expect("a correlation id");
        // Dropped unanswered, and its responder gone: the broker has it again.
        drop(request);
        drop(failing);

        let mut other = responder(&conn, &name, &options).await;
        let again = bounded("the request again", other.recv()).await.unwrap();
        assert_eq!(again.correlation_id(), Some(&id));
        assert_eq!(again.as_str(), "9");
        let reply = square(&again);
        again.reply(reply).await.unwrap();
        assert_eq!(bounded("the reply", call).await.unwrap().unwrap(), "81");
        assert_eq!(requester.late_replies(), 0);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_late_reply_is_counted_and_never_given_to_another_caller() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        let mut responder = responder(&conn, &name, &options).await;
        let requester = requester(&conn, &name, &options).await;

        let caller = requester.clone();
        let first = weft::spawn(async move { caller.request("2".into(), Duration::from_millis(100)).await });
        let held = bounded("the first request", responder.recv()).await.unwrap();
        // Held until its caller gave up.
        let gave_up = bounded("the timeout", first).await.unwrap();
        assert!(matches!(gave_up, Err(RequestError::TimedOut)), "{gave_up:?}");

        let caller = requester.clone();
        let second = weft::spawn(async move { caller.request("3".into(), BOUND).await });
        let next = bounded("the second request", responder.recv()).await.unwrap();
        assert_eq!(next.as_str(), "3");
        // The late reply goes out first, on the same path as the second's.
        held.reply("4".into()).await.unwrap();
        next.reply("9".into()).await.unwrap();
        assert_eq!(bounded("the second reply", second).await.unwrap().unwrap(), "9");
        assert_eq!(requester.late_replies(), 1);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_request_to_a_full_queue_is_refused_as_full_with_the_message_back() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc-full");
        let mut options = QueueOptions::new();
        options.capacity(1).overflow(weft::queue::Overflow::Reject);
        let requester = requester(&conn, &name, &options).await;
        // Nobody answers: the first request stays in the queue, filling it.
        let first = requester.request("1".into(), Duration::from_millis(50)).await;
        assert!(matches!(first, Err(RequestError::TimedOut)), "{first:?}");
        let second = bounded("the refusal", requester.request("2".into(), BOUND)).await;
        match second {
            Err(RequestError::Publish(PublishError::Full(message))) => assert_eq!(message, "2"),
            other => panic!("expected Full, got {other:?}"),
        }
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn replies_land_on_no_queue() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc-listed");
        let options = QueueOptions::new();
        serve(responder(&conn, &name, &options).await);
        let requester = requester(&conn, &name, &options).await;
        for n in 0..3 {
            bounded("a reply", requester.request(n.to_string(), BOUND))
                .await
                .unwrap();
        }
        let listed = broker.ctl(&["list_queues", "name", "--quiet"]).unwrap();
        let listed = String::from_utf8_lossy(&listed.stdout);
        let names: Vec<&str> = listed.lines().map(str::trim).collect();
        assert!(names.contains(&name.as_str()), "{names:?}");
        assert!(names.contains(&format!("{name}.dead").as_str()), "{names:?}");
        // Nothing else of this test's, and nothing named for replies.
        let ours: Vec<_> = names.iter().filter(|n| n.starts_with(&name)).collect();
        assert_eq!(ours.len(), 2, "{ours:?}");
        assert!(!names.iter().any(|n| n.starts_with("amq.")), "{names:?}");
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_request_without_reply_to_cannot_be_answered_and_gives_the_reply_back() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        let plain = weft_rabbitmq::queue(&conn, &name, &options, Utf8).await.unwrap();
        plain.producer().publish("5".to_string()).await.unwrap();
        let mut responder = responder(&conn, &name, &options).await;
        let request = bounded("the request", responder.recv()).await.unwrap();
        assert_eq!((request.reply_to(), request.correlation_id()), (None, None));
        match request.reply("25".into()).await {
            Err(ReplyError::Publish(PublishError::Store(StoreError::NotStored { value, error }))) => {
                assert_eq!(value, "25");
                assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
            }
            other => panic!("expected the reply back, got {other:?}"),
        }
        // Not acked: it comes back, to be settled some other way.
        let again = bounded("the request again", responder.recv()).await.unwrap();
        again.into_delivery().reject().unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_reply_to_a_requester_that_is_gone_succeeds_and_acks_the_request() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        let mut responder = responder(&conn, &name, &options).await;
        let requester = requester(&conn, &name, &options).await;
        let caller = requester.clone();
        let call = weft::spawn(async move { caller.request("6".into(), Duration::from_millis(50)).await });
        let request = bounded("the request", responder.recv()).await.unwrap();
        assert!(matches!(
            bounded("the timeout", call).await.unwrap(),
            Err(RequestError::TimedOut)
        ));
        // Its reply channel closes with it.
        drop(requester);
        request.reply("36".into()).await.unwrap();
        // Acked: nothing comes back.
        let stats = responder.requests().stats();
        assert_eq!(stats.acked, 1, "{stats:?}");
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_lost_connection_fails_the_waiting_callers_at_once_and_requests_work_again() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, _held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Proxy::start(broker.port(), held_tx);
        let through = connect_to(&proxy.uri()).await;
        let (status_tx, mut statuses) = weft::sync::mpsc::unbounded_channel();
        through.on_status(move |status: &Status| {
            let _ = status_tx.send(status.clone());
        });
        let direct = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        let mut responder = responder(&direct, &name, &options).await;
        let requester = requester(&through, &name, &options).await;

        let caller = requester.clone();
        // Far longer than the bound: only the loss can end it in time.
        let call = weft::spawn(async move { caller.request("4".into(), BOUND * 10).await });
        let held = bounded("the request", responder.recv()).await.unwrap();
        proxy.cut();
        assert_lost(bounded("the lost caller", call).await.unwrap());
        // Its reply goes nowhere, and is no error of the responder's.
        held.reply("16".into()).await.unwrap();

        bounded("the reconnect", async {
            while let Some(status) = statuses.recv().await {
                if status.is_connected() {
                    return;
                }
            }
        })
        .await;
        serve(responder);
        let reply = bounded("a reply after the loss", requester.request("5".into(), BOUND)).await;
        assert_eq!(reply.unwrap(), "25");
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_requester_declares_the_queue_as_queue_does() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new()
            .max_deliveries(3)
            .ttl(Duration::from_secs(60))
            .clone();
        let _requester = requester(&conn, &name, &options).await;
        // The same options find the same queue; others are refused.
        weft_rabbitmq::queue(&conn, &name, &options, Utf8).await.unwrap();
        let other = QueueOptions::new().max_deliveries(4).clone();
        let refused = weft_rabbitmq::queue(&conn, &name, &other, Utf8).await;
        assert!(
            matches!(refused, Err(weft_rabbitmq::Error::Amqp(_))),
            "{refused:?}"
        );
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_request_no_queue_takes_is_not_stored_and_given_back() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let requester = requester(&conn, &name, &QueueOptions::new()).await;
        let channel = conn.channel().await.unwrap();
        channel
            .queue_delete(name.as_str().into(), Default::default())
            .await
            .unwrap();
        match bounded("the refusal", requester.request("8".into(), BOUND)).await {
            Err(RequestError::Publish(PublishError::Store(StoreError::NotStored { value, error }))) => {
                assert_eq!(value, "8");
                assert_eq!(error.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("expected the request back, got {other:?}"),
        }
        // The reply channel stays usable: the queue back, the next request
        // is answered.
        serve(responder(&conn, &name, &QueueOptions::new()).await);
        let reply = bounded("a reply", requester.request("8".into(), BOUND)).await;
        assert_eq!(reply.unwrap(), "64");
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_request_from_another_client_without_message_id_is_answered() {
    use futures_lite::StreamExt;
    use weft_rabbitmq::lapin::BasicProperties;
    use weft_rabbitmq::lapin::options::{BasicConsumeOptions, BasicPublishOptions};

    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        serve(responder(&conn, &name, &QueueOptions::new()).await);
        // A plain AMQP client: correlation id and reply-to, no message id.
        let channel = conn.channel().await.unwrap();
        let no_ack = BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        };
        let mut replies = channel
            .basic_consume(
                weft_rabbitmq::DIRECT_REPLY_TO.into(),
                "".into(),
                no_ack,
                Default::default(),
            )
            .await
            .unwrap();
        let props = BasicProperties::default()
            .with_correlation_id("from-elsewhere".into())
            .with_reply_to(weft_rabbitmq::DIRECT_REPLY_TO.into());
        channel
            .basic_publish(
                "".into(),
                name.as_str().into(),
                BasicPublishOptions::default(),
                b"12",
                props,
            )
            .await
            .unwrap();
        let reply = bounded("the reply", replies.next()).await.unwrap().unwrap();
        assert_eq!(reply.data, b"144");
        let id = reply
            .properties
            .correlation_id()
            .as_ref()
            .map(|id| id.as_str().to_owned());
        assert_eq!(id.as_deref(), Some("from-elsewhere"));
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_request_whose_confirm_is_lost_is_sent_again_on_the_new_channel_and_answered() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, mut held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Proxy::start(broker.port(), held_tx);
        let through = connect_to(&proxy.uri()).await;
        let (status_tx, mut statuses) = weft::sync::mpsc::unbounded_channel();
        through.on_status(move |status: &Status| {
            let _ = status_tx.send(status.clone());
        });
        let direct = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        let mut responder = responder(&direct, &name, &options).await;
        let requester = requester(&through, &name, &options).await;

        // The broker's confirm reaches the proxy and no further.
        proxy.hold.store(true, std::sync::atomic::Ordering::SeqCst);
        let caller = requester.clone();
        let call = weft::spawn(async move { caller.request("3".into(), BOUND * 10).await });
        let answered = bounded("the broker's answer", held_rx.recv()).await;
        assert_eq!(answered, Some(()));
        proxy.hold.store(false, std::sync::atomic::Ordering::SeqCst);
        proxy.cut();
        bounded("the reconnect", async {
            while let Some(status) = statuses.recv().await {
                if status.is_connected() {
                    return;
                }
            }
        })
        .await;

        // Two copies: the first names the dead channel, the second the new.
        let first = bounded("the first copy", responder.recv()).await.unwrap();
        let second = bounded("the second copy", responder.recv()).await.unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("3", "3"));
        assert_eq!(first.correlation_id(), second.correlation_id());
        assert_ne!(first.reply_to(), second.reply_to());
        first.reply("dropped by the broker".into()).await.unwrap();
        second.reply("9".into()).await.unwrap();
        assert_eq!(bounded("the reply", call).await.unwrap().unwrap(), "9");
        assert_eq!(requester.late_replies(), 0);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_connection_closes_cleanly_after_the_requester_and_responder_drop() {
    let Some(_) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect().await;
        let name = unique("weft-rpc");
        let options = QueueOptions::new();
        let mut responder = responder(&conn, &name, &options).await;
        let requester = requester(&conn, &name, &options).await;
        let caller = requester.clone();
        let call = weft::spawn(async move { caller.request("1".into(), BOUND).await });
        let request = bounded("the request", responder.recv()).await.unwrap();
        request.reply("1".into()).await.unwrap();
        assert_eq!(bounded("the reply", call).await.unwrap().unwrap(), "1");
        drop(requester);
        drop(responder);
        // No channel they leave behind fails the connection's close.
        bounded("the close", conn.close()).await.unwrap();
    });
}
