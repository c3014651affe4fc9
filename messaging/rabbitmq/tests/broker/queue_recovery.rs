//! The queue recovers from a connection cut mid-stream: through a proxy
//! ([`Proxy`]) that cuts every connection once a third of the publishes
//! are confirmed, no confirmed message is lost and every duplicate is
//! flagged (see `churn`).

use crate::broker::churn::{assert_recovered, churn};
use crate::broker::proxy::Proxy;
use crate::unique;
use std::sync::Arc;
use weft::queue::Utf8;
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

const MESSAGES: usize = 3_000;

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_connection_cut_mid_stream_loses_no_confirmed_message_and_flags_duplicates() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, _held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Arc::new(Proxy::start(broker.port(), held_tx));
        let kit = weft::compat::async_rs::current();
        let conn = Connection::connect_with_runtime(&proxy.uri(), kit).await.unwrap();
        let name = unique("weft-cut");
        let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        let cutter = proxy.clone();
        let outcome = churn(&conn, &queue, MESSAGES, move || cutter.cut()).await;
        assert_recovered(&outcome);
        eprintln!(
            "cut: {} duplicates, {} failed acks",
            outcome.duplicates, outcome.failed_acks
        );
    });
}
