//! weft's message properties and dead-letter reasons onto AMQP's, and back.
//!
//! | weft | AMQP 0-9-1 / RabbitMQ |
//! | --- | --- |
//! | [`Properties::id`] | `message-id` (a message without has no properties, unless it has a `correlation_id` or `reply_to`: then its id is generated) |
//! | [`Properties::timestamp`] | `timestamp` (whole seconds: the fraction is lost) |
//! | [`Properties::headers`] | `headers`, each a long string, but for the two below |
//! | the header [`CORRELATION_ID`] (`correlation-id`) | `correlation_id` (not also in `headers`) |
//! | the header [`REPLY_TO`] (`reply-to`) | `reply_to` (not also in `headers`) |
//! | [`Properties::priority`] | `priority` (kept, but a quorum queue delivers in order regardless) |
//! | [`Properties::ttl`] | `expiration`, in milliseconds |
//! | delivery count | the broker's `x-delivery-count` header, plus one; at least 2 for a message marked `x-weft-republished` |
//! | [`DeadReason`] | the newest `x-death` entry's `reason` |

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable};
use std::io;
use std::time::{Duration, UNIX_EPOCH};
use weft_messaging::Properties;
use weft_messaging::queue::{CORRELATION_ID, DeadReason};

pub(crate) use crate::rpc::REPLY_TO;

/// The header a publish sent again after a connection loss carries
/// ([`crate::channels`]): the broker may hold it twice, so its receiver
/// sees it as redelivered.
pub(crate) use crate::channels::REPUBLISHED;
#[cfg(test)]
use crate::channels::republished;
pub(crate) use crate::headers::short;
use crate::headers::{header, number, text};

/// Headers the broker or this crate sets, not the publisher's: left out
/// of the properties a consumer sees.
const BROKER_HEADERS: [&str; 9] = [
    REPUBLISHED,
    "x-delivery-count",
    "x-death",
    "x-first-death-reason",
    "x-first-death-queue",
    "x-first-death-exchange",
    "x-last-death-reason",
    "x-last-death-queue",
    "x-last-death-exchange",
];

/// The AMQP properties of a message published with `properties` (or
/// none): persistent, and carrying what weft's properties hold.
pub(crate) fn to_amqp(properties: Option<&Properties>) -> io::Result<BasicProperties> {
    let amqp = BasicProperties::default().with_delivery_mode(2);
    let Some(properties) = properties else {
        return Ok(amqp);
    };
    let mut amqp = amqp.with_message_id(short(properties.id().as_str(), "message id")?);
    if let Some(at) = properties.timestamp() {
        let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        amqp = amqp.with_timestamp(secs);
    }
    if !properties.headers().is_empty() {
        let mut headers = FieldTable::default();
        for (name, value) in properties.headers() {
            // Two headers travel as AMQP's own properties, not in the table.
            match name.as_str() {
                CORRELATION_ID => {
                    amqp = amqp.with_correlation_id(short(value, "correlation id")?);
                    continue;
                }
                REPLY_TO => {
                    amqp = amqp.with_reply_to(short(value, "reply-to")?);
                    continue;
                }
                _ => {}
            }
            headers.insert(
                short(name, "header name")?,
                AMQPValue::LongString(value.as_str().into()),
            );
        }
        if !headers.inner().is_empty() {
            amqp = amqp.with_headers(headers);
        }
    }
    if properties.priority() > 0 {
        amqp = amqp.with_priority(properties.priority());
    }
    if let Some(ttl) = properties.ttl() {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        amqp = amqp.with_expiration(short(&millis.to_string(), "expiration")?);
    }
    Ok(amqp)
}

