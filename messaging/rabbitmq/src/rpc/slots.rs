//! `Slots`: the callers of one requester waiting for replies, by
//! correlation id, and the reply channels (*epochs*) they wait on.
//!
//! # Protocol
//!
//! Every reply channel the requester opens gets an epoch, counted from 1;
//! a new one is opened only after the one before was seen dead, so the
//! epochs that have ended are exactly those up to `ended` (the reader
//! task of each channel calls [`Slots::end`] when its stream stops).
//!
//! A caller [`register`](Slots::register)s its correlation id with the
//! epoch of the channel it is about to publish on; that fails when the
//! epoch has ended already (the caller opens the next one). A reply that
//! arrives fills the caller's slot ([`Slots::deliver`]); a reply for no
//! slot, or for one that was answered already, is *late*: dropped and
//! counted. When an epoch ends, every caller still waiting on it is given
//! an error: its reply could only have come on that channel. The caller
//! takes what its slot holds ([`Slots::take`]), and its guard removes the
//! slot however the request ends.
//!
//! All of it sits behind one mutex, never held while a waker is woken.

use std::collections::HashMap;
use std::io;
use std::task::Waker;
use weft_messaging::MessageId;

/// What the caller of a request got, or why it will get nothing.
pub(super) type Outcome<Rep> = Result<Rep, io::Error>;

/// The waiting callers, the late replies and the ended epochs.
pub(super) struct Slots<Rep> {
    waiting: HashMap<MessageId, Slot<Rep>>,
    late: u64,
    /// Epochs up to this one have ended (0: none has).
    ended: u64,
}

struct Slot<Rep> {
    epoch: u64,
    outcome: Option<Outcome<Rep>>,
    waker: Option<Waker>,
}

/// What [`Slots::register`] did.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Registered {
    /// The caller waits on the epoch given.
    Waiting,
    /// That epoch has ended: open the next channel and register again.
    EpochEnded,
}

/// What [`Slots::deliver`] did with a reply.
#[must_use]
pub(super) enum Routed {
    /// Given to its caller; wake this waker, if any, once the lock is released.
    Delivered(Option<Waker>),
    /// Nobody waits for it: dropped, and counted.
    Late,
}

/// The text of the error a caller gets when its reply channel dies.
pub(super) const REPLY_LOST: &str = "the reply channel closed (its connection was lost) with this reply still to come: \
     the request may be handled, but its reply cannot arrive";

impl<Rep> Slots<Rep> {
    pub(super) fn new() -> Slots<Rep> {
        Slots {
            waiting: HashMap::new(),
            late: 0,
            ended: 0,
        }
    }

    /// Replies dropped because nobody waited for them.
    pub(super) fn late(&self) -> u64 {
        self.late
    }

    /// Callers waiting now.
    pub(super) fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Whether `epoch` has ended.
    pub(super) fn has_ended(&self, epoch: u64) -> bool {
        epoch <= self.ended
    }

    /// Registers (or moves, when it publishes again on a new channel) the
    /// caller of `id` to wait on `epoch`. A reply already there stays; an
    /// error (its old channel died) is forgotten.
    pub(super) fn register(&mut self, id: &MessageId, epoch: u64) -> Registered {
        if self.has_ended(epoch) {
            return Registered::EpochEnded;
        }
        let slot = self.waiting.entry(id.clone()).or_insert(Slot {
            epoch,
            outcome: None,
            waker: None,
        });
        slot.epoch = epoch;
        if matches!(slot.outcome, Some(Err(_))) {
            slot.outcome = None;
        }
        Registered::Waiting
    }

    /// Removes the caller of `id`: its request is over.
    pub(super) fn remove(&mut self, id: &MessageId) -> Option<Waker> {
        self.waiting.remove(id).and_then(|slot| slot.waker)
    }

    /// Routes a reply (or the error of decoding it) to the caller of `id`.
    pub(super) fn deliver(&mut self, id: Option<MessageId>, reply: Outcome<Rep>) -> Routed {
        match id.and_then(|id| self.waiting.get_mut(&id)) {
            Some(slot) if !matches!(slot.outcome, Some(Ok(_))) => {
                slot.outcome = Some(reply);
                Routed::Delivered(slot.waker.take())
            }
            // Its caller gave up, or was answered already.
            _ => {
                self.late += 1;
                Routed::Late
            }
        }
    }

    /// Epoch `epoch` ended: every caller waiting on it, or an earlier one,
    /// without a reply gets [`REPLY_LOST`]. Returns the wakers to wake.
    pub(super) fn end(&mut self, epoch: u64) -> Vec<Waker> {
        self.ended = self.ended.max(epoch);
        let mut wakers = Vec::new();
        for slot in self.waiting.values_mut() {
            if slot.epoch <= epoch && slot.outcome.is_none() {
                let lost = io::Error::new(io::ErrorKind::ConnectionAborted, REPLY_LOST);
                slot.outcome = Some(Err(lost));
                wakers.extend(slot.waker.take());
            }
        }
        wakers
    }

