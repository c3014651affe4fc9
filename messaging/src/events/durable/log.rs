//! One partition's log on disk, [`DiskLog`]: a [`TopicLog`] over a
//! [`weft_disk::Log`] whose offsets are the partition's.
//!
//! # Protocol
//!
//! The disk log numbers its records as the partition numbers its events,
//! so an event's offset is its record's. In memory the partition keeps an
//! *index*: for each record from the first the files still hold, where it
//! sits ([`Location`]), its timestamp and size. It is
//! built by one scan at open, and grows at each append; a read takes the
//! index entries it wants under the lock and then reads just their bytes,
//! one positioned read per segment touched, without the lock.
//!
//! Three marks move forward only, `start <= visible <= written`:
//!
//! - `written`: records appended to the disk log (under the lock, so the
//!   index's order is the offsets').
//! - `visible`: records confirmed on disk under the sync policy. Readers
//!   see `start..visible` only, so no reader sees an event a power cut
//!   could take back. An append moves it when its sync completes (a
//!   reader also moves it to the log's `synced` mark, so an appender that
//!   gave up after writing strands nobody for long).
//! - `start`: retention's mark, exact as in memory (count, age, bytes,
//!   over `start..visible`). The files behind it are deleted a whole
//!   segment at a time, without the lock, once every record in the
//!   segment is behind `start`; a reader that was reading them meanwhile
//!   sees its read fail as out of range, and tries again from `start`.
//!
//! Locks: the partition's `state`, then the disk log's own (taken by
//! `append_located` and `synced` under it). Wakers are woken and dropped
//! after `state` is released.

use super::record::{self, AppendHead};
use crate::StoreError;
use crate::codec::Codec;
use crate::events::backend::{
    Append, Read, ReadPlace, ReaderId, Record, Retention, TopicLog, close_readers, register, unregister,
};
use crate::events::{Offset, PublishError};
use crate::loom::{Mutex, lock};
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;
use weft_disk::{Location, Log, LogError};

/// A record as the index knows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Indexed {
    pub(crate) location: Location,
    pub(crate) timestamp: SystemTime,
    pub(crate) size: u64,
}

/// A topic partition's log on disk.
pub(crate) struct DiskLog<T> {
    log: Log,
    partition: u32,
    codec: Arc<dyn Codec<T>>,
    state: Mutex<State>,
}

struct State {
    /// The index: records `base..written`, oldest first.
    index: VecDeque<Indexed>,
    base: u64,
    /// Retention's mark: the oldest offset a reader gets.
    start: u64,
    /// Records readers may see: confirmed on disk.
    visible: u64,
    /// The sizes of `start..visible`, summed.
    bytes: u64,
    /// `None` for a log found on disk until a bus opens its topic.
    retention: Option<Retention>,
    waiters: Vec<(ReaderId, Waker)>,
    closed: bool,
}

impl State {
    fn written(&self) -> u64 {
        self.base + self.index.len() as u64
    }

    fn entry(&self, offset: u64) -> &Indexed {
        &self.index[(offset - self.base) as usize]
    }

    /// Moves `start` past what retention no longer keeps (at least one
    /// event always stays) and drops the index entries behind it.
    fn retain(&mut self) {
        let Some(retention) = self.retention else { return };
        let keep = retention.events.max(1) as u64;
        while self.visible - self.start > keep {
            self.pop();
        }
        if retention.max_age.is_none() && retention.max_bytes.is_none() {
            return;
        }
        while self.visible - self.start > 1 {
            let newest = self.entry(self.visible - 1).timestamp;
            let oldest = self.entry(self.start).timestamp;
            let too_old = retention
                .max_age
                .is_some_and(|age| newest.duration_since(oldest).is_ok_and(|d| d > age));
            let too_big = retention.max_bytes.is_some_and(|max| self.bytes > max);
            if !(too_old || too_big) {
                break;
            }
            self.pop();
        }
    }

    fn pop(&mut self) {
        self.bytes -= self.entry(self.start).size;
        self.start += 1;
        while self.base < self.start {
            self.index.pop_front();
            self.base += 1;
        }
    }
}

