//! `weft::compat::async_rs`: weft's executor, timers and sockets through
//! async-rs's `Executor` and `Reactor` traits, as an async-rs-based library
//! (lapin) uses them.

use async_rs::traits::*;
use futures_lite::{AsyncReadExt, StreamExt};
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake};
use std::time::Duration;
use weft::compat::async_rs::{WeftRuntime, runtime};
use weft_test_support::{paused_runtimes, runtimes};

fn kits(rts: &[(&'static str, weft::Runtime)]) -> Vec<(&'static str, WeftRuntime)> {
    rts.iter()
        .map(|(name, rt)| (*name, runtime(rt.handle())))
        .collect()
}

#[test]
fn spawn_runs_on_weft_and_returns_the_output() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let (on_weft, out) = kit.block_on(async {
            kit.spawn(async { (weft::Handle::try_current().is_ok(), 40 + 2) })
                .await
        });
        assert!(on_weft, "{name}: the task ran outside weft");
        assert_eq!(out, 42, "{name}");
    }
}

#[test]
fn spawn_blocking_runs_the_closure() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let thread = std::thread::current().id();
        let other = kit.block_on(kit.spawn_blocking(move || std::thread::current().id() != thread));
        assert!(other, "{name}: the blocking job ran on the caller's thread");
    }
}

#[test]
fn a_panicking_task_resumes_its_panic_in_the_awaiter() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let task = kit.spawn(async { panic!("boom") });
        let caught = catch_unwind(AssertUnwindSafe(|| kit.block_on(task))).unwrap_err();
        assert_eq!(caught.downcast_ref::<&str>(), Some(&"boom"), "{name}");
    }
}

#[test]
fn cancel_gives_the_output_of_a_finished_task_and_none_otherwise() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let (tx, rx) = weft::sync::oneshot::channel::<()>();
        let mut pending = kit.spawn(async move {
            let _ = rx.await;
        });
        assert_eq!(kit.block_on(pending.cancel()), None, "{name}");
        // The cancelled task dropped its receiver.
        assert!(tx.send(()).is_err(), "{name}: the task survived its cancel");

        let (done_tx, done_rx) = weft::sync::oneshot::channel();
        let mut finished = kit.spawn(async move {
            let _ = done_tx.send(());
            7
        });
        kit.block_on(done_rx).unwrap();
        assert_eq!(kit.block_on(finished.cancel()), Some(7), "{name}");
    }
}

#[test]
fn a_dropped_task_keeps_running() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let (tx, rx) = weft::sync::oneshot::channel();
        drop(kit.spawn(async move { tx.send(5).unwrap() }));
        assert_eq!(kit.block_on(rx).unwrap(), 5, "{name}");
    }
}

#[test]
fn sleep_and_interval_run_on_the_runtimes_paused_clock() {
    let rts = paused_runtimes();
    for (name, kit) in kits(&rts) {
        let hour = Duration::from_secs(3600);
        let (slept, first, second) = kit.block_on(async {
            let start = weft::time::Instant::now();
            kit.sleep(hour).await;
            let slept = start.elapsed();
            let mut ticks = pin!(kit.interval(hour));
            let first = ticks.next().await.unwrap();
            let second = ticks.next().await.unwrap();
            (slept, first, second)
        });
        assert!(slept >= hour, "{name}: slept {slept:?}");
        assert_eq!(second - first, hour, "{name}");
    }
}

/// Wakes a thread parked in [`poll_on_this_thread`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this plain thread (no runtime entered) until it is
/// ready, parking between polls; at most `rounds` polls.
fn poll_on_this_thread<F: Future>(future: F, rounds: usize) -> Option<F::Output> {
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    for _ in 0..rounds {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
        std::thread::park_timeout(Duration::from_secs(5));
    }
    None
}

#[test]
fn a_sleep_polled_off_the_runtime_uses_the_kits_reactor() {
    // A multi-thread runtime: its idle workers drive the reactor while the
    // test thread, which has no runtime, polls the sleep.
    let rt = weft::Runtime::builder().worker_threads(2).build().unwrap();
    let kit = runtime(rt.handle());
    let start = std::time::Instant::now();
    let done = poll_on_this_thread(kit.sleep(Duration::from_millis(10)), 20);
    assert_eq!(done, Some(()));
    assert!(start.elapsed() >= Duration::from_millis(10));
}

#[test]
fn tcp_connect_reaches_a_loopback_listener_and_carries_bytes() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let echoed = kit.block_on(async {
            let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = kit.spawn(async move {
                let (mut peer, _) = listener.accept().await?;
                let mut buf = [0; 5];
                peer.read_exact(&mut buf).await?;
                peer.write_all(&buf).await?;
                io::Result::Ok(())
            });
            let mut stream = kit.tcp_connect(addr).await?;
            stream.write_all(b"hello").await?;
            let mut back = [0; 5];
            stream.read_exact(&mut back).await?;
            server.await?;
            io::Result::Ok(back)
        });
        assert_eq!(&echoed.unwrap(), b"hello", "{name}");
    }
}

#[test]
fn tcp_connect_to_a_closed_port_fails() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let refused = kit.block_on(async {
            let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(listener);
            kit.tcp_connect(addr).await
        });
        assert_eq!(
            refused.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused,
            "{name}"
        );
    }
}

#[test]
fn block_on_from_a_foreign_thread_connects_and_sleeps() {
    // lapin's I/O loop: a thread of its own calling `block_on` on the kit.
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let foreign = std::thread::spawn({
            let kit = kit.clone();
            move || {
                kit.block_on(async {
                    kit.sleep(Duration::from_millis(1)).await;
                    let mut stream = kit.tcp_connect(addr).await?;
                    stream.write_all(b"x").await
                })
            }
        });
        let (mut peer, _) = listener.accept().unwrap();
        let mut byte = [0];
        io::Read::read_exact(&mut peer, &mut byte).unwrap();
        foreign.join().unwrap().unwrap();
        assert_eq!(&byte, b"x", "{name}");
    }
}

#[test]
fn register_takes_std_streams_and_refuses_other_handles() {
    let rts = runtimes();
    for (name, kit) in kits(&rts) {
        let (mine, mut peer) = std::os::unix::net::UnixStream::pair().unwrap();
        mine.set_nonblocking(true).unwrap();
        let mut mine = kit.register(mine).unwrap();
        io::Write::write_all(&mut peer, b"ping").unwrap();
        let mut buf = [0; 4];
        kit.block_on(mine.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"ping", "{name}");

        let file = std::fs::File::open("/dev/null").unwrap();
        let err = kit.register(file).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{name}");
    }
}
