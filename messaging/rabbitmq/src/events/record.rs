//! An event as a stream message, and back.
//!
//! | weft | the message in the stream |
//! | --- | --- |
//! | payload | the body, as the bus's codec encodes it |
//! | [`Record::offset`] | the broker's `x-stream-offset` header on the delivery |
//! | [`Record::timestamp`] | header `x-weft-ts`, nanoseconds since the Unix epoch |
//! | [`Record::key`] | header `x-weft-key` |
//! | [`Record::properties`] | `message-id`, and the headers in the table `x-weft-headers` |
//! | [`Record::seq`] | the timestamp in nanoseconds (see the module docs of `events`) |
//! | a copy sent again after a connection loss | header `x-weft-republished`, shown as the property header of that name (the properties made for it if it had none, its id then the append's tag) |
//!
//! Two kinds of message in a topic's stream are not events: a *marker*
//! (header `x-weft-marker`), which a log appends when it opens, to learn
//! where the stream ends; and nothing else. A commit stream holds commits
//! (header `x-weft-commit`) and markers.

use crate::channels::REPUBLISHED;
pub(crate) use crate::headers::short;
use crate::headers::{self, header, text};
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable};
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use weft_messaging::events::{Offset, Properties, Record};

const TIMESTAMP: &str = "x-weft-ts";
const KEY: &str = "x-weft-key";
const HEADERS: &str = "x-weft-headers";
const APPEND: &str = "x-weft-append";
const MARKER: &str = "x-weft-marker";
const COMMIT: &str = "x-weft-commit";
const OFFSET: &str = "x-stream-offset";

/// What a delivery from a stream is.
#[derive(Debug)]
pub(crate) enum Kind {
    /// An event, appended by the append `tag` names (`x-weft-append`), if
    /// a weft log appended it.
    Event { tag: Option<String> },
    /// A marker, appended by the log `tag` names.
    Marker { tag: String },
    /// A commit of a consumer group, of this offset.
    Commit(Offset),
}

/// The properties of an event appended with tag `tag` (the log's
/// instance and the append's note), stamped `at`, with `key` and `props`.
pub(crate) fn event_properties(
    tag: &str,
    at: SystemTime,
    key: Option<&str>,
    props: Option<&Properties>,
) -> io::Result<BasicProperties> {
    let mut headers = FieldTable::default();
    headers.insert(APPEND.into(), AMQPValue::LongString(tag.into()));
    headers.insert(TIMESTAMP.into(), AMQPValue::LongLongInt(nanos(at)));
    if let Some(key) = key {
        headers.insert(KEY.into(), AMQPValue::LongString(key.into()));
    }
    let mut amqp = BasicProperties::default().with_delivery_mode(2);
    if let Some(props) = props {
        amqp = amqp.with_message_id(short(props.id().as_str(), "message id")?);
        let mut table = FieldTable::default();
        for (name, value) in props.headers() {
            table.insert(
                short(name, "header name")?,
                AMQPValue::LongString(value.as_str().into()),
            );
        }
        headers.insert(HEADERS.into(), AMQPValue::FieldTable(table));
    }
    Ok(amqp.with_headers(headers))
}

/// The properties of a marker appended by the log `tag` names.
pub(crate) fn marker_properties(tag: &str) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(MARKER.into(), AMQPValue::LongString(tag.into()));
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_headers(headers)
}

/// The properties of a commit of `offset`.
pub(crate) fn commit_properties(offset: Offset) -> BasicProperties {
    let mut headers = FieldTable::default();
    let offset = i64::try_from(offset.get()).unwrap_or(i64::MAX);
    headers.insert(COMMIT.into(), AMQPValue::LongLongInt(offset));
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_headers(headers)
}

/// The stream offset the broker delivered a message at, if it said.
pub(crate) fn offset(amqp: &BasicProperties) -> Option<u64> {
    header(amqp, OFFSET).and_then(number)
}

/// What a delivered message is.
pub(crate) fn kind(amqp: &BasicProperties) -> Kind {
    if let Some(tag) = header(amqp, MARKER).and_then(text) {
        return Kind::Marker { tag };
    }
    if let Some(offset) = header(amqp, COMMIT).and_then(number) {
        return Kind::Commit(Offset::new(offset));
    }
    Kind::Event {
        tag: header(amqp, APPEND).and_then(text),
    }
}

/// The time an event was stamped with (the Unix epoch if none).
pub(crate) fn timestamp(amqp: &BasicProperties) -> SystemTime {
    header(amqp, TIMESTAMP)
        .and_then(number)
        .map_or(UNIX_EPOCH, |n| UNIX_EPOCH + Duration::from_nanos(n))
}

