// Over ~600 lines on purpose: the solutions to the book's exercises, one
// short section per chapter in the book's order, so a reader finds every
// solution in the one file the chapters point to.
//! Solutions to the exercises at the end of the book's chapters, one
//! section per chapter, each named in the chapter's exercise list.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weft::sync::{mpsc, oneshot};
use weft::time::timeout;
use weft_test_support::CountingWaker;

// ---- Futures from scratch ----------------------------------------------

/// The mailbox of `examples/block_on.rs` with its one important line left
/// out: `send` stores the letter but never wakes the receiver.
struct BrokenMailbox<T>(Arc<std::sync::Mutex<(Option<T>, Option<Waker>)>>);

impl<T> BrokenMailbox<T> {
    fn send(&self, letter: T) {
        self.0.lock().unwrap().0 = Some(letter);
        // Missing: take the waker and wake it.
    }
}

impl<T> Future for &BrokenMailbox<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap();
        match slot.0.take() {
            Some(letter) => Poll::Ready(letter),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[test]
fn a_mailbox_that_never_wakes_leaves_block_on_asleep() {
    // The test is bounded: instead of calling a real block_on, which would
    // park forever, it plays block_on's part by hand and counts the wakes.
    let mailbox = BrokenMailbox(Arc::default());
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut receiving = pin!(&mailbox);
    assert!(receiving.as_mut().poll(&mut cx).is_pending());
    mailbox.send("hello");
    // The letter is there, but nobody was told: a block_on would now park
    // and never be unparked. That is a lost wakeup.
    assert_eq!(counter.wakes(), 0);
    // Polling again (which only a spurious wake would cause) finds it.
    assert_eq!(receiving.as_mut().poll(&mut cx), Poll::Ready("hello"));
}

// ---- Using weft -------------------------------------------------------------

enum Command {
    Add(u64),
    GetAndReset(oneshot::Sender<u64>),
}

async fn resetting_counter(mut commands: mpsc::Receiver<Command>) {
    let mut count = 0;
    while let Some(command) = commands.recv().await {
        match command {
            Command::Add(n) => count += n,
            Command::GetAndReset(reply) => drop(reply.send(std::mem::take(&mut count))),
        }
    }
}

#[test]
fn counter_resets_on_get() {
    weft::block_on(async {
        let (tx, rx) = mpsc::channel(4);
        weft::spawn(resetting_counter(rx));
        let ask = async |tx: &mpsc::Sender<Command>| {
            let (reply, answer) = oneshot::channel();
            tx.send(Command::GetAndReset(reply)).await.unwrap();
            answer.await.unwrap()
        };
        tx.send(Command::Add(5)).await.unwrap();
        assert_eq!(ask(&tx).await, 5);
        assert_eq!(ask(&tx).await, 0);
    });
}

#[test]
fn collect_until_all_senders_are_gone() {
    weft::block_on(async {
        let (tx, mut rx) = mpsc::channel(2);
        for n in 0..10 {
            let tx = tx.clone();
            weft::spawn(async move { tx.send(n).await.unwrap() });
        }
        drop(tx);
        let mut all = Vec::new();
        while let Some(n) = rx.recv().await {
            all.push(n);
        }
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn a_silent_server_times_out() {
    weft::block_on(async {
        weft::time::pause();
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server accepts, then holds the connection without answering.
        let _server = weft::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
            drop(stream);
        });
        let mut client = weft::net::TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        let round_trip = timeout(Duration::from_secs(1), async {
            client.write_all(b"hello?").await?;
            let mut reply = [0; 6];
            client.read_exact(&mut reply).await
        })
        .await;
        assert!(round_trip.is_err(), "the server never answers");
        // Paused time: the second passed on weft's clock, not on the wall's.
        assert!(started.elapsed() < Duration::from_secs(60));
    });
}

// ---- Atomics and unsafe -----------------------------------------------------

#[test]
fn handshake_with_a_mutex_and_condvar() {
    use std::sync::{Condvar, Mutex};
    /// (question, answer), each filled in turn.
    type Slots = (Option<u64>, Option<u64>);
    for question in 0..100 {
        let shared = (Mutex::new(Slots::default()), Condvar::new());
        let answer = std::thread::scope(|s| {
            s.spawn(|| {
                let (lock, changed) = &shared;
                let mut slots = changed
                    .wait_while(lock.lock().unwrap(), |slots| slots.0.is_none())
                    .unwrap();
                slots.1 = slots.0.map(|q| q * 2);
                changed.notify_all();
            });
            let (lock, changed) = &shared;
            lock.lock().unwrap().0 = Some(question);
            changed.notify_all();
            let slots = changed
                .wait_while(lock.lock().unwrap(), |slots| slots.1.is_none())
                .unwrap();
            slots.1.unwrap()
        });
        assert_eq!(answer, question * 2);
    }
}

#[test]
fn the_handshake_holds_on_many_fresh_threads() {
    // The two-flag handshake of tests/book_atomics.rs, in its smallest form:
    // one value published with Release and read after an Acquire.
    use std::sync::atomic::AtomicBool;
    for round in 0..200u64 {
        let data = AtomicUsize::new(0);
        let ready = AtomicBool::new(false);
        let seen = std::thread::scope(|s| {
            let reader = s.spawn(|| {
                while !ready.load(Ordering::Acquire) {
                    std::thread::yield_now();
                }
                data.load(Ordering::Relaxed)
            });
            data.store(round as usize + 1, Ordering::Relaxed);
            ready.store(true, Ordering::Release);
            reader.join().unwrap()
        });
        assert_eq!(seen, round as usize + 1);
    }
}

// ---- Streams and framing ----------------------------------------------------

/// Three ticks of an interval, one a second, as a stream.
struct Ticks {
    interval: weft::time::Interval,
    left: u32,
}

impl futures_util::stream::Stream for Ticks {
    type Item = weft::time::Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(None);
        }
        this.interval.poll_tick(cx).map(|at| {
            this.left -= 1;
            Some(at)
        })
    }
}

