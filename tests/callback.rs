//! Callbacks through the facade: callback-style TCP, and callback timers
//! sharing the paused clock with the facade's `sleep`. (The primitives'
//! timers and bridges are tested in `primitives/tests/callback.rs`.)

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{paused_runtimes, runtimes};
use weft::callback::{set_timeout, tcp};
use weft::sync::{mpsc, oneshot};
use weft::time::{Instant, sleep};

/// Waits (bounded) for a value a callback sends, driving the runtime
/// meanwhile: a current-thread runtime runs its tasks only in `block_on`.
fn recv<T>(rt: &weft::Runtime, rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    rt.block_on(weft::time::timeout(Duration::from_secs(10), rx.recv()))
        .expect("callback did not run")
        .expect("callback dropped")
}

fn channel<T>() -> (mpsc::UnboundedSender<T>, mpsc::UnboundedReceiver<T>) {
    mpsc::unbounded_channel()
}

#[test]
fn a_callback_echo_server_echoes_every_byte_and_reports_the_close() {
    for (flavour, rt) in runtimes() {
        let _entered = rt.enter();
        let (closed_tx, mut closed_rx) = channel();
        let server = tcp::listen("127.0.0.1:0", move |conn| {
            let conn = conn.expect("accept");
            let echo = conn.clone();
            let closed_tx = closed_tx.clone();
            conn.on_close(move |outcome| {
                let _ = closed_tx.send(outcome.is_ok());
            });
            conn.on_data(move |data| {
                if let Ok(bytes) = data {
                    echo.write(bytes.to_vec(), |written| written.expect("echo write"));
                }
            });
        })
        .unwrap();

        let (conn_tx, mut conn_rx) = channel();
        tcp::connect(server.local_addr(), move |conn| {
            let _ = conn_tx.send(conn);
        });
        let client = recv(&rt, &mut conn_rx).unwrap();
        assert_eq!(client.peer_addr(), server.local_addr());
        let (data_tx, mut data_rx) = channel();
        client.on_data(move |data| {
            let _ = data_tx.send(data.map(|b| b.to_vec()));
        });
        let sent: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let written = Arc::new(AtomicUsize::new(0));
        for chunk in sent.chunks(1000) {
            let written = written.clone();
            client.write(chunk.to_vec(), move |r| {
                r.expect("client write");
                written.fetch_add(1, Ordering::SeqCst);
            });
        }
        let mut echoed = Vec::new();
        while echoed.len() < sent.len() {
            echoed.extend(recv(&rt, &mut data_rx).unwrap());
        }
        assert_eq!(echoed, sent, "{flavour}");
        assert_eq!(written.load(Ordering::SeqCst), 100, "{flavour}");
        client.close();
        assert!(
            recv(&rt, &mut closed_rx),
            "{flavour}: the server saw a clean close"
        );
        server.close();
    }
}

#[test]
fn connecting_to_a_closed_port_reports_the_error_to_the_callback() {
    for (flavour, rt) in runtimes() {
        let _entered = rt.enter();
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (tx, mut rx) = channel();
        tcp::connect(addr, move |conn| {
            let _ = tx.send(conn.map(|_| ()));
        });
        let error = recv(&rt, &mut rx).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused, "{flavour}");
    }
}

#[test]
fn writes_after_close_fail_and_the_peer_sees_the_end() {
    for (flavour, rt) in runtimes() {
        let _entered = rt.enter();
        let (peer_tx, mut peer_rx) = channel();
        let server = tcp::listen("127.0.0.1:0", move |conn| {
            let _ = peer_tx.send(conn.unwrap());
        })
        .unwrap();
        let (conn_tx, mut conn_rx) = channel();
        tcp::connect(server.local_addr(), move |conn| {
            let _ = conn_tx.send(conn);
        });
        let client = recv(&rt, &mut conn_rx).unwrap();
        let peer = recv(&rt, &mut peer_rx);

        let (closed_tx, mut closed_rx) = channel();
        peer.on_close(move |outcome| {
            let _ = closed_tx.send(outcome.is_ok());
        });
        let (data_tx, mut data_rx) = channel();
        peer.on_data(move |data| {
            let _ = data_tx.send(data.map(|b| b.to_vec()));
        });

        let (write_tx, mut write_rx) = channel();
        let before = write_tx.clone();
        client.write(b"last words".to_vec(), move |r| {
            let _ = before.send(r.map_err(|e| e.kind()));
        });
        client.close();
        client.write(b"too late".to_vec(), move |r| {
            let _ = write_tx.send(r.map_err(|e| e.kind()));
        });
        assert_eq!(recv(&rt, &mut write_rx), Ok(()), "{flavour}: queued before close");
        assert_eq!(
            recv(&rt, &mut write_rx),
            Err(std::io::ErrorKind::NotConnected),
            "{flavour}"
        );
        assert_eq!(recv(&rt, &mut data_rx).unwrap(), b"last words", "{flavour}");
        assert!(
            recv(&rt, &mut closed_rx),
            "{flavour}: the peer saw the end of the stream"
        );
        server.close();
    }
}

#[test]
fn listen_outside_a_runtime_is_an_error_not_a_panic() {
    let error = tcp::listen("127.0.0.1:0", |_| {}).unwrap_err();
    assert!(error.to_string().contains("runtime"), "{error}");
    let (tx, rx) = std::sync::mpsc::channel();
    tcp::connect("127.0.0.1:1".parse().unwrap(), move |conn| {
        let _ = tx.send(conn.is_err());
    });
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
}

#[test]
fn a_sleep_and_a_callback_timer_share_the_paused_clock() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let start = Instant::now();
            let (tx, rx) = oneshot::channel();
            set_timeout(Duration::from_secs(30), move || {
                let _ = tx.send(Instant::now());
            });
            sleep(Duration::from_secs(10)).await;
            assert_eq!(Instant::now() - start, Duration::from_secs(10), "{flavour}");
            let fired = rx.await.unwrap();
            assert_eq!(fired - start, Duration::from_secs(30), "{flavour}");
        });
    }
}
