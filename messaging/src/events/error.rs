//! The errors of the event bus.

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Arc;

/// A topic name or pattern that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    name: String,
    reason: &'static str,
}

impl InvalidName {
    pub(crate) fn new(name: &str, reason: &'static str) -> InvalidName {
        // Keep an absurdly long name from bloating the error.
        let name = match name.char_indices().nth(64) {
            Some((cut, _)) => format!("{}…", &name[..cut]),
            None => name.to_owned(),
        };
        InvalidName { name, reason }
    }

    /// The name as given (cut after 64 characters).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid topic name or pattern {:?}: {}",
            self.name, self.reason
        )
    }
}

impl Error for InvalidName {}

/// Why an event was not published; the event is given back where it can
/// be.
#[derive(Debug)]
#[non_exhaustive]
pub enum PublishError<T> {
    /// The bus was closed ([`EventBus::close`](super::EventBus::close), or
    /// every handle to it dropped).
    Closed(T),
    /// The topic name does not parse.
    InvalidTopic(InvalidName, T),
    /// The backend could not take the event at once
    /// ([`try_publish`](super::Topic::try_publish) only; `publish` waits).
    /// Nothing was stored.
    WouldBlock(T),
    /// The backend failed (a disk or broker error; the in-memory backend
    /// never fails): the event is handed back if it is certainly not
    /// stored, and the error says so if that is unknown.
    Store(crate::StoreError<T>),
}

impl<T> PublishError<T> {
    /// The event, unless the backend may have stored it.
    pub fn into_inner(self) -> Option<T> {
        match self {
            PublishError::Closed(event)
            | PublishError::InvalidTopic(_, event)
            | PublishError::WouldBlock(event) => Some(event),
            PublishError::Store(e) => e.into_value(),
        }
    }
}

impl<T> fmt::Display for PublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Closed(_) => f.write_str("publishing on a closed event bus"),
            PublishError::InvalidTopic(name, _) => name.fmt(f),
            PublishError::WouldBlock(_) => f.write_str("the event bus backend cannot take the event at once"),
            PublishError::Store(e) => write!(f, "the event bus backend failed: {e}"),
        }
    }
}

impl<T: fmt::Debug> Error for PublishError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            PublishError::Store(e) => Some(e.io_error()),
            PublishError::InvalidTopic(e, _) => Some(e),
            PublishError::Closed(_) | PublishError::WouldBlock(_) => None,
        }
    }
}

/// What a subscriber or group member gets instead of an event.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RecvError {
    /// The subscriber fell behind the topic's retained window:
    /// `skipped` events of `topic` were removed before it read them. It
    /// goes on with the oldest retained event; nothing else was lost.
    Lagged {
        /// The topic whose events were skipped.
        topic: Arc<str>,
        /// How many.
        skipped: u64,
    },
    /// The backend could not read `topic` (a disk or broker error; the
    /// in-memory backend never fails). The reader stays where it was: the
    /// next call reads the same events again.
    Io {
        /// The topic that could not be read.
        topic: Arc<str>,
        /// Why (shared, so the error stays cheap to clone).
        error: Arc<io::Error>,
    },
    /// The partitions this member of an assigned group owns changed (a
    /// member joined or left): it now owns `partitions` of `topic`. Told
    /// once, at the member's first call after the change, which is also
    /// when it let go of the partitions it lost: events of those it still
    /// holds unacked go to their new owner again, and acking them fails
    /// with [`EventsError::Revoked`]. The next call goes on.
    Rebalanced {
        /// The group's topic.
        topic: Arc<str>,
        /// The partitions it owns now, in order.
        partitions: Vec<u32>,
    },
    /// The bus is closed and every event was read.
    Closed,
}

