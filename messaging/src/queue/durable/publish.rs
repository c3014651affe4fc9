//! Publishing to the durable queue: write the record, wait for its sync,
//! then join the memory queue (waiting there for room under
//! `Overflow::Wait`); a stage per poll, kept under the op's ticket.

use super::{DiskFull, Inner, Publishing, Stamped, Why, record};
use crate::StoreError;
use crate::loom::lock;
use crate::queue::backend::{Backend, PublishOp};
use crate::queue::{Overflow, PublishError};
use std::io;
use std::task::{Context, Poll};
use weft_disk::LogError;

impl<T: Clone + Send + 'static> Inner<T> {
    /// A publish written at `seq` will not be in the queue after all.
    fn withdraw(&self, seq: u64) {
        // If this is lost, the message comes back after a restart: the
        // caller was told it may have been stored.
        let _ = self.journal(&[record::left(seq, Why::Withdrawn)]);
    }

    /// Puts `op`'s message in the memory queue; a refusal withdraws it.
    fn enqueue(
        &self,
        inner: &mut PublishOp<Stamped<T>>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        let outcome = self.memory.poll_publish(inner, cx);
        // A duplicate is noted by the memory queue.
        let _ = self.journal(&[]);
        match outcome {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => {
                let (seq, error) = match error {
                    PublishError::Closed(s) => (s.seq, PublishError::Closed(s.message)),
                    PublishError::Full(s) => (s.seq, PublishError::Full(s.message)),
                    PublishError::Store(e) => {
                        let e = e.map(|s| s.message);
                        return Poll::Ready(Err(PublishError::Store(e)));
                    }
                };
                self.withdraw(seq);
                Poll::Ready(Err(error))
            }
        }
    }

    /// Writes the publish record for `op`'s message, or says why not.
    fn write(
        &self,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<Publishing<T>, PublishError<T>>> {
        let Some((message, properties)) = op.message.take() else {
            // Completed before (as the memory queue answers).
            return Poll::Ready(Ok(Publishing::Done));
        };
        if self.memory.is_closed() {
            return Poll::Ready(Err(PublishError::Closed(message)));
        }
        let mut payload = Vec::new();
        record::publish_header(properties.as_deref(), &mut payload);
        if let Err(error) = self.codec.encode(&message, &mut payload) {
            return Poll::Ready(Err(PublishError::Store(StoreError::NotStored {
                value: message,
                error: io::Error::new(io::ErrorKind::InvalidInput, error),
            })));
        }
        if let Some(limit) = self.max_bytes {
            let size = (weft_disk::frame::HEADER_LEN + payload.len()) as u64;
            let mut book = lock(&self.book);
            if book.used.saturating_add(size) > limit {
                let used = book.used;
                if let (Overflow::Wait, Some(cx)) = (self.overflow, cx) {
                    let ticket = *op.ticket.get_or_insert_with(|| {
                        book.next_ticket += 1;
                        book.next_ticket
                    });
                    book.room.retain(|(t, _)| *t != ticket);
                    book.room.push_back((ticket, cx.waker().clone()));
                    book.publishes.insert(ticket, Publishing::DiskRoom);
                    op.message = Some((message, properties));
                    return Poll::Pending;
                }
                return Poll::Ready(Err(PublishError::Store(StoreError::NotStored {
                    value: message,
                    error: io::Error::new(io::ErrorKind::StorageFull, DiskFull { used, limit }),
                })));
            }
        }
        let floor = {
            let mut book = lock(&self.book);
            let floor = self.log.end();
            book.writing.push(floor);
            floor
        };
        let appended = self.log.append(&payload);
        {
            let mut book = lock(&self.book);
            if let Some(at) = book.writing.iter().position(|&f| f == floor) {
                book.writing.swap_remove(at);
            }
            if let Ok(offset) = appended {
                book.admit(offset, offset, 0, None);
            }
        }
        match appended {
            Ok(offset) => {
                self.count(offset, payload.len());
                let inner = PublishOp::new(Stamped { seq: offset, message }, properties);
                Poll::Ready(Ok(Publishing::Syncing { inner, offset }))
            }
            Err(error) => Poll::Ready(Err(PublishError::Store(store_error(error, message)))),
        }
    }

    pub(super) fn poll_publish(
        &self,
        op: &mut PublishOp<T>,
        mut cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        let mut stage = op
            .ticket
            .and_then(|ticket| lock(&self.book).publishes.remove(&ticket))
            .unwrap_or(Publishing::DiskRoom);
        loop {
            let next = match stage {
                Publishing::DiskRoom => match self.write(op, cx.as_deref_mut()) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(next)) => next,
                    Poll::Ready(Err(error)) => return self.done(op, Err(error)),
                },
                Publishing::Syncing { mut inner, offset } => {
                    let Some(cx) = cx.as_deref_mut() else {
                        // Nobody waits: into the queue now; "sent" until
                        // the sync confirms it.
                        let synced = self.log.synced() > offset;
                        let outcome = self.enqueue(&mut inner, None);
                        return match outcome {
                            Poll::Ready(Ok(())) if !synced => Poll::Pending,
                            outcome => self.done(op, ready_or_unknown(outcome)),
                        };
                    };
                    match self.log.poll_sync(cx, offset) {
                        Poll::Pending => {
                            self.park(op, Publishing::Syncing { inner, offset });
                            return Poll::Pending;
                        }
                        Poll::Ready(Err(error)) => {
                            // The log stopped: whether the record is on
                            // disk cannot be known.
                            return self.done(
                                op,
                                Err(PublishError::Store(StoreError::Unknown { error: error.into() })),
                            );
                        }
                        Poll::Ready(Ok(())) => Publishing::QueueRoom { inner },
                    }
                }
                Publishing::Done => return self.done(op, Ok(())),
                Publishing::QueueRoom { mut inner } => match self.enqueue(&mut inner, cx.as_deref_mut()) {
                    Poll::Pending => {
                        self.park(op, Publishing::QueueRoom { inner });
                        return Poll::Pending;
                    }
                    Poll::Ready(outcome) => return self.done(op, outcome),
                },
            };
            stage = next;
        }
    }

    /// Keeps a pending publish's stage under its ticket.
    fn park(&self, op: &mut PublishOp<T>, stage: Publishing<T>) {
        let mut book = lock(&self.book);
        let ticket = *op.ticket.get_or_insert_with(|| {
            book.next_ticket += 1;
            book.next_ticket
        });
        book.publishes.insert(ticket, stage);
    }

    /// A publish is over: its ticket is forgotten.
    fn done(
        &self,
        op: &mut PublishOp<T>,
        outcome: Result<(), PublishError<T>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        if let Some(ticket) = op.ticket.take() {
            let mut book = lock(&self.book);
            book.publishes.remove(&ticket);
            book.room.retain(|(t, _)| *t != ticket);
        }
        Poll::Ready(outcome)
    }

    pub(super) fn cancel_publish(&self, op: &mut PublishOp<T>) {
        let Some(ticket) = op.ticket.take() else {
            return;
        };
        let (stage, pass_on) = {
            let mut book = lock(&self.book);
            let stage = book.publishes.remove(&ticket);
            let waiting = book.room.iter().position(|(t, _)| *t == ticket);
            let pass_on = match waiting {
                Some(at) => {
                    book.room.remove(at);
                    None
                }
                // Woken for disk room it will not use: the next one tries.
                None if matches!(stage, Some(Publishing::DiskRoom)) => book.room.pop_front().map(|(_, w)| w),
                None => None,
            };
            (stage, pass_on)
        };
        if let Some(waker) = pass_on {
            waker.wake();
        }
        match stage {
            // Written: it goes in the queue, as it will after a restart.
            Some(Publishing::Syncing { mut inner, .. }) => {
                let _ = self.enqueue(&mut inner, None);
            }
            Some(Publishing::QueueRoom { mut inner }) => {
                self.memory.cancel_publish(&mut inner);
                if let Some((stamped, _)) = inner.message.take() {
                    self.withdraw(stamped.seq);
                }
            }
            Some(Publishing::DiskRoom | Publishing::Done) | None => {}
        }
    }
}

/// What a failed append means for the message.
fn store_error<T>(error: LogError, message: T) -> StoreError<T> {
    if error.is_poisoned() {
        StoreError::Unknown { error: error.into() }
    } else {
        StoreError::NotStored {
            value: message,
            error: error.into(),
        }
    }
}

/// A publish that went into the queue without waiting for its sync: its
/// success is not known yet.
fn ready_or_unknown<T>(outcome: Poll<Result<(), PublishError<T>>>) -> Result<(), PublishError<T>> {
    match outcome {
        Poll::Ready(result) => result,
        Poll::Pending => Ok(()),
    }
}
