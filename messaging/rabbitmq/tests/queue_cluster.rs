//! weft's queue on a quorum queue replicated on a three-node cluster
//! (`weft_test_support::rabbitmq::cluster`), whose leader is killed with
//! `SIGKILL` in the middle of a stream of confirmed publishes and consumes:
//! no confirmed message is lost, and every duplicate is flagged as
//! redelivered.
//!
//! What this exercises: the quorum queue's guarantee, through weft's
//! queue. The client is connected to a node that is *not* the leader, and
//! that node survives: its channels follow the queue to the new leader, so
//! the client keeps its connection and needs no reconnect.
//!
//! Then, on the same cluster with the killed node booted again, the client
//! connects with all three nodes' URIs (`connect_cluster`), first to the
//! leader's node, and that node is killed: the connection fails over to a
//! survivor, re-declares, resumes consuming and republishes what was not
//! confirmed, with the same verdict (nothing confirmed lost, every
//! duplicate flagged).
//!
//! CI runs 20 000 messages and one kill; `WEFT_RABBITMQ_DEEP=1` runs
//! 100 000 and four kills, booting each killed node again before the
//! next (a kill that finds the leader on the client's node kills a
//! follower instead).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use weft::queue::{Consumer, PublishError, Queue, RecvError, StoreError, Utf8};
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::{Cluster, cluster};

/// The queue's name.
const QUEUE: &str = "weft-cluster";

/// How much a run does.
#[derive(Debug, Clone, Copy)]
struct Plan {
    messages: usize,
    kills: usize,
    /// Bytes per payload: the sequence number, padded.
    payload: usize,
    /// Publishing tasks, each awaiting its confirms one by one.
    publishers: usize,
}

const CI: Plan = Plan {
    messages: 20_000,
    kills: 1,
    payload: 256,
    publishers: 32,
};

const DEEP: Plan = Plan {
    messages: 100_000,
    kills: 4,
    payload: 1024,
    publishers: 32,
};

/// How often one message is sent again after the broker refused it
/// (about ten seconds of 50 ms pauses: a leader election takes one or two).
const REFUSALS: usize = 200;

/// A bound on every wait, so that a broken cluster fails the test rather
/// than hanging it. Never asserted on.
const BOUND: Duration = Duration::from_secs(60);

fn options() -> QueueOptions {
    let mut options = QueueOptions::new();
    options.prefetch(64);
    options
}

/// What became of one publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Not published (yet).
    No,
    /// Confirmed by the broker: it must be consumed.
    Confirmed,
    /// Failed: may or may not have been stored.
    InDoubt,
}

