//! `Connection`: one AMQP connection, opened on the runtime the caller
//! chooses through async-rs's traits.

use crate::recovery::{Hooks, Link};
use crate::{Error, Uri};
use async_rs::Runtime;
use async_rs::traits::{Executor, Reactor, RuntimeKit};
use std::fmt;
use std::io;
use std::sync::Arc;

/// A connection to a RabbitMQ broker, on lapin.
///
/// lapin drives each connection's socket from an I/O thread of its own,
/// which reaches the runtime through the async-rs kit it was given (on
/// weft: `weft::compat::async_rs`); everything else — heartbeats, the
/// futures of each operation — runs as tasks of that runtime.
///
/// Its `Debug` shows the URI with the password redacted. Cloning gives
/// another handle to the same connection (a queue keeps one, to open its
/// consumers' channels).
///
/// # Recovery
///
/// A lost connection (the broker restarted, closed it, or the network
/// failed) is replaced: the connection reconnects with back-off per its
/// [`Recovery`](crate::Recovery) policy ([`set_recovery`](Self::set_recovery))
/// and reports each step through [`on_status`](Self::on_status). Channels
/// opened with [`channel`](Self::channel) die with the old connection;
/// the queues of this crate re-open theirs, re-declare their queues and
/// resume their consumers on the new one. A clean [`close`](Self::close)
/// is final.
///
/// # Examples
///
/// ```no_run
/// use weft_rabbitmq::Connection;
/// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
///
/// let rt = weft::Runtime::new().unwrap();
/// rt.block_on(async {
///     let kit = weft::compat::async_rs::current();
///     let conn = Connection::connect_with_runtime(&uri, kit).await.unwrap();
///     assert!(conn.is_connected());
///     conn.close().await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct Connection {
    link: Arc<Link>,
    uri: Uri,
}

impl Connection {
    /// Connects to the broker at `uri` (see [`Uri`]) with the runtime
    /// `runtime` (on weft: `weft::compat::async_rs::current()`, or the
    /// facade's `weft::rabbitmq::connect`, which passes it).
    ///
    /// Tries once: a refused connection, credentials or vhost is the
    /// error, not a retry loop.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUri`] for text that is not an AMQP URI;
    /// - [`Error::AccessRefused`] when the broker refuses the user or the
    ///   password;
    /// - [`Error::VhostRefused`] when the vhost does not exist or is not the
    ///   user's;
    /// - [`Error::Io`] when the broker cannot be reached;
    /// - [`Error::Amqp`] for anything else the handshake reports.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the handshake; lapin's I/O thread then
    /// ends with the connection.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::{Connection, Error};
    /// let uri = String::from("amqp://guest:not-the-password@127.0.0.1:5672/%2f");
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// let err = rt.block_on(async {
    ///     Connection::connect_with_runtime(&uri, weft::compat::async_rs::current()).await
    /// });
    /// assert!(matches!(err, Err(Error::AccessRefused { .. })));
    /// ```
    pub async fn connect_with_runtime<RK>(uri: &str, runtime: Runtime<RK>) -> Result<Connection, Error>
    where
        RK: RuntimeKit + Send + Sync + Clone + 'static,
    {
        Connection::connect_uri_with_runtime(Uri::parse(uri)?, runtime).await
    }

