//! `Connection`: one AMQP connection, opened on the runtime the caller
//! chooses through async-rs's traits.

use crate::recovery::{Hooks, Link};
use crate::{Error, Uri};
use async_rs::Runtime;
use async_rs::traits::{Executor, Reactor, RuntimeKit};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
/// # A cluster
///
/// [`connect_cluster_with_runtime`](Self::connect_cluster_with_runtime)
/// takes the URIs of several nodes of one cluster. It connects to the
/// first that answers, and after a loss each reconnect attempt tries the
/// next node in turn, starting after the one that was lost: when the
/// client's own node dies, the connection moves to a surviving one
/// (queues declared as quorum queues are replicated there).
/// [`uri`](Self::uri) says which node it is on.
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
    nodes: Arc<Nodes>,
}

/// The nodes a connection may use, and the one it is on.
struct Nodes {
    uris: Box<[Uri]>,
    /// Index into `uris` of the node connected to; while reconnecting, of
    /// the node last tried (the next attempt tries the one after it).
    current: AtomicUsize,
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
        Connection::connect_nodes(vec![uri], runtime).await
    }

    /// Connects to a cluster: to the first of the nodes at `uris` (see
    /// [`Uri`]) that answers, in order, with the runtime `runtime`. After a
    /// loss, each reconnect attempt tries the next node in turn, starting
    /// after the one that was lost, so the connection fails over to a
    /// surviving node (see "A cluster" in the type's docs).
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUri`] for text that is not an AMQP URI, or no URI
    ///   at all;
    /// - [`Error::AccessRefused`] or [`Error::VhostRefused`] from the first
    ///   node that answers (users and vhosts are the cluster's, so no
    ///   other node is tried);
    /// - otherwise the last node's error, when none could be reached.
    ///
    /// # Cancel safety
    ///
    /// As [`connect_with_runtime`](Self::connect_with_runtime).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::Connection;
    /// let nodes = ["amqp://guest:guest@10.0.0.1:5672/%2f", "amqp://guest:guest@10.0.0.2:5672/%2f"];
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let kit = weft::compat::async_rs::current();
    ///     let conn = Connection::connect_cluster_with_runtime(&nodes, kit).await.unwrap();
    ///     println!("on {}", conn.uri());
    /// });
    /// ```
    pub async fn connect_cluster_with_runtime<RK>(
        uris: &[&str],
        runtime: Runtime<RK>,
    ) -> Result<Connection, Error>
    where
        RK: RuntimeKit + Send + Sync + Clone + 'static,
    {
        let uris = uris
            .iter()
            .map(|uri| Uri::parse(uri))
            .collect::<Result<Vec<_>, _>>()?;
        Connection::connect_nodes(uris, runtime).await
    }

    /// Connects to the first of `uris` that answers, and sets up recovery
    /// that goes round them.
    async fn connect_nodes<RK>(uris: Vec<Uri>, runtime: Runtime<RK>) -> Result<Connection, Error>
    where
        RK: RuntimeKit + Send + Sync + Clone + 'static,
    {
        if uris.is_empty() {
            return Err(Error::InvalidUri {
                reason: "no node to connect to".into(),
            });
        }
        let nodes = Arc::new(Nodes {
            uris: uris.into_boxed_slice(),
            current: AtomicUsize::new(0),
        });
        let inner = nodes.open_first(0, runtime.clone()).await?;
        let (again, opener, sleeper) = (nodes.clone(), runtime.clone(), runtime.clone());
        let hooks = Hooks {
            // One node per attempt: the one after the node of the newest
            // connection, which failed (or whose successor did).
            connect: Box::new(move || {
                let (nodes, runtime) = (again.clone(), opener.clone());
                Box::pin(async move { nodes.open_next(runtime).await })
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
            nodes,
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

    /// The URI of the node connected to (its password redacted when
    /// shown): after a failover, the node the connection moved to; while
    /// it reconnects, the node it last tried.
    pub fn uri(&self) -> &Uri {
        &self.nodes.uris[self.nodes.current.load(Ordering::Acquire)]
    }

    /// The URIs of the nodes this connection may use, in the order given.
    pub fn nodes(&self) -> &[Uri] {
        &self.nodes.uris
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
            .field("uri", self.uri())
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl Nodes {
    /// Opens a connection to the first node from `start` on (in turn,
    /// wrapping) that answers; the node that refuses the credentials or
    /// the vhost ends the search.
    async fn open_first<RK>(&self, start: usize, runtime: Runtime<RK>) -> Result<lapin::Connection, Error>
    where
        RK: RuntimeKit + Send + Sync + Clone + 'static,
    {
        let mut last = None;
        for i in (0..self.uris.len()).map(|k| (start + k) % self.uris.len()) {
            match open(&self.uris[i], runtime.clone()).await {
                Ok(conn) => {
                    self.current.store(i, Ordering::Release);
                    return Ok(conn);
                }
                Err(e @ (Error::AccessRefused { .. } | Error::VhostRefused { .. })) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one node was tried"))
    }

    /// One reconnect attempt: the node after the current one. On success
    /// it becomes the current node; on failure too, so that the next
    /// attempt tries the one after it.
    async fn open_next<RK>(&self, runtime: Runtime<RK>) -> Result<lapin::Connection, Error>
    where
        RK: RuntimeKit + Send + Sync + Clone + 'static,
    {
        let next = (self.current.load(Ordering::Acquire) + 1) % self.uris.len();
        self.current.store(next, Ordering::Release);
        open(&self.uris[next], runtime).await
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
