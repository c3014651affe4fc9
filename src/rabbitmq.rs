//! RabbitMQ, on lapin running on weft: [`weft_rabbitmq`] re-exported, and
//! [`connect`] (one node) and [`connect_cluster`] (several, with failover),
//! which open a connection on the current weft runtime.
//!
//! [`queue()`] puts weft's work queue on a RabbitMQ quorum queue: the same
//! [`Queue`](crate::queue::Queue), producers, consumers and dead letters
//! as the in-memory queue, so moving a queue onto the broker changes the
//! line that makes it:
//!
//! ```no_run
//! use weft::queue::Utf8;
//! use weft::rabbitmq::QueueOptions;
//! let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
//!
//! let rt = weft::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let conn = weft::rabbitmq::connect(&uri).await.unwrap();
//!     // In memory it was: let jobs = weft::queue::Queue::new(1024);
//!     let jobs = weft::rabbitmq::queue(&conn, "jobs", &QueueOptions::new(), Utf8).await.unwrap();
//!     jobs.producer().publish("resize photo 7".to_string()).await.unwrap();
//!     let job = jobs.consumer().recv().await.unwrap();
//!     job.ack().unwrap();
//! });
//! ```
//!
//! [`requester()`] and [`responder()`] put the queue's request / reply
//! (`weft::queue::Requester`) on the broker too, over RabbitMQ's direct
//! reply-to (`amq.rabbitmq.reply-to`) with correlation ids:
//! `weft::rabbitmq::requester(&conn, "prices", &QueueOptions::new(), Utf8, Utf8)`
//! and `weft::rabbitmq::responder(…)` with the same arguments; the [`rpc`]
//! module says what is lost when a connection is.
//!
//! [`event_bus()`] does the same for the event bus, on RabbitMQ streams
//! (one per partition): `weft::rabbitmq::event_bus(&conn, &EventOptions::new(), Utf8)`
//! where it was `EventBus::new()`; the [`events`] module says how each part
//! maps onto the broker.
//!
//! lapin reaches weft through [`crate::compat::async_rs`]: its I/O thread
//! blocks on weft's reactor, its heartbeats and operations run as weft
//! tasks. A multi-thread runtime suits it best: there the workers drive
//! the sockets while lapin's thread waits.

pub use weft_rabbitmq::*;

use crate::compat::async_rs::try_current;
use std::io;

/// Connects to the broker at `uri` on the weft runtime running this
/// future; see [`Connection::connect_with_runtime`] and [`Uri`].
///
/// # Errors
///
/// As [`Connection::connect_with_runtime`]; [`Error::Io`] when polled
/// outside a weft runtime.
///
/// # Cancel safety
///
/// As [`Connection::connect_with_runtime`].
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Poll, Waker};
///
/// // Polled outside a weft runtime: an error, not a panic.
/// let mut outside = std::pin::pin!(weft::rabbitmq::connect("amqp://127.0.0.1"));
/// let polled = outside.as_mut().poll(&mut Context::from_waker(Waker::noop()));
/// assert!(matches!(polled, Poll::Ready(Err(weft::rabbitmq::Error::Io(_)))));
/// ```
///
/// Connecting to a broker on this machine (the integration tests in
/// `messaging/rabbitmq/tests/` run this against a private node):
///
/// ```no_run
/// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
/// let rt = weft::Runtime::new().unwrap();
/// rt.block_on(async {
///     let conn = weft::rabbitmq::connect(&uri).await.unwrap();
///     assert!(conn.is_connected());
///     conn.close().await.unwrap();
/// });
/// ```
pub async fn connect(uri: &str) -> Result<Connection, Error> {
    let runtime = try_current().map_err(|e| Error::Io(io::Error::other(e)))?;
    Connection::connect_with_runtime(uri, runtime).await
}

/// Connects to a cluster on the weft runtime running this future: to the
/// first of the nodes at `uris` that answers, failing over to the next
/// after a loss; see [`Connection::connect_cluster_with_runtime`].
///
/// # Errors
///
/// As [`Connection::connect_cluster_with_runtime`]; [`Error::Io`] when
/// polled outside a weft runtime.
///
/// # Cancel safety
///
/// As [`Connection::connect_cluster_with_runtime`].
///
/// # Examples
///
/// ```no_run
/// let nodes = ["amqp://guest:guest@10.0.0.1:5672/%2f", "amqp://guest:guest@10.0.0.2:5672/%2f"];
/// let rt = weft::Runtime::new().unwrap();
/// rt.block_on(async {
///     let conn = weft::rabbitmq::connect_cluster(&nodes).await.unwrap();
///     println!("connected to {}", conn.uri());
/// });
/// ```
pub async fn connect_cluster(uris: &[&str]) -> Result<Connection, Error> {
    let runtime = try_current().map_err(|e| Error::Io(io::Error::other(e)))?;
    Connection::connect_cluster_with_runtime(uris, runtime).await
}