/// One kill, as the killer did it.
#[derive(Debug)]
struct Kill {
    node: usize,
    was_leader: bool,
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn killing_the_quorum_leader_loses_no_confirmed_message_and_flags_every_duplicate() {
    let started = Instant::now();
    let Some(cluster) = cluster(3) else { return };
    let booted = started.elapsed();
    let plan = if std::env::var_os("WEFT_RABBITMQ_DEEP").is_some() {
        DEEP
    } else {
        CI
    };
    let cluster = Arc::new(cluster);
    let rt = weft::Runtime::new().unwrap();

    // ANCHOR: leader-and-client
    // Declared through node 0, on all three nodes.
    rt.block_on(declare(&cluster.uri(0)));
    let members = cluster
        .ctl(0, &["list_queues", "-q", "--no-table-headers", "name", "members"])
        .unwrap();
    let members = String::from_utf8_lossy(&members.stdout).into_owned();
    let line = members.lines().find(|l| l.starts_with(QUEUE)).unwrap_or_default();
    for i in 0..3 {
        assert!(
            line.contains(cluster.node(i)),
            "not a member: {}: {line}",
            cluster.node(i)
        );
    }
    let leader = cluster.quorum_leader(0, QUEUE).unwrap().expect("a leader");
    let client = (0..3).find(|&i| i != leader).unwrap();
    // ANCHOR_END: leader-and-client

    let (kill_tx, kill_rx) = mpsc::channel::<usize>();
    let (killed_tx, killed_rx) = weft::sync::watch::channel(0usize);
    let killer = {
        let cluster = cluster.clone();
        std::thread::spawn(move || killer(&cluster, plan, client, leader, &kill_rx, &killed_tx))
    };

    let streamed = Instant::now();
    let (sent, seen, unflagged, moved) =
        rt.block_on(stream(&[cluster.uri(client)], plan, &kill_tx, killed_rx));
    assert!(!moved, "the client's node survives");
    let streamed = streamed.elapsed();
    drop(kill_tx);
    let kills = killer.join().unwrap();

    // The kills happened, the first of the leader, none of the client's node.
    assert_eq!(kills.len(), plan.kills, "{kills:?}");
    assert!(kills[0].was_leader && kills[0].node == leader, "{kills:?}");
    assert!(kills.iter().all(|k| k.node != client), "{kills:?}");
    eprintln!("cluster: booted in {booted:?}; {kills:?}, streamed in {streamed:?}");
    verdict(plan, &sent, &seen, &unflagged);

    // The client's own node, the leader's, dies: the connection fails over.
    cluster.start_node(kills[0].node).unwrap();
    // Its queue member caught up: one more loss leaves a majority.
    cluster.await_quorum_in_sync(client, QUEUE, BOUND).unwrap();
    let leader = cluster.quorum_leader(client, QUEUE).unwrap().expect("a leader");
    let nodes: Vec<String> = (0..3).map(|k| cluster.uri((leader + k) % 3)).collect();
    let (kill_tx, kill_rx) = mpsc::channel::<usize>();
    let (killed_tx, killed_rx) = weft::sync::watch::channel(0usize);
    let killer = {
        let cluster = cluster.clone();
        std::thread::spawn(move || {
            kill_rx.recv().unwrap();
            cluster.kill_node(leader).unwrap();
            killed_tx.send_replace(1);
        })
    };
    let plan = Plan { kills: 1, ..plan };
    let (sent, seen, unflagged, moved) = rt.block_on(stream(&nodes, plan, &kill_tx, killed_rx));
    assert!(moved, "the connection left the killed node");
    drop(kill_tx);
    killer.join().unwrap();
    verdict(plan, &sent, &seen, &unflagged);
}

/// Asserts a run's outcome: publishes confirmed on both sides of the last
/// kill, no confirmed message lost, none invented, every duplicate flagged.
fn verdict(plan: Plan, sent: &[Sent], seen: &HashMap<usize, usize>, unflagged: &[usize]) {
    // In the middle: confirmed publishes on both sides of the last kill
    // (publishes at and past its threshold wait for it).
    let threshold = plan.messages * plan.kills / (plan.kills + 1);
    assert!(sent[..threshold].contains(&Sent::Confirmed));
    assert!(sent[threshold..].contains(&Sent::Confirmed));

    // ANCHOR: verdict
    let lost: Vec<usize> = (0..plan.messages)
        .filter(|&n| sent[n] == Sent::Confirmed && !seen.contains_key(&n))
        .collect();
    let invented: Vec<usize> = seen
        .keys()
        .copied()
        .filter(|&n| n >= plan.messages || sent[n] == Sent::No)
        .collect();
    let in_doubt = sent.iter().filter(|s| **s == Sent::InDoubt).count();
    let duplicates: usize = seen.values().map(|&c| c - 1).sum();
    eprintln!(
        "cluster: {} messages of {} B, {} kills; {in_doubt} in doubt, {duplicates} duplicates",
        plan.messages, plan.payload, plan.kills,
    );
    assert!(
        lost.is_empty(),
        "{} confirmed messages lost: {lost:?}",
        lost.len()
    );
    assert!(invented.is_empty(), "messages never published: {invented:?}");
    assert!(
        unflagged.is_empty(),
        "duplicates not flagged as redelivered: {unflagged:?}"
    );
    // ANCHOR_END: verdict
}

/// Declares the queue through `uri`'s node. `weft_rabbitmq::queue` sends
/// no `x-quorum-initial-group-size` (and a queue declared with one
/// first is then refused as `PRECONDITION_FAILED`): the cluster's nodes
/// default it to the cluster's size instead.
async fn declare(uri: &str) {
    let conn = connect(uri).await;
    let _ = weft_rabbitmq::queue(&conn, QUEUE, &options(), Utf8)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn connect(uri: &str) -> Connection {
    Connection::connect_with_runtime(uri, weft::compat::async_rs::current())
        .await
        .unwrap()
}

/// Kills per plan: at each round's signal, the leader (or, where the
/// leader is the client's node, a follower), then boots the node again
/// for the next round. Tells the publishers through `killed`.
fn killer(
    cluster: &Cluster,
    plan: Plan,
    client: usize,
    first_leader: usize,
    rounds: &mpsc::Receiver<usize>,
    killed: &weft::sync::watch::Sender<usize>,
) -> Vec<Kill> {
    let mut kills = Vec::new();
    let mut leader = Some(first_leader);
    for round in 0..plan.kills {
        let Ok(signalled) = rounds.recv() else { break };
        assert_eq!(signalled, round);
        let (node, was_leader) = match leader {
            Some(l) if l != client => (l, true),
            _ => ((0..3).find(|&i| i != client).unwrap(), false),
        };
        cluster.kill_node(node).unwrap();
        kills.push(Kill { node, was_leader });
        killed.send_replace(round + 1);
        if round + 1 < plan.kills {
            cluster.start_node(node).unwrap();
            leader = cluster.quorum_leader(client, QUEUE).unwrap();
        }
    }
    kills
}

/// Publishes `plan.messages` sequence numbers through the first of the
/// nodes `uris` that answers (failing over to the others) while consuming
/// them; returns what became of each publish, how often each number was
/// consumed, the duplicates not flagged as redelivered, and whether the
/// connection ended on another node than it began on.
async fn stream(
    uris: &[String],
    plan: Plan,
    kill: &mpsc::Sender<usize>,
    killed: weft::sync::watch::Receiver<usize>,
) -> (Vec<Sent>, HashMap<usize, usize>, Vec<usize>, bool) {
    // ANCHOR: connect-cluster
    let uris: Vec<&str> = uris.iter().map(String::as_str).collect();
    let conn = weft::rabbitmq::connect_cluster(&uris).await.unwrap();
    // ANCHOR_END: connect-cluster
    let first = conn.uri().port();
    let queue: Queue<String> = weft_rabbitmq::queue(&conn, QUEUE, &options(), Utf8)
        .await
        .unwrap();
    let sent = Arc::new(Mutex::new(vec![Sent::No; plan.messages]));
    let next = Arc::new(AtomicUsize::new(0));
    let thresholds: Vec<usize> = (1..=plan.kills)
        .map(|r| plan.messages * r / (plan.kills + 1))
        .collect();

    let mut publishers = Vec::new();
    for _ in 0..plan.publishers {
        let (producer, sent, next, thresholds) =
            (queue.producer(), sent.clone(), next.clone(), thresholds.clone());
        let (kill, mut killed) = (kill.clone(), killed.clone());
        publishers.push(weft::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= plan.messages {
                    break;
                }
                // ANCHOR: publish-across-the-kill
                // Past a round's threshold, publish only once it is killed.
                if let Some(round) = thresholds.iter().position(|&t| t == n) {
                    kill.send(round).unwrap();
                }
                let rounds = thresholds.iter().filter(|&&t| t <= n).count();
                if rounds > 0 {
                    let waited = weft::time::timeout(BOUND * 2, killed.wait_for(|&k| k >= rounds)).await;
                    assert!(matches!(waited, Ok(Ok(_))), "the kill never came");
                }
                let mut body = format!("{n:0width$}", width = plan.payload);
                // Refused (a quorum queue electing its leader nacks what
                // it is sent): the message comes back, and goes again.
                let mut refusals = 0;
                let outcome = loop {
                    match weft::time::timeout(BOUND, producer.publish(body)).await {
                        Ok(Ok(())) => break Sent::Confirmed,
                        Ok(Err(PublishError::Store(StoreError::NotStored { value, .. })))
                            if refusals < REFUSALS =>
                        {
                            refusals += 1;
                            body = value;
                            weft::time::sleep(Duration::from_millis(50)).await;
                        }
                        Ok(Err(PublishError::Store(_))) => break Sent::InDoubt,
                        Ok(Err(other)) => panic!("publish {n}: {other:?}"),
                        Err(_) => panic!("publish {n}: no confirm within {BOUND:?}"),
                    }
                };
                sent.lock().unwrap()[n] = outcome;
                // ANCHOR_END: publish-across-the-kill
            }
        }));
    }

    let published = Arc::new(AtomicBool::new(false));
    let consuming = weft::spawn(consume(queue.consumer(), sent.clone(), published.clone()));
    for publisher in publishers {
        publisher.await.unwrap();
    }
    published.store(true, Ordering::SeqCst);
    let (seen, unflagged) = consuming.await.unwrap();
    let moved = conn.uri().port() != first;
    drop(killed);
    conn.close().await.unwrap();
    let sent = sent.lock().unwrap().clone();
    (sent, seen, unflagged, moved)
}

