//! Message properties on events: an id (given or generated), a timestamp
//! stamped when the bus hands the event to its backend, and headers, seen
//! alike by subscribers, group members and a handler's dead-letter topic.

mod events_support;

use events_support::STORES;

use std::time::{Duration, SystemTime};
use weft::events::{HandlerOptions, Properties, Retry, StartAt};

#[test]
fn every_reader_sees_the_same_properties_stamped_on_publish() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut a = bus.subscribe("order.paid", StartAt::Latest).unwrap();
        let mut b = bus.subscribe("order.*", StartAt::Latest).unwrap();
        let before = SystemTime::now();
        let properties = Properties::new().with_header("tenant", "acme");
        let id = properties.id().clone();
        bus.try_publish_with("order.paid", 1, properties).unwrap();
        let after = SystemTime::now();

        let (a, b) = (a.try_recv().unwrap().unwrap(), b.try_recv().unwrap().unwrap());
        let (pa, pb) = (a.properties().unwrap(), b.properties().unwrap());
        assert_eq!(pa, pb, "one event, one set of properties");
        assert_eq!(pa.id(), &id, "a generated id travels with the event");
        assert_eq!(pa.header("tenant"), Some("acme"));
        let stamped = pa.timestamp().expect("stamped on publish");
        assert!(before <= stamped && stamped <= after);
    }
}

#[test]
fn a_given_id_and_timestamp_are_kept_and_generated_ids_differ() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.topic("audit").unwrap();
        let mut sub = topic.subscribe(StartAt::Latest);
        let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let given = Properties::new().with_id("audit-1").with_timestamp(long_ago);
        topic.try_publish_with("x", given).unwrap();
        topic.try_publish_with("y", Properties::new()).unwrap();
        topic.try_publish_with("z", Properties::new()).unwrap();

        let first = sub.try_recv().unwrap().unwrap();
        let first = first.properties().unwrap();
        assert_eq!(
            (first.id().as_str(), first.timestamp()),
            ("audit-1", Some(long_ago))
        );
        let y = sub.try_recv().unwrap().unwrap();
        let z = sub.try_recv().unwrap().unwrap();
        assert_ne!(y.properties().unwrap().id(), z.properties().unwrap().id());
    }
}

#[test]
fn an_event_published_without_properties_has_none() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut sub = bus.subscribe("audit", StartAt::Latest).unwrap();
        bus.try_publish("audit", 1).unwrap();
        weft::block_on(bus.publish("audit", 2)).unwrap();
        assert!(sub.try_recv().unwrap().unwrap().properties().is_none());
        assert!(sub.try_recv().unwrap().unwrap().properties().is_none());
    }
}

#[test]
fn async_publish_with_stamps_and_keeps_headers() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.topic("audit").unwrap();
        let mut sub = topic.subscribe(StartAt::Latest);
        weft::block_on(async {
            topic
                .publish_with(1, Properties::new().with_header("k", "v"))
                .await
                .unwrap();
            bus.publish_with("audit", 2, Properties::new().with_id("two"))
                .await
                .unwrap();
        });
        let one = sub.try_recv().unwrap().unwrap();
        assert_eq!(one.properties().unwrap().header("k"), Some("v"));
        assert!(one.properties().unwrap().timestamp().is_some());
        let two = sub.try_recv().unwrap().unwrap();
        assert_eq!(two.properties().unwrap().id().as_str(), "two");
    }
}

#[test]
fn a_group_event_keeps_its_properties_when_redelivered() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut member = bus.join("g", "jobs", StartAt::Latest).unwrap();
        bus.try_publish_with("jobs", 7, Properties::new().with_id("job-7"))
            .unwrap();
        let first = member.try_recv().unwrap().unwrap();
        assert_eq!(first.event().properties().unwrap().id().as_str(), "job-7");
        first.nack();
        let again = member.try_recv().unwrap().unwrap();
        assert!(again.redelivered());
        assert_eq!(again.event().properties().unwrap().id().as_str(), "job-7");
        again.ack().unwrap();
    }
}

#[test]
fn a_dead_letter_keeps_the_properties_of_the_event_that_failed() {
    for store in STORES {
        let rt = weft::Runtime::builder()
            .current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let bus = events_support::bus_on::<u32>(store);
            let options = HandlerOptions::new()
                .retry(Retry::none())
                .dead_letter("jobs.failed");
            let handler = bus
                .on_with("jobs", options, |_| async { Err("always fails") })
                .unwrap();
            let mut failed = bus.subscribe("jobs.failed", StartAt::Start).unwrap();
            let properties = Properties::new().with_id("job-1").with_header("try", "1");
            bus.publish_with("jobs", 1, properties).await.unwrap();
            let dead = failed.recv().await.unwrap();
            let properties = dead.properties().unwrap();
            assert_eq!(
                (properties.id().as_str(), properties.header("try")),
                ("job-1", Some("1"))
            );
            bus.close();
            handler.finished().await;
        });
    }
}
