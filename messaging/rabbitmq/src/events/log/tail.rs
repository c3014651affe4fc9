//! The tail of a [`StreamLog`](super::StreamLog): a consumer that follows
//! the stream from where it ended when the log opened, learning the
//! offsets of this log's appends, where the stream ends and which offsets
//! hold no event (markers, the broker's chunk headers).
//!
//! # Connection loss
//!
//! When its consumer fails (its channel or connection died), the tail
//! attaches again at `State::end`, one past the last offset it saw, on
//! the connection that replaces it (waiting for recovery): it misses no
//! offset, so an append sent before the loss and confirmed after it still
//! learns its offset, and the holes stay exact. What the broker delivers
//! again below `end` (the rest of a chunk) is passed over. It stops, and
//! pending appends fail with `Unknown`, only when the log is dropped,
//! the connection gave up, or [`MAX_ROUNDS`] attachments in a row fail
//! before a delivery.

use super::super::amqp::{attach, next_delivery};
use super::super::job::lock;
use super::super::record::{self, Kind};
use super::{MAX_ROUNDS, Shared};
use crate::channels::Live;
use lapin::types::AMQPValue;
use std::sync::Weak;
use std::task::Waker;

/// Follows the stream on `live` from where the log opened; see the
/// [module docs](self).
pub(super) async fn follow<T>(shared: Weak<Shared<T>>, mut live: Live, mut consumer: lapin::Consumer) {
    let Some(mut from) = shared.upgrade().map(|s| lock(&s.state).end) else {
        return;
    };
    let mut failures = 0;
    let why = loop {
        let failed = read(&shared, &live, &mut consumer, from, &mut failures).await;
        let Some(why) = failed else { return };
        // Attach again where the tail stopped, on the new connection.
        let Some(strong) = shared.upgrade() else { return };
        let (publisher, stream, prefetch) =
            (strong.publisher.clone(), strong.stream.clone(), strong.prefetch);
        from = lock(&strong.state).end;
        // Not held across the wait: the log may drop meanwhile.
        drop(strong);
        failures += 1;
        if failures > MAX_ROUNDS {
            break format!("{why} (attached again {MAX_ROUNDS} times in vain)");
        }
        let at = AMQPValue::LongLongInt(i64::try_from(from).unwrap_or(i64::MAX));
        match attach(publisher, stream, prefetch, at).await {
            Ok((new, next)) => {
                let Some(strong) = shared.upgrade() else {
                    let _ = new.channel.close(200, "the log is dropped".into()).await;
                    return;
                };
                lock(&strong.state).tail_channel = Some(new.channel.clone());
                (live, consumer) = (new, next);
            }
            Err(err) => break format!("{why}; attaching again failed: {err}"),
        }
    };
    let Some(shared) = shared.upgrade() else { return };
    let wakers: Vec<Waker> = {
        let mut state = lock(&shared.state);
        state.tail_failed = Some(why);
        state
            .appends
            .values_mut()
            .filter_map(|pending| pending.waker.take())
            .collect()
    };
    wakers.into_iter().for_each(Waker::wake);
}

/// Reads `consumer` (attached at `from`) until it fails: returns why, or
/// `None` if the log is gone.
async fn read<T>(
    shared: &Weak<Shared<T>>,
    live: &Live,
    consumer: &mut lapin::Consumer,
    from: u64,
    failures: &mut u32,
) -> Option<String> {
    loop {
        let Some(delivery) = next_delivery(&live.channel, consumer).await else {
            return Some("the broker cancelled its consumer".to_owned());
        };
        let delivery = match delivery {
            Ok(delivery) => delivery,
            Err(e) => return Some(e.to_string()),
        };
        let shared = shared.upgrade()?;
        let Some(offset) = record::offset(&delivery.properties) else {
            continue;
        };
        *failures = 0;
        if offset < from {
            // The part of the chunk before where the tail attached again.
            continue;
        }
        let mut wakers = Vec::new();
        {
            let mut state = lock(&shared.state);
            // Offsets the tail was not delivered hold no event.
            let holes = state.end..offset;
            state.holes.extend(holes);
            state.end = state.end.max(offset + 1);
            let end = state.end;
            state.behind_tail.retain(|(at, waker)| {
                let passed = *at < end;
                if passed {
                    wakers.push(waker.clone());
                }
                !passed
            });
            match record::kind(&delivery.properties) {
                Kind::Marker { .. } | Kind::Commit(_) => {
                    state.holes.insert(offset);
                }
                Kind::Event { tag: Some(tag) } => {
                    let pending =
                        note_of(&shared.instance, &tag).and_then(|note| state.appends.get_mut(&note));
                    // The first copy is the append's offset: a copy sent
                    // again after a loss lands later, flagged.
                    if let Some(pending) = pending.filter(|p| p.offset.is_none()) {
                        pending.offset = Some(offset);
                        wakers.extend(pending.waker.take());
                    }
                }
                Kind::Event { tag: None } => {}
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// The note in an append tag `<instance>:<note>` of this log's.
fn note_of(instance: &str, tag: &str) -> Option<u64> {
    tag.strip_prefix(instance)?.strip_prefix(':')?.parse().ok()
}
