//! What the socket tests share: a `block_on` that drives a [`Driver`] on
//! the current thread (the reactor crate does not depend on the executor),
//! join helpers, the `futures-io` calls as futures, a deterministic
//! generator, and temporary directories for Unix socket paths.
//!
//! The wakers here are real: a future is polled again only after something
//! woke it, so a socket that forgets to register or wake shows up as a test
//! that stops making progress — which `block_on` turns into a panic after
//! [`HANG_LIMIT`] instead of a hang.
#![allow(dead_code)] // each test file uses a part

use futures_io::{AsyncRead, AsyncWrite};
use std::future::{Future, poll_fn};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use weft_reactor::{Driver, Handle};

/// How long `block_on` waits without a wakeup before it calls it a hang.
pub(crate) const HANG_LIMIT: Duration = Duration::from_secs(30);

/// Wakes `block_on`: marks the future runnable and interrupts the park.
struct Unpark {
    woken: AtomicBool,
    handle: Handle,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.handle.unpark();
    }
}

/// Runs `future` to completion on a fresh driver, entered on this thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let driver = Driver::new().expect("create a driver");
    block_on_driver(&driver, future)
}

/// Runs `future` to completion, parking in `driver` while it waits.
///
/// # Panics
///
/// If nothing wakes the future for [`HANG_LIMIT`].
pub(crate) fn block_on_driver<F: Future>(driver: &Driver, future: F) -> F::Output {
    let _enter = driver.handle().enter();
    let unpark = Arc::new(Unpark {
        woken: AtomicBool::new(true),
        handle: driver.handle(),
    });
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut last_wake = Instant::now();
    loop {
        if unpark.woken.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            last_wake = Instant::now();
        } else {
            assert!(
                last_wake.elapsed() < HANG_LIMIT,
                "no wakeup for {HANG_LIMIT:?}: a lost wakeup?"
            );
        }
        driver.park(Some(Duration::from_secs(1)));
    }
}

/// Polls `future` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    pin!(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A boxed future, for [`join_all`].
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Boxes a future for [`join_all`].
pub(crate) fn boxed<'a, F: Future + 'a>(future: F) -> BoxFuture<'a, F::Output> {
    Box::pin(future)
}

/// One future of a [`join_all`]: polled again only once its own waker fires.
struct Child<'a, T> {
    future: Option<BoxFuture<'a, T>>,
    output: Option<T>,
    wake: Arc<ChildWake>,
}

struct ChildWake {
    woken: AtomicBool,
    parent: Mutex<Option<Waker>>,
}

impl Wake for ChildWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Some(parent) = self.parent.lock().unwrap().as_ref() {
            parent.wake_by_ref();
        }
    }
}

/// Runs all `futures` concurrently, in the current task, and returns their
/// outputs in order.
pub(crate) async fn join_all<T>(futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    let mut children: Vec<Child<'_, T>> = futures
        .into_iter()
        .map(|future| Child {
            future: Some(future),
            output: None,
            wake: Arc::new(ChildWake {
                woken: AtomicBool::new(true),
                parent: Mutex::new(None),
            }),
        })
        .collect();
    poll_fn(|cx| {
        let mut pending = false;
        for child in &mut children {
            let Some(future) = child.future.as_mut() else {
                continue;
            };
            {
                let mut parent = child.wake.parent.lock().unwrap();
                if !parent.as_ref().is_some_and(|p| p.will_wake(cx.waker())) {
                    *parent = Some(cx.waker().clone());
                }
            }
            if !child.wake.woken.swap(false, Ordering::SeqCst) {
                pending = true;
                continue;
            }
            let waker = Waker::from(child.wake.clone());
            match future.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(output) => {
                    child.output = Some(output);
                    child.future = None;
                }
                Poll::Pending => pending = true,
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    children
        .into_iter()
        .map(|child| child.output.expect("finished"))
        .collect()
}

/// Runs two futures concurrently and returns both outputs.
pub(crate) async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(|cx| {
        if out_a.is_none()
            && let Poll::Ready(out) = a.as_mut().poll(cx)
        {
            out_a = Some(out);
        }
        if out_b.is_none()
            && let Poll::Ready(out) = b.as_mut().poll(cx)
        {
            out_b = Some(out);
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (out_a.expect("finished"), out_b.expect("finished"))
}

/// `AsyncRead::poll_read` as a future.
pub(crate) async fn read_via<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    buf: &mut [u8],
) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, buf)).await
}

/// Reads through `AsyncRead` until `buf` is full.
pub(crate) async fn read_exact_via<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    buf: &mut [u8],
) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match read_via(reader, &mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

/// Reads through `AsyncRead` to the end of the stream.
pub(crate) async fn read_to_end_via<R: AsyncRead + Unpin + ?Sized>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match read_via(reader, &mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes all of `buf` through `AsyncWrite`.
pub(crate) async fn write_all_via<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    mut buf: &[u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, buf)).await?;
        assert_ne!(n, 0, "a non-empty write wrote nothing");
        buf = &buf[n..];
    }
    Ok(())
}

