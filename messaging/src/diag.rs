//! Diagnostics through [`tracing`](https://docs.rs/tracing), when the
//! crate's `tracing` feature is on.
//!
//! The crate calls the helpers below, one per event. Each emits with a
//! `tracing` macro under `#[cfg(feature = "tracing")]`: without the
//! feature the statement is gone, so the default build holds no `tracing`
//! and pays nothing, and the arguments are not evaluated (a call site
//! computes what it reports inside the call). weft-primitives' `diag.rs`
//! states why each crate writes its helpers this way rather than sharing
//! a macro. The events (target, level, fields) are listed in one table,
//! in the book's chapter "Running a service on weft".

use crate::Properties;
use crate::events::Event;
use crate::queue::DeadReason;
use std::time::Duration;

/// A message of a work queue was dead-lettered: `WARN` on `weft::queue`.
/// Every backend calls it where a message lands in its dead-letter queue.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn dead_lettered(reason: DeadReason, deliveries: u32, properties: Option<&Properties>) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "weft::queue",
        reason = ?reason,
        deliveries,
        message_id = properties.map(|p| p.id().as_str()),
        "message dead-lettered"
    );
}

/// A durable queue or bus cut a torn tail off one of its segments as it
/// opened: `WARN` on `weft::queue` or `weft::events` (`target`). The same
/// report is in the open call's result.
#[cfg(feature = "disk")]
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn torn_tail_cut(target: Store, torn: &weft_disk::TornTail) {
    // One call per target, alike but for it: a `tracing` target is a
    // constant of the call site's static metadata, never a value.
    match target {
        Store::Queue => {
            #[cfg(feature = "tracing")]
            tracing::warn!(
                target: "weft::queue",
                segment = %torn.segment.display(),
                position = torn.position,
                bytes = torn.bytes,
                "torn tail cut on open"
            );
        }
        Store::Events => {
            #[cfg(feature = "tracing")]
            tracing::warn!(
                target: "weft::events",
                segment = %torn.segment.display(),
                position = torn.position,
                bytes = torn.bytes,
                "torn tail cut on open"
            );
        }
    }
}

/// Which durable store reports, for its target.
#[cfg(feature = "disk")]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Store {
    Queue,
    Events,
}

/// A message of a work queue goes back to be delivered again, after
/// `delay` if one is given: `DEBUG` on `weft::queue`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn requeued(deliveries: u32, delay: Option<Duration>, properties: Option<&Properties>) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "weft::queue",
        deliveries,
        delay_ms = delay.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        message_id = properties.map(|p| p.id().as_str()),
        "message requeued for redelivery"
    );
}

/// A handler's attempt at `event` failed and will be tried again after
/// its back-off: `INFO` on `weft::events`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn handler_retry<T>(event: &Event<T>, attempt: u32, error: &str) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: "weft::events",
        topic = event.topic(),
        partition = event.partition(),
        offset = event.offset().get(),
        attempt,
        error,
        "handler failed, retrying"
    );
}

/// A handler gave up on `event` (its retries spent, or stopped): `WARN` on
/// `weft::events`. `dead_letter_topic` is where it went, if the handler
/// has one; `dead_lettered` says whether that topic took it.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn handler_failed<T>(
    event: &Event<T>,
    error: &str,
    dead_letter_topic: Option<&str>,
    dead_lettered: bool,
) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "weft::events",
        topic = event.topic(),
        partition = event.partition(),
        offset = event.offset().get(),
        error,
        dead_letter_topic,
        dead_lettered,
        "handler gave up on an event"
    );
}

/// An event of a consumer group was given back (nacked, by hand or by a
/// handler that stopped) and will be handed out again: `DEBUG` on
/// `weft::events`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn group_redelivery(group: &str, topic: &str, partition: u32, offset: u64, deliveries: u32) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "weft::events",
        group,
        topic,
        partition,
        offset,
        deliveries,
        "group event given back for redelivery"
    );
}

/// An assigned consumer group shared its partitions out again, because a
/// member joined or left (`cause`): `INFO` on `weft::events`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn rebalanced(group: &str, topic: &str, members: usize, partitions: usize, cause: &'static str) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: "weft::events",
        group,
        topic,
        members,
        partitions,
        cause,
        "consumer group rebalanced"
    );
}
