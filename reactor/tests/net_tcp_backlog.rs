//! `TcpListener::bind` listens with the backlog its documentation promises
//! (1024), so a burst of connections completes its handshakes while the
//! listener is not accepting yet.
//!
//! With a short backlog (std's and mio's 128) the kernel drops the SYNs
//! that find the accept queue full and counts them in
//! `TcpExt: ListenOverflows`; their connects then sit in SYN retries (1 s,
//! 3 s, 7 s, ...) and never finish while nobody accepts. The test counts
//! those drops on Linux, and bounds the whole burst so it cannot hang. The
//! counters are per network namespace: another process overflowing its own
//! listener at the same moment would show here too.

mod support;

use std::io;
use std::time::Duration;
use support::*;
use weft_reactor::net::{TcpListener, TcpStream};

const BURST: usize = 1000;

/// `ListenOverflows` and `ListenDrops` from `/proc/net/netstat`, where the
/// platform has them.
fn listen_drops() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines().filter(|line| line.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let field = |wanted: &str| {
        names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(name, _)| *name == wanted)
            .and_then(|(_, value)| value.parse().ok())
    };
    Some((field("ListenOverflows")?, field("ListenDrops")?))
}

/// Linux caps every backlog at `net.core.somaxconn` (4096 by default since
/// Linux 5.4, 128 before).
fn backlog_cap() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?;
    text.trim().parse().ok()
}

#[test]
fn a_burst_of_connects_completes_before_the_first_accept() {
    if backlog_cap().is_some_and(|cap| cap < BURST) {
        eprintln!("skipped: net.core.somaxconn caps the backlog below {BURST}");
        return;
    }
    let before = listen_drops();
    let accepted = block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connects = (0..BURST)
            .map(|_| boxed(TcpStream::connect(addr)))
            .collect::<Vec<_>>();
        // Generous: on loopback the burst takes milliseconds; a dropped SYN
        // is retried after 1 s, 3 s, 7 s and would not get in anyway.
        let clients = weft_reactor::time::timeout(Duration::from_secs(20), join_all(connects))
            .await
            .map_err(|_| io::Error::other("the burst of connects did not complete"))?
            .into_iter()
            .collect::<io::Result<Vec<_>>>()?;
        assert_eq!(clients.len(), BURST);

        // Every handshake is done and queued: accept them all now.
        let mut accepted = 0;
        while accepted < BURST {
            listener.accept().await?;
            accepted += 1;
        }
        io::Result::Ok(accepted)
    })
    .unwrap();
    assert_eq!(accepted, BURST);
    if let (Some(before), Some(after)) = (before, listen_drops()) {
        assert_eq!(
            after, before,
            "(ListenOverflows, ListenDrops) grew: SYNs found the accept queue full"
        );
    }
}
