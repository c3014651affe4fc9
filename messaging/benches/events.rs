//! The event bus beside tokio::sync::broadcast, on weft's runtime and on tokio's.
//!
//! - `events/1m_1_publisher_16_subscribers`: one publisher, 16
//!   subscribers, 1 000 000 events each subscriber reads, on a topic of one
//!   partition. Both keep every event (retention and capacity 2^20), so no
//!   reader lags and both do the same work: every subscriber sees every
//!   event, in order. `weft` and `tokio` run on weft's runtime;
//!   `weft_on_tokio_rt` and `tokio_on_tokio_rt` run the same tasks on
//!   tokio's (four workers each), so the row a user meets, weft against
//!   tokio, is `weft` beside `tokio_on_tokio_rt`, and the other two tell
//!   the bus's share from the runtime's.
//! - `events/1m_1_publisher_16_subscribers_16_partitions`: the same events,
//!   published with keys into a topic of 16 partitions; each subscriber
//!   reads all 16. weft alone: tokio's broadcast has no partitions, and a
//!   reader over 16 channels would need a select over 16 receivers that
//!   tokio offers only with its `macros` or tokio-stream. Compare it with
//!   the weft row of the one-partition group: same events, same readers.
//! - `events/1m_publish_1_partition` and
//!   `events/1m_publish_16_partitions_keyed`: publishing alone, 1 000 000
//!   events, with nobody reading (tokio keeps one idle receiver, as its
//!   `send` fails without one). For 16 partitions weft publishes with a key
//!   and tokio sends on one of 16 channels, chosen by the same
//!   `partition_for` of the same key. Each iteration builds a new bus (a
//!   new channel) and starts with the allocator's free memory handed back
//!   to the system, untimed (see [`cold`]): both then publish into memory
//!   the process faults in, as a new bus or channel does.
//! - `events/group_1_member_16_partitions_50us` and
//!   `events/group_4_members_16_partitions_50us`: a consumer group on a
//!   topic of 16 partitions, its members (assigned partitions) handling
//!   every event with a 50 µs handler and acking it, on the multi-thread
//!   runtime. weft alone (no peer has consumer groups); the figure is the
//!   ratio of the two groups' times (criterion prints both as events/s).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::time::{Duration, Instant};
use weft::events::{EventBus, Member, RecvError, StartAt, TopicOptions, partition_for};

const EVENTS: u64 = 1_000_000;
const SUBSCRIBERS: usize = 16;
const CAPACITY: usize = 1 << 20;
/// The publisher yields this often, so subscribers on the same worker run.
const YIELD_EVERY: u64 = 1024;
/// Partitions of the partitioned topics.
const PARTITIONS: u32 = 16;
/// Distinct keys the keyed publishers cycle through.
const KEYS: usize = 256;

fn rt() -> weft::Runtime {
    weft::Runtime::builder().worker_threads(4).build().unwrap()
}

fn keys() -> Vec<String> {
    (0..KEYS).map(|k| format!("key-{k}")).collect()
}

/// Times `iters` runs of `publish`, each from the same allocator state:
/// glibc's free memory handed back to the system first (untimed).
///
/// Without it a publish figure depended on where unrelated blocks landed:
/// glibc gives the top of its heap back when a dropped bus leaves it free,
/// and the next iteration faults all of it in again, unless some small
/// block allocated after the rows happens to sit above them. The same log
/// code measured 76 ms in one binary and 114 ms in another (RESULTS.md,
/// "Publishing alone, from a cold heap"). tokio's 2^20-slot buffer is
/// mapped fresh for every channel, so it always paid the faults; now both do.
fn cold(iters: u64, mut publish: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        release_free_memory();
        let start = Instant::now();
        publish();
        total += start.elapsed();
    }
    total
}

/// Hands the allocator's free memory back to the system (glibc's
/// `malloc_trim`); nothing elsewhere.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's `malloc_trim` takes a byte count and touches only
        // the allocator's free memory; it is MT-Safe.
        unsafe { malloc_trim(0) };
    }
}

fn partitioned() -> TopicOptions {
    TopicOptions {
        partitions: PARTITIONS,
        ..TopicOptions::default()
    }
}

/// A task's sum, awaited.
type Sum = Pin<Box<dyn Future<Output = u64> + Send>>;

/// What a fan-out needs of a runtime: spawning, and a yield.
#[derive(Clone, Copy)]
struct On {
    spawn: fn(Sum) -> Sum,
    yield_now: fn() -> Pin<Box<dyn Future<Output = ()> + Send>>,
}

/// weft's runtime.
const ON_WEFT: On = On {
    spawn: |task| {
        let handle = weft::spawn(task);
        Box::pin(async move { handle.await.unwrap() })
    },
    yield_now: || Box::pin(weft::task::yield_now()),
};

/// tokio's runtime.
const ON_TOKIO: On = On {
    spawn: |task| {
        let handle = tokio::spawn(task);
        Box::pin(async move { handle.await.unwrap() })
    },
    yield_now: || Box::pin(tokio::task::yield_now()),
};