/// weft's properties of a message the broker delivered: `None` when it
/// was published without (it has no `message-id`), unless it carries a
/// `correlation_id` or a `reply_to` (a request from a client other than
/// weft's, which need not set a message id): then its id is generated.
pub(crate) fn from_amqp(amqp: &BasicProperties) -> Option<Properties> {
    let mut properties = match amqp.message_id() {
        Some(id) => Properties::new().with_id(id.as_str()),
        None if amqp.correlation_id().is_some() || amqp.reply_to().is_some() => Properties::new(),
        None => return None,
    };
    if let Some(secs) = amqp.timestamp() {
        properties = properties.with_timestamp(UNIX_EPOCH + Duration::from_secs(*secs));
    }
    if let Some(headers) = amqp.headers() {
        for (name, value) in headers.inner() {
            // The two AMQP properties below win over a table entry of
            // their names (a foreign publisher's).
            if BROKER_HEADERS.contains(&name.as_str()) || [CORRELATION_ID, REPLY_TO].contains(&name.as_str())
            {
                continue;
            }
            if let Some(text) = text(value) {
                properties = properties.with_header(name.as_str(), text);
            }
        }
    }
    if let Some(id) = amqp.correlation_id() {
        properties = properties.with_header(CORRELATION_ID, id.as_str());
    }
    if let Some(to) = amqp.reply_to() {
        properties = properties.with_header(REPLY_TO, to.as_str());
    }
    if let Some(priority) = amqp.priority().filter(|p| *p > 0) {
        properties = properties.with_priority(priority);
    }
    if let Some(millis) = amqp.expiration().as_ref().and_then(|e| e.as_str().parse().ok()) {
        properties = properties.with_ttl(Duration::from_millis(millis));
    }
    Some(properties)
}

// ANCHOR: delivery-count
/// How many times the broker has delivered the message, this time
/// included: a quorum queue's `x-delivery-count` counts the earlier
/// deliveries; `redelivered` alone (a classic queue, a broker restart)
/// and a republished copy (the first copy may have been delivered) count
/// as one earlier delivery.
pub(crate) fn delivery_count(amqp: &BasicProperties, redelivered: bool) -> u32 {
    let earlier = header(amqp, "x-delivery-count")
        .and_then(number)
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let again = redelivered || header(amqp, REPUBLISHED).is_some();
    let earlier = if again { earlier.max(1) } else { earlier };
    earlier.saturating_add(1)
}
// ANCHOR_END: delivery-count

