//! Recovery from connection loss: the [`Status`] a [`Connection`] reports,
//! the back-off [`Recovery`] policy, and `Link`, the machinery that swaps a
//! dead lapin connection for a new one.
//!
//! lapin's own recovery is off (it does not survive a broker restart), so
//! weft does it: a connection is a *link* whose lapin connection is
//! replaced after each loss.
//!
//! # Protocol
//!
//! The link's state is one watch value, a `Snapshot`: the *generation*
//! (bumped by every successful reconnect), the lapin connection of that
//! generation (none while recovering) and the [`Status`].
//!
//! - **Up** (`Connected`): whoever notices that generation `g` died — a
//!   task watching lapin's connection events, or an operation whose
//!   channel broke — calls `lost(g, error)`. Only the first call for `g`
//!   moves the link to `Lost` and spawns the one recovery task; later
//!   calls, and calls for older generations, do nothing.
//! - **Recovering** (`Lost`, then `Connecting { attempt }`): the recovery
//!   task connects with back-off. On success it installs the new
//!   connection as generation `g + 1` (`Connected`); past the policy's
//!   attempts, or when the broker refuses the credentials or the vhost
//!   (retrying cannot fix them), it ends in `GaveUp`.
//! - **Ended** (`GaveUp`, `Closed`): terminal; `current` fails.
//!
//! Operations wait in `current` for an up generation; backends that own
//! channels and consumers re-open them on the new generation, re-declaring
//! their topology first. Status callbacks run on the task that made the
//! change, in order, with no lock held.

use crate::{Connection, Error};
use futures_core::Stream;
use lapin::Event;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use weft_primitives::sync::watch;

/// A boxed future of the link's machinery.
pub(crate) type BoxFut<R> = Pin<Box<dyn Future<Output = R> + Send + 'static>>;

/// Where a [`Connection`] stands; reported to the callbacks of
/// [`Connection::on_status`] at each change, in order.
///
/// A connection starts `Connected`. A loss moves it to `Lost`, each
/// reconnect attempt to `Connecting`, a success back to `Connected`;
/// `GaveUp` and `Closed` are final.
///
/// # Examples
///
/// ```
/// use weft_rabbitmq::Status;
///
/// let status = Status::Connecting { attempt: 2 };
/// assert!(!status.is_connected());
/// assert_eq!(status.to_string(), "reconnecting (attempt 2)");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Status {
    /// The connection is open.
    Connected,
    /// The connection died; recovery starts.
    Lost {
        /// What ended it.
        error: Arc<Error>,
    },
    /// Reconnect attempt `attempt` (from 1) is under way.
    Connecting {
        /// The attempt, counted from 1.
        attempt: u32,
    },
    /// Recovery stopped: the [`Recovery`] policy's attempts ran out, or the
    /// broker refused the credentials or the vhost. Operations now fail.
    GaveUp {
        /// The last attempt's error.
        error: Arc<Error>,
    },
    /// [`Connection::close`] closed it.
    Closed,
}

impl Status {
    /// True when `Connected`.
    pub fn is_connected(&self) -> bool {
        matches!(self, Status::Connected)
    }

    /// True when final: `GaveUp` or `Closed`.
    pub fn is_ended(&self) -> bool {
        matches!(self, Status::GaveUp { .. } | Status::Closed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Connected => write!(f, "connected"),
            Status::Lost { error } => write!(f, "connection lost: {error}"),
            Status::Connecting { attempt } => write!(f, "reconnecting (attempt {attempt})"),
            Status::GaveUp { error } => write!(f, "gave up reconnecting: {error}"),
            Status::Closed => write!(f, "closed"),
        }
    }
}

