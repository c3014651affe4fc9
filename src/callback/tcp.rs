// Over ~600 lines because of its docs: about 360 lines of code, one
// concept (a Node-style connection: listen, connect, read, write with its
// high-water mark, close), every public function with its example.

//! Callback-style TCP, in the manner of Node's `net` module: listen with an
//! on-connection callback, read with an on-data callback, write with a
//! completion callback, close with an on-close callback. Errors reach the
//! callbacks as `io::Result`s (error-first, as in Node).
//!
//! Every callback runs on a runtime thread (on the task that serves the
//! listener or the connection), never inside the call that registered it;
//! one that panics is caught, reported by the panic hook, and the
//! connection goes on. The functions need a weft runtime to be current
//! (inside one, or after [`Runtime::enter`](crate::Runtime::enter)); outside
//! one they report an error through their callback or `Result`.
//!
//! Writes never wait, but they are counted: a connection whose write queue
//! reaches its [high-water mark](Connection::set_high_water_mark) stops
//! reading until the queue drains, so a peer that sends and never reads
//! cannot make an echo server buffer without bound (see
//! [`Connection::write`]).
//!
//! # Examples
//!
//! An echo server and a client, with no `async` block in sight:
//!
//! ```
//! use weft::callback::tcp;
//!
//! let rt = weft::Runtime::new()?;
//! let _entered = rt.enter();
//!
//! let server = tcp::listen("127.0.0.1:0", |conn| {
//!     let Ok(conn) = conn else { return };
//!     let echo = conn.clone();
//!     conn.on_data(move |data| {
//!         if let Ok(bytes) = data {
//!             echo.write(bytes.to_vec(), |_| {});
//!         }
//!     });
//! })?;
//!
//! let (tx, rx) = std::sync::mpsc::channel();
//! tcp::connect(server.local_addr(), move |conn| {
//!     let conn = conn.expect("connect");
//!     conn.on_data(move |data| {
//!         let _ = tx.send(data.map(|bytes| bytes.to_vec()));
//!     });
//!     conn.write(b"hello".to_vec(), |written| written.expect("write"));
//! });
//! assert_eq!(rx.recv().unwrap()?, b"hello");
//! server.close();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Over 600 lines, mostly docs (about 360 lines of code): the listener, the
//! connection and their callbacks are one protocol, each entry point with
//! its runnable example.

use crate::net::TcpStream;
use crate::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use crate::sync::{Notify, mpsc};
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

/// The bytes one read delivered, or the error that ended reading.
pub type Data<'a> = io::Result<&'a [u8]>;

/// The high-water mark a new [`Connection`] starts with: 64 KiB.
///
/// When this many bytes are queued but not yet written, the connection
/// stops reading until the queue drains to half of it (see
/// [`Connection::set_high_water_mark`]). 64 KiB is four of the read task's
/// 16 KiB chunks: enough to keep the socket's send buffer (itself hundreds
/// of KiB on Linux) fed between two turns of the writer task, and small
/// enough that ten thousand peers that never read cost the server at most
/// 800 MiB (each at most the mark plus one read chunk) rather than
/// whatever they manage to send.
pub const DEFAULT_HIGH_WATER_MARK: usize = 64 * 1024;

/// The size of the read task's buffer, so the most one `on_data` call gets.
const READ_CHUNK: usize = 16 * 1024;

type OnClose = Box<dyn FnOnce(io::Result<()>) + Send>;
type OnDrain = Box<dyn FnMut() + Send>;
type OnWritten = Box<dyn FnOnce(io::Result<()>) + Send>;

/// Runs user callback `name`, catching (after the panic hook has reported
/// it) a panic so the task serving the socket goes on; the panic is a
/// `tracing` event too, with the `tracing` feature.
fn call(name: &'static str, f: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
        crate::diag::callback_panicked(name, &*panic);
    }
}

/// The runtime current here, as an `io::Error` if there is none.
fn runtime() -> io::Result<crate::Handle> {
    crate::Handle::try_current().map_err(io::Error::other)
}