/// One publisher, 16 readers, each reading every event: weft's bus.
async fn fan_out_bus(on: On) {
    let bus: EventBus<u64> = EventBus::builder().retention(CAPACITY).build();
    let topic = bus.topic("ticks").unwrap();
    let readers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            let mut sub = topic.subscribe(StartAt::Latest);
            (on.spawn)(Box::pin(async move {
                let mut sum = 0u64;
                for _ in 0..EVENTS {
                    sum += *sub.recv().await.unwrap();
                }
                sum
            }))
        })
        .collect();
    let publisher = (on.spawn)(Box::pin(async move {
        for n in 0..EVENTS {
            topic.try_publish(n).unwrap();
            if n % YIELD_EVERY == 0 {
                (on.yield_now)().await;
            }
        }
        0
    }));
    publisher.await;
    for r in readers {
        assert_eq!(r.await, EVENTS * (EVENTS - 1) / 2);
    }
}

/// The same with tokio's `broadcast`.
async fn fan_out_broadcast(on: On) {
    let (tx, _) = tokio::sync::broadcast::channel::<u64>(CAPACITY);
    let readers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            let mut rx = tx.subscribe();
            (on.spawn)(Box::pin(async move {
                let mut sum = 0u64;
                for _ in 0..EVENTS {
                    sum += rx.recv().await.unwrap();
                }
                sum
            }))
        })
        .collect();
    let publisher = (on.spawn)(Box::pin(async move {
        for n in 0..EVENTS {
            tx.send(n).unwrap();
            if n % YIELD_EVERY == 0 {
                (on.yield_now)().await;
            }
        }
        0
    }));
    publisher.await;
    for r in readers {
        assert_eq!(r.await, EVENTS * (EVENTS - 1) / 2);
    }
}

fn bus_1_to_16(c: &mut Criterion) {
    let rt = rt();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("events/1m_1_publisher_16_subscribers");
    g.sample_size(10);
    g.bench_function("weft", |b| b.iter(|| rt.block_on(fan_out_bus(ON_WEFT))));
    g.bench_function("tokio", |b| b.iter(|| rt.block_on(fan_out_broadcast(ON_WEFT))));
    g.bench_function("weft_on_tokio_rt", |b| {
        b.iter(|| tokio_rt.block_on(fan_out_bus(ON_TOKIO)))
    });
    g.bench_function("tokio_on_tokio_rt", |b| {
        b.iter(|| tokio_rt.block_on(fan_out_broadcast(ON_TOKIO)))
    });
    g.finish();
}

fn bus_1_to_16_partitioned(c: &mut Criterion) {
    let rt = rt();
    let keys = keys();
    let mut g = c.benchmark_group("events/1m_1_publisher_16_subscribers_16_partitions");
    g.sample_size(10);
    g.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let bus: EventBus<u64> = EventBus::builder().retention(CAPACITY).build();
                let topic = bus.create_topic("ticks", partitioned()).unwrap();
                let readers: Vec<_> = (0..SUBSCRIBERS)
                    .map(|_| {
                        let mut sub = topic.subscribe(StartAt::Latest);
                        weft::spawn(async move {
                            let mut sum = 0u64;
                            for _ in 0..EVENTS {
                                sum += *sub.recv().await.unwrap();
                            }
                            sum
                        })
                    })
                    .collect();
                let keys = keys.clone();
                let publisher = weft::spawn(async move {
                    for n in 0..EVENTS {
                        topic.try_publish_keyed(&keys[n as usize % KEYS], n).unwrap();
                        if n % YIELD_EVERY == 0 {
                            weft::task::yield_now().await;
                        }
                    }
                });
                publisher.await.unwrap();
                for r in readers {
                    assert_eq!(r.await.unwrap(), EVENTS * (EVENTS - 1) / 2);
                }
            })
        })
    });
    g.finish();
}

fn publish_1_partition(c: &mut Criterion) {
    let mut g = c.benchmark_group("events/1m_publish_1_partition");
    g.sample_size(10);
    g.throughput(Throughput::Elements(EVENTS));
    g.bench_function("weft", |b| {
        b.iter_custom(|iters| {
            cold(iters, || {
                let bus: EventBus<u64> = EventBus::builder().retention(CAPACITY).build();
                let topic = bus.topic("ticks").unwrap();
                for n in 0..EVENTS {
                    topic.try_publish(n).unwrap();
                }
                assert_eq!(topic.end().get(), EVENTS);
            })
        })
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            cold(iters, || {
                let (tx, _idle) = tokio::sync::broadcast::channel::<u64>(CAPACITY);
                for n in 0..EVENTS {
                    tx.send(n).unwrap();
                }
                assert_eq!(tx.len(), EVENTS as usize);
            })
        })
    });
    g.finish();
}