impl<T: Send + 'static> DiskLog<T> {
    /// A partition's log, its index built from `found` (what a scan of
    /// `log` returned, every record from its start), keeping to
    /// `retention` (`None`: whatever the first bus to open it says).
    pub(crate) fn new(
        log: Log,
        partition: u32,
        codec: Arc<dyn Codec<T>>,
        found: Vec<Indexed>,
        retention: Option<Retention>,
    ) -> DiskLog<T> {
        let base = found.first().map_or(log.end(), |first| first.location.offset);
        let bytes = found.iter().map(|entry| entry.size).sum();
        let end = base + found.len() as u64;
        let mut state = State {
            index: found.into(),
            base,
            start: base,
            visible: end,
            bytes,
            retention,
            waiters: Vec::new(),
            closed: false,
        };
        state.retain();
        DiskLog {
            log,
            partition,
            codec,
            state: Mutex::new(state),
        }
    }

    /// Opened by a bus: open again if an earlier bus closed it, and keep
    /// to `retention` unless a bus set one before.
    pub(crate) fn reopen(&self, retention: Retention) {
        let start = {
            let mut state = lock(&self.state);
            state.closed = false;
            if state.retention.is_some() {
                return;
            }
            state.retention = Some(retention);
            state.retain();
            state.start
        };
        self.remove_before(start);
    }

    /// Deletes the segments wholly behind `start`. A failure is left for
    /// the next append to meet (a poisoned log refuses it) or the next
    /// removal to retry.
    fn remove_before(&self, start: u64) {
        if start > self.log.start() {
            let _ = self.log.remove_before(start);
        }
    }

    /// Makes records up to `end` visible (they are on disk), applies
    /// retention and wakes the readers.
    fn confirm(&self, end: u64) {
        let (waiters, start) = {
            let mut state = lock(&self.state);
            let end = end.min(state.written());
            if end <= state.visible {
                return;
            }
            while state.visible < end {
                state.bytes += state.entry(state.visible).size;
                state.visible += 1;
            }
            state.retain();
            (std::mem::take(&mut state.waiters), state.start)
        };
        waiters.into_iter().for_each(|(_, waker)| waker.wake());
        self.remove_before(start);
    }

    /// The second half of an append: wait for `offset`'s sync.
    fn poll_synced(&self, cx: &mut Context<'_>, offset: u64) -> Poll<Result<Offset, PublishError<T>>> {
        match self.log.poll_sync(cx, offset) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(error)) => Poll::Ready(Err(PublishError::Store(StoreError::Unknown {
                error: io::Error::other(error),
            }))),
            Poll::Ready(Ok(())) => {
                self.confirm(offset + 1);
                Poll::Ready(Ok(Offset::new(offset)))
            }
        }
    }

    /// Decodes the records read for `entries`.
    fn decode(&self, entries: &[Indexed], payloads: Vec<Vec<u8>>) -> io::Result<Vec<Record<T>>> {
        let invalid = |offset: u64, what: &dyn std::fmt::Display| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad event record at offset {offset}: {what}"),
            )
        };
        entries
            .iter()
            .zip(payloads)
            .map(|(entry, bytes)| {
                let offset = entry.location.offset;
                let body = record::append(&bytes).map_err(|what| invalid(offset, &what))?;
                let payload = self
                    .codec
                    .decode(body.payload)
                    .map_err(|error| invalid(offset, &error))?;
                Ok(Record {
                    offset: Offset::new(offset),
                    seq: body.head.seq,
                    properties: body.properties.map(Arc::new),
                    key: body.key.map(Arc::from),
                    timestamp: body.head.timestamp.into(),
                    payload,
                })
            })
            .collect()
    }
}