async fn next<S: futures_util::stream::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

#[test]
fn a_stream_of_ticks() {
    weft::block_on(async {
        weft::time::pause();
        let start = weft::time::Instant::now();
        let mut ticks = Ticks {
            interval: weft::time::interval(Duration::from_secs(1)),
            left: 3,
        };
        let mut at = Vec::new();
        while let Some(tick) = next(&mut ticks).await {
            at.push(tick - start);
        }
        // An interval's first tick is at once, then one a second.
        assert_eq!(
            at,
            [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]
        );
    });
}

/// A length-delimited reader that keeps what it has read between calls, so
/// a dropped `read_frame` loses nothing.
struct FrameReader {
    socket: weft::net::TcpStream,
    buffer: Vec<u8>,
}

impl FrameReader {
    /// The next frame, or `None` at a clean end. Cancel-safe: bytes are
    /// only ever moved from the socket into `self.buffer`.
    async fn read_frame(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if self.buffer.len() >= 4 {
                let len = u32::from_be_bytes(self.buffer[..4].try_into().unwrap()) as usize;
                if len > 64 * 1024 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "frame too large",
                    ));
                }
                if self.buffer.len() >= 4 + len {
                    let frame = self.buffer[4..4 + len].to_vec();
                    self.buffer.drain(..4 + len);
                    return Ok(Some(frame));
                }
            }
            let mut chunk = [0; 1024];
            let n = self.socket.read(&mut chunk).await?;
            if n == 0 {
                return if self.buffer.is_empty() {
                    Ok(None)
                } else {
                    Err(std::io::ErrorKind::UnexpectedEof.into())
                };
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

#[test]
fn a_frame_reader_survives_a_timeout() {
    weft::block_on(async {
        weft::time::pause();
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (half_sent_tx, half_sent_rx) = oneshot::channel();
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let writer = weft::spawn(async move {
            let mut socket = weft::net::TcpStream::connect(addr).await.unwrap();
            // The header and half of the payload, then a pause.
            socket.write_all(&5u32.to_be_bytes()).await.unwrap();
            socket.write_all(b"hel").await.unwrap();
            half_sent_tx.send(()).unwrap();
            go_rx.await.unwrap();
            socket.write_all(b"lo").await.unwrap();
        });
        let (socket, _) = listener.accept().await.unwrap();
        let mut reader = FrameReader {
            socket,
            buffer: Vec::new(),
        };
        half_sent_rx.await.unwrap();
        // The first read times out half-way through the frame...
        let first = timeout(Duration::from_secs(1), reader.read_frame()).await;
        assert!(first.is_err());
        // ...and the next one still finds the frame whole.
        go_tx.send(()).unwrap();
        assert_eq!(reader.read_frame().await.unwrap().unwrap(), b"hello");
        assert_eq!(reader.read_frame().await.unwrap(), None);
        writer.await.unwrap();
    });
}

// ---- Select and join --------------------------------------------------------

/// `Timeout` by hand: poll the work first, then the timer.
struct MyTimeout<F> {
    future: Pin<Box<F>>,
    sleep: Pin<Box<weft::time::Sleep>>,
}

impl<F: Future> Future for MyTimeout<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(value) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        self.sleep.as_mut().poll(cx).map(|()| None)
    }
}

