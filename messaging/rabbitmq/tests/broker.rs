//! weft-rabbitmq against a real broker: the private RabbitMQ node of this
//! test binary (`weft_test_support::rabbitmq`). Where `rabbitmq-server` is
//! not installed, every test here is ignored, with the line that says how
//! to install it.

mod broker {
    pub(crate) mod churn;
    pub(crate) mod close;
    pub(crate) mod connect;
    pub(crate) mod consumer_killed;
    pub(crate) mod overflow;
    pub(crate) mod proxy;
    pub(crate) mod queue;
    pub(crate) mod queue_loss;
    pub(crate) mod queue_recovery;
    pub(crate) mod round_trip;
    pub(crate) mod rpc;
}

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weft_rabbitmq::Connection;
use weft_rabbitmq::lapin::options::QueueDeclareOptions;
use weft_rabbitmq::lapin::types::FieldTable;
use weft_test_support::rabbitmq::broker;

/// A bound on every wait, so that a broken broker fails the test rather
/// than hanging it. Never asserted on.
const BOUND: Duration = Duration::from_secs(30);

/// `future`, or a panic naming `what` if it takes longer than [`BOUND`].
async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match weft::time::timeout(BOUND, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: nothing within {BOUND:?}"),
    }
}

/// A connection to `uri` on the current weft runtime.
async fn connect_to(uri: &str) -> Connection {
    Connection::connect_with_runtime(uri, weft::compat::async_rs::current())
        .await
        .unwrap()
}

/// A connection to this binary's private node.
async fn connect() -> Connection {
    connect_to(&broker().expect("the broker").uri()).await
}

/// Messages ready in the broker's queue `name`, as the broker counts them
/// (a passive declare).
async fn ready(conn: &Connection, name: &str) -> u32 {
    let channel = conn.channel().await.unwrap();
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let count = channel
        .queue_declare(name.into(), passive, FieldTable::default())
        .await
        .unwrap()
        .message_count();
    channel.close(200, "counted".into()).await.unwrap();
    count
}

/// A name no other test of this binary uses: the tests share the broker.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A multi-thread weft runtime, the flavour lapin's I/O thread is meant
/// for, and a current-thread one.
fn runtimes() -> Vec<(&'static str, weft::Runtime)> {
    weft_test_support::runtimes::runtimes()
}
