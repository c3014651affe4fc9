//! The responder's side: requests taken from weft's queue on the broker,
//! and replies published to each request's `reply_to` on a confirm
//! channel of the responder's own.

use super::REPLY_TO;
use crate::channels::{MAX_ROUNDS, Publisher, Round, Sending, publish_once};
use crate::queue::amqp::{short, to_amqp};
use crate::{Connection, Error, QueueOptions};
use lapin::types::ShortString;
use lapin::{BasicProperties, Channel};
use std::fmt;
use std::io;
use std::ops::Deref;
use std::sync::Arc;
use weft_messaging::queue::{
    CORRELATION_ID, Codec, Consumer, Delivery, PublishError, Queue, RecvError, ReplyError,
};
use weft_messaging::{MessageId, Properties, StoreError};

/// Answers requests from a queue on RabbitMQ; from [`responder`].
/// Responders compete for requests as consumers of a queue do.
pub struct Responder<Req: 'static, Rep: 'static> {
    requests: Queue<Req>,
    consumer: Consumer<Req>,
    replies: Arc<Replies<Rep>>,
}

/// A request in a responder's hands. Dereferences to the request message;
/// answer it with [`reply`](Request::reply). Dropped without a reply, the
/// request is delivered again, as a [`Delivery`] dropped without a
/// verdict is.
pub struct Request<Req: 'static, Rep: 'static> {
    delivery: Delivery<Req>,
    correlation: Option<MessageId>,
    replies: Arc<Replies<Rep>>,
}

/// The reply channel of a responder and its codec.
struct Replies<Rep: 'static> {
    publisher: Publisher,
    codec: Box<dyn Codec<Rep>>,
}

/// A responder for the quorum queue `name` of the broker behind `conn`:
/// requests are read by `requests`, replies turned into bytes by
/// `replies`.
///
/// Requests come through weft's queue on the broker, made by
/// [`queue`](crate::queue()) with `options`: its recovery, prefetch, ack
/// deadlines, delivery limit and dead letters apply to them. Replies go
/// out on a confirm channel of the responder's own, opened at the first
/// reply and again after a connection loss.
///
/// # Errors
///
/// As [`queue`](crate::queue()).
///
/// # Cancel safety
///
/// As [`queue`](crate::queue()).
///
/// # Examples
///
/// ```no_run
/// use weft_messaging::queue::Utf8;
/// use weft_rabbitmq::{Connection, QueueOptions};
/// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
///
/// let rt = weft::Runtime::new().unwrap();
/// rt.block_on(async {
///     let conn = Connection::connect_with_runtime(&uri, weft::compat::async_rs::current())
///         .await
///         .unwrap();
///     let options = QueueOptions::new().prefetch(4).clone();
///     let mut responder = weft_rabbitmq::responder(&conn, "shout", &options, Utf8, Utf8)
///         .await
///         .unwrap();
///     while let Ok(request) = responder.recv().await {
///         if request.is_empty() {
///             // Nothing to answer: dead-letter it.
///             request.into_delivery().reject().unwrap();
///             continue;
///         }
///         let loud = request.to_uppercase();
///         if let Err(e) = request.reply(loud).await {
///             eprintln!("{e}");
///         }
///     }
/// });
/// ```
pub async fn responder<Req, Rep, CReq, CRep>(
    conn: &Connection,
    name: &str,
    options: &QueueOptions,
    requests: CReq,
    replies: CRep,
) -> Result<Responder<Req, Rep>, Error>
where
    Req: Clone + Send + 'static,
    Rep: Send + 'static,
    CReq: Codec<Req>,
    CRep: Codec<Rep>,
{
    let requests = crate::queue(conn, name, options, requests).await?;
    // Nothing to declare: replies go to the default exchange.
    let declare = Box::new(|_: Channel| Box::pin(async { Ok(()) }) as crate::recovery::BoxFut<_>);
    Ok(Responder {
        consumer: requests.consumer(),
        requests,
        replies: Arc::new(Replies {
            publisher: Publisher::new(conn.clone(), declare),
            codec: Box::new(replies),
        }),
    })
}

impl<Req: Clone + Send + 'static, Rep: Send + 'static> Responder<Req, Rep> {
    /// The next request.
    ///
    /// # Errors
    ///
    /// As [`Consumer::recv`]: a store error when the connection gave up,
    /// [`RecvError::Closed`] once [`requests`](Self::requests) is closed.
    ///
    /// # Cancel safety
    ///
    /// As [`Consumer::recv`].
    pub async fn recv(&mut self) -> Result<Request<Req, Rep>, RecvError> {
        let delivery = self.consumer.recv().await?;
        let correlation = delivery
            .properties()
            .and_then(|p| p.header(CORRELATION_ID))
            .map(MessageId::from);
        Ok(Request {
            delivery,
            correlation,
            replies: self.replies.clone(),
        })
    }

    /// The request queue's handle: its stats, its dead letters, `close`.
    pub fn requests(&self) -> &Queue<Req> {
        &self.requests
    }
}

impl<Req: Clone + Send + 'static, Rep: Send + 'static> Request<Req, Rep> {
    /// The request's correlation id, if it has one (a [`Requester`]'s
    /// always does).
    ///
    /// [`Requester`]: super::Requester
    pub fn correlation_id(&self) -> Option<&MessageId> {
        self.correlation.as_ref()
    }