/// Why the broker dead-lettered the message: the newest `x-death`
/// entry's reason (or `x-first-death-reason`). RabbitMQ's `rejected`
/// (a reject or a nack without requeue), `expired` (the queue's or the
/// message's TTL), `maxlen` (`x-max-length` with `drop-head`) and
/// `delivery_limit` (a quorum queue's `x-delivery-limit`). Anything else,
/// or none, reads as `Rejected`.
pub(crate) fn dead_reason(amqp: &BasicProperties) -> DeadReason {
    let newest = header(amqp, "x-death")
        .and_then(|deaths| match deaths {
            AMQPValue::FieldArray(deaths) => deaths.as_slice().first(),
            _ => None,
        })
        .and_then(|death| match death {
            AMQPValue::FieldTable(death) => death.inner().get("reason"),
            _ => None,
        })
        .or_else(|| header(amqp, "x-first-death-reason"))
        .and_then(text);
    match newest.as_deref() {
        Some("expired") => DeadReason::Expired,
        Some("maxlen") => DeadReason::Overflowed,
        Some("delivery_limit") => DeadReason::MaxDeliveries,
        _ => DeadReason::Rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_survive_the_round_trip_as_far_as_amqp_carries_them() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let props = Properties::new()
            .with_id("order-7")
            .with_header("tenant", "acme")
            .with_timestamp(at)
            .with_priority(3)
            .with_ttl(Duration::from_millis(1500));
        let back = from_amqp(&to_amqp(Some(&props)).unwrap()).unwrap();
        assert_eq!(back.id().as_str(), "order-7");
        assert_eq!(back.header("tenant"), Some("acme"));
        assert_eq!(back.priority(), 3);
        assert_eq!(back.ttl(), Some(Duration::from_millis(1500)));
        // Whole seconds only.
        assert_eq!(
            back.timestamp(),
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
    }

    #[test]
    fn correlation_id_and_reply_to_travel_as_amqp_properties_not_headers() {
        let props = Properties::new()
            .with_id("request-1")
            .with_header(CORRELATION_ID, "request-1")
            .with_header(REPLY_TO, "amq.rabbitmq.reply-to")
            .with_header("tenant", "acme");
        let amqp = to_amqp(Some(&props)).unwrap();
        assert_eq!(
            amqp.correlation_id().as_ref().map(|s| s.as_str()),
            Some("request-1")
        );
        assert_eq!(
            amqp.reply_to().as_ref().map(|s| s.as_str()),
            Some("amq.rabbitmq.reply-to")
        );
        let table = amqp.headers().as_ref().unwrap().inner();
        assert!(!table.contains_key(CORRELATION_ID) && !table.contains_key(REPLY_TO));
        assert!(table.contains_key("tenant"));

        let back = from_amqp(&amqp).unwrap();
        assert_eq!(back.header(CORRELATION_ID), Some("request-1"));
        assert_eq!(back.header(REPLY_TO), Some("amq.rabbitmq.reply-to"));
        assert_eq!(back.headers().len(), 3);

        // With no other header, no table at all.
        let only = Properties::new().with_id("r").with_header(CORRELATION_ID, "c");
        assert!(to_amqp(Some(&only)).unwrap().headers().is_none());
    }

    #[test]
    fn the_amqp_properties_win_over_table_entries_of_their_names() {
        let mut table = FieldTable::default();
        table.insert(CORRELATION_ID.into(), AMQPValue::LongString("forged".into()));
        table.insert(REPLY_TO.into(), AMQPValue::LongString("forged".into()));
        let amqp = BasicProperties::default()
            .with_message_id("m".into())
            .with_correlation_id("real".into())
            .with_headers(table.clone());
        let back = from_amqp(&amqp).unwrap();
        assert_eq!(back.header(CORRELATION_ID), Some("real"));
        assert_eq!(back.header(REPLY_TO), None);
        // Neither property set: the table's entries are not taken either.
        let amqp = BasicProperties::default()
            .with_message_id("m".into())
            .with_headers(table);
        assert!(from_amqp(&amqp).unwrap().headers().is_empty());
    }

    #[test]
    fn a_foreign_request_without_message_id_keeps_its_reply_to_and_correlation_id() {
        let amqp = BasicProperties::default()
            .with_correlation_id("c-1".into())
            .with_reply_to("amq.rabbitmq.reply-to.abc".into());
        let back = from_amqp(&amqp).unwrap();
        assert_eq!(back.header(CORRELATION_ID), Some("c-1"));
        assert_eq!(back.header(REPLY_TO), Some("amq.rabbitmq.reply-to.abc"));
    }

    #[test]
    fn a_correlation_id_too_long_for_amqp_is_an_error_not_a_panic() {
        let props = Properties::new().with_header(CORRELATION_ID, "c".repeat(300));
        let err = to_amqp(Some(&props)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_message_without_properties_has_none_back() {
        let amqp = to_amqp(None).unwrap();
        assert_eq!(*amqp.delivery_mode(), Some(2));
        assert!(from_amqp(&amqp).is_none());
    }

    #[test]
    fn a_header_name_too_long_for_amqp_is_an_error_not_a_panic() {
        let props = Properties::new().with_header("h".repeat(300), "v");
        let err = to_amqp(Some(&props)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_delivery_count_reads_x_delivery_count() {
        let mut headers = FieldTable::default();
        headers.insert("x-delivery-count".into(), AMQPValue::LongLongInt(2));
        let amqp = BasicProperties::default().with_headers(headers);
        assert_eq!(delivery_count(&amqp, true), 3);
        assert_eq!(delivery_count(&BasicProperties::default(), false), 1);
        assert_eq!(delivery_count(&BasicProperties::default(), true), 2);
    }

    #[test]
    fn a_republished_copy_counts_as_redelivered_and_hides_its_mark() {
        let props = Properties::new().with_id("order-7").with_header("tenant", "acme");
        let amqp = republished(to_amqp(Some(&props)).unwrap());
        assert_eq!(delivery_count(&amqp, false), 2);
        let back = from_amqp(&amqp).unwrap();
        assert_eq!(back.header(REPUBLISHED), None);
        assert_eq!(back.header("tenant"), Some("acme"));
        // Without properties too.
        let bare = republished(to_amqp(None).unwrap());
        assert_eq!(delivery_count(&bare, false), 2);
        assert!(from_amqp(&bare).is_none());
    }

    #[test]
    fn the_dead_reason_is_the_newest_x_death_entry() {
        for (reason, expected) in [
            ("rejected", DeadReason::Rejected),
            ("expired", DeadReason::Expired),
            ("maxlen", DeadReason::Overflowed),
            ("delivery_limit", DeadReason::MaxDeliveries),
        ] {
            let mut death = FieldTable::default();
            death.insert("reason".into(), AMQPValue::LongString(reason.into()));
            let mut older = FieldTable::default();
            older.insert("reason".into(), AMQPValue::LongString("expired".into()));
            let deaths = vec![AMQPValue::FieldTable(death), AMQPValue::FieldTable(older)];
            let mut headers = FieldTable::default();
            headers.insert("x-death".into(), AMQPValue::FieldArray(deaths.into()));
            let amqp = BasicProperties::default().with_headers(headers);
            assert_eq!(dead_reason(&amqp), expected, "{reason}");
        }
    }
}
