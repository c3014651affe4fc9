//! Consumer groups: members sharing one topic's events, with a committed
//! offset that outlives them.
//!
//! The group reads the topic once, at its own position, and hands each
//! event to one member. A member [`ack`](GroupEvent::ack)s what it handled;
//! an event dropped unacked (or [`nack`](GroupEvent::nack)ed) goes back to
//! the group and out again, to whichever member asks first. The committed
//! offset is the oldest event not yet acked: everything before it is done,
//! and the backend stores it, so a group rebuilt on the same backend
//! resumes there.

mod event;
mod member;
mod membership;
mod state;

pub use self::event::GroupEvent;
pub use self::member::Member;
pub(crate) use self::membership::join_async;
pub(crate) use self::state::Group;
