//! Counters: the queue's [`Stats`] and one consumer's [`ConsumerStats`].

// ANCHOR: stats
/// Counters of a queue; see [`Queue::stats`](super::Queue::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Messages waiting to be delivered.
    pub ready: usize,
    /// Messages delivered and not yet acked, nacked or expired.
    pub in_flight: usize,
    /// Messages given back with a delay ([`Delivery::nack_after`](super::Delivery::nack_after), or the
    /// queue's [back-off](super::Builder::redelivery_backoff)), not yet ready.
    pub delayed: usize,
    /// Messages in the dead-letter queue now.
    pub dead_lettered: usize,
    /// Messages ever accepted by `publish` (duplicates not counted).
    pub published: u64,
    /// Messages ever acked.
    pub acked: u64,
    /// Messages ever removed by [`Queue::purge`](super::Queue::purge).
    pub purged: u64,
    /// Publishes dropped as duplicates ([`Builder::dedup_window`](super::Builder::dedup_window)).
    pub deduplicated: u64,
}
// ANCHOR_END: stats

/// Counters of one consumer; see [`Consumer::stats`](super::Consumer::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsumerStats {
    /// Deliveries it holds unsettled now.
    pub in_hand: usize,
    /// Deliveries it acked.
    pub acked: u64,
    /// Deliveries it nacked (with or without requeue, or with a delay).
    pub nacked: u64,
    /// Deliveries it rejected.
    pub rejected: u64,
}