/// Equal if the same variant with the same fields; two I/O errors are
/// equal if they are of the same kind with the same message.
impl PartialEq for RecvError {
    fn eq(&self, other: &RecvError) -> bool {
        match (self, other) {
            (RecvError::Lagged { topic, skipped }, RecvError::Lagged { topic: t, skipped: s }) => {
                (topic, skipped) == (t, s)
            }
            (RecvError::Io { topic, error }, RecvError::Io { topic: t, error: e }) => {
                topic == t && error.kind() == e.kind() && error.to_string() == e.to_string()
            }
            (
                RecvError::Rebalanced { topic, partitions },
                RecvError::Rebalanced {
                    topic: t,
                    partitions: p,
                },
            ) => (topic, partitions) == (t, p),
            (RecvError::Closed, RecvError::Closed) => true,
            _ => false,
        }
    }
}

impl Eq for RecvError {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged { topic, skipped } => {
                write!(f, "lagged behind topic {topic:?}: {skipped} events skipped")
            }
            RecvError::Io { topic, error } => write!(f, "could not read topic {topic:?}: {error}"),
            RecvError::Rebalanced { topic, partitions } => {
                write!(
                    f,
                    "the group was rebalanced: this member now owns partitions {partitions:?} of topic {topic:?}"
                )
            }
            RecvError::Closed => f.write_str("the event bus is closed"),
        }
    }
}

impl Error for RecvError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            RecvError::Io { error, .. } => Some(&**error),
            _ => None,
        }
    }
}

/// Why a subscription, a group member, a topic or a handler could not be
/// made.
#[derive(Debug)]
#[non_exhaustive]
pub enum EventsError {
    /// A topic name or pattern does not parse.
    InvalidName(InvalidName),
    /// A group was asked to follow a pattern; groups follow one topic.
    GroupNeedsTopic(String),
    /// A handler was registered with no runtime to run it: no spawner was
    /// given to the builder and none is current.
    NoSpawner,
    /// The backend failed (a disk or broker error).
    Backend(io::Error),
    /// An ack came after the event's partition went to another member of
    /// its assigned group (a rebalance): it does not count, and the new
    /// owner handles the event again.
    Revoked {
        /// The event's topic.
        topic: Arc<str>,
        /// Its partition.
        partition: u32,
    },
    /// A member asked to join `group` in the other way than its members
    /// did ([`join`](super::EventBus::join) shares every partition,
    /// [`join_assigned`](super::EventBus::join_assigned) assigns them):
    /// a group is one or the other while it has members.
    GroupKind(String),
    /// A group's offsets can be reset only while it has no members: this
    /// one has some on the topic.
    GroupActive(String),
    /// The topic has no such partition, or (for a subscriber) the
    /// subscriber does not read that topic.
    NoPartition {
        /// The topic named.
        topic: Arc<str>,
        /// The partition named.
        partition: u32,
    },
}

impl fmt::Display for EventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventsError::InvalidName(e) => e.fmt(f),
            EventsError::GroupNeedsTopic(p) => {
                write!(f, "a consumer group follows one topic, not the pattern {p:?}")
            }
            EventsError::NoSpawner => {
                f.write_str("no runtime to run the handler: give the bus a spawner or enter a runtime")
            }
            EventsError::Backend(e) => write!(f, "the event bus backend failed: {e}"),
            EventsError::Revoked { topic, partition } => write!(
                f,
                "partition {partition} of topic {topic:?} went to another member before this ack"
            ),
            EventsError::GroupActive(group) => write!(
                f,
                "group {group:?} has members: stop them before resetting its offsets"
            ),
            EventsError::NoPartition { topic, partition } => {
                write!(f, "no partition {partition} of topic {topic:?} here")
            }
            EventsError::GroupKind(group) => write!(
                f,
                "group {group:?} has members that joined the other way (shared or assigned)"
            ),
        }
    }
}

impl Error for EventsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            EventsError::InvalidName(e) => Some(e),
            EventsError::Backend(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InvalidName> for EventsError {
    fn from(e: InvalidName) -> EventsError {
        EventsError::InvalidName(e)
    }
}

impl From<io::Error> for EventsError {
    fn from(e: io::Error) -> EventsError {
        EventsError::Backend(e)
    }
}