/// How a [`Connection`] reconnects after a loss: attempts spaced by a
/// delay that starts at [`first_delay`](Self::first_delay) and doubles up
/// to [`max_delay`](Self::max_delay), at most
/// [`max_attempts`](Self::max_attempts) of them.
///
/// The default: 100 ms doubling to 5 s, 30 attempts (about two minutes
/// of trying, enough for a broker restart), then `GaveUp`. The first
/// attempt starts at once. A refused password or vhost gives up at once.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_rabbitmq::Recovery;
///
/// let patient = Recovery::new().max_attempts(None).max_delay(Duration::from_secs(30));
/// assert_eq!(patient.get_max_attempts(), None);
/// assert_eq!(Recovery::never().get_max_attempts(), Some(0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    first_delay: Duration,
    max_delay: Duration,
    max_attempts: Option<u32>,
}

impl Recovery {
    /// The default policy (see the type's docs).
    pub fn new() -> Recovery {
        Recovery {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            max_attempts: Some(30),
        }
    }

    /// No recovery: a loss is final (`GaveUp` at once).
    pub fn never() -> Recovery {
        Recovery::new().max_attempts(Some(0))
    }

    /// The delay after the first failed attempt.
    pub fn first_delay(mut self, delay: Duration) -> Recovery {
        self.first_delay = delay;
        self
    }

    /// The longest delay between attempts.
    pub fn max_delay(mut self, delay: Duration) -> Recovery {
        self.max_delay = delay;
        self
    }

    /// Attempts before giving up; `None` tries for ever.
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Recovery {
        self.max_attempts = attempts;
        self
    }

    /// The attempts set.
    pub fn get_max_attempts(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The delay after failed attempt `attempt` (from 1).
    fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .first_delay
            .checked_mul(1 << attempt.saturating_sub(1).min(20))
            .unwrap_or(self.max_delay);
        doubled.min(self.max_delay)
    }
}

impl Default for Recovery {
    fn default() -> Recovery {
        Recovery::new()
    }
}

/// The link's state; see the [module docs](self).
#[derive(Clone)]
struct Snapshot {
    generation: u64,
    conn: Option<Arc<lapin::Connection>>,
    status: Status,
}

type Listener = Arc<dyn Fn(&Status) + Send + Sync>;

/// What the link needs of the runtime and the broker, boxed so that
/// `Connection` stays free of the runtime's type.
pub(crate) struct Hooks {
    /// Opens a new lapin connection to the same URI.
    pub(crate) connect: Box<dyn Fn() -> BoxFut<Result<lapin::Connection, Error>> + Send + Sync>,
    /// Sleeps on the runtime's clock.
    pub(crate) sleep: Box<dyn Fn(Duration) -> BoxFut<()> + Send + Sync>,
    /// Runs a task on the runtime.
    pub(crate) spawn: Box<dyn Fn(BoxFut<()>) + Send + Sync>,
}

