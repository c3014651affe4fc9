//! A consumer process killed with `SIGKILL` while it holds deliveries:
//! the broker gives every one of them to the next consumer, flagged as
//! redelivered, with its delivery count (`x-delivery-count` + 1) raised
//! once per consumer that died holding it.
//!
//! The consumers are child processes: this test binary run again on this
//! test alone, with [`CHILD_URI`] set. A child takes [`HELD`] deliveries
//! (its prefetch, so the broker sends it no more), reports them on stdout
//! and waits to be killed.

use crate::unique;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;
use weft::queue::Utf8;
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

/// This test's name, for the child's `--exact` filter.
const TEST: &str =
    "broker::consumer_killed::deliveries_held_by_a_killed_consumer_process_all_come_back_counted";
/// Set in a child: the broker's URI (the child starts no node of its own).
const CHILD_URI: &str = "WEFT_CONSUMER_KILLED_URI";
/// Set in a child: the queue to consume.
const CHILD_QUEUE: &str = "WEFT_CONSUMER_KILLED_QUEUE";

const MESSAGES: usize = 20;
const HELD: usize = 5;
/// How many consumer processes are killed, one after the other.
const KILLED: usize = 2;

/// A bound on every wait, so that a broken broker fails the test rather
/// than hanging it. Never asserted on.
const BOUND: Duration = Duration::from_secs(30);

fn options() -> QueueOptions {
    let mut options = QueueOptions::new();
    options.prefetch(HELD as u16).max_deliveries(10);
    options
}

async fn connect(uri: &str) -> Connection {
    Connection::connect_with_runtime(uri, weft::compat::async_rs::current())
        .await
        .unwrap()
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn deliveries_held_by_a_killed_consumer_process_all_come_back_counted() {
    if let (Some(uri), Some(queue)) = (std::env::var_os(CHILD_URI), std::env::var_os(CHILD_QUEUE)) {
        return child(&uri.to_string_lossy(), &queue.to_string_lossy());
    }
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    let name = unique("weft-killed");
    rt.block_on(async {
        let conn = connect(&broker.uri()).await;
        let queue = weft_rabbitmq::queue(&conn, &name, &options(), Utf8)
            .await
            .unwrap();
        for n in 0..MESSAGES {
            queue.producer().publish(n.to_string()).await.unwrap();
        }
        conn.close().await.unwrap();
    });

    // How often each message was delivered to a consumer that died.
    let mut held = [0u32; MESSAGES];
    for _ in 0..KILLED {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD_URI, broker.uri())
            .env(CHILD_QUEUE, &name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let report = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            // Not at the start of its line: the child's harness has
            // printed "test <name> ... " before the test's own output.
            .find_map(|line| line.split_once("holding ").map(|(_, held)| held.to_owned()))
            .expect("the child never reported what it holds");
        // ANCHOR: kill-consumer
        // The child is blocked holding its deliveries: kill it there.
        child.kill().unwrap();
        child.wait().unwrap();
        // "<message>:<delivery count>,...": each count is one more than
        // the consumers that died holding it before.
        let mut reported = 0;
        for pair in report.split(',') {
            let (n, count) = pair.split_once(':').unwrap();
            let (n, count): (usize, u32) = (n.parse().unwrap(), count.parse().unwrap());
            assert_eq!(count, held[n] + 1, "message {n} in {report}");
            held[n] += 1;
            reported += 1;
        }
        // ANCHOR_END: kill-consumer
        assert_eq!(reported, HELD, "{report}");
    }
    assert_eq!(held.iter().sum::<u32>(), (KILLED * HELD) as u32);

    rt.block_on(async {
        let conn = connect(&broker.uri()).await;
        let queue = weft_rabbitmq::queue(&conn, &name, &options(), Utf8)
            .await
            .unwrap();
        let mut consumer = queue.consumer();
        let mut seen = [false; MESSAGES];
        for _ in 0..MESSAGES {
            let delivery = weft::time::timeout(BOUND, consumer.recv())
                .await
                .expect("a held delivery never came back")
                .unwrap();
            let n: usize = delivery.parse().unwrap();
            assert!(!seen[n], "message {n} twice");
            seen[n] = true;
            // ANCHOR: counted
            assert_eq!(delivery.delivery_count(), held[n] + 1, "message {n}");
            assert_eq!(delivery.redelivered(), held[n] > 0, "message {n}");
            // ANCHOR_END: counted
            delivery.ack_confirmed().await.unwrap();
        }
        conn.close().await.unwrap();
    });
}

/// The child: takes [`HELD`] deliveries of `queue`, reports them, and
/// holds them until it is killed.
fn child(uri: &str, queue: &str) {
    let rt = weft::Runtime::new().unwrap();
    let (_conn, _queue, _consumer, held) = rt.block_on(async {
        let conn = connect(uri).await;
        let queue = weft_rabbitmq::queue(&conn, queue, &options(), Utf8)
            .await
            .unwrap();
        let mut consumer = queue.consumer();
        let mut held = Vec::new();
        for _ in 0..HELD {
            let delivery = weft::time::timeout(BOUND, consumer.recv())
                .await
                .expect("the child got nothing")
                .unwrap();
            held.push(delivery);
        }
        (conn, queue, consumer, held)
    });
    let report: Vec<String> = held
        .iter()
        .map(|d| format!("{}:{}", d.as_str(), d.delivery_count()))
        .collect();
    println!("holding {}", report.join(","));
    // Until killed: the parent never writes nor closes this.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    panic!("the child was not killed");
}