    /// Where the reply goes (the name the broker gave the requester's
    /// `amq.rabbitmq.reply-to`), if the request says.
    pub fn reply_to(&self) -> Option<&str> {
        self.delivery.properties().and_then(|p| p.header(REPLY_TO))
    }

    /// Publishes `reply` to the request's reply-to, with its correlation
    /// id, waits for the broker's confirm, then acks the request.
    ///
    /// A requester that is gone is not an error: the broker drops the
    /// reply and confirms it all the same (see the
    /// [module docs](super#delivery-guarantees)).
    ///
    /// # Errors
    ///
    /// - [`ReplyError::Publish`] if the reply was not published: a request
    ///   without reply-to (`NotStored`, kind `InvalidInput`: settle such
    ///   requests through [`into_delivery`](Self::into_delivery) instead,
    ///   or they come back until the delivery limit dead-letters them),
    ///   the codec refused the reply, the broker refused it, or the
    ///   connection gave up. The request was not acked and will be
    ///   delivered again.
    /// - [`ReplyError::Ack`] if the reply was published but the request
    ///   could not be acked (its ack deadline passed, or its channel died):
    ///   it may be handled, and answered, again.
    ///
    /// # Cancel safety
    ///
    /// Dropped before the reply is confirmed, the request is delivered
    /// again (and its reply may have been sent).
    pub async fn reply(self, reply: Rep) -> Result<(), ReplyError<Rep>> {
        let not_stored = |value, kind, why: &str| {
            let error = io::Error::new(kind, why.to_owned());
            Err(ReplyError::Publish(PublishError::Store(StoreError::NotStored {
                value,
                error,
            })))
        };
        let Some(to) = self.reply_to() else {
            let why = "the request has no reply-to: there is nowhere to send the reply";
            return not_stored(reply, io::ErrorKind::InvalidInput, why);
        };
        let to = match short(to, "reply-to") {
            Ok(to) => to,
            Err(e) => return not_stored(reply, e.kind(), &e.to_string()),
        };
        let mut props = Properties::new().with_id(MessageId::generate());
        if let Some(id) = &self.correlation {
            props.set_header(CORRELATION_ID, id.as_str());
        }
        let amqp = match to_amqp(Some(&props)) {
            Ok(amqp) => amqp,
            Err(e) => return not_stored(reply, e.kind(), &e.to_string()),
        };
        let mut bytes = Vec::new();
        if let Err(e) = self.replies.codec.encode(&reply, &mut bytes) {
            return not_stored(reply, io::ErrorKind::InvalidInput, &e.to_string());
        }
        match self.replies.publish(to, &bytes, &amqp).await {
            Ok(()) => {}
            Err(Sent::NotStored(error)) => {
                return Err(ReplyError::Publish(PublishError::Store(StoreError::NotStored {
                    value: reply,
                    error,
                })));
            }
            Err(Sent::Unknown(error)) => {
                return Err(ReplyError::Publish(PublishError::Store(StoreError::Unknown {
                    error,
                })));
            }
        }
        self.delivery.ack().map_err(ReplyError::Ack)
    }

    /// The delivery of the request, to settle it without a reply
    /// ([`nack`](Delivery::nack), [`reject`](Delivery::reject)).
    pub fn into_delivery(self) -> Delivery<Req> {
        self.delivery
    }
}

/// Why a reply was not confirmed.
enum Sent {
    /// Certainly not published.
    NotStored(io::Error),
    /// Perhaps published.
    Unknown(io::Error),
}

impl<Rep: 'static> Replies<Rep> {
    /// Publishes a reply to `to` (not mandatory: a requester that is gone
    /// is no error of the responder's) and waits for the confirm, sending
    /// it again on a new channel after a connection loss (a second copy
    /// is a late reply to its requester).
    async fn publish(&self, to: ShortString, bytes: &[u8], amqp: &BasicProperties) -> Result<(), Sent> {
        let conn = self.publisher.connection();
        let mut sent = false;
        for _ in 0..MAX_ROUNDS {
            let live = match self.publisher.live().await {
                Ok(live) => live,
                Err(e) if sent => return Err(Sent::Unknown(io::Error::other(e))),
                Err(e) => return Err(Sent::NotStored(io::Error::other(e))),
            };
            let again = sent;
            sent = true;
            // A second copy is a late reply, told apart by its requester
            // already: not marked.
            let send = Sending {
                mandatory: false,
                republished: false,
            };
            match publish_once(&live, conn, &to, bytes, amqp, send).await {
                // Not mandatory: nothing is returned.
                Round::Confirmed | Round::Unroutable => return Ok(()),
                Round::Refused => {
                    let error = io::Error::other("the broker refused the reply");
                    return Err(if again {
                        Sent::Unknown(error)
                    } else {
                        Sent::NotStored(error)
                    });
                }
                Round::Lost => {}
                Round::Failed(error) => return Err(Sent::Unknown(error)),
            }
        }
        Err(Sent::Unknown(io::Error::other(
            "the connection kept failing: gave up sending the reply",
        )))
    }
}

impl<Req: 'static, Rep: 'static> Deref for Request<Req, Rep> {
    type Target = Req;

    fn deref(&self) -> &Req {
        &self.delivery
    }
}

impl<Req: 'static, Rep: 'static> fmt::Debug for Responder<Req, Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder")
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl<Req: fmt::Debug + 'static, Rep: 'static> fmt::Debug for Request<Req, Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("delivery", &self.delivery)
            .field("correlation_id", &self.correlation)
            .finish_non_exhaustive()
    }
}
