//! Message properties (#19): an id (generated unless given), a timestamp
//! stamped when the queue accepts the message, and headers, carried to
//! every delivery and to the dead letter.

mod queue_support;

use queue_support::{Counting, Manual};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, SystemTime};
use weft::queue::{DeadReason, Properties, Queue};

#[test]
fn properties_travel_with_the_message_through_redelivery_to_the_dead_letter() {
    let (_rt, spawner) = Manual::new();
    let queue = Queue::builder().max_deliveries(2).spawner(&spawner).build();
    let producer = queue.producer();
    let before = SystemTime::now();
    let props = Properties::new().with_id("order-7").with_header("tenant", "acme");
    let waker = Counting::new();
    assert!(matches!(
        waker.poll(pin!(producer.publish_with("charge", props))),
        Poll::Ready(Ok(()))
    ));
    let mut consumer = queue.consumer();
    let mut stamps = Vec::new();
    for n in 1..=2 {
        let Poll::Ready(Ok(d)) = waker.poll(pin!(consumer.recv())) else {
            panic!("delivery {n} missing");
        };
        let p = d.properties().expect("published with properties");
        assert_eq!(p.id().as_str(), "order-7");
        assert_eq!(p.header("tenant"), Some("acme"));
        stamps.push(p.timestamp().expect("stamped when accepted"));
        d.nack(true).unwrap();
    }
    assert!(stamps[0] >= before, "stamped at publish");
    assert_eq!(stamps[0], stamps[1], "a redelivery keeps the original stamp");
    let dead = queue.try_dead_letter().unwrap().expect("dead-lettered");
    assert_eq!(dead.reason, DeadReason::MaxDeliveries);
    let p = dead.properties.expect("the dead letter keeps the properties");
    assert_eq!((p.id().as_str(), p.header("tenant")), ("order-7", Some("acme")));
}

#[test]
fn an_id_is_generated_when_none_is_given_and_a_given_stamp_is_kept() {
    let (_rt, spawner) = Manual::new();
    let queue = Queue::builder().spawner(&spawner).build();
    let producer = queue.producer();
    let waker = Counting::new();
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    for props in [Properties::new(), Properties::new().with_timestamp(old)] {
        assert!(waker.poll(pin!(producer.publish_with(1, props))).is_ready());
    }
    assert!(waker.poll(pin!(producer.publish(2))).is_ready());
    let mut consumer = queue.consumer();
    let mut next = || match waker.poll(pin!(consumer.recv())) {
        Poll::Ready(Ok(d)) => d,
        other => panic!("{other:?}"),
    };
    let (a, b, plain) = (next(), next(), next());
    let (pa, pb) = (a.properties().unwrap(), b.properties().unwrap());
    assert_eq!(pa.id().as_str().len(), 32, "generated");
    assert_ne!(pa.id(), pb.id());
    assert_eq!(pb.timestamp(), Some(old), "a restored stamp is kept");
    assert!(pa.headers().is_empty());
    assert!(plain.properties().is_none(), "plain publish carries none");
}