    /// The outcome for `id`, if there is one; otherwise registers `waker`
    /// (returning the one it displaces, to drop with the lock released).
    pub(super) fn take(&mut self, id: &MessageId, waker: &Waker) -> Result<Outcome<Rep>, Option<Waker>> {
        let Some(slot) = self.waiting.get_mut(id) else {
            // Removed only by the caller's own guard: cannot happen while
            // it waits, but is no reason to panic.
            return Ok(Err(io::Error::other("the request is no longer awaited")));
        };
        if let Some(outcome) = slot.outcome.take() {
            return Ok(outcome);
        }
        match &slot.waker {
            Some(old) if old.will_wake(waker) => Err(None),
            _ => Err(slot.waker.replace(waker.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn a_reply_reaches_its_caller_and_wakes_it() {
        let mut slots = Slots::new();
        let id = MessageId::from("a");
        assert_eq!(slots.register(&id, 1), Registered::Waiting);
        let (count, waker) = counting();
        assert!(matches!(slots.take(&id, &waker), Err(None)));
        let Routed::Delivered(Some(woken)) = slots.deliver(Some(id.clone()), Ok(7)) else {
            panic!("not delivered to the waiting caller");
        };
        woken.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(slots.take(&id, &waker).unwrap().unwrap(), 7);
        assert_eq!(slots.late(), 0);
    }

    #[test]
    fn replies_for_nobody_or_answered_callers_are_late_and_never_reach_another() {
        let mut slots = Slots::new();
        let (a, b) = (MessageId::from("a"), MessageId::from("b"));
        assert_eq!(slots.register(&b, 1), Registered::Waiting);
        // `a` gave up: its reply is late, and `b` sees nothing of it.
        assert!(matches!(slots.deliver(Some(a), Ok(1)), Routed::Late));
        assert!(matches!(slots.deliver(None, Ok(2)), Routed::Late));
        let (_, waker) = counting();
        assert!(slots.take(&b, &waker).is_err());
        assert!(matches!(
            slots.deliver(Some(b.clone()), Ok(3)),
            Routed::Delivered(_)
        ));
        // A second answer to `b` (a redelivered request) is late too.
        assert!(matches!(slots.deliver(Some(b.clone()), Ok(4)), Routed::Late));
        assert_eq!(slots.take(&b, &waker).unwrap().unwrap(), 3);
        assert_eq!(slots.late(), 3);
        assert!(slots.remove(&b).is_none());
        assert_eq!(slots.waiting(), 0);
    }

    #[test]
    fn an_ended_epoch_fails_its_waiting_callers_only() {
        let mut slots: Slots<u32> = Slots::new();
        let (old, answered, new) = (
            MessageId::from("old"),
            MessageId::from("ok"),
            MessageId::from("new"),
        );
        assert_eq!(slots.register(&old, 1), Registered::Waiting);
        assert_eq!(slots.register(&answered, 1), Registered::Waiting);
        assert_eq!(slots.register(&new, 2), Registered::Waiting);
        let (count, waker) = counting();
        assert!(slots.take(&old, &waker).is_err());
        assert!(matches!(
            slots.deliver(Some(answered.clone()), Ok(5)),
            Routed::Delivered(None)
        ));

        let wakers = slots.end(1);
        assert_eq!(wakers.len(), 1);
        wakers.into_iter().for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let lost = slots.take(&old, &waker).unwrap().unwrap_err();
        assert_eq!(lost.kind(), io::ErrorKind::ConnectionAborted);
        assert_eq!(slots.take(&answered, &waker).unwrap().unwrap(), 5);
        assert!(slots.take(&new, &waker).is_err());
        // Nobody registers on an ended epoch.
        assert!(slots.has_ended(1) && !slots.has_ended(2));
        assert_eq!(slots.register(&MessageId::from("x"), 1), Registered::EpochEnded);
    }

    #[test]
    fn a_caller_that_publishes_again_forgets_its_lost_channel_but_not_its_reply() {
        let mut slots: Slots<u32> = Slots::new();
        let id = MessageId::from("a");
        assert_eq!(slots.register(&id, 1), Registered::Waiting);
        let _ = slots.end(1);
        assert_eq!(slots.register(&id, 2), Registered::Waiting);
        let (_, waker) = counting();
        assert!(
            slots.take(&id, &waker).is_err(),
            "the old channel's error is forgotten"
        );
        assert!(matches!(
            slots.deliver(Some(id.clone()), Ok(9)),
            Routed::Delivered(_)
        ));
        assert_eq!(slots.register(&id, 3), Registered::Waiting);
        assert_eq!(slots.take(&id, &waker).unwrap().unwrap(), 9);
    }
}