fn my_timeout<F: Future>(duration: Duration, future: F) -> MyTimeout<F> {
    MyTimeout {
        future: Box::pin(future),
        sleep: Box::pin(weft::time::sleep(duration)),
    }
}

#[test]
fn a_hand_written_timeout_gives_up_and_lets_fast_work_through() {
    weft::block_on(async {
        weft::time::pause();
        let (_tx, mut rx) = mpsc::channel::<u8>(1);
        assert_eq!(my_timeout(Duration::from_secs(1), rx.recv()).await, None);
        assert_eq!(my_timeout(Duration::from_secs(1), async { 7 }).await, Some(7));
        // The same thing without a type: poll_fn over two pinned futures.
        let mut work = pin!(std::future::pending::<u8>());
        let mut timer = pin!(weft::time::sleep(Duration::from_millis(10)));
        let raced = poll_fn(|cx| {
            if let Poll::Ready(v) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            timer.as_mut().poll(cx).map(|()| None)
        })
        .await;
        assert_eq!(raced, None);
    });
}

/// Which branch of [`select_first`] finished.
#[derive(Debug, PartialEq, Eq)]
enum First<A, B> {
    Left(A),
    Right(B),
}

/// The output of whichever of `a` and `b` finishes first; `a` wins a tie.
/// The other is dropped, so both must be cancel-safe.
async fn select_first<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(First::Left(out));
        }
        b.as_mut().poll(cx).map(First::Right)
    })
    .await
}

#[test]
fn select_first_prefers_the_first_branch() {
    weft::block_on(async {
        let (jobs_tx, mut jobs) = mpsc::channel(4);
        let (stop_tx, mut stop) = weft::sync::watch::channel(false);
        jobs_tx.send(1).await.unwrap();
        let got = select_first(stop.wait_for(|&s| s), jobs.recv()).await;
        assert!(matches!(got, First::Right(Some(1))));
        drop(got); // a `Left` would hold a borrow of the watch value
        // With a job waiting AND the flag set, the first branch wins.
        jobs_tx.send(2).await.unwrap();
        stop_tx.send(true).unwrap();
        let got = select_first(stop.wait_for(|&s| s), jobs.recv()).await;
        assert!(matches!(got, First::Left(Ok(_))));
        // The losing `recv` took nothing: job 2 is still there.
        assert_eq!(jobs.recv().await, Some(2));
    });
}

// ---- Send and pin projection ---------------------------------------------------

fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

async fn bump_then_wait(cell: Arc<std::sync::Mutex<std::cell::RefCell<u32>>>) -> u32 {
    let value = {
        let guard = cell.lock().unwrap();
        let mut borrow = guard.borrow_mut();
        *borrow += 1;
        *borrow
    }; // both the borrow and the guard end here
    weft::task::yield_now().await;
    value
}

#[test]
fn a_refcell_borrow_ends_before_the_await() {
    weft::block_on(async {
        let cell = Arc::new(std::sync::Mutex::new(std::cell::RefCell::new(0)));
        let task = weft::spawn(assert_send(bump_then_wait(cell)));
        assert_eq!(task.await.unwrap(), 1);
    });
}

/// Waits for `delay`, then runs `inner`: both fields inline, both pinned.
struct Delayed<F> {
    delay: weft::time::Sleep,
    inner: F,
}

impl<F: Future> Future for Delayed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: both fields are structurally pinned: neither is ever moved
        // out of `self`, and `Delayed` has no `Drop` impl.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `delay` stays in place as long as `self` does.
        let delay = unsafe { Pin::new_unchecked(&mut this.delay) };
        if delay.poll(cx).is_pending() {
            return Poll::Pending;
        }
        // SAFETY: `inner` stays in place as long as `self` does.
        unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx)
    }
}

#[test]
fn a_delayed_future_waits_then_runs() {
    weft::block_on(async {
        weft::time::pause();
        let start = weft::time::Instant::now();
        let delayed = Delayed {
            delay: weft::time::sleep(Duration::from_secs(2)),
            inner: async { "ran" },
        };
        assert_eq!(delayed.await, "ran");
        assert!(start.elapsed() >= Duration::from_secs(2));
    });
}

