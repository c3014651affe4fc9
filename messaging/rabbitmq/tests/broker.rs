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

use std::sync::atomic::{AtomicUsize, Ordering};

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
