//! Confirmed publish and consume-with-ack on a RabbitMQ quorum queue, 1 KiB
//! messages, 1 and 16 publishers, in interleaved rounds in one process:
//!
//! - `weft queue`: weft's work queue on the broker (`weft_rabbitmq::queue`),
//!   on a weft multi-thread runtime;
//! - `lapin/weft`: lapin used directly, on weft (`weft::compat::async_rs`);
//! - `lapin/tokio`: the same lapin code on a tokio multi-thread runtime
//!   (lapin's `tokio` feature through async-rs);
//! - `pika`: Python's pika (`benches/rabbitmq/pika_bench.py`), the client a
//!   user would reach for, where `WEFT_PIKA_PYTHON` names a Python that has it.
//!
//! `lapin/weft` beside `lapin/tokio` is the cost of running lapin (and its
//! I/O thread) on weft rather than tokio; `weft queue` beside `lapin/tokio`
//! is the whole cost of weft's layer and runtime. The broker is the private
//! node of `weft_test_support::rabbitmq`. Run everything with
//! `benches/rabbitmq/run.sh`; a short smoke run with
//! `WEFT_BENCH_MESSAGES=400 WEFT_BENCH_ROUNDS=1 cargo bench -p weft-rabbitmq --bench rabbitmq`.
//!
//! Settings (environment): `WEFT_BENCH_MESSAGES` per run (default 20 000),
//! `WEFT_BENCH_ROUNDS` (default 5), `WEFT_BENCH_PUBLISHERS` (default `1,16`).

use async_rs::Runtime;
use async_rs::traits::{Executor, RuntimeKit};
use futures_lite::StreamExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use weft::queue::Raw;
use weft_rabbitmq::lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use weft_rabbitmq::lapin::types::{AMQPValue, FieldTable};
use weft_rabbitmq::lapin::{self, BasicProperties};
use weft_rabbitmq::{Connection, QueueOptions};

/// The size of every message.
const PAYLOAD: usize = 1024;
/// `basic.qos` for every consumer: weft's default prefetch.
const PREFETCH: u16 = 16;

/// One run of one client: the publish phase, then the consume phase.
#[derive(Default)]
struct Run {
    publish: Duration,
    publish_latencies: Vec<Duration>,
    consume: Duration,
    consume_latencies: Vec<Duration>,
}

#[derive(Clone, Copy, PartialEq)]
enum Client {
    WeftQueue,
    LapinWeft,
    LapinTokio,
    Pika,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::WeftQueue => "weft queue",
            Client::LapinWeft => "lapin/weft",
            Client::LapinTokio => "lapin/tokio",
            Client::Pika => "pika",
        }
    }
}

fn env_or(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "weft-bench-{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn main() {
    let Some(broker) = weft_test_support::rabbitmq::broker() else {
        eprintln!("!!! SKIPPED: {}", weft_test_support::rabbitmq::INSTALL_HINT);
        return;
    };
    let uri = broker.uri();
    let messages = env_or("WEFT_BENCH_MESSAGES", 20_000);
    let rounds = env_or("WEFT_BENCH_ROUNDS", 5);
    let publishers: Vec<usize> = std::env::var("WEFT_BENCH_PUBLISHERS")
        .unwrap_or_else(|_| "1,16".into())
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .filter(|&p| p > 0)
        .collect();
    let pika = std::env::var("WEFT_PIKA_PYTHON").ok();
    let mut clients = vec![Client::WeftQueue, Client::LapinWeft, Client::LapinTokio];
    match &pika {
        Some(_) => clients.push(Client::Pika),
        None => eprintln!("pika left out: set WEFT_PIKA_PYTHON (benches/rabbitmq/run.sh does)"),
    }

    let weft_rt = weft::Builder::new_multi_thread().build().unwrap();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    println!(
        "messages per run: {messages}, {PAYLOAD} B each; rounds: {rounds}; broker: RabbitMQ (private node)"
    );
    for &p in &publishers {
        // Warm-up: one small run per client, not recorded.
        for &client in &clients {
            let _ = run(
                client,
                &uri,
                p,
                (4 * p).max(16),
                &weft_rt,
                &tokio_rt,
                pika.as_deref(),
            );
        }
        let mut runs: Vec<Vec<Run>> = clients.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            for (i, &client) in clients.iter().enumerate() {
                runs[i].push(run(
                    client,
                    &uri,
                    p,
                    messages,
                    &weft_rt,
                    &tokio_rt,
                    pika.as_deref(),
                ));
            }
        }
        report(p, messages, &clients, &runs);
    }

    // The cost of lapin's I/O thread on each runtime: one publish and its
    // confirm, nothing else in flight.
    println!("\nround trip of one publish + confirm (lapin alone, 1 publisher), {messages} samples");
    for client in [Client::LapinWeft, Client::LapinTokio] {
        let r = run(client, &uri, 1, messages, &weft_rt, &tokio_rt, None);
        let mut lat = r.publish_latencies;
        println!(
            "  {:<12} p50 {:>8.1} µs   p99 {:>8.1} µs",
            client.name(),
            micros(percentile(&mut lat, 50.0)),
            micros(percentile(&mut lat, 99.0))
        );
    }
}