// ---- Debugging a hang ----------------------------------------------------------

/// A flag a task can wait for: the waker is stored before the flag is
/// checked, and `set` wakes it, so no change can be missed.
#[derive(Default)]
struct Flag {
    set: std::sync::atomic::AtomicBool,
    waker: std::sync::Mutex<Option<Waker>>,
}

impl Flag {
    fn set(&self) {
        self.set.store(true, Ordering::Release);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.set.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

fn paused_runtime() -> weft::Runtime {
    weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn the_fixed_flag_wakes_its_waiter() {
    paused_runtime().block_on(async {
        let flag = Arc::new(Flag::default());
        let waiter = weft::spawn({
            let flag = flag.clone();
            async move { flag.wait().await }
        });
        weft::task::yield_now().await;
        flag.set();
        timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    });
}

#[test]
fn the_lock_is_released_before_waiting() {
    paused_runtime().block_on(async {
        let state = Arc::new(weft::sync::Mutex::new(0));
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let a = weft::spawn({
            let state = state.clone();
            async move {
                *state.lock().await += 1; // the guard ends with the statement
                go_rx.await.unwrap();
                *state.lock().await += 1;
            }
        });
        let b = weft::spawn({
            let state = state.clone();
            async move {
                *state.lock().await += 10;
                go_tx.send(()).unwrap();
            }
        });
        timeout(Duration::from_secs(5), async {
            a.await.unwrap();
            b.await.unwrap();
        })
        .await
        .expect("no deadlock");
        assert_eq!(*state.lock().await, 12);
    });
}

// ---- Shutting down gracefully ------------------------------------------------------

#[test]
fn a_late_broadcast_subscriber_misses_the_signal() {
    weft::block_on(async {
        let (stop_tx, _early) = weft::sync::broadcast::channel::<()>(1);
        let (watch_tx, watch_rx) = weft::sync::watch::channel(false);
        stop_tx.send(()).unwrap();
        watch_tx.send(true).unwrap();
        // Subscribed after the signal: a broadcast receiver sees only what
        // is sent from now on...
        let mut late = stop_tx.subscribe();
        assert!(late.try_recv().is_err());
        // ...while a watch receiver sees the current value at once.
        let mut late_watch = watch_rx.clone();
        assert!(late_watch.wait_for(|&stop| stop).await.is_ok());
    });
}

// ---- Why talk without waiting ------------------------------------------------------

#[test]
fn a_thousand_sleeps_share_one_thread() {
    paused_runtime().block_on(async {
        let start = weft::time::Instant::now();
        let sleepers: Vec<_> = (0..1_000)
            .map(|_| weft::spawn(weft::time::sleep(Duration::from_secs(1))))
            .collect();
        for sleeper in sleepers {
            sleeper.await.unwrap();
        }
        // One thread, a thousand waits at once: one second, not a thousand.
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(2));
    });
}

// ---- The executor ------------------------------------------------------------------

#[test]
fn ten_wakes_during_a_poll_cause_one_more_poll() {
    weft::block_on(async {
        let polls = Arc::new(AtomicUsize::new(0));
        let counted = polls.clone();
        let task = weft::spawn(poll_fn(move |cx| {
            if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                for _ in 0..10 {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        task.await.unwrap();
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    });
}

/// Counts its drops.
struct DropFlag(Arc<AtomicUsize>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_task_aborted_before_its_first_poll_never_runs() {
    paused_runtime().block_on(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let (r, flag) = (ran.clone(), DropFlag(drops.clone()));
        // On a current-thread runtime nothing else runs until we await, so
        // the task is still unpolled when it is aborted.
        let task = weft::spawn(async move {
            let _flag = flag;
            r.fetch_add(1, Ordering::SeqCst);
        });
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(ran.load(Ordering::SeqCst), 0, "the body never ran");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "what it captured was dropped");
    });
}

// ---- The reactor -------------------------------------------------------------------

#[test]
fn a_readiness_loop_reads_what_was_sent() {
    weft::block_on(async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = weft::net::TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.write_all(b"ready?").await.unwrap();
        drop(client);
        let mut got = Vec::new();
        let mut buf = [0; 4];
        // Readiness, not completion: wait until readable, then try; a
        // WouldBlock means the readiness was used up, so wait again.
        loop {
            server.readable().await.unwrap();
            match server.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, b"ready?");
    });
}

#[test]
fn the_paused_clock_moves_weft_instant_only() {
    paused_runtime().block_on(async {
        let weft_start = weft::time::Instant::now();
        let std_start = std::time::Instant::now();
        weft::time::sleep(Duration::from_secs(3600)).await;
        // An hour passed on weft's clock...
        assert!(weft_start.elapsed() >= Duration::from_secs(3600));
        // ...and not on the machine's: std's Instant kept real time.
        assert!(std_start.elapsed() < Duration::from_secs(3600));
    });
}

// ---- Callbacks ---------------------------------------------------------------------

/// A callback API: answers on another thread, some time later.
fn lookup(key: u32, done: weft::callback::Done<Result<String, String>>) {
    std::thread::spawn(move || {
        done(if key == 0 {
            Err("no such key".to_owned())
        } else {
            Ok(format!("value {key}"))
        })
    });
}

#[test]
fn a_callback_api_bridged_into_a_future() {
    weft::block_on(async {
        let found = weft::callback::from_callback(|done| lookup(7, done)).await;
        assert_eq!(found.unwrap(), Ok("value 7".to_owned()));
        let missing = weft::callback::from_callback(|done| lookup(0, done)).await;
        assert_eq!(missing.unwrap(), Err("no such key".to_owned()));
    });
}

// ---- Promises ----------------------------------------------------------------------

use weft::promise::Promise;

/// Calls `op` until it fulfils, at most `attempts` times, by chaining `catch`.
fn retry(attempts: u32, op: Arc<dyn Fn() -> Promise<u32, String> + Send + Sync>) -> Promise<u32, String> {
    op().catch(move |reason| {
        if attempts > 1 {
            retry(attempts - 1, op)
        } else {
            Promise::reject(reason)
        }
    })
}

#[test]
fn a_promise_retried_with_catch() {
    weft::block_on(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        // Fails twice, then succeeds.
        let flaky: Arc<dyn Fn() -> Promise<u32, String> + Send + Sync> = Arc::new(move || {
            if c.fetch_add(1, Ordering::SeqCst) < 2 {
                Promise::reject("busy".to_owned())
            } else {
                Promise::resolve(42)
            }
        });
        assert_eq!(retry(3, flaky.clone()).await, Ok(42));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        calls.store(0, Ordering::SeqCst);
        assert_eq!(retry(2, flaky).await, Err("busy".to_owned()));
    });
}

// ---- async and await ---------------------------------------------------------------

/// Retries `op` with a doubling delay: the shape to add to the async style
/// of the compare example.
async fn retry_with_backoff<T, E, F, Fut>(attempts: u32, first_delay: Duration, mut op: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delay = first_delay;
    let mut left = attempts;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(e) if left <= 1 => return Err(e),
            Err(_) => {
                left -= 1;
                weft::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}

#[test]
fn retry_with_backoff_on_the_paused_clock() {
    paused_runtime().block_on(async {
        let start = weft::time::Instant::now();
        let mut calls = 0;
        let result = retry_with_backoff(4, Duration::from_millis(100), || {
            calls += 1;
            let outcome = if calls < 4 { Err("down") } else { Ok(calls) };
            async move { outcome }
        })
        .await;
        assert_eq!(result, Ok(4));
        // Waited 100 + 200 + 400 ms between the four attempts.
        assert!(start.elapsed() >= Duration::from_millis(700));
    });
}

// ---- Testing async code ------------------------------------------------------------

#[test]
fn notify_orders_two_tasks_without_a_sleep() {
    for flavour in ["current", "multi"] {
        let rt = match flavour {
            "current" => weft::Runtime::builder().current_thread().build().unwrap(),
            _ => weft::Runtime::builder().worker_threads(2).build().unwrap(),
        };
        rt.block_on(async {
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let ready = Arc::new(weft::sync::Notify::new());
            let second = weft::spawn({
                let (log, ready) = (log.clone(), ready.clone());
                async move {
                    ready.notified().await; // waits for the first, whatever the schedule
                    log.lock().unwrap().push("second");
                }
            });
            let first = weft::spawn({
                let (log, ready) = (log.clone(), ready.clone());
                async move {
                    log.lock().unwrap().push("first");
                    ready.notify_one(); // stored as a permit if nobody waits yet
                }
            });
            first.await.unwrap();
            second.await.unwrap();
            assert_eq!(*log.lock().unwrap(), ["first", "second"], "{flavour}");
        });
    }
}