/// A listening socket whose connections go to a callback; see [`listen`].
///
/// Dropping the `Server` does not stop it (as in Node, [`close`] does);
/// it also stops when the runtime shuts down.
///
/// [`close`]: Server::close
///
/// # Examples
///
/// ```
/// let rt = weft::Runtime::new()?;
/// let _entered = rt.enter();
/// let server = weft::callback::tcp::listen("127.0.0.1:0", |_conn| {})?;
/// assert_ne!(server.local_addr().port(), 0);
/// server.close();
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    local_addr: SocketAddr,
    stop: Arc<Notify>,
}

impl Server {
    /// The address the server listens on (the port chosen, for port 0).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new()?;
    /// let _entered = rt.enter();
    /// let server = weft::callback::tcp::listen("127.0.0.1:0", |_conn| {})?;
    /// std::net::TcpStream::connect(server.local_addr())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and closes the listening socket.
    /// Connections already accepted are not affected.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::callback::tcp;
    ///
    /// let rt = weft::Runtime::new()?;
    /// let _entered = rt.enter();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let server = tcp::listen("127.0.0.1:0", move |conn| {
    ///     let _ = tx.send(conn.is_ok());
    /// })?;
    /// let _first = std::net::TcpStream::connect(server.local_addr())?;
    /// assert!(rx.recv().unwrap());
    /// server.close();
    /// // The accept loop ends, dropping the callback and its sender.
    /// assert!(rx.recv().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close(&self) {
        self.stop.notify_one();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// Listens on `addr` and calls `on_connection` with each accepted
/// connection, or with the error of a failed accept (the server goes on).
///
/// # Errors
///
/// The bind's error (address in use, permission denied, ...), or an error
/// if no weft runtime is current.
///
/// # Examples
///
/// A server that greets each client, and a client that reads the greeting
/// (the [module docs](self) hold an echo server):
///
/// ```
/// use weft::callback::tcp;
///
/// let rt = weft::Runtime::new()?;
/// let _entered = rt.enter();
/// let server = tcp::listen("127.0.0.1:0", |conn| {
///     if let Ok(conn) = conn {
///         conn.write(b"hi".to_vec(), |_| {});
///     }
/// })?;
/// let mut client = std::net::TcpStream::connect(server.local_addr())?;
/// let mut greeting = [0; 2];
/// std::io::Read::read_exact(&mut client, &mut greeting)?;
/// assert_eq!(&greeting, b"hi");
/// server.close();
/// # Ok::<(), std::io::Error>(())
/// ```
// ANCHOR: listen
pub fn listen(
    addr: impl ToSocketAddrs,
    mut on_connection: impl FnMut(io::Result<Connection>) + Send + 'static,
) -> io::Result<Server> {
    let handle = runtime()?;
    let listener = {
        let _entered = handle.enter();
        crate::net::TcpListener::from_std(std::net::TcpListener::bind(addr)?)?
    };
    let local_addr = listener.local_addr()?;
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    drop(handle.spawn(async move {
        let mut stopped = pin!(stopped.notified());
        loop {
            let accepted = poll_fn(|cx| match stopped.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(None),
                Poll::Pending => listener.poll_accept(cx).map(Some),
            })
            .await;
            match accepted {
                None => return,
                Some(Ok((stream, _))) => {
                    let conn = Connection::new(stream);
                    call("on_connection", || on_connection(conn));
                }
                Some(Err(e)) => {
                    crate::diag::accept_failed(&e);
                    call("on_connection", || on_connection(Err(e)));
                    // A failing accept (out of descriptors) fails again at
                    // once: let the system breathe instead of spinning.
                    crate::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }));
    Ok(Server { local_addr, stop })
}
// ANCHOR_END: listen

/// Connects to `addr` and calls `on_connect` with the connection, or with
/// the error (refused, unreachable, no runtime current).
///
/// # Examples
///
/// ```
/// use weft::callback::tcp;
///
/// let rt = weft::Runtime::new().unwrap();
/// let _entered = rt.enter();
/// // Nothing listens on a port just freed: the error reaches the callback.
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// tcp::connect(port, move |conn| drop(tx.send(conn.map(|_| ()))));
/// assert!(rx.recv().unwrap().is_err());
/// ```
pub fn connect(addr: SocketAddr, on_connect: impl FnOnce(io::Result<Connection>) + Send + 'static) {
    match runtime() {
        Ok(handle) => drop(handle.spawn(async move {
            let conn = TcpStream::connect(addr).await.and_then(Connection::new);
            call("on_connect", || on_connect(conn));
        })),
        // No runtime to run the callback later: a thread does, so it still
        // never runs inside this call.
        Err(e) => drop(std::thread::spawn(move || {
            call("on_connect", || on_connect(Err(e)))
        })),
    }
}

/// One TCP connection, driven by callbacks. Clones are handles to the same
/// connection.
///
/// Data is read only once [`on_data`](Connection::on_data) is set (until
/// then it waits in the socket, as a paused Node stream). Writes are queued
/// and done in order by the connection's writer task. Dropping every handle
/// ends the write side once the queued writes are done; the read side runs
/// until the peer closes it or [`close`](Connection::close) is called.
///
/// # Examples
///
/// A client that sends a line and hears the server close:
///
/// ```
/// use std::io::Read;
/// use weft::callback::tcp;
///
/// let rt = weft::Runtime::new()?;
/// let _entered = rt.enter();
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let (tx, rx) = std::sync::mpsc::channel();
/// tcp::connect(listener.local_addr()?, move |conn| {
///     let conn = conn.expect("connect");
///     conn.on_close(move |outcome| {
///         let _ = tx.send(outcome.is_ok());
///     });
///     conn.on_data(|_| {});
///     conn.write(b"ping\n".to_vec(), |_| {});
/// });
/// let (mut peer, _) = listener.accept()?;
/// let mut line = [0; 5];
/// peer.read_exact(&mut line)?;
/// assert_eq!(&line, b"ping\n");
/// drop(peer); // the server closes: `on_close` hears `Ok(())`
/// assert!(rx.recv().unwrap());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
}

struct Shared {
    peer_addr: SocketAddr,
    local_addr: SocketAddr,
    reader: Mutex<Option<OwnedReadHalf>>,
    writes: mpsc::UnboundedSender<Write>,
    closing: Arc<Closing>,
    flow: Arc<Flow>,
}

/// The write queue's accounting, shared by `write`, the read task (which
/// pauses on it) and the writer task (which drains it).
struct Flow {
    state: Mutex<FlowState>,
    /// Wakes the paused read task once the queue has drained.
    resume: Notify,
}

struct FlowState {
    /// Bytes queued by `write` and not yet written (or failed).
    buffered: usize,
    high_water: usize,
    /// Set when `buffered` reaches `high_water`, cleared when it falls to
    /// the low-water mark (half of it): reading is paused while set.
    full: bool,
    on_drain: Option<OnDrain>,
}

impl FlowState {
    fn low_water(&self) -> usize {
        self.high_water / 2
    }

    /// Sets `full` when the queue reaches the high-water mark; returns the
    /// drain callback to run if the queue has just drained.
    fn update(&mut self, flow: &Flow) -> Option<OnDrain> {
        if self.buffered > 0 && self.buffered >= self.high_water {
            self.full = true;
        } else if self.full && self.buffered <= self.low_water() {
            self.full = false;
            flow.resume.notify_one();
            return self.on_drain.take();
        }
        None
    }
}

impl Flow {
    fn lock(&self) -> std::sync::MutexGuard<'_, FlowState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds (`queued`) or takes away bytes from the queue's count, pausing
    /// or resuming reading and running `on_drain` as the marks are crossed.
    fn account(&self, queued: bool, bytes: usize) {
        let mut state = self.lock();
        if queued {
            state.buffered += bytes;
        } else {
            state.buffered -= bytes;
        }
        if let Some(mut on_drain) = state.update(self) {
            drop(state);
            call("on_drain", &mut on_drain);
            // Put it back unless a new one was set meanwhile.
            self.lock().on_drain.get_or_insert(on_drain);
        }
    }
}

/// The close side: one `on_close` call, whoever finishes first.
struct Closing {
    state: Mutex<CloseState>,
    stop_reading: Notify,
}

/// Where the connection's end and its `on_close` callback stand, under one
/// lock so that an end and a callback set at the same moment meet.
enum CloseState {
    /// Not ended; the callback, if one is set.
    Open(Option<OnClose>),
    /// Ended before any callback was set: the outcome waits for one.
    Ended(io::Result<()>),
    /// Ended, and the outcome handed to a callback.
    Reported,
}

enum Write {
    Data(Vec<u8>, OnWritten),
    End,
}

impl Closing {
    fn lock(&self) -> std::sync::MutexGuard<'_, CloseState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the end of the connection; runs `on_close` once.
    fn finish(&self, outcome: io::Result<()>) {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, CloseState::Reported) {
            CloseState::Open(Some(callback)) => {
                drop(state);
                call("on_close", || callback(outcome));
            }
            CloseState::Open(None) => *state = CloseState::Ended(outcome),
            // Already ended: the first end is the one reported.
            ended => *state = ended,
        }
    }

    /// True once the connection has ended.
    fn is_closed(&self) -> bool {
        !matches!(*self.lock(), CloseState::Open(_))
    }
}

impl Connection {
    fn new(stream: TcpStream) -> io::Result<Connection> {
        let peer_addr = stream.peer_addr()?;
        let local_addr = stream.local_addr()?;
        let (reader, writer) = stream.into_split();
        let (writes, queue) = mpsc::unbounded_channel();
        let flow = Arc::new(Flow {
            state: Mutex::new(FlowState {
                buffered: 0,
                high_water: DEFAULT_HIGH_WATER_MARK,
                full: false,
                on_drain: None,
            }),
            resume: Notify::new(),
        });
        drop(crate::spawn(write_loop(writer, queue, flow.clone())));
        Ok(Connection {
            shared: Arc::new(Shared {
                peer_addr,
                local_addr,
                reader: Mutex::new(Some(reader)),
                writes,
                closing: Arc::new(Closing {
                    state: Mutex::new(CloseState::Open(None)),
                    stop_reading: Notify::new(),
                }),
                flow,
            }),
        })
    }

