//! Callbacks through the facade: timers on the paused clock, bridges both
//! ways, and callback-style TCP.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::{Rng, paused_runtimes, runtimes};
use weft::callback::{
    CallbackDropped, IntervalHandle, from_callback, into_callback, on_complete, set_interval, set_timeout,
    tcp,
};
use weft::promise::Promise;
use weft::sync::{mpsc, oneshot};
use weft::time::{Instant, sleep};

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

/// Completes after `delay` on the runtime's clock, through a callback timer.
async fn after(delay: Duration) {
    from_callback(|done| drop(set_timeout(delay, move || done(()))))
        .await
        .unwrap();
}

#[test]
fn timeouts_fire_in_deadline_order_and_equal_deadlines_in_the_order_set() {
    for (flavour, rt) in paused_runtimes() {
        let fired = log();
        rt.block_on(async {
            let start = Instant::now();
            for (label, ms) in [("c", 30), ("a1", 10), ("b", 20), ("a2", 10)] {
                let fired = fired.clone();
                set_timeout(Duration::from_millis(ms), move || {
                    fired.lock().unwrap().push((label, Instant::now() - start));
                });
            }
            after(Duration::from_millis(40)).await;
        });
        let ms = Duration::from_millis;
        assert_eq!(
            *fired.lock().unwrap(),
            [("a1", ms(10)), ("a2", ms(10)), ("b", ms(20)), ("c", ms(30))],
            "{flavour}"
        );
    }
}

#[test]
fn a_zero_delay_timeout_runs_later_never_inside_set_timeout() {
    thread_local! {
        /// Set on the calling thread while `set_timeout` is on its stack.
        static INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            let inline = Arc::new(AtomicBool::new(false));
            let (tx, rx) = oneshot::channel();
            let (flag, seen_inline) = (ran.clone(), inline.clone());
            INSIDE.set(true);
            set_timeout(Duration::ZERO, move || {
                // True only on the calling thread, inside the call.
                seen_inline.store(INSIDE.get(), Ordering::SeqCst);
                flag.store(true, Ordering::SeqCst);
                let _ = tx.send(());
            });
            INSIDE.set(false);
            if flavour == "current_thread" {
                // One thread, and this task has not yielded: not yet run.
                assert!(!ran.load(Ordering::SeqCst), "{flavour}: ran before a yield");
            }
            // (With two workers the other may run it at once, in parallel.)
            rx.await.unwrap();
            assert!(ran.load(Ordering::SeqCst), "{flavour}");
            assert!(
                !inline.load(Ordering::SeqCst),
                "{flavour}: ran inside set_timeout"
            );
        });
    }
}

#[test]
fn a_cancelled_timeout_never_runs() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            let flag = ran.clone();
            let timer = set_timeout(Duration::from_millis(10), move || {
                flag.store(true, Ordering::SeqCst)
            });
            assert!(timer.is_pending());
            assert!(timer.cancel(), "{flavour}: cancel before firing");
            assert!(!timer.is_pending());
            assert!(!timer.cancel(), "{flavour}: cancelled twice");
            after(Duration::from_millis(50)).await;
            assert!(!ran.load(Ordering::SeqCst), "{flavour}: a cancelled timer ran");
        });
    }
}

#[test]
fn a_dropped_timer_handle_still_fires() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            drop(set_timeout(Duration::from_secs(3600), move || {
                let _ = tx.send(());
            }));
            assert_eq!(rx.await, Ok(()), "{flavour}");
        });
    }
}

#[test]
fn an_interval_ticks_each_period_until_its_own_callback_cancels_it() {
    for (flavour, rt) in paused_runtimes() {
        let ticks = log();
        rt.block_on(async {
            let start = Instant::now();
            let handle: Arc<OnceLock<IntervalHandle>> = Arc::default();
            let (ticks_in, handle_in) = (ticks.clone(), handle.clone());
            let interval = set_interval(Duration::from_millis(10), move || {
                let mut ticks = ticks_in.lock().unwrap();
                ticks.push(Instant::now() - start);
                if ticks.len() == 5 {
                    assert!(handle_in.get().unwrap().cancel());
                }
            });
            handle.set(interval.clone()).unwrap();
            assert!(interval.is_active());
            after(Duration::from_millis(200)).await;
            assert!(!interval.is_active(), "{flavour}");
            assert!(!interval.cancel(), "{flavour}");
        });
        let expected: Vec<_> = (1..=5).map(|n| Duration::from_millis(10 * n)).collect();
        assert_eq!(*ticks.lock().unwrap(), expected, "{flavour}");
    }
}

