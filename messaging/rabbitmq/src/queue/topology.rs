//! `Topology`: what a queue declares on the broker, and the channels it
//! publishes and consumes on, re-made on each new connection generation
//! (see [`crate::recovery`]).
//!
//! The publishing channel sits behind an async mutex, so that after a
//! loss one task re-declares the queues and opens the new channel while
//! the other publishes wait for it; a consumer's channel is its own and
//! re-made by its consumer.
//!
//! # Closing channels
//!
//! Every channel of a queue is closed by [`close_now`] before its last
//! clone drops, never left to lapin's close-on-drop: that close runs later,
//! on a task of lapin's, and when [`Connection::close`](crate::Connection::close)
//! has marked the connection closing by then, it fails and lapin reports
//! its failure as the *connection's* error, failing the user's close
//! (`InvalidChannelState(Closing, "channel.close")`). A channel that is
//! already closing is not closed on drop.

use crate::{Connection, Error};
use lapin::options::{BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, Consumer};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use weft_primitives::sync::Mutex;

/// Re-makes of a channel one operation may try before giving up: each
/// waits for a new connection, so only a connection that keeps dying
/// right after each reconnect uses them up.
pub(crate) const MAX_ROUNDS: u32 = 16;

/// What a queue declares, and its publishing channel.
pub(crate) struct Topology {
    pub(crate) conn: Connection,
    pub(crate) name: ShortString,
    pub(crate) dead: ShortString,
    /// The main queue's arguments (the dead-letter queue's are `quorum()`).
    pub(crate) arguments: FieldTable,
    pub(crate) prefetch: u16,
    /// The confirm-mode channel of the newest generation, if opened.
    publisher: Mutex<Option<(u64, Channel)>>,
}

impl Drop for Topology {
    fn drop(&mut self) {
        if let Some((_, channel)) = self.publisher.get_mut() {
            close_now(channel, "the queue is dropped");
        }
    }
}

/// A channel, and the generation of the connection it is on.
#[derive(Clone)]
pub(crate) struct Live {
    pub(crate) generation: u64,
    pub(crate) conn: Arc<lapin::Connection>,
    pub(crate) channel: Channel,
}

impl Live {
    /// True if the channel or its connection died: an error on it is a
    /// loss, to recover from, not the broker's answer.
    pub(crate) fn is_lost(&self) -> bool {
        !self.channel.status().connected() || !self.conn.status().connected()
    }
}

/// Closes `channel` at once, for `reason`, if it is open: the first poll
/// of lapin's close queues `channel.close` and marks the channel closing,
/// which is all that is needed (see [Closing channels](self#closing-channels));
/// the broker's `close-ok` is then awaited by no one.
pub(crate) fn close_now(channel: &Channel, reason: &str) {
    if !channel.status().connected() {
        return;
    }
    let close = pin!(channel.close(200, reason.into()));
    let _ = close.poll(&mut Context::from_waker(Waker::noop()));
}

pub(crate) fn quorum() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    arguments
}

impl Topology {
    pub(crate) fn new(
        conn: Connection,
        name: ShortString,
        dead: ShortString,
        arguments: FieldTable,
        prefetch: u16,
    ) -> Topology {
        Topology {
            conn,
            name,
            dead,
            arguments,
            prefetch,
            publisher: Mutex::new(None),
        }
    }

    /// Reports that `live` died of `error`: the connection recovers if it
    /// did not already.
    pub(crate) fn lost(&self, live: &Live, error: lapin::Error) {
        if !live.conn.status().connected() {
            self.conn.link().lost(live.generation, Error::from(error));
        }
    }

    /// The publishing channel: the open one, or a new one on the current
    /// connection (waiting for recovery), with the queues declared anew.
    ///
    /// # Errors
    ///
    /// The connection gave up or was closed, or the broker refused a
    /// declaration while the connection stayed up.
    pub(crate) async fn publisher(&self) -> Result<Live, Error> {
        let mut slot = self.publisher.lock().await;
        let mut rounds = 0;
        loop {
            let (generation, conn) = self.conn.link().current().await?;
            if let Some((g, channel)) = &*slot
                && *g == generation
                && channel.status().connected()
            {
                return Ok(Live {
                    generation,
                    conn,
                    channel: channel.clone(),
                });
            }
            match self.open_publisher(&conn).await {
                Ok(channel) => {
                    *slot = Some((generation, channel.clone()));
                    return Ok(Live {
                        generation,
                        conn,
                        channel,
                    });
                }
                Err(err) if conn.status().connected() || rounds >= MAX_ROUNDS => return Err(err.into()),
                Err(err) => {
                    rounds += 1;
                    self.conn.link().lost(generation, Error::from(err));
                }
            }
        }
    }

    async fn open_publisher(&self, conn: &lapin::Connection) -> Result<Channel, lapin::Error> {
        let channel = conn.create_channel().await?;
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(self.dead.clone(), durable, quorum())
            .await?;
        channel
            .queue_declare(self.name.clone(), durable, self.arguments.clone())
            .await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(channel)
    }

    /// A new channel consuming `queue` (the queue's name or its dead
    /// letters') with the queue's prefetch, on the current connection
    /// (waiting for recovery). The queues exist: the publishing channel
    /// declares them first on every generation.
    ///
    /// # Errors
    ///
    /// As [`publisher`](Self::publisher).
    pub(crate) async fn subscribe(&self, queue: ShortString) -> Result<(Live, Consumer), Error> {
        let mut rounds = 0;
        loop {
            // Declared on this generation before anyone consumes.
            let live = self.publisher().await?;
            let (generation, conn) = (live.generation, live.conn);
            match self.open_consumer(&conn, queue.clone()).await {
                Ok((channel, consumer)) => {
                    let live = Live {
                        generation,
                        conn,
                        channel,
                    };
                    return Ok((live, consumer));
                }
                Err(err) if conn.status().connected() || rounds >= MAX_ROUNDS => return Err(err.into()),
                Err(err) => {
                    rounds += 1;
                    self.conn.link().lost(generation, Error::from(err));
                }
            }
        }
    }

    async fn open_consumer(
        &self,
        conn: &lapin::Connection,
        queue: ShortString,
    ) -> Result<(Channel, Consumer), lapin::Error> {
        let channel = conn.create_channel().await?;
        channel
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await?;
        let consumer = channel
            .basic_consume(
                queue,
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok((channel, consumer))
    }
}
