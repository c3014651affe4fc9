//! The ready messages of the in-memory queue: one FIFO lane per priority,
//! and the deadlines at which some of them expire.
//!
//! `pop_front` takes from the highest non-empty lane, found from a bit
//! mask, so a queue that uses only priority 0 pays one lane and one bit
//! test. `push_front` puts a message given back at the front of its lane.
//! The expiry deadlines sit in a min-heap that may hold stale entries
//! (messages delivered since): when the earliest is due, `take_expired`
//! sweeps the lanes for what is due, so a message expires on time whatever
//! its lane or its own TTL.

use super::Envelope;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

/// Priorities 0 to 9.
pub(super) const LANES: usize = 10;

pub(super) struct Ready<T> {
    lanes: [VecDeque<Envelope<T>>; LANES],
    /// Bit `p` set: lane `p` is not empty.
    mask: u16,
    len: usize,
    /// Expiry deadlines of ready messages, earliest first; stale entries
    /// allowed.
    expiries: BinaryHeap<Reverse<Instant>>,
}

impl<T> Ready<T> {
    pub(super) fn new() -> Ready<T> {
        Ready {
            lanes: std::array::from_fn(|_| VecDeque::new()),
            mask: 0,
            len: 0,
            expiries: BinaryHeap::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn lane(priority: u8) -> usize {
        usize::from(priority).min(LANES - 1)
    }

    #[inline]
    fn added(&mut self, lane: usize, expires_at: Option<Instant>) {
        self.mask |= 1 << lane;
        self.len += 1;
        if let Some(at) = expires_at {
            self.expiries.push(Reverse(at));
        }
    }

    /// A new message, behind those of its priority.
    #[inline]
    pub(super) fn push_back(&mut self, envelope: Envelope<T>) {
        let (lane, expires_at) = (Self::lane(envelope.priority), envelope.expires_at);
        self.lanes[lane].push_back(envelope);
        self.added(lane, expires_at);
    }

    /// A message given back: next out of its priority.
    pub(super) fn push_front(&mut self, envelope: Envelope<T>) {
        let (lane, expires_at) = (Self::lane(envelope.priority), envelope.expires_at);
        self.lanes[lane].push_front(envelope);
        self.added(lane, expires_at);
    }

    /// The next message to deliver: highest priority first, FIFO within.
    pub(super) fn pop_front(&mut self) -> Option<Envelope<T>> {
        let lane = 15usize.checked_sub(self.mask.leading_zeros() as usize)?;
        self.pop_lane(lane)
    }

    /// The message to push out for room: the oldest of the lowest
    /// priority.
    pub(super) fn pop_least(&mut self) -> Option<Envelope<T>> {
        if self.mask == 0 {
            return None;
        }
        self.pop_lane(self.mask.trailing_zeros() as usize)
    }

    fn pop_lane(&mut self, lane: usize) -> Option<Envelope<T>> {
        let envelope = self.lanes[lane].pop_front()?;
        self.len -= 1;
        if self.lanes[lane].is_empty() {
            self.mask &= !(1 << lane);
        }
        Some(envelope)
    }

    /// The earliest expiry deadline that may still concern a ready
    /// message.
    pub(super) fn next_expiry(&self) -> Option<Instant> {
        self.expiries.peek().map(|Reverse(at)| *at)
    }

    /// Takes out every message whose deadline is at or before `now`, if any
    /// deadline is due.
    pub(super) fn take_expired(&mut self, now: Instant, out: &mut Vec<Envelope<T>>) {
        if self.next_expiry().is_none_or(|at| at > now) {
            return;
        }
        while self.expiries.peek().is_some_and(|Reverse(at)| *at <= now) {
            self.expiries.pop();
        }
        for (lane, queue) in self.lanes.iter_mut().enumerate() {
            if queue.is_empty() {
                continue;
            }
            let before = queue.len();
            let mut kept = VecDeque::with_capacity(before);
            for envelope in queue.drain(..) {
                if envelope.expires_at.is_some_and(|at| at <= now) {
                    out.push(envelope);
                } else {
                    kept.push_back(envelope);
                }
            }
            *queue = kept;
            self.len -= before - queue.len();
            if queue.is_empty() {
                self.mask &= !(1 << lane);
            }
        }
    }

    /// Takes out every message.
    pub(super) fn drain(&mut self, out: &mut Vec<Envelope<T>>) {
        for queue in &mut self.lanes {
            out.extend(queue.drain(..));
        }
        self.mask = 0;
        self.len = 0;
        self.expiries.clear();
    }
}
