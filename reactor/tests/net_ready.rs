//! `ready(Interest)`: waiting on several directions at once, the `Ready`
//! it reports, and its pairing with the `try_` methods, whose `WouldBlock`
//! clears the readiness so that the next `ready` waits for a new edge.

mod support;

use std::future::Future;
use std::io::{self, ErrorKind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use support::*;
use weft_reactor::Driver;
use weft_reactor::net::{Interest, Ready, TcpListener, TcpStream, UdpSocket};
use weft_test_support::CountingWaker;

async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

#[test]
fn interest_and_ready_combine() {
    let both = Interest::READABLE | Interest::WRITABLE;
    assert!(both.is_readable() && both.is_writable());
    assert!(Interest::READABLE.is_readable() && !Interest::READABLE.is_writable());
    assert_eq!(Interest::READABLE.add(Interest::WRITABLE), both);
    let mut interest = Interest::WRITABLE;
    interest |= Interest::READABLE;
    assert_eq!(interest, both);

    assert!(Ready::EMPTY.is_empty());
    let ready = Ready::READABLE | Ready::WRITE_CLOSED;
    assert!(ready.is_readable() && !ready.is_read_closed());
    assert!(ready.is_writable(), "a closed write side counts as writable");
    assert!(ready.is_write_closed() && !ready.is_error());
    assert!(Ready::READ_CLOSED.is_readable());
    assert!(Ready::ERROR.is_error() && !Ready::ERROR.is_empty());
}

/// Sends `out` and receives as many bytes with nothing but `ready` and the
/// `try_` methods.
async fn exchange(stream: &TcpStream, out: &[u8]) -> io::Result<Vec<u8>> {
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0; 16 * 1024];
    while sent < out.len() || got.len() < out.len() {
        let interest = if sent < out.len() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let ready = stream.ready(interest).await?;
        assert!(!ready.is_empty());
        if ready.is_writable() && sent < out.len() {
            match stream.try_write(&out[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if ready.is_readable() {
            match stream.try_read(&mut buf) {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(got)
}

#[test]
fn tcp_ready_and_try_loops_exchange_data_both_ways() {
    // More than the socket buffers hold, so writes meet WouldBlock and
    // each side must read while it writes.
    const LEN: usize = 4 << 20;
    let pattern = Pattern::new();
    let mut a_out = vec![0; LEN];
    let mut b_out = vec![0; LEN];
    pattern.fill(0, 0, &mut a_out);
    pattern.fill(1, 0, &mut b_out);
    block_on(async {
        let (a, b) = tcp_pair().await?;
        let (a_got, b_got) = join2(exchange(&a, &a_out), exchange(&b, &b_out)).await;
        assert!(a_got? == b_out, "a got what b sent");
        assert!(b_got? == a_out, "b got what a sent");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn after_would_block_ready_waits_until_the_peer_writes() {
    let driver = Driver::new().unwrap();
    let (a, mut b) = block_on_driver(&driver, tcp_pair()).unwrap();
    let _enter = driver.handle().enter();

    // A fresh connection is writable and has nothing to read.
    let ready = block_on_driver(&driver, a.ready(Interest::READABLE | Interest::WRITABLE)).unwrap();
    assert!(ready.is_writable());
    assert!(!ready.is_readable());

    let mut buf = [0; 16];
    for _round in 0..3 {
        let error = a.try_read(&mut buf).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::WouldBlock);

        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut readable = pin!(a.ready(Interest::READABLE));
        assert!(readable.as_mut().poll(&mut cx).is_pending());
        driver.park(Some(Duration::ZERO));
        assert!(readable.as_mut().poll(&mut cx).is_pending());
        assert_eq!(counter.wakes(), 0, "nothing to read, no wake");

        block_on_driver(&driver, b.write_all(b"ping")).unwrap();
        for _ in 0..1000 {
            if counter.wakes() > 0 {
                break;
            }
            driver.park(Some(Duration::from_millis(10)));
        }
        assert!(counter.wakes() > 0, "the peer's write wakes the waiting ready");
        match readable.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(ready)) => assert!(ready.is_readable() && !ready.is_writable()),
            other => panic!("expected ready, got {other:?}"),
        }
        assert_eq!(a.try_read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");
    }
}

#[test]
fn ready_reports_a_closed_peer() {
    block_on(async {
        let (a, b) = tcp_pair().await?;
        drop(b);
        let ready = a.ready(Interest::READABLE).await?;
        assert!(ready.is_readable());
        assert!(ready.is_read_closed());
        let mut buf = [0; 1];
        assert_eq!(a.try_read(&mut buf)?, 0);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn udp_ready_and_try_loops() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        a.connect(b.local_addr()?).await?;
        b.connect(a.local_addr()?).await?;
        let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        assert!(ready.is_writable() && !ready.is_readable());
        assert_eq!(a.try_send(b"ping")?, 4);

        let mut buf = [0; 16];
        let n = loop {
            let ready = b.ready(Interest::READABLE).await?;
            assert!(ready.is_readable());
            match b.try_recv(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        };
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        assert!(poll_once(b.ready(Interest::READABLE)).is_pending());
        io::Result::Ok(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn unix_ready_and_try_loops() {
    use weft_reactor::net::{UnixDatagram, UnixStream};
    block_on(async {
        let (a, b) = UnixStream::pair()?;
        let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        assert!(ready.is_writable() && !ready.is_readable());
        assert_eq!(a.try_write(b"ping")?, 4);
        let ready = b.ready(Interest::READABLE).await?;
        assert!(ready.is_readable());
        let mut buf = [0; 16];
        assert_eq!(b.try_read(&mut buf)?, 4);
        assert_eq!(b.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        assert!(poll_once(b.ready(Interest::READABLE)).is_pending());

        let (a, b) = UnixDatagram::pair()?;
        let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        assert!(ready.is_writable() && !ready.is_readable());
        assert_eq!(a.try_send(b"ping")?, 4);
        let ready = b.ready(Interest::READABLE).await?;
        assert!(ready.is_readable());
        assert_eq!(b.try_recv(&mut buf)?, 4);
        assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        assert!(poll_once(b.ready(Interest::READABLE)).is_pending());
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn ready_fails_after_driver_shutdown() {
    let driver = Driver::new().unwrap();
    let (a, _b) = block_on_driver(&driver, tcp_pair()).unwrap();
    let mut waiting = pin!(a.ready(Interest::READABLE));
    assert!(poll_once(waiting.as_mut()).is_pending());
    driver.shutdown();
    match poll_once(waiting) {
        Poll::Ready(Err(_)) => {}
        other => panic!("expected an error, got {other:?}"),
    }
    match poll_once(a.ready(Interest::READABLE)) {
        Poll::Ready(Err(_)) => {}
        other => panic!("expected an error, got {other:?}"),
    }
}