/// Writes back through `AsyncWrite` what arrives through `AsyncRead`,
/// until the end of the stream.
pub(crate) async fn echo_via<S: AsyncRead + AsyncWrite + Unpin + ?Sized>(stream: &mut S) -> io::Result<()> {
    let mut buf = [0; 4096];
    loop {
        match read_via(stream, &mut buf).await? {
            0 => return Ok(()),
            n => write_all_via(stream, &buf[..n]).await?,
        }
    }
}

/// Asserts that `error` says the peer has gone: a broken pipe or a reset.
#[track_caller]
pub(crate) fn assert_peer_gone(error: &io::Error) {
    assert!(
        matches!(
            error.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "expected BrokenPipe or ConnectionReset, got {error:?}"
    );
}

/// `AsyncWrite::poll_write_vectored` as a future.
pub(crate) async fn write_vectored_via<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    bufs: &[io::IoSlice<'_>],
) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *writer).poll_write_vectored(cx, bufs)).await
}

/// `AsyncWrite::poll_flush` as a future.
pub(crate) async fn flush_via<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await
}

/// `AsyncWrite::poll_close` as a future.
pub(crate) async fn close_via<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *writer).poll_close(cx)).await
}

/// A deterministic xorshift generator (Marsaglia's 64-bit one).
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> XorShift {
        // Never zero, and different seeds part at once.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `low..=high`.
    pub(crate) fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }
}

/// A pseudo-random byte pattern of a prime length, so that streams that
/// start at different offsets never line up.
pub(crate) struct Pattern(Vec<u8>);

impl Pattern {
    pub(crate) const LEN: usize = 65_521;

    pub(crate) fn new() -> Pattern {
        let mut rng = XorShift::new(0xC0FFEE);
        Pattern((0..Pattern::LEN).map(|_| rng.next_u64() as u8).collect())
    }

    /// Fills `dst` with the bytes of stream `stream` from `offset` on.
    pub(crate) fn fill(&self, stream: usize, offset: usize, dst: &mut [u8]) {
        let mut at = (offset + stream * 131) % Pattern::LEN;
        let mut done = 0;
        while done < dst.len() {
            let n = (dst.len() - done).min(Pattern::LEN - at);
            dst[done..done + n].copy_from_slice(&self.0[at..at + n]);
            done += n;
            at = 0;
        }
    }

    /// Whether `got` holds the bytes of stream `stream` from `offset` on.
    pub(crate) fn matches(&self, stream: usize, offset: usize, got: &[u8], scratch: &mut Vec<u8>) -> bool {
        scratch.resize(got.len(), 0);
        self.fill(stream, offset, scratch);
        scratch[..] == *got
    }
}

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("weft-net-{}-{tag}-{n}", std::process::id()));
        // Left over from a crashed run with the same pid: start clean.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).expect("create a temporary directory");
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
