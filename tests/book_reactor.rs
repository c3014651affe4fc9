//! The running code of the book's reactor chapter.
//!
//! weft's reactor knows nothing of weft's executor: any loop that polls a
//! future and parks in the driver while it waits can run weft's sockets and
//! timers. These tests drive the reactor with such a loop, show readiness
//! at work through the `readable` / `try_read` pair, and show the paused
//! clock.

mod support;

use std::future::Future;
use std::io::{self, ErrorKind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use weft::time::{Instant, advance, sleep};
use weft_reactor::Driver;
use weft_reactor::net::{TcpListener, TcpStream, UdpSocket};

// ANCHOR: block-on
/// The waker of [`block_on`]: waking the future interrupts the driver's
/// park, wherever the wake comes from.
struct Unpark(weft_reactor::Handle);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion, parking in `driver` while it waits.
fn block_on<F: Future>(driver: &Driver, future: F) -> F::Output {
    // Sockets and timers made on this thread register with `driver`.
    let _enter = driver.handle().enter();
    let waker = Waker::from(Arc::new(Unpark(driver.handle())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // Wait for readiness, a timer or an unpark; wake whoever it concerns.
        driver.park(None);
    }
}
// ANCHOR_END: block-on

// ANCHOR: reactor-alone
#[test]
fn the_reactor_runs_sockets_and_timers_without_the_executor() -> io::Result<()> {
    let driver = Driver::new()?;
    block_on(&driver, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;

        client.write_all(b"ping").await?;
        let mut buf = [0; 4];
        server.read_exact(&mut buf).await?;
        server.write_all(&buf).await?;
        client.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ping");

        let start = Instant::now();
        weft_reactor::time::sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));
        Ok(())
    })
}
// ANCHOR_END: reactor-alone

#[test]
fn readiness_is_a_hint_that_an_attempt_confirms() -> io::Result<()> {
    let driver = Driver::new()?;
    block_on(&driver, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        // ANCHOR: readiness-by-hand
        let mut buf = [0; 64];
        // Nothing has arrived: an attempt now would block.
        let error = server.try_read(&mut buf).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::WouldBlock);

        client.write_all(b"hello").await?;
        // Wait for the driver to see the readable edge...
        server.readable().await?;
        // ...then do the read ourselves, into our own buffer.
        let n = server.try_read(&mut buf)?;
        assert_eq!(&buf[..n], b"hello");

        // The buffer is drained. The next attempt says WouldBlock, which
        // clears the remembered readiness: `readable` waits for a new edge.
        let error = server.try_read(&mut buf).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::WouldBlock);
        // ANCHOR_END: readiness-by-hand
        Ok(())
    })
}

#[test]
fn datagrams_ride_the_same_registration() -> io::Result<()> {
    let driver = Driver::new()?;
    block_on(&driver, async {
        // ANCHOR: udp-round-trip
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        a.send_to(b"marco", b.local_addr()?).await?;
        let mut buf = [0; 16];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"marco"[..], a.local_addr()?));
        b.send_to(b"polo", from).await?;
        let (n, _) = a.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"polo");
        // ANCHOR_END: udp-round-trip
        Ok(())
    })
}

#[test]
fn the_paused_clock_moves_when_told_or_when_all_is_idle() {
    let rt = support::paused_current_thread();
    rt.block_on(async {
        // ANCHOR: paused-clock
        let start = Instant::now();
        // Moved by hand: exactly ten seconds, in no real time.
        advance(Duration::from_secs(10)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(10));

        // Every task waits on a timer: the clock jumps to its deadline.
        sleep(Duration::from_secs(3600)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3610));
        // ANCHOR_END: paused-clock
    });
}
