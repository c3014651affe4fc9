//! Reading and naming AMQP values, shared by the queue's property mapping
//! (`queue/amqp.rs`) and the bus's record mapping (`events/record.rs`).

use lapin::BasicProperties;
use lapin::types::{AMQPValue, ShortString};
use std::io;

/// A short string, or an `InvalidInput` error naming `what` when it is
/// longer than AMQP's 255 bytes.
pub(crate) fn short(text: &str, what: &str) -> io::Result<ShortString> {
    ShortString::try_new(text)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}")))
}

/// The header `name` of a message's properties, if it has one.
pub(crate) fn header<'a>(amqp: &'a BasicProperties, name: &str) -> Option<&'a AMQPValue> {
    amqp.headers().as_ref()?.inner().get(name)
}

/// A string value (long or short) as text, invalid UTF-8 replaced.
pub(crate) fn text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// An integer value of any width, if it is not negative.
pub(crate) fn number(value: &AMQPValue) -> Option<u64> {
    match *value {
        AMQPValue::ShortShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::ShortShortUInt(n) => Some(n.into()),
        AMQPValue::ShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::ShortUInt(n) => Some(n.into()),
        AMQPValue::LongInt(n) => u64::try_from(n).ok(),
        AMQPValue::LongUInt(n) => Some(n.into()),
        AMQPValue::LongLongInt(n) => u64::try_from(n).ok(),
        _ => None,
    }
}