/// A connection that replaces its lapin connection after a loss.
pub(crate) struct Link {
    state: watch::Sender<Snapshot>,
    hooks: Hooks,
    recovery: Mutex<Recovery>,
    listeners: Mutex<Vec<Listener>>,
    /// The newest lapin connection, dead or alive.
    last: Mutex<Arc<lapin::Connection>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Link {
    pub(crate) fn new(conn: lapin::Connection, hooks: Hooks) -> Arc<Link> {
        let conn = Arc::new(conn);
        let (state, _) = watch::channel(Snapshot {
            generation: 0,
            conn: Some(conn.clone()),
            status: Status::Connected,
        });
        let link = Arc::new(Link {
            state,
            hooks,
            recovery: Mutex::new(Recovery::new()),
            listeners: Mutex::new(Vec::new()),
            last: Mutex::new(conn.clone()),
        });
        link.watch_events(0, &conn);
        link
    }

    pub(crate) fn set_recovery(&self, recovery: Recovery) {
        *lock(&self.recovery) = recovery;
    }

    pub(crate) fn on_status(&self, listener: Listener) {
        lock(&self.listeners).push(listener);
    }

    pub(crate) fn status(&self) -> Status {
        self.state.borrow().status.clone()
    }

    /// The lapin connection of the current generation, if up (it may have
    /// died unnoticed).
    pub(crate) fn now(&self) -> Option<(u64, Arc<lapin::Connection>)> {
        let snapshot = self.state.borrow();
        Some((snapshot.generation, snapshot.conn.clone()?))
    }

    /// The newest lapin connection, dead or alive.
    pub(crate) fn last(&self) -> Arc<lapin::Connection> {
        lock(&self.last).clone()
    }

    /// Waits for an up generation and returns it with its connection.
    ///
    /// # Errors
    ///
    /// An `Io` error of kind `NotConnected` once the link gave up or was
    /// closed.
    pub(crate) async fn current(self: &Arc<Self>) -> Result<(u64, Arc<lapin::Connection>), Error> {
        let mut rx = self.state.subscribe();
        loop {
            let snapshot = rx
                .wait_for(|s| s.conn.is_some() || s.status.is_ended())
                .await
                .map_err(|_| ended("the connection is gone"))?
                .clone();
            match snapshot.conn {
                Some(conn) if conn.status().connected() => return Ok((snapshot.generation, conn)),
                Some(_) => {
                    let error = io::Error::new(io::ErrorKind::ConnectionAborted, "the connection died");
                    self.lost(snapshot.generation, Error::Io(error));
                }
                None => return Err(ended(&snapshot.status.to_string())),
            }
        }
    }

    /// Generation `generation` died of `error`: starts recovery unless it
    /// is under way or over (see the [module docs](self)).
    pub(crate) fn lost(self: &Arc<Self>, generation: u64, error: Error) {
        let error = Arc::new(error);
        let started = self.state.send_if_modified(|s| {
            if s.generation != generation || !s.status.is_connected() {
                return false;
            }
            s.conn = None;
            s.status = Status::Lost { error: error.clone() };
            true
        });
        if started {
            self.tell(&Status::Lost { error });
            let link = self.clone();
            (self.hooks.spawn)(Box::pin(async move { link.recover(generation).await }));
        }
    }

    /// Sleeps `delay` on the runtime's clock.
    pub(crate) fn sleep(&self, delay: Duration) -> BoxFut<()> {
        (self.hooks.sleep)(delay)
    }

    /// Ends the link for good (a clean close): no recovery follows.
    pub(crate) fn close(&self) {
        let closed = self.state.send_if_modified(|s| {
            if s.status.is_ended() {
                return false;
            }
            s.conn = None;
            s.status = Status::Closed;
            true
        });
        if closed {
            self.tell(&Status::Closed);
        }
    }

    fn tell(&self, status: &Status) {
        let listeners: Vec<Listener> = lock(&self.listeners).clone();
        for listener in listeners {
            listener(status);
        }
    }

    /// Sets `status` unless the link was closed meanwhile; false if it was.
    fn set(&self, status: Status, conn: Option<Arc<lapin::Connection>>, generation: u64) -> bool {
        let set = self.state.send_if_modified(|s| {
            if matches!(s.status, Status::Closed) {
                return false;
            }
            s.generation = generation;
            s.conn = conn;
            s.status = status.clone();
            true
        });
        if set {
            self.tell(&status);
        }
        set
    }

    async fn recover(self: Arc<Self>, generation: u64) {
        let policy = *lock(&self.recovery);
        let mut attempt = 0;
        let mut last: Arc<Error> = match &self.state.borrow().status {
            Status::Lost { error } => error.clone(),
            _ => Arc::new(ended("the connection was lost")),
        };
        loop {
            if policy.max_attempts.is_some_and(|max| attempt >= max) {
                self.set(Status::GaveUp { error: last }, None, generation);
                return;
            }
            attempt += 1;
            if !self.set(Status::Connecting { attempt }, None, generation) {
                return;
            }
            match (self.hooks.connect)().await {
                Ok(conn) => {
                    let conn = Arc::new(conn);
                    *lock(&self.last) = conn.clone();
                    let next = generation + 1;
                    if self.set(Status::Connected, Some(conn.clone()), next) {
                        self.watch_events(next, &conn);
                    } else {
                        let _ = conn.close(200, "closed by the client".into()).await;
                    }
                    return;
                }
                Err(err @ (Error::AccessRefused { .. } | Error::VhostRefused { .. })) => {
                    self.set(Status::GaveUp { error: Arc::new(err) }, None, generation);
                    return;
                }
                Err(err) => last = Arc::new(err),
            }
            (self.hooks.sleep)(policy.delay(attempt)).await;
        }
    }

    /// Watches generation `generation`'s connection events: the first
    /// error that leaves it not connected is its loss.
    fn watch_events(self: &Arc<Self>, generation: u64, conn: &lapin::Connection) {
        let mut events = Box::pin(conn.events_listener());
        let link: Weak<Link> = Arc::downgrade(self);
        (self.hooks.spawn)(Box::pin(async move {
            while let Some(event) = poll_fn(|cx| events.as_mut().poll_next(cx)).await {
                let Event::Error(error) = event else { continue };
                let Some(link) = link.upgrade() else { return };
                let alive = link
                    .now()
                    .is_some_and(|(g, conn)| g == generation && conn.status().connected());
                if !alive {
                    link.lost(generation, Error::from(error));
                    return;
                }
            }
        }));
    }
}

fn ended(why: &str) -> Error {
    Error::Io(io::Error::new(io::ErrorKind::NotConnected, why.to_owned()))
}

impl Connection {
    /// Sets how this connection recovers from a loss (the default:
    /// [`Recovery::new`]); it applies from the next loss on, to every
    /// clone of the connection.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::{Connection, Recovery};
    /// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let kit = weft::compat::async_rs::current();
    ///     let conn = Connection::connect_with_runtime(&uri, kit).await.unwrap();
    ///     conn.set_recovery(Recovery::new().max_attempts(None));
    /// });
    /// ```
    pub fn set_recovery(&self, recovery: Recovery) {
        self.link().set_recovery(recovery);
    }