impl<T: Send + 'static> TopicLog<T> for DiskLog<T> {
    fn poll_append(
        &self,
        cx: &mut Context<'_>,
        append: &mut Append<T>,
    ) -> Poll<Result<Offset, PublishError<T>>> {
        let Some(payload) = append.payload() else {
            // Written on an earlier poll: its note is its offset, plus one.
            let Some(offset) = append.note().checked_sub(1) else {
                let error = io::Error::other("an append polled after it completed");
                return Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })));
            };
            return self.poll_synced(cx, offset);
        };
        let mut bytes = Vec::new();
        let head = AppendHead {
            partition: self.partition,
            seq: append.seq(),
            timestamp: append.timestamp(),
            size: append.size() as u64,
        };
        record::append_header(&head, append.key(), append.properties(), &mut bytes);
        if let Err(error) = self.codec.encode(payload, &mut bytes) {
            let error = io::Error::new(io::ErrorKind::InvalidInput, error);
            let value = append.take().expect("not taken");
            return Poll::Ready(Err(PublishError::Store(StoreError::NotStored { value, error })));
        }
        let offset = {
            let mut state = lock(&self.state);
            if state.closed {
                return Poll::Ready(Err(PublishError::Closed(append.take().expect("not taken"))));
            }
            match self.log.append_located(&bytes) {
                Ok(location) => {
                    state.index.push_back(Indexed {
                        location,
                        timestamp: head.timestamp,
                        size: head.size,
                    });
                    location.offset
                }
                // Refused before a byte stayed in the log: not stored.
                Err(error @ (LogError::Io(_) | LogError::TooLong { .. })) => {
                    let value = append.take().expect("not taken");
                    let error = io::Error::other(error);
                    return Poll::Ready(Err(PublishError::Store(StoreError::NotStored { value, error })));
                }
                // Poisoned: perhaps written (under `Always`, its own sync
                // may be the one that failed), never to be confirmed.
                Err(error) => {
                    let error = io::Error::other(error);
                    return Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })));
                }
            }
        };
        // Written: the event is the log's now.
        drop(append.take());
        append.set_note(offset + 1);
        self.poll_synced(cx, offset)
    }

    fn poll_read(
        &self,
        reader: ReaderId,
        _: &mut ReadPlace,
        from: Offset,
        max: usize,
        out: &mut VecDeque<Record<T>>,
        waker: Option<&Waker>,
    ) -> Poll<io::Result<Read>> {
        // Records an appender wrote and then stopped polling for are
        // visible once synced.
        let lagging = {
            let state = lock(&self.state);
            state.visible < state.written()
        };
        if lagging {
            self.confirm(self.log.synced());
        }
        loop {
            let mut _displaced = None;
            let (entries, read) = {
                let mut state = lock(&self.state);
                let skipped = state.start.saturating_sub(from.get());
                let first = from.get().max(state.start);
                let count = state.visible.saturating_sub(first).min(max as u64);
                let mut entries = Vec::new();
                if count > 0 {
                    // One segment per read: one positioned read.
                    let segment = state.entry(first).location.segment;
                    entries.extend(
                        (first..first + count)
                            .map(|offset| *state.entry(offset))
                            .take_while(|entry| entry.location.segment == segment),
                    );
                }
                let next = first + entries.len() as u64;
                let closed = state.closed && next >= state.visible;
                if entries.is_empty() && skipped == 0 && !closed {
                    if let Some(waker) = waker {
                        _displaced = register(&mut state.waiters, reader, waker);
                    }
                    return Poll::Pending;
                }
                let read = Read {
                    next: Offset::new(next),
                    skipped,
                    closed,
                };
                (entries, read)
            };
            let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
                return Poll::Ready(Ok(read));
            };
            match self.log.read_located(first.location, last.location) {
                Ok(payloads) => {
                    let records = self.decode(&entries, payloads)?;
                    out.extend(records);
                    return Poll::Ready(Ok(read));
                }
                // Retention deleted the segment meanwhile: `start` is past
                // it now, so the next turn reports the skip.
                Err(LogError::OutOfRange { .. }) if lock(&self.state).start > first.location.offset => {}
                Err(error) => return Poll::Ready(Err(io::Error::other(error))),
            }
        }
    }

    fn forget(&self, reader: ReaderId) {
        let _gone = unregister(&mut lock(&self.state).waiters, reader);
    }

    fn start(&self) -> Offset {
        Offset::new(lock(&self.state).start)
    }

    fn end(&self) -> Offset {
        Offset::new(lock(&self.state).visible)
    }

    fn offset_at(&self, time: SystemTime) -> Offset {
        let state = lock(&self.state);
        let at = (state.start..state.visible).find(|&offset| state.entry(offset).timestamp >= time);
        Offset::new(at.unwrap_or(state.visible))
    }

    fn set_retention(&self, retention: Retention) {
        let start = {
            let mut state = lock(&self.state);
            state.retention = Some(retention);
            state.retain();
            state.start
        };
        self.remove_before(start);
    }

    fn close(&self) {
        close_readers(&self.state, |state| (&mut state.closed, &mut state.waiters));
    }
}
