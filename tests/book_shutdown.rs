//! The code of the book's "Shutting down gracefully" chapter, run as a test
//! on loopback and the paused clock: a signal on a `watch` channel, the
//! accept loop stops, connections finish what they are doing, and a grace
//! period bounds the drain before the stragglers are aborted.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use weft::net::{TcpListener, TcpStream};
use weft::sync::watch;
use weft::task::JoinSet;
use weft::time::{sleep, timeout};

// ANCHOR: connection
/// Echoes each message back, until the peer closes or shutdown is
/// signalled. A message `slow` takes a minute to answer, to stand for a
/// request that outlives the grace period.
async fn connection(mut stream: TcpStream, mut stop: watch::Receiver<bool>) -> io::Result<()> {
    let mut buf = [0; 1024];
    loop {
        // Between requests: a read or the stop signal, whichever is first.
        // Both are cancel-safe, so the loser loses nothing.
        let mut stopping = pin!(stop.wait_for(|&stop| stop));
        let read = poll_fn(|cx| {
            if stopping.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            stream.poll_read(cx, &mut buf).map(Some)
        })
        .await;
        let n = match read {
            None => return stream.write_all(b"closing\n").await, // told to stop
            Some(Ok(0)) => return Ok(()),                        // peer closed
            Some(result) => result?,
        };
        // A request that has started is finished, even after the signal.
        if &buf[..n] == b"slow" {
            sleep(Duration::from_secs(60)).await;
        }
        stream.write_all(&buf[..n]).await?;
    }
}
// ANCHOR_END: connection

// ANCHOR: server
/// What the shutdown did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    /// Connections that finished on their own during the drain.
    drained: usize,
    /// Connections still running when the grace period ended.
    aborted: usize,
}

/// Serves until `stop` turns true, then drains for at most `grace`.
async fn serve(listener: TcpListener, stop: watch::Receiver<bool>, grace: Duration) -> Report {
    let mut connections = JoinSet::new();
    let mut signal = stop.clone();
    // One pinned future for the whole loop, polled again on every turn.
    let mut stopping = pin!(signal.wait_for(|&stop| stop));
    // 1. Serve, reaping finished connections, until the signal.
    loop {
        let accepted = poll_fn(|cx| {
            if stopping.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            // Reap: a long-running server must not keep every handle.
            while !connections.is_empty() {
                match connections.poll_join_next(cx) {
                    Poll::Ready(Some(_)) => continue,
                    _ => break,
                }
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        match accepted {
            Some(Ok((stream, _))) => drop(connections.spawn(connection(stream, stop.clone()))),
            Some(Err(_)) => continue, // one failed accept is not the end
            None => break,
        }
    }
    // 2. Stop accepting: new connections are refused from here on.
    drop(listener);
    // 3. Drain: every connection saw the same signal; wait for them...
    let mut report = Report::default();
    let drain = timeout(grace, async {
        while connections.join_next().await.is_some() {
            report.drained += 1;
        }
    })
    .await;
    // 4. ...but not for ever: abort what is left when the grace period ends.
    if drain.is_err() {
        report.aborted = connections.len();
        connections.shutdown().await;
    }
    report
}
// ANCHOR_END: server

// ANCHOR: test
#[test]
fn signal_stop_accepting_drain_then_abort_the_rest() {
    let rt = weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = watch::channel(false);
        let server = weft::spawn(serve(listener, stop_rx, Duration::from_secs(5)));

        // Two clients: one idle between requests, one in a slow request.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"hi").await.unwrap();
        let mut reply = [0; 2];
        idle.read_exact(&mut reply).await.unwrap();
        let mut busy = TcpStream::connect(addr).await.unwrap();
        busy.write_all(b"slow").await.unwrap();
        sleep(Duration::from_secs(1)).await; // the server is inside `slow`

        // The signal.
        stop_tx.send(true).unwrap();
        let report = server.await.unwrap();
        assert_eq!(
            report,
            Report {
                drained: 1,
                aborted: 1
            }
        );

        // The idle client was told; the busy one was cut off.
        let mut told = [0; 8];
        idle.read_exact(&mut told).await.unwrap();
        assert_eq!(&told, b"closing\n");
        let mut cut = [0; 4];
        assert!(busy.read(&mut cut).await.map_or(true, |n| n == 0));
        // And nobody is listening any more.
        assert!(TcpStream::connect(addr).await.is_err());
    });
}
// ANCHOR_END: test

/// Exercise: a dropped sender stops the server too, since `wait_for` then
/// returns an error, which is `Ready` like the signal itself.
#[test]
fn a_dropped_sender_also_stops_the_server() {
    let rt = weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop_tx, stop_rx) = watch::channel(false);
        let server = weft::spawn(serve(listener, stop_rx, Duration::from_secs(5)));
        drop(stop_tx);
        let report = timeout(Duration::from_secs(60), server).await.unwrap().unwrap();
        assert_eq!(report, Report::default());
    });
}