    /// The address of the other end.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::callback::tcp;
    ///
    /// let rt = weft::Runtime::new()?;
    /// let _entered = rt.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// tcp::connect(listener.local_addr()?, move |conn| {
    ///     let conn = conn.expect("connect");
    ///     let _ = tx.send((conn.peer_addr(), conn.local_addr()));
    /// });
    /// let (_peer, client_addr) = listener.accept()?;
    /// let (peer_addr, local_addr) = rx.recv().unwrap();
    /// assert_eq!(peer_addr, listener.local_addr()?);
    /// assert_eq!(local_addr, client_addr);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.peer_addr
    }

    /// This end's address; see [`peer_addr`](Connection::peer_addr) for an
    /// example.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Starts reading: `on_data` gets each chunk as it arrives, or the error
    /// that ended reading (then `on_close` gets it too). When the peer
    /// closes its side, reading ends and `on_close` gets `Ok(())`. A second
    /// call has no effect (reading has started already): set one callback.
    ///
    /// # Examples
    ///
    /// See the [module docs](self).
    pub fn on_data(&self, on_data: impl FnMut(Data<'_>) + Send + 'static) {
        let reader = self
            .shared
            .reader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(reader) = reader {
            let closing = self.shared.closing.clone();
            let flow = self.shared.flow.clone();
            drop(crate::spawn(read_loop(reader, closing, flow, on_data)));
        }
    }

    // ANCHOR: write
    /// Queues `data` to be written after the writes queued before it;
    /// `done` gets the outcome (an error if the connection failed or was
    /// closed first).
    ///
    /// `write` never waits, but the queue is watched: once the bytes queued
    /// and not yet written ([`buffered`](Connection::buffered)) reach the
    /// [high-water mark](Connection::set_high_water_mark), this connection
    /// stops reading until they drain to half of it, and then
    /// [`on_drain`](Connection::on_drain) runs. An echo server thus holds at
    /// most the mark plus one read chunk (16 KiB) for a peer that sends and
    /// never reads.
    pub fn write(&self, data: impl Into<Vec<u8>>, done: impl FnOnce(io::Result<()>) + Send + 'static) {
        let data = data.into();
        let len = data.len();
        self.shared.flow.account(true, len);
        let write = Write::Data(data, Box::new(done));
        if let Err(mpsc::error::SendError(Write::Data(_, done))) = self.shared.writes.send(write) {
            // The writer has stopped (the runtime is shutting down).
            self.shared.flow.account(false, len);
            let e = io::Error::new(io::ErrorKind::NotConnected, "the connection is closed");
            drop(crate::spawn(async move { call("write", || done(Err(e))) }));
        }
    }
    // ANCHOR_END: write

    /// The bytes queued by [`write`](Connection::write) and not yet written
    /// to the socket (nor failed).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::callback::tcp;
    ///
    /// let rt = weft::Runtime::new()?;
    /// let _entered = rt.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// tcp::connect(listener.local_addr()?, move |conn| {
    ///     let conn = conn.expect("connect");
    ///     let counted = conn.clone();
    ///     conn.write(b"hello".to_vec(), move |written| {
    ///         // Written: no longer counted.
    ///         let _ = tx.send((written.is_ok(), counted.buffered()));
    ///     });
    /// });
    /// let _peer = listener.accept()?;
    /// assert_eq!(rx.recv().unwrap(), (true, 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn buffered(&self) -> usize {
        self.shared.flow.lock().buffered
    }

