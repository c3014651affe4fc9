//! A reader's drain: the deliveries of its consumer turned into records,
//! with what it skipped counted (see the [log's protocol](super)).

use super::super::job::lock;
use super::super::record::{self, Kind};
use super::{Reader, StreamLog, marked};
use crate::channels::io_error;
use futures_core::Stream;
use lapin::options::BasicAckOptions;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use weft_messaging::events::Record;

impl<T: Clone + Send + 'static> StreamLog<T> {
    /// Moves up to `max` records from `r`'s consumer to `out`, counting
    /// them and what it skipped, and acks what it took; returns why the
    /// consumer failed, if it did.
    pub(super) fn drain(
        &self,
        r: &mut Reader,
        waker: &Waker,
        max: usize,
        out: &mut VecDeque<Record<T>>,
        count: &mut usize,
        skipped: &mut u64,
    ) -> Option<io::Error> {
        let mut last_tag = None;
        let mut failure = None;
        while *count < max {
            let held = r.held.take();
            let Some((_, consumer)) = r.live.as_mut() else {
                break;
            };
            let polled = match held {
                Some(held) => Poll::Ready(Some(Ok(held))),
                None => Pin::new(consumer).poll_next(&mut Context::from_waker(waker)),
            };
            let delivery = match polled {
                Poll::Pending => break,
                Poll::Ready(Some(Ok(delivery))) => delivery,
                Poll::Ready(Some(Err(e))) => {
                    failure = Some(io_error(e));
                    break;
                }
                Poll::Ready(None) => {
                    failure = Some(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "the broker cancelled the reader's consumer (the stream was deleted?)",
                    ));
                    break;
                }
            };
            r.failures = 0;
            last_tag = Some(delivery.delivery_tag);
            let Some(offset) = record::offset(&delivery.properties) else {
                continue;
            };
            let kind = record::kind(&delivery.properties);
            if let Some(time) = marked(r.position) {
                // Resolving a time mark: events stamped before it are
                // not asked for, and skipping them is no loss.
                if !matches!(kind, Kind::Event { .. }) || record::timestamp(&delivery.properties) < time {
                    continue;
                }
                r.position = offset;
            }
            if offset < r.position {
                // The part of the chunk before where the reader attached.
                continue;
            }
            if offset > r.position {
                let mut state = lock(&self.shared.state);
                if state.end <= offset {
                    // The tail has not passed the gap: its holes are not
                    // known yet. Wait for the tail.
                    state.behind_tail.push((offset, waker.clone()));
                    drop(state);
                    r.held = Some(delivery);
                    break;
                }
                let holes = state.holes.range(r.position..offset).count() as u64;
                *skipped += offset - r.position - holes;
                state.start = state.start.max(offset);
            }
            r.position = offset + 1;
            if !matches!(kind, Kind::Event { .. }) {
                continue;
            }
            match self.shared.codec.decode(&delivery.data) {
                Ok(payload) => {
                    out.push_back(record::to_record(&delivery.properties, offset, payload));
                    *count += 1;
                }
                // Bytes the codec cannot read are counted as skipped.
                Err(_) => *skipped += 1,
            }
        }
        if let (Some(tag), Some((channel, _))) = (last_tag, r.live.as_ref()) {
            let channel = channel.clone();
            let ack = BasicAckOptions { multiple: true };
            self.start(async move {
                let _ = channel.basic_ack(tag, ack).await;
            });
        }
        failure
    }
}