/// Consumes and acks until every confirmed message is in and the queue
/// has been quiet for a second after the publishers ended; returns how
/// often each number was consumed, and the duplicates not flagged as
/// redelivered.
async fn consume(
    mut consumer: Consumer<String>,
    sent: Arc<Mutex<Vec<Sent>>>,
    published: Arc<AtomicBool>,
) -> (HashMap<usize, usize>, Vec<usize>) {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut unflagged = Vec::new();
    // The confirmed ones not consumed yet, once publishing ended.
    let mut missing: Option<HashSet<usize>> = None;
    let mut progress = Instant::now();
    loop {
        match weft::time::timeout(Duration::from_secs(1), consumer.recv()).await {
            // The connection lost: the consumer resumes on the next one.
            Ok(Err(RecvError::Store(e))) => eprintln!("consume: {e}"),
            Ok(Err(e)) => panic!("consume: {e:?}"),
            Ok(Ok(delivery)) => {
                // ANCHOR: count-copies
                let n: usize = delivery.parse().unwrap_or(usize::MAX);
                let count = seen.entry(n).or_insert(0);
                *count += 1;
                if *count > 1 && !delivery.redelivered() {
                    unflagged.push(n);
                }
                // Fails when the connection died with it in hand: it
                // comes back, flagged, on the next connection.
                let _ = delivery.ack();
                // ANCHOR_END: count-copies
                if let Some(missing) = &mut missing {
                    missing.remove(&n);
                }
                progress = Instant::now();
            }
            Err(_) => {
                if missing.is_none() && published.load(Ordering::SeqCst) {
                    let sent = sent.lock().unwrap();
                    let unseen =
                        (0..sent.len()).filter(|n| sent[*n] == Sent::Confirmed && !seen.contains_key(n));
                    missing = Some(unseen.collect());
                }
                // Done; or lost, which the caller reports.
                if missing.as_ref().is_some_and(HashSet::is_empty) || progress.elapsed() > BOUND {
                    break;
                }
            }
        }
    }
    (seen, unflagged)
}
