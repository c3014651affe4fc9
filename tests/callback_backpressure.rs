//! Backpressure in callback-style TCP: an echo server whose peer sends and
//! never reads holds at most the high-water mark plus one read chunk, then
//! resumes and echoes every byte once the peer reads. The echo servers of
//! `echo_callbacks` and `echo_promises` are held to the same bound.
// Each example loaded below brings its own copy of `examples/common/cli.rs` and `echo_cli.rs`.
#![allow(clippy::duplicate_mod)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use weft::callback::tcp::{self, Connection, DEFAULT_HIGH_WATER_MARK};

#[path = "../examples/echo_callbacks.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_callbacks;
#[path = "../examples/echo_promises.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_promises;

/// What the peer tries to send without reading.
const FLOOD: usize = 64 << 20;
/// The most one `on_data` call delivers (the read task's buffer).
const READ_CHUNK: usize = 16 * 1024;
/// How long every blocking step may take before the test gives up.
const BOUND: Duration = Duration::from_secs(20);

/// Connects a peer that writes up to `FLOOD` bytes and reads nothing;
/// returns it and how many bytes it wrote before its writes stalled (no
/// progress for two seconds: the server has stopped reading, or is slow,
/// which only makes the test weaker, never wrong).
fn flood(addr: SocketAddr) -> (TcpStream, usize) {
    let mut peer = TcpStream::connect(addr).unwrap();
    peer.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut written = 0;
    while written < FLOOD {
        match peer.write(&chunk) {
            Ok(n) => written += n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => break,
            Err(e) => panic!("the flood failed: {e}"),
        }
    }
    (peer, written)
}

/// Reads back `len` bytes, all `x`: the echo of the flood.
fn read_echo(peer: &mut TcpStream, len: usize) {
    peer.set_read_timeout(Some(BOUND)).unwrap();
    let mut buf = vec![0; 256 * 1024];
    let mut read = 0;
    while read < len {
        let n = peer.read(&mut buf).expect("the echo goes on once the peer reads");
        assert_ne!(n, 0, "the server closed after {read} of {len} echoed bytes");
        assert!(buf[..n].iter().all(|&b| b == b'x'));
        read += n;
    }
}

/// Floods a callback echo server whose connections get `high_water` (or
/// the default); checks that the bytes it held never passed the mark plus
/// one read chunk, that it stopped reading, and that it echoes everything
/// and calls `on_drain` once the peer reads.
fn holds_the_mark(high_water: Option<usize>) {
    let rt = weft::Runtime::new().unwrap();
    let _entered = rt.enter();
    let most = Arc::new(AtomicUsize::new(0));
    let (drains, drained) = mpsc::channel();
    let seen = most.clone();
    let server = tcp::listen("127.0.0.1:0", move |conn| {
        let conn = conn.expect("accept");
        if let Some(mark) = high_water {
            conn.set_high_water_mark(mark);
        }
        let drains = drains.clone();
        conn.on_drain(move || {
            let _ = drains.send(());
        });
        let echo = conn.clone();
        let seen = seen.clone();
        conn.on_data(move |data| {
            let Ok(bytes) = data else { return };
            echo.write(bytes.to_vec(), |_| {});
            seen.fetch_max(echo.buffered(), Ordering::Relaxed);
        });
    })
    .unwrap();

    let (mut peer, written) = flood(server.local_addr());
    let mark = high_water.unwrap_or(DEFAULT_HIGH_WATER_MARK);
    let most = most.load(Ordering::Relaxed);
    assert!(
        most <= mark + READ_CHUNK,
        "the server held {most} bytes, past {mark} + {READ_CHUNK}"
    );
    assert!(
        written < FLOOD,
        "the server read all {written} bytes of a peer that never reads"
    );

    read_echo(&mut peer, written);
    drained
        .recv_timeout(BOUND)
        .expect("on_drain runs once the queue drains");
    server.close();
}

#[test]
fn a_peer_that_never_reads_leaves_the_echo_server_bounded() {
    holds_the_mark(None);
}

#[test]
fn the_high_water_mark_can_be_raised() {
    holds_the_mark(Some(1024 * 1024));
}

#[test]
fn a_high_water_mark_of_zero_pauses_on_every_write() {
    holds_the_mark(Some(0));
}

/// Floods the echo server an example builds on each connection: checks
/// that it stopped reading with at most the mark plus one read chunk
/// queued, then echoes everything once the peer reads.
fn example_holds_the_mark(echo: fn(Connection)) {
    let rt = weft::Runtime::new().unwrap();
    let _entered = rt.enter();
    let (conns, accepted) = mpsc::channel();
    let server = tcp::listen("127.0.0.1:0", move |conn| {
        let conn = conn.expect("accept");
        let _ = conns.send(conn.clone());
        echo(conn);
    })
    .unwrap();
    let (mut peer, written) = flood(server.local_addr());
    let conn = accepted.recv_timeout(BOUND).unwrap();
    let held = conn.buffered();
    assert!(
        held <= DEFAULT_HIGH_WATER_MARK + READ_CHUNK,
        "the example held {held} bytes"
    );
    assert!(
        written < FLOOD,
        "the example read all {written} bytes of a peer that never reads"
    );
    read_echo(&mut peer, written);
    server.close();
}

#[test]
fn echo_callbacks_is_bounded_by_a_peer_that_never_reads() {
    example_holds_the_mark(echo_callbacks::echo);
}

#[test]
fn echo_promises_is_bounded_by_a_peer_that_never_reads() {
    example_holds_the_mark(echo_promises::echo);
}
