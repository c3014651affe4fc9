//! The driver gets its turn whatever the tasks do: a `block_on` future that
//! keeps waking itself still sees its timers and sockets, and a task that
//! yields resumes only after pending I/O has had a chance to arrive.

mod support;

use std::future::poll_fn;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::task::Poll;
use std::thread;
use std::time::Duration;
use support::runtimes;
use weft::net::TcpListener;
use weft::task::yield_now;
use weft::time::sleep;

/// A hang guard: reaching it fails the test (it is not a timing assertion).
const GUARD: Duration = Duration::from_secs(20);

/// Runs `body` on its own thread and returns what it returns. If it has not
/// returned within `GUARD`, raises the give-up flag it is handed (a spinning
/// body checks it and stops), gives it another `GUARD` to stop, and fails
/// the test either way.
fn guarded<T: Send + 'static>(what: &str, body: impl FnOnce(Arc<AtomicBool>) -> T + Send + 'static) -> T {
    let give_up = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let flag = give_up.clone();
    let worker = thread::spawn(move || {
        let out = body(flag);
        let _ = tx.send(());
        out
    });
    if rx.recv_timeout(GUARD).is_err() {
        give_up.store(true, Ordering::SeqCst);
        let _ = rx.recv_timeout(GUARD);
        panic!("{what}: hung, the driver never ran");
    }
    worker.join().unwrap()
}

#[test]
fn a_block_on_future_spinning_on_yield_now_sees_its_timer() {
    for (flavour, rt) in runtimes() {
        guarded(flavour, move |give_up| {
            rt.block_on(async {
                let fired = Arc::new(AtomicBool::new(false));
                let flag = fired.clone();
                weft::spawn(async move {
                    sleep(Duration::from_millis(10)).await;
                    flag.store(true, Ordering::SeqCst);
                });
                while !fired.load(Ordering::SeqCst) && !give_up.load(Ordering::SeqCst) {
                    yield_now().await;
                }
            });
        });
    }
}

#[test]
fn a_block_on_future_spinning_on_try_read_sees_its_bytes() {
    for (flavour, rt) in runtimes() {
        let received = guarded(flavour, move |give_up| {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let peer = thread::spawn(move || {
                    let mut stream = std::net::TcpStream::connect(addr).unwrap();
                    stream.write_all(b"ping").unwrap();
                    stream
                });
                let (stream, _) = listener.accept().await.unwrap();
                let mut buf = [0; 4];
                // No readiness wait: try, and on `WouldBlock` wake ourselves.
                let n = poll_fn(|cx| match stream.try_read(&mut buf) {
                    Ok(n) => Poll::Ready(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        if give_up.load(Ordering::SeqCst) {
                            return Poll::Ready(0);
                        }
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Err(e) => panic!("read failed: {e}"),
                })
                .await;
                drop(peer.join().unwrap());
                buf[..n].to_vec()
            })
        });
        assert_eq!(received, b"ping", "{flavour}");
    }
}

#[test]
fn a_multi_thread_block_on_future_spinning_while_every_worker_is_blocked_sees_its_bytes() {
    // The only worker is stuck in a task, so nobody waits in the driver: the
    // thread inside `block_on`, spinning, must give it turns itself.
    let rt = weft::Runtime::builder().worker_threads(1).build().unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (write_tx, write_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        // Only once the worker is stuck: then no thread waits in the driver
        // to see the bytes come.
        write_rx.recv().unwrap();
        stream.write_all(b"ping").unwrap();
        stream
    });
    let (stream, _) = rt.block_on(listener.accept()).unwrap();
    let started = Arc::new(Barrier::new(2));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = rt.spawn({
        let started = started.clone();
        async move {
            started.wait();
            let _ = release_rx.recv();
        }
    });
    started.wait();
    write_tx.send(()).unwrap();
    let received = guarded("multi_thread", move |give_up| {
        let mut buf = [0; 4];
        let n = rt.block_on(poll_fn(|cx| match stream.try_read(&mut buf) {
            Ok(n) => Poll::Ready(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if give_up.load(Ordering::SeqCst) {
                    return Poll::Ready(0);
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Err(e) => panic!("read failed: {e}"),
        }));
        drop(release_tx);
        rt.block_on(holder).unwrap();
        buf[..n].to_vec()
    });
    drop(peer.join().unwrap());
    assert_eq!(received, b"ping");
}

/// How many times a task yields between connecting to a listener (with a
/// blocking connect, so the connection is queued when it returns) and the
/// accept, joined in the same task, going through. `busy` other tasks hold
/// the other workers meanwhile, so that none of them can steal the yielding
/// task or wait in the driver.
fn yields_until_accepted(rt: &weft::Runtime, busy: usize) -> usize {
    let ready = Arc::new(Barrier::new(busy + 1));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
    let mut holders = Vec::new();
    for _ in 0..busy {
        let ready = ready.clone();
        let release_rx = release_rx.clone();
        holders.push(rt.spawn(async move {
            ready.wait();
            // Blocks this worker thread until the measurement is over.
            let _ = release_rx.lock().unwrap().recv();
        }));
    }
    ready.wait();
    let yields = rt.block_on(async {
        let measured = weft::spawn(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let accepted = AtomicBool::new(false);
            let (yields, ()) = futures_util::future::join(
                async {
                    let _client = std::net::TcpStream::connect(addr).unwrap();
                    let mut yields = 0;
                    while !accepted.load(Ordering::SeqCst) && yields < 10 {
                        yield_now().await;
                        yields += 1;
                    }
                    yields
                },
                async {
                    listener.accept().await.unwrap();
                    accepted.store(true, Ordering::SeqCst);
                },
            )
            .await;
            yields
        });
        measured.await.unwrap()
    });
    drop(release_tx);
    for holder in holders {
        rt.block_on(holder).unwrap();
    }
    yields
}

/// The OS decides when a connection shows up as readiness, so one attempt
/// may see a few more yields; a scheduler that does not defer yields sees
/// ten every time.
fn assert_yield_defers_until_park(
    flavour: &str,
    busy: usize,
    rt: impl Fn() -> weft::Runtime + Send + 'static,
) {
    let counts = guarded(flavour, move |_| {
        let mut counts = Vec::new();
        for _ in 0..5 {
            let n = yields_until_accepted(&rt(), busy);
            counts.push(n);
            if n < 10 {
                break;
            }
        }
        counts
    });
    assert!(
        counts.last().is_some_and(|&n| n < 10),
        "{flavour}: yields before the accept, per attempt: {counts:?}"
    );
}

#[test]
fn yield_defers_until_park_current_thread() {
    assert_yield_defers_until_park("current_thread", 0, || {
        weft::Runtime::builder().current_thread().build().unwrap()
    });
}

#[test]
fn yield_defers_until_park_one_worker() {
    assert_yield_defers_until_park("one worker", 0, || {
        weft::Runtime::builder().worker_threads(1).build().unwrap()
    });
}

#[test]
fn yield_defers_until_park_four_workers() {
    assert_yield_defers_until_park("four workers", 3, || {
        weft::Runtime::builder().worker_threads(4).build().unwrap()
    });
}
