//! An event handed to one member: [`GroupEvent`], and settling it (ack,
//! nack, dropped unacked).

use super::state::{Group, Settle};
use crate::events::Event;
use crate::events::error::EventsError;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An event handed to one member of a group. [`ack`](GroupEvent::ack) it
/// when handled; dropped without an ack, it goes back to the group.
/// Dereferences to the payload.
pub struct GroupEvent<T: 'static> {
    pub(super) group: Arc<Group<T>>,
    /// `None` once settled.
    pub(super) event: Option<Event<T>>,
    pub(super) seq: u64,
    pub(super) deliveries: u32,
    /// The partition's epoch when it was handed out: an older one than
    /// the partition's now means the partition was rewound since.
    pub(super) epoch: u64,
}

impl<T: 'static> GroupEvent<T> {
    /// Marks the event handled: the group's committed offset moves past it
    /// once every earlier event is acked too.
    ///
    /// # Errors
    ///
    /// [`EventsError::Backend`] if the backend failed to store the new
    /// committed offset, or could not at once (an error of kind
    /// `WouldBlock`: an ack does not wait; [`ack_async`](GroupEvent::ack_async)
    /// does). The ack itself counts, and the commit is tried again at the
    /// next ack. The in-memory backend always stores at once.
    pub fn ack(mut self) -> Result<(), EventsError> {
        let event = self.event.take().expect("a GroupEvent is settled only once");
        self.group
            .settle(event, self.seq, self.deliveries, self.epoch, Settle::AckNow)
            .map(|_| ())
    }

    /// Marks the event handled, as [`ack`](GroupEvent::ack) does, and
    /// waits until the backend has stored the committed offset this moves
    /// (it moves once every earlier event is acked too; if it does not,
    /// there is nothing to wait for).
    ///
    /// # Errors
    ///
    /// [`EventsError::Revoked`] as for [`ack`](GroupEvent::ack);
    /// [`EventsError::Backend`] if the backend failed to store the new
    /// committed offset (never of kind `WouldBlock`). The ack itself
    /// counts, and the commit is tried again at the next ack.
    ///
    /// # Cancel safety
    ///
    /// The ack counts from the first poll on. Dropped while the backend
    /// stores the commit, the commit may or may not be stored; the next
    /// ack stores it if not.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut member = bus.join_async("billing", "order.paid", StartAt::Start).await.unwrap();
    ///     bus.publish("order.paid", 42).await.unwrap();
    ///     member.recv().await.unwrap().ack_async().await.unwrap();
    ///     assert_eq!(bus.committed_async("billing", "order.paid").await.unwrap(), Some(Offset::new(1)));
    /// });
    /// ```
    pub async fn ack_async(mut self) -> Result<(), EventsError> {
        let event = self.event.take().expect("a GroupEvent is settled only once");
        let moved = self
            .group
            .settle(event, self.seq, self.deliveries, self.epoch, Settle::AckLater)?;
        match moved {
            Some((target, epoch)) => self.group.store_commit(target, epoch).await,
            None => Ok(()),
        }
    }

    /// Gives the event back to the group, to be handed out again (as
    /// dropping it does).
    pub fn nack(mut self) {
        if let Some(event) = self.event.take() {
            let _ = self
                .group
                .settle(event, self.seq, self.deliveries, self.epoch, Settle::Nack);
        }
    }

    /// How many times the group has handed this event out, this time
    /// included.
    pub fn delivery_count(&self) -> u32 {
        self.deliveries
    }

    /// Whether the event was handed out before.
    pub fn redelivered(&self) -> bool {
        self.deliveries > 1
    }

    /// The event.
    pub fn event(&self) -> &Event<T> {
        self.event.as_ref().expect("a GroupEvent is settled only once")
    }
}

impl<T: 'static> Deref for GroupEvent<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.event().payload()
    }
}

impl<T: 'static> Drop for GroupEvent<T> {
    fn drop(&mut self) {
        if let Some(event) = self.event.take() {
            let _ = self
                .group
                .settle(event, self.seq, self.deliveries, self.epoch, Settle::Nack);
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for GroupEvent<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupEvent")
            .field("event", &self.event)
            .field("deliveries", &self.deliveries)
            .finish()
    }
}