    /// Sets the high-water mark ([`DEFAULT_HIGH_WATER_MARK`] until then):
    /// once [`buffered`](Connection::buffered) reaches `bytes`, reading
    /// pauses until it falls to the low-water mark, `bytes / 2`. With 0,
    /// any queued write pauses reading until the queue is empty.
    ///
    /// Unlike Node, where `write` returning `false` asks the caller to
    /// pause the stream (and whose sockets default to 16 KiB), the
    /// connection pauses its own reading.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::callback::tcp;
    ///
    /// let rt = weft::Runtime::new()?;
    /// let _entered = rt.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// tcp::connect(listener.local_addr()?, move |conn| {
    ///     let conn = conn.expect("connect");
    ///     assert_eq!(conn.high_water_mark(), tcp::DEFAULT_HIGH_WATER_MARK);
    ///     conn.set_high_water_mark(1024 * 1024);
    ///     let _ = tx.send(conn.high_water_mark());
    /// });
    /// let _peer = listener.accept()?;
    /// assert_eq!(rx.recv().unwrap(), 1024 * 1024);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_high_water_mark(&self, bytes: usize) {
        let mut state = self.shared.flow.lock();
        state.high_water = bytes;
        if let Some(mut on_drain) = state.update(&self.shared.flow) {
            drop(state);
            drop(crate::spawn({
                let flow = self.shared.flow.clone();
                async move {
                    call("on_drain", &mut on_drain);
                    flow.lock().on_drain.get_or_insert(on_drain);
                }
            }));
        }
    }

    /// The high-water mark; see
    /// [`set_high_water_mark`](Connection::set_high_water_mark).
    pub fn high_water_mark(&self) -> usize {
        self.shared.flow.lock().high_water
    }

    /// Sets the callback run each time the write queue, having reached the
    /// high-water mark, drains to the low-water mark: reading has resumed,
    /// and a producer that held back may write again. It runs on a runtime
    /// task (the connection's writer, as a rule). A second call replaces
    /// the first.
    ///
    /// # Examples
    ///
    /// A client that writes 1 MiB to a peer that reads only later, and
    /// hears when the queue has drained:
    ///
    /// ```
    /// use std::io::Read;
    /// use weft::callback::tcp;
    ///
    /// let rt = weft::Runtime::new()?;
    /// let _entered = rt.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// tcp::connect(listener.local_addr()?, move |conn| {
    ///     let conn = conn.expect("connect");
    ///     let drained = conn.clone();
    ///     conn.on_drain(move || {
    ///         let _ = tx.send(drained.buffered() <= drained.high_water_mark() / 2);
    ///     });
    ///     conn.write(vec![7; 1024 * 1024], |_| {});
    ///     assert!(conn.buffered() >= conn.high_water_mark());
    ///     conn.close();
    /// });
    /// let (mut peer, _) = listener.accept()?;
    /// let mut all = Vec::new();
    /// peer.read_to_end(&mut all)?;
    /// assert_eq!(all.len(), 1024 * 1024);
    /// assert!(rx.recv().unwrap());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_drain(&self, on_drain: impl FnMut() + Send + 'static) {
        self.shared.flow.lock().on_drain = Some(Box::new(on_drain));
    }

    /// Sets the callback run once when the connection ends: `Ok(())` when
    /// the peer closed it or [`close`](Connection::close) did, the error
    /// otherwise. Set after the end, it runs at once (on a runtime task).
    ///
    /// # Examples
    ///
    /// See [`Connection`].
    pub fn on_close(&self, on_close: impl FnOnce(io::Result<()>) + Send + 'static) {
        let mut state = self.shared.closing.lock();
        match std::mem::replace(&mut *state, CloseState::Reported) {
            CloseState::Open(_) => *state = CloseState::Open(Some(Box::new(on_close))),
            CloseState::Ended(outcome) => {
                drop(state);
                drop(crate::spawn(
                    async move { call("on_close", || on_close(outcome)) },
                ));
            }
            // The end went to an earlier callback; this one never runs.
            CloseState::Reported => {}
        }
    }

    /// Closes the connection: reading stops, the writes already queued are
    /// done, then the write side shuts down; `on_close` gets `Ok(())`.
    /// Writes queued after this fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use weft::callback::tcp;
    ///
    /// let rt = weft::Runtime::new()?;
    /// let _entered = rt.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// tcp::connect(listener.local_addr()?, |conn| {
    ///     let conn = conn.expect("connect");
    ///     conn.write(b"bye".to_vec(), |_| {});
    ///     conn.close(); // after the queued write
    /// });
    /// let (mut peer, _) = listener.accept()?;
    /// let mut all = Vec::new();
    /// peer.read_to_end(&mut all)?; // ends when the client shuts down
    /// assert_eq!(all, b"bye");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close(&self) {
        let _ = self.shared.writes.send(Write::End);
        let closing = &self.shared.closing;
        closing.stop_reading.notify_one();
        if self
            .shared
            .reader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .is_some()
        {
            // Never read: no read loop will finish the connection.
            let closing = closing.clone();
            drop(crate::spawn(async move { closing.finish(Ok(())) }));
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer_addr", &self.shared.peer_addr)
            .field("local_addr", &self.shared.local_addr)
            .field("closed", &self.shared.closing.is_closed())
            .finish()
    }
}