/// The record of an event delivered at `offset` with `payload`.
pub(crate) fn to_record<T>(amqp: &BasicProperties, offset: u64, payload: T) -> Record<T> {
    let timestamp = timestamp(amqp);
    let key = header(amqp, KEY).and_then(text).map(Arc::from);
    let republished = header(amqp, REPUBLISHED).is_some();
    // A republished copy shows it in its properties, made for it if the
    // event had none, with the append's tag for an id (the same in
    // every copy).
    let id = match amqp.message_id() {
        Some(id) => Some(id.as_str().to_owned()),
        None if republished => header(amqp, APPEND).and_then(text),
        None => None,
    };
    let properties = id.map(|id| {
        let mut props = Properties::new().with_id(id).with_timestamp(timestamp);
        if let Some(AMQPValue::FieldTable(table)) = header(amqp, HEADERS) {
            for (name, value) in table.inner() {
                if let Some(value) = text(value) {
                    props = props.with_header(name.as_str(), value);
                }
            }
        }
        if republished {
            props = props.with_header(REPUBLISHED, "true");
        }
        Arc::new(props)
    });
    Record {
        offset: Offset::new(offset),
        seq: nanos(timestamp).unsigned_abs(),
        properties,
        key,
        timestamp: timestamp.into(),
        payload,
    }
}

/// The stamp `at` as nanoseconds since the Unix epoch, saturating.
fn nanos(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// A number as [`headers::number`] reads it, or an AMQP timestamp
/// (a stream's `x-stream-offset` and this crate's stamps).
fn number(value: &AMQPValue) -> Option<u64> {
    match *value {
        AMQPValue::Timestamp(n) => Some(n),
        _ => headers::number(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered(mut amqp: BasicProperties, offset: i64) -> BasicProperties {
        let mut headers = amqp.headers().clone().unwrap_or_default();
        headers.insert(OFFSET.into(), AMQPValue::LongLongInt(offset));
        amqp = amqp.with_headers(headers);
        amqp
    }

    #[test]
    fn an_event_keeps_its_key_timestamp_and_properties() {
        let at = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let props = Properties::new().with_id("order-7").with_header("tenant", "acme");
        let amqp = event_properties("log-1:4", at, Some("user-9"), Some(&props)).unwrap();
        let amqp = delivered(amqp, 41);
        assert_eq!(offset(&amqp), Some(41));
        assert!(matches!(kind(&amqp), Kind::Event { tag: Some(tag) } if tag == "log-1:4"));
        let record = to_record(&amqp, 41, "payload");
        assert_eq!(record.offset, Offset::new(41));
        assert_eq!(record.timestamp.to_system_time(), at, "nanoseconds survive");
        assert_eq!(record.key.as_deref(), Some("user-9"));
        let back = record.properties.expect("properties");
        assert_eq!(back.id().as_str(), "order-7");
        assert_eq!(back.header("tenant"), Some("acme"));
    }

    #[test]
    fn markers_and_commits_are_not_events() {
        assert!(matches!(kind(&marker_properties("log-1")), Kind::Marker { tag } if tag == "log-1"));
        let commit = commit_properties(Offset::new(12));
        assert!(matches!(kind(&commit), Kind::Commit(o) if o == Offset::new(12)));
        let plain = delivered(BasicProperties::default(), 3);
        assert!(matches!(kind(&plain), Kind::Event { tag: None }));
        assert_eq!(to_record(&plain, 3, ()).properties, None);
    }

    #[test]
    fn a_republished_copy_shows_it_in_its_properties() {
        let at = UNIX_EPOCH + Duration::from_secs(7);
        let bare = event_properties("log-1:4", at, None, None).unwrap();
        assert_eq!(to_record(&delivered(bare.clone(), 5), 5, ()).properties, None);
        let copy = delivered(crate::channels::republished(bare), 9);
        let props = to_record(&copy, 9, ())
            .properties
            .expect("properties made for the copy");
        assert_eq!(props.header(REPUBLISHED), Some("true"));
        assert_eq!(props.id().as_str(), "log-1:4", "the append's tag");
        let given = Properties::new().with_id("order-7").with_header("tenant", "acme");
        let amqp = event_properties("log-1:5", at, None, Some(&given)).unwrap();
        let copy = delivered(crate::channels::republished(amqp), 10);
        let props = to_record(&copy, 10, ()).properties.unwrap();
        assert_eq!(props.id().as_str(), "order-7");
        assert_eq!(props.header("tenant"), Some("acme"));
        assert_eq!(props.header(REPUBLISHED), Some("true"));
    }

    #[test]
    fn a_header_name_too_long_for_amqp_is_an_error_not_a_panic() {
        let props = Properties::new().with_header("h".repeat(300), "v");
        let err = event_properties("t", UNIX_EPOCH, None, Some(&props)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