#[test]
fn a_panicking_callback_is_caught_and_later_callbacks_run() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            set_timeout(Duration::from_millis(1), || {
                panic!("a callback panics (expected)")
            });
            set_timeout(Duration::from_millis(2), move || {
                let _ = tx.send("still running");
            });
            assert_eq!(rx.await, Ok("still running"), "{flavour}");
        });
    }
}

#[test]
fn ten_thousand_timeouts_fire_once_each_in_deadline_order() {
    for (flavour, rt) in paused_runtimes() {
        let fired = log();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let delays: Vec<u64> = (0..10_000).map(|_| rng.below(5_000)).collect();
        rt.block_on(async {
            let start = Instant::now();
            for (i, &ms) in delays.iter().enumerate() {
                let fired = fired.clone();
                set_timeout(Duration::from_millis(ms), move || {
                    fired.lock().unwrap().push((ms, i, Instant::now() - start));
                });
            }
            after(Duration::from_millis(5_000)).await;
        });
        let fired = fired.lock().unwrap();
        assert_eq!(fired.len(), delays.len(), "{flavour}");
        for &(ms, _, at) in fired.iter() {
            assert_eq!(at, Duration::from_millis(ms), "{flavour}");
        }
        // Deadline order; equal deadlines in the order they were set.
        assert!(
            fired.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)),
            "{flavour}"
        );
    }
}

#[test]
fn from_callback_gives_the_value_or_an_error_when_done_is_dropped() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let value = from_callback(|done| {
                std::thread::spawn(move || done(7));
            });
            assert_eq!(value.await, Ok(7), "{flavour}");
            let lost = from_callback::<u8>(|done| {
                std::thread::spawn(move || drop(done));
            });
            assert_eq!(lost.await, Err(CallbackDropped), "{flavour}");
            let panicked = from_callback::<u8>(|_done| panic!("register panics (expected)"));
            assert_eq!(panicked.await, Err(CallbackDropped), "{flavour}");
        });
    }
}

thread_local! {
    /// Set on a thread while it is inside a call that registers a callback.
    static REGISTERING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` marked as "inside the registering call": a callback that runs
/// inline sees the mark on its thread.
fn registering(f: impl FnOnce()) {
    REGISTERING.set(true);
    f();
    REGISTERING.set(false);
}

#[test]
fn on_complete_and_into_callback_run_after_the_future_never_inline() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let tx2 = tx.clone();
            registering(|| {
                on_complete(async { 40 + 2 }, move |n| {
                    let _ = tx.send((REGISTERING.get(), Ok(n)));
                });
                into_callback(async { Err::<u32, String>("failed".into()) }, move |r| {
                    let _ = tx2.send((REGISTERING.get(), r));
                });
            });
            let mut got = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
            got.sort();
            assert!(got.iter().all(|(inline, _)| !inline), "{flavour}: ran inline");
            let outcomes: Vec<_> = got.into_iter().map(|(_, r)| r).collect();
            assert_eq!(outcomes, [Ok(42), Err("failed".to_string())], "{flavour}");
        });
    }
}

#[test]
fn a_promise_from_a_callback_and_a_callback_from_a_promise() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let p = Promise::<u32, String>::from_callback(|done| {
                std::thread::spawn(move || done(Ok(5)));
            });
            let (tx, rx) = oneshot::channel();
            p.map(|n| n * 2).on_settled(move |outcome| {
                let _ = tx.send(outcome);
            });
            assert_eq!(rx.await, Ok(Ok(10)), "{flavour}");
            let lost = Promise::<u32, String>::from_callback(drop);
            assert!(lost.await.unwrap_err().contains("dropped"), "{flavour}");
        });
    }
}

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