    /// [`connect_with_runtime`](Self::connect_with_runtime) with a parsed
    /// [`Uri`] (credentials set with [`Uri::with_credentials`], say).
    ///
    /// # Errors
    ///
    /// As [`connect_with_runtime`](Self::connect_with_runtime), less
    /// [`Error::InvalidUri`].
    ///
    /// # Cancel safety
    ///
    /// As [`connect_with_runtime`](Self::connect_with_runtime).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::{Connection, Uri};
    /// let text = String::from("amqp://nobody:nothing@127.0.0.1:5672/%2f");
    ///
    /// let uri = Uri::parse(&text).unwrap().with_credentials("guest", "guest");
    /// let rt = weft::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let kit = weft::compat::async_rs::current();
    ///     let conn = Connection::connect_uri_with_runtime(uri, kit).await.unwrap();
    ///     assert_eq!(conn.uri().user(), "guest");
    /// });
    /// ```
    pub async fn connect_uri_with_runtime<RK>(uri: Uri, runtime: Runtime<RK>) -> Result<Connection, Error>
    where
        RK: RuntimeKit + Send + Sync + Clone + 'static,
    {
        let inner = open(&uri, runtime.clone()).await?;
        let (again, opener, sleeper) = (uri.clone(), runtime.clone(), runtime.clone());
        let hooks = Hooks {
            connect: Box::new(move || {
                let (uri, runtime) = (again.clone(), opener.clone());
                Box::pin(async move { open(&uri, runtime).await })
            }),
            sleep: Box::new(move |delay| {
                let sleep = sleeper.sleep(delay);
                Box::pin(async move {
                    sleep.await;
                })
            }),
            // Dropping async-rs's task handle detaches the task.
            spawn: Box::new(move |task| drop(runtime.spawn(task))),
        };
        Ok(Connection {
            link: Link::new(inner, hooks),
            uri,
        })
    }

    /// Opens a channel: the unit AMQP publishes, consumes and acks on.
    ///
    /// # Errors
    ///
    /// [`Error::Amqp`] when the connection is closed or out of channels.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the channel open on the broker until
    /// the connection closes.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::Connection;
    /// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let kit = weft::compat::async_rs::current();
    ///     let conn = Connection::connect_with_runtime(&uri, kit).await.unwrap();
    ///     let channel = conn.channel().await.unwrap();
    ///     assert!(channel.status().connected());
    /// });
    /// ```
    pub async fn channel(&self) -> Result<lapin::Channel, Error> {
        Ok(self.as_lapin().create_channel().await?)
    }

    /// True while the connection is open (false while it recovers).
    pub fn is_connected(&self) -> bool {
        self.link.now().is_some_and(|(_, conn)| conn.status().connected())
    }

    /// The URI connected to (its password redacted when shown).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The lapin connection underneath, for what this crate does not wrap
    /// yet: the current one, which a loss replaces (while the connection
    /// recovers, the dead one, whose operations fail).
    pub fn as_lapin(&self) -> Arc<lapin::Connection> {
        match self.link.now() {
            Some((_, conn)) => conn,
            None => self.link.last(),
        }
    }

    /// The recovering link underneath.
    pub(crate) fn link(&self) -> &Arc<Link> {
        &self.link
    }

    /// Closes the connection cleanly (AMQP `connection.close`, code 200)
    /// and for good: no recovery follows, and every clone sees it closed
    /// ([`Status::Closed`](crate::Status::Closed)).
    ///
    /// # Errors
    ///
    /// [`Error::Amqp`] when the broker connection was not open;
    /// [`Error::Io`] (`NotConnected`) while the connection was recovering
    /// or after it gave up (it is closed all the same).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the close under way.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::Connection;
    /// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let kit = weft::compat::async_rs::current();
    ///     let conn = Connection::connect_with_runtime(&uri, kit).await.unwrap();
    ///     conn.close().await.unwrap();
    ///     assert!(!conn.is_connected());
    /// });
    /// ```
    pub async fn close(&self) -> Result<(), Error> {
        let conn = self.link.now();
        self.link.close();
        match conn {
            Some((_, conn)) => Ok(conn.close(200, "closed by the client".into()).await?),
            None => Err(Error::Io(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection was not open",
            ))),
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("uri", &self.uri)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

/// Opens a lapin connection to `uri` on `runtime`, lapin's own recovery
/// off (weft's is in [`crate::recovery`]).
async fn open<RK>(uri: &Uri, runtime: Runtime<RK>) -> Result<lapin::Connection, Error>
where
    RK: RuntimeKit + Send + Sync + Clone + 'static,
{
    let properties = lapin::ConnectionProperties::default();
    lapin::Connection::connect_uri_with_config(uri.amqp().clone(), properties, uri.tls(), runtime)
        .await
        .map_err(|err| Error::at_connect(err, uri.user(), uri.vhost()))
}