fn run(
    client: Client,
    uri: &str,
    publishers: usize,
    messages: usize,
    weft_rt: &weft::Runtime,
    tokio_rt: &tokio::runtime::Runtime,
    pika: Option<&str>,
) -> Run {
    let per = messages / publishers;
    match client {
        Client::WeftQueue => weft_rt.block_on(weft_queue(uri.to_owned(), publishers, per)),
        Client::LapinWeft => weft_rt.block_on(async {
            lapin_direct(weft::compat::async_rs::current(), uri.to_owned(), publishers, per).await
        }),
        Client::LapinTokio => tokio_rt.block_on(async {
            lapin_direct(Runtime::tokio_current(), uri.to_owned(), publishers, per).await
        }),
        Client::Pika => pika_run(pika.unwrap_or("python3"), uri, publishers, per),
    }
}

/// weft's work queue on the broker.
async fn weft_queue(uri: String, publishers: usize, per: usize) -> Run {
    let conn = Connection::connect_with_runtime(&uri, weft::compat::async_rs::current())
        .await
        .unwrap();
    let name = unique("weft");
    let mut options = QueueOptions::new();
    options.prefetch(PREFETCH);
    let queue = weft_rabbitmq::queue(&conn, &name, &options, Raw).await.unwrap();
    let mut run = Run::default();

    let start = Instant::now();
    let tasks: Vec<_> = (0..publishers)
        .map(|_| {
            let producer = queue.producer();
            weft::spawn(async move {
                let mut latencies = Vec::with_capacity(per);
                for _ in 0..per {
                    let t = Instant::now();
                    producer.publish(vec![7u8; PAYLOAD]).await.unwrap();
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    for task in tasks {
        run.publish_latencies.extend(task.await.unwrap());
    }
    run.publish = start.elapsed();

    let mut consumer = queue.consumer();
    let start = Instant::now();
    for _ in 0..per * publishers {
        let t = Instant::now();
        let delivery = consumer.recv().await.unwrap();
        delivery.ack().unwrap();
        run.consume_latencies.push(t.elapsed());
    }
    run.consume = start.elapsed();
    drop(consumer);
    queue.close();
    delete(&conn.channel().await.unwrap(), &name).await;
    // Teardown: the queue's own channels may be closing as it goes.
    let _ = conn.close().await;
    run
}

/// lapin alone, on the runtime `runtime`: the same work as [`weft_queue`]
/// (quorum queue, persistent mandatory publishes on one channel in confirm
/// mode, each awaited; a consumer with the same prefetch acking each).
async fn lapin_direct<RK>(runtime: Runtime<RK>, uri: String, publishers: usize, per: usize) -> Run
where
    RK: RuntimeKit + Send + Sync + Clone + 'static,
{
    let conn = lapin::Connection::connect_with_runtime(
        &uri,
        lapin::ConnectionProperties::default(),
        runtime.clone(),
    )
    .await
    .unwrap();
    let name = unique("lapin");
    let publish = Arc::new(conn.create_channel().await.unwrap());
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    publish
        .queue_declare(name.as_str().into(), durable, args)
        .await
        .unwrap();
    publish
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut run = Run::default();

    let start = Instant::now();
    let tasks: Vec<_> = (0..publishers)
        .map(|_| {
            let (channel, name) = (publish.clone(), name.clone());
            runtime.spawn(async move {
                let mut latencies = Vec::with_capacity(per);
                let options = BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                };
                for _ in 0..per {
                    let t = Instant::now();
                    let payload = vec![7u8; PAYLOAD];
                    let properties = BasicProperties::default().with_delivery_mode(2);
                    let confirm = channel
                        .basic_publish("".into(), name.as_str().into(), options, &payload, properties)
                        .await
                        .unwrap();
                    assert!(confirm.await.unwrap().is_ack(), "the broker nacked a publish");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    for task in tasks {
        run.publish_latencies.extend(task.await);
    }
    run.publish = start.elapsed();

    let channel = conn.create_channel().await.unwrap();
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await
        .unwrap();
    let mut consumer = channel
        .basic_consume(
            name.as_str().into(),
            "bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let start = Instant::now();
    for _ in 0..per * publishers {
        let t = Instant::now();
        let delivery = consumer.next().await.unwrap().unwrap();
        delivery.ack(BasicAckOptions::default()).await.unwrap();
        run.consume_latencies.push(t.elapsed());
    }
    run.consume = start.elapsed();
    let _ = channel.close(200, "done".into()).await;
    delete(&publish, &name).await;
    let _ = conn.close(200, "done".into()).await;
    run
}

async fn delete(channel: &lapin::Channel, name: &str) {
    for queue in [name.to_owned(), format!("{name}.dead")] {
        // The dead-letter queue exists only for weft's queue.
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
}

/// pika, in a Python process of its own; it prints the same figures as one
/// line of `key=value` pairs, latencies in microseconds.
fn pika_run(python: &str, uri: &str, publishers: usize, per: usize) -> Run {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../benches/rabbitmq/pika_bench.py"
    );
    let out = Command::new(python)
        .args([
            script,
            uri,
            &unique("pika"),
            &publishers.to_string(),
            &per.to_string(),
            &PAYLOAD.to_string(),
        ])
        .arg(PREFETCH.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pika: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut run = Run::default();
    for line in text.lines() {
        let Some((key, values)) = line.split_once('=') else {
            continue;
        };
        let numbers = values.split(',').filter_map(|v| v.parse::<f64>().ok());
        let mut durations = numbers.map(|us| Duration::from_secs_f64(us / 1e6));
        match key {
            "publish_s" => run.publish = durations.next().unwrap_or_default(),
            "consume_s" => run.consume = durations.next().unwrap_or_default(),
            "publish_us" => run.publish_latencies = durations.collect(),
            "consume_us" => run.consume_latencies = durations.collect(),
            _ => {}
        }
    }
    run
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn report(publishers: usize, messages: usize, clients: &[Client], runs: &[Vec<Run>]) {
    println!("\n{publishers} publisher(s); msg/s is the median over rounds, latencies pooled over rounds");
    println!(
        "  {:<12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "client", "pub msg/s", "pub p50µs", "pub p99µs", "con msg/s", "con p50µs", "con p99µs", "time/lt"
    );
    let total = |r: &Run| r.publish.as_secs_f64() + r.consume.as_secs_f64();
    let tokio_time = clients
        .iter()
        .position(|&c| c == Client::LapinTokio)
        .map(|i| median(runs[i].iter().map(total).collect()));
    for (client, runs) in clients.iter().zip(runs) {
        let sent = (messages / publishers * publishers) as f64;
        let pub_rate = median(runs.iter().map(|r| sent / r.publish.as_secs_f64()).collect());
        let con_rate = median(runs.iter().map(|r| sent / r.consume.as_secs_f64()).collect());
        let mut pub_lat: Vec<Duration> = runs
            .iter()
            .flat_map(|r| r.publish_latencies.iter().copied())
            .collect();
        let mut con_lat: Vec<Duration> = runs
            .iter()
            .flat_map(|r| r.consume_latencies.iter().copied())
            .collect();
        let ratio = tokio_time.map_or(f64::NAN, |t| median(runs.iter().map(total).collect()) / t);
        println!(
            "  {:<12} {:>10.0} {:>10.1} {:>10.1} {:>10.0} {:>10.1} {:>10.1} {:>8.2}",
            client.name(),
            pub_rate,
            micros(percentile(&mut pub_lat, 50.0)),
            micros(percentile(&mut pub_lat, 99.0)),
            con_rate,
            micros(percentile(&mut con_lat, 50.0)),
            micros(percentile(&mut con_lat, 99.0)),
            ratio,
        );
    }
}