// ANCHOR: read-loop
async fn read_loop(
    mut reader: OwnedReadHalf,
    closing: Arc<Closing>,
    flow: Arc<Flow>,
    mut on_data: impl FnMut(Data<'_>) + Send + 'static,
) {
    let mut buf = vec![0; READ_CHUNK];
    let mut stop = pin!(closing.stop_reading.notified());
    loop {
        // Backpressure: while the write queue is full, read nothing.
        while flow.lock().full {
            // A drain between the check and this wait leaves a permit.
            let mut resume = pin!(flow.resume.notified());
            let stopped = poll_fn(|cx| match stop.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(true),
                Poll::Pending => resume.as_mut().poll(cx).map(|()| false),
            })
            .await;
            if stopped {
                return closing.finish(Ok(()));
            }
        }
        let read = {
            let mut read = pin!(reader.read(&mut buf));
            poll_fn(|cx| match stop.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(None),
                Poll::Pending => read.as_mut().poll(cx).map(Some),
            })
            .await
        };
        match read {
            None | Some(Ok(0)) => return closing.finish(Ok(())),
            Some(Ok(n)) => call("on_data", || on_data(Ok(&buf[..n]))),
            Some(Err(e)) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                call("on_data", || on_data(Err(e)));
                return closing.finish(Err(copy));
            }
        }
    }
}
// ANCHOR_END: read-loop

async fn write_loop(writer: OwnedWriteHalf, mut queue: mpsc::UnboundedReceiver<Write>, flow: Arc<Flow>) {
    let mut writer = Some(writer);
    let mut failed: Option<io::ErrorKind> = None;
    while let Some(write) = queue.recv().await {
        match write {
            Write::Data(data, done) => {
                let outcome = match (&mut writer, failed) {
                    (_, Some(kind)) => Err(io::Error::new(kind, "an earlier write failed")),
                    (None, None) => Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "the connection was closed",
                    )),
                    (Some(w), None) => w.write_all(&data).await,
                };
                if let Err(e) = &outcome {
                    failed.get_or_insert(e.kind());
                }
                flow.account(false, data.len());
                call("write", || done(outcome));
            }
            // Dropping the write half shuts the write side down.
            Write::End => writer = None,
        }
    }
}
