use super::*;
use std::time::SystemTime;

#[test]
fn every_record_reads_back_as_written() {
    let at = UNIX_EPOCH + Duration::new(1_700_000_000, 123);
    let props = Properties::new()
        .with_id("order-7")
        .with_timestamp(at)
        .with_priority(0)
        .with_ttl(Duration::from_millis(1500))
        .with_header("tenant", "acme");
    let mut publish = Vec::new();
    publish_header(Some(&props), &mut publish);
    publish.extend_from_slice(b"job");
    assert_eq!(
        decode(&publish),
        Ok(Entry::Publish {
            properties: Some(Box::new(props)),
            message: b"job"
        })
    );
    let mut bare = Vec::new();
    publish_header(None, &mut bare);
    assert_eq!(
        decode(&bare),
        Ok(Entry::Publish {
            properties: None,
            message: b""
        })
    );
    assert_eq!(decode(&delivered(&[3, 9])), Ok(Entry::Delivered(vec![3, 9])));
    for ended in [
        Ended::Ack,
        Ended::Nack,
        Ended::Reject,
        Ended::Dropped,
        Ended::DeadlineExpired,
    ] {
        assert_eq!(decode(&verdict(5, ended)), Ok(Entry::Verdict(5, ended)));
    }
    for reason in [
        DeadReason::Rejected,
        DeadReason::MaxDeliveries,
        DeadReason::Expired,
        DeadReason::Overflowed,
    ] {
        assert_eq!(decode(&dead(6, reason)), Ok(Entry::Dead(6, reason)));
    }
    for why in [Why::DeadTaken, Why::Purged, Why::Duplicate, Why::Withdrawn] {
        assert_eq!(decode(&left(7, why)), Ok(Entry::Left(7, why)));
    }
    assert_eq!(decode(&redriven(8)), Ok(Entry::Redriven(8)));
}

#[test]
fn a_moved_record_keeps_the_message_its_properties_and_its_state() {
    let props = Properties::new().with_id("order-9").with_header("tenant", "acme");
    let mut publish = Vec::new();
    publish_header(Some(&props), &mut publish);
    publish.extend_from_slice(b"job");
    let once = moved(41, 2, None, &publish).unwrap();
    let expected = Entry::Moved {
        seq: 41,
        deliveries: 2,
        dead: None,
        properties: Some(Box::new(props.clone())),
        message: b"job",
    };
    assert_eq!(decode(&once), Ok(expected));
    // Moved again (from its copy): the same body, the state as given.
    let twice = moved(41, 3, Some(DeadReason::Rejected), &once).unwrap();
    assert_eq!(
        decode(&twice),
        Ok(Entry::Moved {
            seq: 41,
            deliveries: 3,
            dead: Some(DeadReason::Rejected),
            properties: Some(Box::new(props)),
            message: b"job",
        })
    );
    assert_eq!(moved(1, 0, None, &verdict(1, Ended::Ack)), Err("not a publish"));
    assert_eq!(moved(1, 0, None, &[]), Err("not a publish"));
    assert_eq!(moved(1, 0, None, &once[..5]), Err("record cut short"));
}

#[test]
fn unset_priority_stays_unset() {
    let props = Properties::new().with_id("a");
    let mut bytes = Vec::new();
    publish_header(Some(&props), &mut bytes);
    let Ok(Entry::Publish {
        properties: Some(back),
        ..
    }) = decode(&bytes)
    else {
        panic!("not a publish");
    };
    assert_eq!(back.priority_set(), None);
    assert!(back.timestamp().is_none());
    let _: Option<SystemTime> = back.timestamp();
}

#[test]
fn decode_never_panics_on_cut_or_arbitrary_bytes() {
    let props = Properties::new()
        .with_id("x")
        .with_header("k", "v")
        .with_ttl(Duration::from_secs(1));
    let publish = publish_with(&props);
    for record in [
        publish,
        delivered(&[1, 2, 3]),
        verdict(1, Ended::Ack),
        dead(2, DeadReason::Expired),
        moved(3, 1, Some(DeadReason::Expired), &publish_with(&props)).unwrap(),
    ] {
        for cut in 0..record.len() {
            // A cut publish may still read (the message is the rest); the
            // others must fail. Either way, no panic.
            let _ = decode(&record[..cut]);
        }
    }
    // A small xorshift walk over arbitrary byte strings.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 40) as usize;
        let bytes: Vec<u8> = (0..len).map(|i| (x >> (i % 8 * 8)) as u8 ^ i as u8).collect();
        let _ = decode(&bytes);
    }
    assert_eq!(decode(&[0x99]), Err("unknown record kind"));
    assert_eq!(decode(&[]), Err("record cut short"));
    let mut long = delivered(&[1]);
    long.push(0);
    assert_eq!(decode(&long), Err("bytes after the record's end"));
}

fn publish_with(props: &Properties) -> Vec<u8> {
    let mut publish = Vec::new();
    publish_header(Some(props), &mut publish);
    publish
}