    /// Calls `callback` with each change of the connection's [`Status`],
    /// in order, from the task that made it: keep it short (send it on a
    /// channel). Callbacks stay for the connection's life.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::{Connection, Status};
    /// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let kit = weft::compat::async_rs::current();
    ///     let conn = Connection::connect_with_runtime(&uri, kit).await.unwrap();
    ///     let (tx, mut rx) = weft::sync::mpsc::unbounded_channel();
    ///     conn.on_status(move |status: &Status| {
    ///         let _ = tx.send(status.clone());
    ///     });
    ///     conn.close().await.unwrap();
    ///     assert!(matches!(rx.recv().await, Some(Status::Closed)));
    /// });
    /// ```
    pub fn on_status(&self, callback: impl Fn(&Status) + Send + Sync + 'static) {
        self.link().on_status(Arc::new(callback));
    }

    /// Where the connection stands now.
    pub fn status(&self) -> Status {
        self.link().status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_up_to_the_cap() {
        let policy = Recovery::new()
            .first_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(500));
        let delays: Vec<u128> = (1..=5).map(|a| policy.delay(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        // Far attempts neither overflow nor panic.
        assert_eq!(policy.delay(u32::MAX), Duration::from_millis(500));
    }

    #[test]
    fn status_text_is_lower_case_and_unpunctuated() {
        let error = Arc::new(Error::AccessRefused { user: "app".into() });
        for status in [
            Status::Connected,
            Status::Lost { error: error.clone() },
            Status::Connecting { attempt: 1 },
            Status::GaveUp { error },
            Status::Closed,
        ] {
            let text = status.to_string();
            assert!(text.starts_with(char::is_lowercase), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }
}
