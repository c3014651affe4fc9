//! `Topology`: what a queue declares on the broker, and the channels it
//! publishes and consumes on, re-made on each new connection generation
//! (see [`crate::recovery`]) by the machinery of [`crate::channels`],
//! which the event bus shares.
//!
//! The publishing channel is a [`Publisher`] that declares both queues on
//! each new channel; a consumer's channel is its own and re-made by its
//! consumer, after the publisher declared the queues on its generation.

pub(crate) use crate::channels::Live;
use crate::channels::{Publisher, open_on};
use crate::{Connection, Error};
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, Consumer};

/// What a queue declares, and its publishing channel.
pub(crate) struct Topology {
    pub(crate) conn: Connection,
    pub(crate) name: ShortString,
    pub(crate) dead: ShortString,
    pub(crate) prefetch: u16,
    /// Declares both queues on each new channel.
    publisher: Publisher,
}

pub(crate) fn quorum() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    arguments
}

impl Topology {
    /// The topology of the queue `name` (declared with `arguments`) and
    /// its dead-letter queue `dead`.
    pub(crate) fn new(
        conn: Connection,
        name: ShortString,
        dead: ShortString,
        arguments: FieldTable,
        prefetch: u16,
    ) -> Topology {
        let (main, dead_letters) = (name.clone(), dead.clone());
        let declare = Box::new(move |channel: Channel| {
            let (main, dead_letters, arguments) = (main.clone(), dead_letters.clone(), arguments.clone());
            let declaring = async move {
                let durable = QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                };
                channel.queue_declare(dead_letters, durable, quorum()).await?;
                channel.queue_declare(main, durable, arguments).await?;
                Ok(())
            };
            Box::pin(declaring) as crate::recovery::BoxFut<_>
        });
        Topology {
            publisher: Publisher::new(conn.clone(), declare),
            conn,
            name,
            dead,
            prefetch,
        }
    }

    /// Reports that `live` died of `error`: the connection recovers if it
    /// did not already.
    pub(crate) fn lost(&self, live: &Live, error: lapin::Error) {
        live.lost(&self.conn, error);
    }

    /// The publisher, for [`crate::channels::publish_confirmed`].
    pub(crate) fn publishing(&self) -> &Publisher {
        &self.publisher
    }

    /// The publishing channel: the open one, or a new one on the current
    /// connection (waiting for recovery), with the queues declared anew.
    ///
    /// # Errors
    ///
    /// The connection gave up or was closed, or the broker refused a
    /// declaration while the connection stayed up.
    pub(crate) async fn publisher(&self) -> Result<Live, Error> {
        self.publisher.live().await
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
        // Declared on this generation before anyone consumes.
        let ready = || async {
            let live = self.publisher().await?;
            Ok((live.generation, live.conn))
        };
        let prefetch = self.prefetch;
        open_on(&self.conn, ready, |channel: Channel| {
            let queue = queue.clone();
            async move {
                channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
                channel
                    .basic_consume(
                        queue,
                        "".into(),
                        BasicConsumeOptions::default(),
                        FieldTable::default(),
                    )
                    .await
            }
        })
        .await
    }
}
