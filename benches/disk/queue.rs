//! Confirmed publish and consume-with-ack on weft's durable queue beside
//! RabbitMQ 3.10's durable quorum queue with publisher confirms, in one
//! process, in interleaved rounds.
//!
//! Both sides do the same thing: P publishers, each publishing 1 KiB
//! messages one at a time and waiting for each to be confirmed durable
//! (weft: `publish` returns under `SyncPolicy::GroupCommit`, one
//! `fdatasync` per group of concurrent publishes; RabbitMQ: the publisher
//! confirm, sent once the quorum queue's write-ahead log is fsynced), and
//! one consumer that acks every delivery. A run's throughput is messages
//! over the time from the first publish to the last ack; its latencies are
//! each publish's, from the call to the confirm. RabbitMQ is driven by
//! lapin on tokio (one connection per publisher, one for the consumer), so
//! that the client is not what is measured. weft's log runs on the real
//! file system through a wrapper that counts its `fdatasync`s, so each run
//! also says how many publishes one group commit covered.
//!
//!   benches/disk/run.sh                                # fsync rate, then this
//!   cargo bench --bench disk_queue
//!   MESSAGES=2000 ROUNDS=1 cargo bench --bench disk_queue   # a smoke run
//!
//! Settings (environment): MESSAGES per run (20000), ROUNDS (3),
//! PUBLISHERS ("1 16"), SIZE (message bytes, 1024), FSYNC_RATE (the disk's
//! one-thread fdatasync rate, from `disk_fsync`: prints weft's throughput
//! as a fraction of that rate times its measured batch),
//! WEFT_BENCH_AMQP_URI (a broker to use; otherwise a private node is
//! started, with its data under `target/rabbitmq/`), WEFT_BENCH_DIR.

#[path = "stats.rs"]
mod stats;

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use stats::Run;
use std::io;
use std::path::Path;
use std::sync::Arc;
// A plain counter, not the loom shim's: bench code outside any crate's
// concurrency protocol, read only after the run.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use weft::disk::fs::{FileLock, FileSystem, SegmentFile, StdFs};
use weft::queue::{DiskOptions, Queue, Raw, SyncPolicy};

fn main() {
    let messages: usize = stats::env_or("MESSAGES", 20_000);
    let rounds: usize = stats::env_or("ROUNDS", 3);
    let publishers: Vec<usize> = stats::env_list("PUBLISHERS", "1 16");
    let size: usize = stats::env_or("SIZE", 1024);
    let fsync_rate: Option<f64> = std::env::var("FSYNC_RATE").ok().and_then(|v| v.parse().ok());

    let uri = std::env::var("WEFT_BENCH_AMQP_URI").unwrap_or_else(|_| {
        let broker = weft_test_support::rabbitmq::broker().expect("rabbitmq-server is not installed");
        broker.uri()
    });
    let weft_rt = weft::Builder::new_multi_thread().build().unwrap();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    // results[p] = (weft runs, rabbitmq runs)
    let mut results: Vec<(Vec<Run>, Vec<Run>)> = vec![(Vec::new(), Vec::new()); publishers.len()];
    let mut next_queue = 0;
    for round in 0..rounds {
        for (i, &p) in publishers.iter().enumerate() {
            let per = messages.div_ceil(p);
            let weft = weft_rt.block_on(weft_run(p, per, size));
            print_run(round, "weft", p, &weft);
            next_queue += 1;
            let name = format!("weft-bench-{}-{next_queue}", std::process::id());
            let rabbit = tokio_rt.block_on(rabbit_run(&uri, &name, p, per, size));
            print_run(round, "rabbitmq", p, &rabbit);
            results[i].0.push(weft);
            results[i].1.push(rabbit);
        }
    }

    println!("\nmedians over {rounds} round(s), {size}-byte messages:");
    println!(
        "{:>10} {:>9} {:>12} {:>10} {:>10} {:>14} {:>12} {:>12}",
        "publishers", "system", "msgs/s", "p50 us", "p99 us", "weft/rabbitmq", "p50 rmq/weft", "p99 rmq/weft"
    );
    for (&p, (weft, rabbit)) in publishers.iter().zip(&results) {
        let summary = |runs: &[Run]| {
            (
                stats::median(runs.iter().map(|r| r.per_sec).collect()),
                stats::median(runs.iter().map(|r| stats::us(r.p50)).collect()),
                stats::median(runs.iter().map(|r| stats::us(r.p99)).collect()),
            )
        };
        let (w, r) = (summary(weft), summary(rabbit));
        println!("{p:>10} {:>9} {:>12.0} {:>10.0} {:>10.0}", "weft", w.0, w.1, w.2);
        println!(
            "{p:>10} {:>9} {:>12.0} {:>10.0} {:>10.0} {:>14.2} {:>12.2} {:>12.2}",
            "rabbitmq",
            r.0,
            r.1,
            r.2,
            w.0 / r.0,
            r.1 / w.1,
            r.2 / w.2
        );
        let batch = stats::median(
            weft.iter()
                .filter_map(|r| Some(r.messages as f64 / r.syncs?.max(1) as f64))
                .collect(),
        );
        match fsync_rate {
            Some(rate) => println!(
                "{p:>10} weft: {batch:.1} publishes per fdatasync; the disk's {rate:.0} syncs/s x that batch = {:.0} msgs/s, weft reached {:.2} of it",
                rate * batch,
                w.0 / (rate * batch)
            ),
            None => println!("{p:>10} weft: {batch:.1} publishes per fdatasync"),
        }
    }
}