fn publish_16_partitions(c: &mut Criterion) {
    let keys = keys();
    // Each tokio channel holds its partition's share, as each weft
    // partition retains it.
    let mut share = vec![0usize; PARTITIONS as usize];
    for n in 0..EVENTS as usize {
        share[partition_for(&keys[n % KEYS], PARTITIONS) as usize] += 1;
    }
    let mut g = c.benchmark_group("events/1m_publish_16_partitions_keyed");
    g.sample_size(10);
    g.throughput(Throughput::Elements(EVENTS));
    g.bench_function("weft", |b| {
        b.iter_custom(|iters| {
            cold(iters, || {
                let bus: EventBus<u64> = EventBus::builder().retention(CAPACITY).build();
                let topic = bus.create_topic("ticks", partitioned()).unwrap();
                for n in 0..EVENTS {
                    topic.try_publish_keyed(&keys[n as usize % KEYS], n).unwrap();
                }
                let stored: u64 = (0..PARTITIONS).map(|p| topic.end_of(p).unwrap().get()).sum();
                assert_eq!(stored, EVENTS);
            })
        })
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            cold(iters, || {
                let (txs, _idle): (Vec<_>, Vec<_>) = share
                    .iter()
                    .map(|&n| tokio::sync::broadcast::channel::<u64>(n.max(1)))
                    .unzip();
                for n in 0..EVENTS {
                    let p = partition_for(&keys[n as usize % KEYS], PARTITIONS);
                    txs[p as usize].send(n).unwrap();
                }
                assert_eq!(txs.iter().map(|tx| tx.len()).sum::<usize>(), EVENTS as usize);
            })
        })
    });
    g.finish();
}

/// Events the group benches handle per iteration: at 50 µs each, about
/// 0.2 s of handling for one member.
const GROUP_EVENTS: u64 = 4096;
/// What the simulated handler costs per event.
const HANDLER: Duration = Duration::from_micros(50);

/// The simulated handler: 50 µs of CPU work, a busy-spin on
/// `std::time::Instant` (not `weft::time::sleep`, which a 1 ms timer wheel
/// would round up to a millisecond, and not `spawn_blocking`: the point
/// is the members' own workers doing the work).
fn handle(event: u64) {
    let start = Instant::now();
    while start.elapsed() < HANDLER {
        std::hint::spin_loop();
    }
    black_box(event);
}

/// One iteration of a group bench: `members` members of an assigned group
/// on a topic of 16 partitions handle `GROUP_EVENTS` keyed events, each
/// with [`handle`], and ack them; returns how many each handled.
async fn group_run(members: usize, keys: &[String]) -> Vec<u64> {
    let bus: EventBus<u64> = EventBus::builder().retention(CAPACITY).build();
    let topic = bus.create_topic("orders", partitioned()).unwrap();
    // Every member joins before the first event, so the partitions are
    // dealt out once (a member told of it gets `Rebalanced` once).
    let joined: Vec<Member<u64>> = (0..members)
        .map(|_| bus.join_assigned("billing", "orders", StartAt::Start).unwrap())
        .collect();
    for n in 0..GROUP_EVENTS {
        topic.try_publish_keyed(&keys[n as usize % KEYS], n).unwrap();
    }
    // Closed: each member ends once its partitions are read and acked.
    bus.close();
    let tasks: Vec<_> = joined
        .into_iter()
        .map(|mut member| {
            weft::spawn(async move {
                let mut handled = 0u64;
                loop {
                    match member.recv().await {
                        Ok(event) => {
                            handle(*event);
                            event.ack().unwrap();
                            handled += 1;
                        }
                        Err(RecvError::Rebalanced { .. }) => {}
                        Err(RecvError::Closed) => return handled,
                        Err(e) => panic!("group member: {e}"),
                    }
                }
            })
        })
        .collect();
    let mut handled = Vec::with_capacity(members);
    for t in tasks {
        handled.push(t.await.unwrap());
    }
    handled
}

/// A group of 4 members on 16 partitions beside one member, each event
/// handled in 50 µs. The target is 4 members at least 2.5 × the
/// throughput of one. The bound is the cores the 4 workers get: up to
/// 4 × with 4 free cores, and at most 2 × on a 2-core machine (such as
/// the shared build box), where 2.5 × cannot be reached.
fn group_4_vs_1(c: &mut Criterion) {
    let rt = rt();
    let keys = keys();
    for (members, name) in [
        (1, "events/group_1_member_16_partitions_50us"),
        (4, "events/group_4_members_16_partitions_50us"),
    ] {
        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        g.throughput(Throughput::Elements(GROUP_EVENTS));
        g.bench_function("weft", |b| {
            b.iter(|| {
                let handled = rt.block_on(group_run(members, &keys));
                assert_eq!(handled.len(), members);
                assert_eq!(handled.iter().sum::<u64>(), GROUP_EVENTS);
                assert!(
                    handled.iter().all(|&n| n > 0),
                    "every member owns partitions with events"
                );
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    targets = bus_1_to_16, bus_1_to_16_partitioned, publish_1_partition, publish_16_partitions, group_4_vs_1
}
criterion_main!(benches);
