//! weft's RabbitMQ backend, on [lapin] (AMQP 0-9-1).
//!
//! - A [`Connection`] opened from a [`Uri`] whose password never shows in
//!   text, with typed [`Error`]s for refused credentials and vhosts, and
//!   lapin's channels for what this crate does not wrap.
//! - [`queue()`]: weft's work queue (`weft_messaging::queue::Queue`) on a
//!   RabbitMQ quorum queue, with publisher confirms, consumer acks,
//!   delivery limits and a dead-letter queue; the [`queue` module](mod@queue)
//!   says how each operation maps onto AMQP.
//! - [`requester()`] and [`responder()`]: request / reply over such a
//!   queue, on RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to`) with
//!   correlation ids; the [`rpc` module](mod@rpc) says how.
//! - [`event_bus()`]: weft's event bus (`weft_messaging::events::EventBus`)
//!   on RabbitMQ streams, one per partition, with replay by offset or time
//!   and consumer groups' commits stored in the broker; the
//!   [`events` module](mod@events) says how.
//! - Recovery from connection loss, which lapin does not survive on its
//!   own across a broker restart: a [`Connection`] reconnects with
//!   back-off ([`Recovery`]) and reports each step as a [`Status`]; its
//!   queues and event buses re-declare their queues and streams, resume
//!   their consumers (a bus's readers exactly where they stopped) and
//!   republish what was not confirmed, flagged (the
//!   [`queue`](mod@queue#connection-loss) and
//!   [`events`](mod@events#connection-loss) modules say what a caller
//!   sees).
//!
//! The crate is runtime-agnostic: lapin reaches its runtime through the
//! [async-rs] traits, and the caller passes the runtime. On weft that is
//! `weft::compat::async_rs`; the facade's `weft::rabbitmq` (feature
//! `rabbitmq`) re-exports this crate and adds `connect(uri)`, which passes
//! the current weft runtime. lapin is built without its default features:
//! no tokio, no smol, no async-io in the tree (a test checks it).
//!
//! # Features
//!
//! - `tls`: `amqps://` through lapin's rustls, on ring, trusting the
//!   system's roots and those given with `Uri::with_tls_roots` (a private
//!   CA). It brings no runtime either (a test checks that tree too).
//!   Without it, `amqps://` URIs fail to connect. The facade's feature is
//!   `rabbitmq-tls`.
//!
//! # Examples
//!
//! ```no_run
//! use weft_rabbitmq::Connection;
//! let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
//!
//! let rt = weft::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let conn = Connection::connect_with_runtime(&uri, weft::compat::async_rs::current())
//!         .await
//!         .unwrap();
//!     let channel = conn.channel().await.unwrap();
//!     # let _ = channel;
//!     conn.close().await.unwrap();
//! });
//! ```
//!
//! [lapin]: https://docs.rs/lapin
//! [async-rs]: https://docs.rs/async-rs
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod channels;
mod connection;
mod error;
pub mod events;
mod headers;
pub mod queue;
mod recovery;
pub mod rpc;
mod uri;

pub use self::connection::Connection;
pub use self::error::Error;
pub use self::events::{EventOptions, event_bus};
pub use self::queue::{QueueOptions, queue};
pub use self::recovery::{Recovery, Status};
pub use self::rpc::{DIRECT_REPLY_TO, REPLY_TO, Request, Requester, Responder, requester, responder};
pub use self::uri::Uri;

/// lapin, the AMQP client underneath: its channels, options and types.
pub use lapin;
