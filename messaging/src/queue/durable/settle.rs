//! Settling on the durable queue: the memory queue settles, then the
//! verdict is journaled; an ack completes once its record is synced (or,
//! without a context, once written).

use super::{Ended, Inner, Stamped, record};
use crate::StoreError;
use crate::loom::lock;
use crate::queue::AckError;
use crate::queue::backend::{Backend, Verdict};
use std::task::{Context, Poll};

impl<T: Clone + Send + 'static> Inner<T> {
    pub(super) fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        let waiting = lock(&self.book).settling.get(&tag).copied();
        if let Some(offset) = waiting {
            return self.poll_ack_sync(tag, offset, cx);
        }
        let seq = lock(&self.book).tags.get(&tag).copied();
        let settled = self.memory.poll_settle(tag, verdict, None);
        let Poll::Ready(result) = settled else {
            return Poll::Pending;
        };
        if let Err(error) = result {
            if matches!(error, AckError::NotInFlight) {
                lock(&self.book).tags.remove(&tag);
            }
            let _ = self.journal(&[]);
            return Poll::Ready(Err(error));
        }
        lock(&self.book).tags.remove(&tag);
        let Some(seq) = seq else {
            let _ = self.journal(&[]);
            return Poll::Ready(Ok(()));
        };
        let ended = match verdict {
            Verdict::Ack => Ended::Ack,
            Verdict::Nack { .. } | Verdict::NackAfter { .. } => Ended::Nack,
            Verdict::Reject => Ended::Reject,
            Verdict::Dropped => Ended::Dropped,
        };
        let written = self.journal(&[record::verdict(seq, ended)]);
        if ended != Ended::Ack {
            // Not awaited: lost, the message is where it was before.
            return Poll::Ready(Ok(()));
        }
        match written {
            Ok(Some(offset)) => {
                lock(&self.book).settling.insert(tag, offset);
                self.poll_ack_sync(tag, offset, cx)
            }
            Ok(None) => Poll::Ready(Ok(())),
            Err(error) if error.is_poisoned() => {
                Poll::Ready(Err(AckError::Store(StoreError::Unknown { error: error.into() })))
            }
            Err(error) => {
                // Not written: the message is back in the queue.
                self.restore(seq);
                Poll::Ready(Err(AckError::Store(StoreError::NotStored {
                    value: verdict,
                    error: error.into(),
                })))
            }
        }
    }

    /// An ack waits for its record's sync; without `cx`, it was sent.
    fn poll_ack_sync(
        &self,
        tag: u64,
        offset: u64,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        let Some(cx) = cx else {
            if self.log.synced() > offset {
                lock(&self.book).settling.remove(&tag);
                self.compact();
            }
            return Poll::Pending;
        };
        let outcome = std::task::ready!(self.log.poll_sync(cx, offset));
        lock(&self.book).settling.remove(&tag);
        match outcome {
            Ok(()) => {
                self.compact();
                Poll::Ready(Ok(()))
            }
            Err(error) => Poll::Ready(Err(AckError::Store(StoreError::Unknown { error: error.into() }))),
        }
    }

    /// Puts message `seq` back as ready, read from the record holding it
    /// (an ack that could not be written).
    fn restore(&self, seq: u64) {
        let carrier = lock(&self.book).live.get(&seq).map_or(seq, |live| live.carrier);
        let Ok(records) = self.log.read(carrier, 1) else {
            return;
        };
        let Some(found) = records.first() else {
            return;
        };
        let (properties, message) = match record::decode(&found.payload) {
            Ok(
                record::Entry::Publish { properties, message }
                | record::Entry::Moved {
                    properties, message, ..
                },
            ) => (properties, message),
            _ => return,
        };
        if let Ok(message) = self.codec.decode(message) {
            let mut book = lock(&self.book);
            if !book.live.contains_key(&seq) {
                book.admit(seq, carrier, 1, None);
            }
            drop(book);
            self.memory.restore(Stamped { seq, message }, properties, 1, None);
        }
    }
}
