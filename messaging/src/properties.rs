//! What travels beside a message's body: an id, a timestamp and headers —
//! the minimum a broker carries and a consumer filters on.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A message's id: given by the publisher, or generated (32 hex digits,
/// unique within the process and, with overwhelming likelihood, across
/// processes).
///
/// Deduplication and request / reply correlate by it, as RabbitMQ's
/// `message-id` and SQS's deduplication id do.
///
/// # Examples
///
/// ```
/// use weft::queue::MessageId;
///
/// let given = MessageId::from("order-1042");
/// assert_eq!(given.as_str(), "order-1042");
/// let (a, b) = (MessageId::generate(), MessageId::generate());
/// assert_ne!(a, b);
/// assert_eq!(a.as_str().len(), 32);
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(String);

impl MessageId {
    /// A fresh id.
    pub fn generate() -> MessageId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        // Who (process, start time) in the high half, which one in the low:
        // mixed, so ids do not look sequential.
        let seed = *SEED.get_or_init(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            mix(nanos ^ (u64::from(std::process::id()) << 32))
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        MessageId(format!("{seed:016x}{:016x}", mix(seed ^ n)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// splitmix64's finaliser: a bijection that scatters its input's bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl From<&str> for MessageId {
    fn from(id: &str) -> MessageId {
        MessageId(id.to_owned())
    }
}

impl From<String> for MessageId {
    fn from(id: String) -> MessageId {
        MessageId(id)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({:?})", self.0)
    }
}

/// A message's properties: its id, when it was published, and string
/// headers.
///
/// `Properties::new()` generates an id and leaves the timestamp to the
/// queue or bus, which stamps it when the message is accepted (from the
/// wall clock, as brokers do).
///
/// # Examples
///
/// ```
/// use weft::queue::Properties;
///
/// let props = Properties::new().with_id("order-7").with_header("tenant", "acme");
/// assert_eq!(props.id().as_str(), "order-7");
/// assert_eq!(props.header("tenant"), Some("acme"));
/// assert_eq!(props.header("missing"), None);
/// assert!(props.timestamp().is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Properties {
    id: MessageId,
    timestamp: Option<SystemTime>,
    headers: BTreeMap<String, String>,
    /// The work queue's delivery priority (RabbitMQ's `priority`).
    priority: Option<u8>,
    /// The work queue's per-message TTL (RabbitMQ's `expiration`).
    ttl: Option<Duration>,
}

impl Properties {
    /// Properties with a generated id, no timestamp yet and no headers.
    pub fn new() -> Properties {
        Properties {
            id: MessageId::generate(),
            timestamp: None,
            headers: BTreeMap::new(),
            priority: None,
            ttl: None,
        }
    }

    /// The same, with the id `id`.
    pub fn with_id(mut self, id: impl Into<MessageId>) -> Properties {
        self.id = id.into();
        self
    }

    /// The same, with header `name` set to `value`.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Properties {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// The same, stamped `at` (a backend restoring a stored message keeps
    /// its original stamp).
    pub fn with_timestamp(mut self, at: SystemTime) -> Properties {
        self.timestamp = Some(at);
        self
    }

    /// The message's id.
    pub fn id(&self) -> &MessageId {
        &self.id
    }

    /// When the message was accepted; `None` before it was published.
    pub fn timestamp(&self) -> Option<SystemTime> {
        self.timestamp
    }

    /// The header `name`, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Every header, by name.
    pub fn headers(&self) -> &BTreeMap<String, String> {
        &self.headers
    }

    /// Sets header `name` to `value`, returning the value it replaced.
    pub fn set_header(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.headers.insert(name.into(), value.into())
    }

    /// Stamps the message `at`, unless it is stamped already.
    pub fn stamp(&mut self, at: SystemTime) {
        self.timestamp.get_or_insert(at);
    }

    /// The same, with delivery priority `priority` for a work queue: 0
    /// (the default) to 9, higher first; above 9 counts as 9.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::Properties;
    ///
    /// assert_eq!(Properties::new().priority(), 0);
    /// assert_eq!(Properties::new().with_priority(12).priority(), 9);
    /// ```
    pub fn with_priority(mut self, priority: u8) -> Properties {
        self.priority = Some(priority.min(9));
        self
    }

    /// The priority as set, if it was (a store keeps "unset" apart from 0).
    // Only the durable backend (the `disk` feature) calls it.
    #[cfg_attr(not(feature = "disk"), allow(dead_code))]
    pub(crate) fn priority_set(&self) -> Option<u8> {
        self.priority
    }

    /// The delivery priority, 0 to 9 (0 unless set).
    pub fn priority(&self) -> u8 {
        self.priority.unwrap_or(0)
    }

    /// The same, with a time to live of its own: a work queue
    /// dead-letters the message once it has waited `ttl` undelivered (or
    /// the queue's TTL, whichever is shorter).
    pub fn with_ttl(mut self, ttl: Duration) -> Properties {
        self.ttl = Some(ttl);
        self
    }

    /// The message's own time to live, if set.
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }
}

impl Default for Properties {
    fn default() -> Properties {
        Properties::new()
    }
}