fn print_run(round: usize, system: &str, publishers: usize, run: &Run) {
    let batch = run.syncs.map_or_else(String::new, |syncs| {
        format!(
            "  {:.1} publishes per fdatasync",
            run.messages as f64 / syncs.max(1) as f64
        )
    });
    println!(
        "round {round} {system:>8} {publishers:>2} publishers: {:>9.0} msgs/s  p50 {:>8.0} us  p99 {:>8.0} us{batch}",
        run.per_sec,
        stats::us(run.p50),
        stats::us(run.p99)
    );
}

/// One run on a fresh durable queue under group commit.
async fn weft_run(publishers: usize, per: usize, size: usize) -> Run {
    let dir = stats::bench_dir("queue-weft");
    let syncs = Arc::new(AtomicU64::new(0));
    let disk = DiskOptions::new()
        .sync(SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        })
        .file_system(CountingFs {
            syncs: Arc::clone(&syncs),
        });
    let queue = Queue::builder()
        .open_durable_with(&dir, Raw, &disk)
        .unwrap()
        .queue;
    let total = publishers * per;
    let mut consumer = queue.consumer();
    let consume = weft::spawn(async move {
        for _ in 0..total {
            consumer.recv().await.unwrap().ack().unwrap();
        }
    });
    let start = Instant::now();
    let tasks: Vec<_> = (0..publishers)
        .map(|_| {
            let producer = queue.producer();
            weft::spawn(async move {
                let mut latencies = Vec::with_capacity(per);
                for _ in 0..per {
                    let sent = Instant::now();
                    producer.publish(vec![0x42; size]).await.unwrap();
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    consume.await.unwrap();
    let mut run = Run::new(total, start.elapsed(), latencies);
    run.syncs = Some(syncs.load(Ordering::Relaxed));
    drop(queue);
    let _ = std::fs::remove_dir_all(&dir);
    run
}

/// The real file system, counting the log's `fdatasync`s, to report how
/// many publishes one group commit covered.
#[derive(Debug)]
struct CountingFs {
    syncs: Arc<AtomicU64>,
}

#[derive(Debug)]
struct CountingFile {
    inner: Box<dyn SegmentFile>,
    syncs: Arc<AtomicU64>,
}

impl FileSystem for CountingFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        StdFs.create_dir_all(dir)
    }
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(CountingFile {
            inner: StdFs.open(path, create)?,
            syncs: Arc::clone(&self.syncs),
        }))
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        StdFs.read(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        StdFs.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        StdFs.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        StdFs.sync_dir(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        StdFs.list(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        StdFs.lock(path)
    }
}

impl SegmentFile for CountingFile {
    fn append(&self, bytes: &[u8]) -> io::Result<()> {
        self.inner.append(bytes)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.inner.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
}

/// One run on a fresh durable quorum queue, with publisher confirms.
async fn rabbit_run(uri: &str, name: &str, publishers: usize, per: usize, size: usize) -> Run {
    let connect = || Connection::connect(uri, ConnectionProperties::default());
    let admin = connect().await.unwrap();
    let channel = admin.create_channel().await.unwrap();
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(name.into(), durable, arguments)
        .await
        .unwrap();

    let total = publishers * per;
    channel.basic_qos(256, BasicQosOptions::default()).await.unwrap();
    let mut deliveries = channel
        .basic_consume(
            name.into(),
            "bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let consume = tokio::spawn(async move {
        for _ in 0..total {
            let delivery = deliveries.next().await.unwrap().unwrap();
            delivery.ack(BasicAckOptions::default()).await.unwrap();
        }
    });

    let mut connections = Vec::new();
    for _ in 0..publishers {
        let connection = connect().await.unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        connections.push((connection, channel));
    }
    let start = Instant::now();
    let tasks: Vec<_> = connections
        .iter()
        .map(|(_, channel)| {
            let (channel, name) = (channel.clone(), name.to_owned());
            tokio::spawn(async move {
                let payload = vec![0x42; size];
                let mut latencies = Vec::with_capacity(per);
                for _ in 0..per {
                    let sent = Instant::now();
                    let confirm = channel
                        .basic_publish(
                            "".into(),
                            name.as_str().into(),
                            BasicPublishOptions::default(),
                            &payload,
                            BasicProperties::default().with_delivery_mode(2),
                        )
                        .await
                        .unwrap()
                        .await
                        .unwrap();
                    assert!(confirm.is_ack(), "the broker nacked a publish");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    consume.await.unwrap();
    let run = Run::new(total, start.elapsed(), latencies);
    channel
        .queue_delete(name.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    for (connection, _) in connections {
        let _ = connection.close(200, "done".into()).await;
    }
    let _ = admin.close(200, "done".into()).await;
    run
}
