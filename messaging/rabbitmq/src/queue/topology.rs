//! `Topology`: what a queue declares on the broker, and the channels it
//! publishes and consumes on, re-made on each new connection generation
//! (see [`crate::recovery`]) by the machinery of [`crate::channels`],
//! which the event bus shares.
//!
//! The publishing channel is a [`Publisher`] that declares both queues on
//! each new channel; a consumer's channel is its own and re-made by its
//! consumer, after the publisher declared the queues on its generation.

use super::QueueOptions;
pub(crate) use crate::channels::Live;
use crate::channels::{Publisher, Refusals, open_on};
use crate::{Connection, Error};
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, Consumer};
use weft_messaging::queue::Overflow;

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

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(value.into())
}

/// The arguments the queue is declared with, its dead letters going to
/// the queue `dead`: see the table in the [queue's docs](super).
pub(crate) fn arguments(options: &QueueOptions, dead: &str) -> FieldTable {
    let mut arguments = quorum();
    arguments.insert("x-dead-letter-exchange".into(), text(""));
    arguments.insert("x-dead-letter-routing-key".into(), text(dead));
    // At-least-once dead-lettering asks for `reject-publish`; without a
    // length limit it never refuses a publish. A queue that drops its
    // head dead-letters at most once (RabbitMQ would fall back to it).
    let (strategy, overflow) = match (options.capacity, options.overflow) {
        (Some(_), Overflow::DropOldest) => ("at-most-once", "drop-head"),
        _ => ("at-least-once", "reject-publish"),
    };
    arguments.insert("x-dead-letter-strategy".into(), text(strategy));
    arguments.insert("x-overflow".into(), text(overflow));
    if let Some(capacity) = options.capacity {
        // A quorum queue refuses publishes once it holds *more* than
        // `x-max-length` ready messages, so it takes one past the limit;
        // dropping its head, it keeps exactly the limit.
        let limit = match options.overflow {
            Overflow::DropOldest => capacity,
            Overflow::Reject | Overflow::Wait => capacity - 1,
        };
        arguments.insert("x-max-length".into(), AMQPValue::LongLongInt(i64::from(limit)));
    }
    let limit = i64::from(options.max_deliveries - 1);
    arguments.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(limit));
    if let Some(ttl) = options.ttl {
        let millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(millis));
    }
    arguments
}

impl Topology {
    /// The topology of the queue `name` (declared with `arguments`) and
    /// its dead-letter queue `dead`, whose publisher reads a refusal as
    /// `refusals` says.
    pub(crate) fn new(
        conn: Connection,
        name: ShortString,
        dead: ShortString,
        arguments: FieldTable,
        prefetch: u16,
        refusals: Refusals,
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
            publisher: Publisher::with_refusals(conn.clone(), declare, refusals),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn get<'a>(arguments: &'a FieldTable, key: &str) -> Option<&'a AMQPValue> {
        arguments.inner().get(key)
    }

    #[test]
    fn without_a_capacity_the_arguments_are_those_declared_before_capacities() {
        let mut options = QueueOptions::new();
        options
            .ttl(Duration::from_millis(1500))
            .overflow(Overflow::DropOldest)
            .redelivery_backoff(Duration::from_millis(1), Duration::from_millis(2));
        let arguments = arguments(&options, "jobs.dead");
        let mut expected = quorum();
        expected.insert("x-dead-letter-exchange".into(), text(""));
        expected.insert("x-dead-letter-routing-key".into(), text("jobs.dead"));
        expected.insert("x-dead-letter-strategy".into(), text("at-least-once"));
        expected.insert("x-overflow".into(), text("reject-publish"));
        expected.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(4));
        expected.insert("x-message-ttl".into(), AMQPValue::LongLongInt(1500));
        assert_eq!(arguments, expected);
    }

    #[test]
    fn each_overflow_policy_has_its_length_limit_and_x_overflow() {
        for (overflow, limit, x_overflow, strategy) in [
            (Overflow::Reject, 9, "reject-publish", "at-least-once"),
            (Overflow::Wait, 9, "reject-publish", "at-least-once"),
            (Overflow::DropOldest, 10, "drop-head", "at-most-once"),
        ] {
            let mut options = QueueOptions::new();
            options.capacity(10).overflow(overflow);
            let arguments = arguments(&options, "jobs.dead");
            assert_eq!(
                get(&arguments, "x-max-length"),
                Some(&AMQPValue::LongLongInt(limit)),
                "{overflow:?}"
            );
            assert_eq!(
                get(&arguments, "x-overflow"),
                Some(&text(x_overflow)),
                "{overflow:?}"
            );
            assert_eq!(
                get(&arguments, "x-dead-letter-strategy"),
                Some(&text(strategy)),
                "{overflow:?}"
            );
        }
        // Zero is raised to one: a limit of 0 holds one message.
        let mut options = QueueOptions::new();
        options.capacity(0).overflow(Overflow::Reject);
        let arguments = arguments(&options, "jobs.dead");
        assert_eq!(get(&arguments, "x-max-length"), Some(&AMQPValue::LongLongInt(0)));
    }
}
