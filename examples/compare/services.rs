//! The two background services the sign-up handler talks to, over TCP on
//! loopback, and the clients it talks to them with.
//!
//! The protocol is a line protocol in the manner of SMTP: the client sends
//! `VERB tag id argument\n`; the service answers `OK tag\n` when it has
//! done the work, or `ERR tag\n` while it is failing ("try again later").
//! The tag matches answers to requests, so one connection carries many
//! requests at once. The mail service takes a configurable time per mail
//! and can be told to fail its first N requests (an outage measured in
//! requests, not time, so that every run fails the same ones); every
//! service counts what it did per sign-up id, so the example can check
//! that each email went out once.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::callback::tcp;
use weft::net::tcp::OwnedWriteHalf;
use weft::net::{TcpListener, TcpStream};
use weft::promise::PromiseError;
use weft::sync::{mpsc, oneshot};
use weft::task::JoinHandle;

/// Why a request to a service did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServiceError {
    /// The service answered "try again later".
    Unavailable,
    /// The connection to it broke.
    Disconnected,
    /// Something else (a promise machinery error).
    Other(String),
}

impl From<PromiseError> for ServiceError {
    fn from(e: PromiseError) -> ServiceError {
        ServiceError::Other(e.to_string())
    }
}

/// A running service.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) addr: SocketAddr,
    /// How many times each sign-up id was handled.
    pub(crate) receipts: Arc<Mutex<HashMap<u64, u32>>>,
    acceptor: JoinHandle<()>,
}

impl Service {
    /// Starts a service answering `verb`, taking `delay` per request and
    /// failing the first `failures` requests it handles.
    pub(crate) async fn start(verb: &'static str, delay: Duration, failures: u64) -> io::Result<Service> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let receipts = Arc::new(Mutex::new(HashMap::new()));
        let state = Arc::new(State {
            verb,
            delay,
            failures_left: AtomicU64::new(failures),
            receipts: receipts.clone(),
        });
        let acceptor = weft::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(weft::spawn(serve(stream, state.clone())));
            }
        });
        Ok(Service {
            addr,
            receipts,
            acceptor,
        })
    }

    /// (ids handled at least once, ids handled more than once).
    pub(crate) fn counts(&self) -> (u64, u64) {
        let receipts = self.receipts.lock().unwrap();
        let dupes = receipts.values().filter(|&&n| n > 1).count();
        (receipts.len() as u64, dupes as u64)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// What every connection of a service shares.
#[derive(Debug)]
struct State {
    verb: &'static str,
    delay: Duration,
    /// Requests still to fail: the outage.
    failures_left: AtomicU64,
    /// How many times each sign-up id was handled.
    receipts: Arc<Mutex<HashMap<u64, u32>>>,
}

/// Serves one connection: each request is handled on its own task (so a
/// slow one does not hold up the next), answers go out through one writer.
async fn serve(stream: TcpStream, state: Arc<State>) {
    let (mut read, write) = stream.into_split();
    let (answers, writer) = writer(write);
    let mut lines = Lines::default();
    let mut chunk = [0; 4096];
    while let Ok(n @ 1..) = read.read(&mut chunk).await {
        for line in lines.push(&chunk[..n]) {
            let mut words = line.splitn(4, ' ');
            let (Some(v), Some(tag), Some(id)) = (words.next(), words.next(), words.next()) else {
                continue;
            };
            let (Ok(id), true) = (id.parse::<u64>(), v == state.verb) else {
                let _ = answers.send(format!("ERR {tag}\n"));
                continue;
            };
            let (tag, answers, state) = (tag.to_owned(), answers.clone(), state.clone());
            drop(weft::spawn(async move {
                let answer = handle(id, tag, &state).await;
                let _ = answers.send(answer);
            }));
        }
    }
    drop(answers);
    let _ = writer.await;
}

// ANCHOR: outage
/// Does the work for sign-up `id`: waits the service's delay, then fails
/// if the outage has requests left to fail, or counts a receipt. Returns
/// the answer line.
async fn handle(id: u64, tag: String, state: &State) -> String {
    if !state.delay.is_zero() {
        weft::time::sleep(state.delay).await;
    }
    let failing = state
        .failures_left
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1))
        .is_ok();
    if failing {
        format!("ERR {tag}\n")
    } else {
        *state.receipts.lock().unwrap().entry(id).or_default() += 1;
        format!("OK {tag}\n")
    }
}
// ANCHOR_END: outage

/// A task that writes the lines sent to it on `write`, all that have piled
/// up in one write; it stops when every sender is gone or a write fails.
fn writer(mut write: OwnedWriteHalf) -> (mpsc::UnboundedSender<String>, JoinHandle<()>) {
    let (lines, mut outbox) = mpsc::unbounded_channel::<String>();
    let task = weft::spawn(async move {
        while let Some(mut batch) = outbox.recv().await {
            while let Ok(more) = outbox.try_recv() {
                batch.push_str(&more);
            }
            if write.write_all(batch.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    (lines, task)
}

/// Splits bytes into lines across reads.
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line[..end]).into_owned());
        }
        lines
    }
}

/// Parses an answer line: (tag, succeeded).
fn answer(line: &str) -> Option<(u64, bool)> {
    let (status, tag) = line.split_once(' ')?;
    Some((tag.trim().parse().ok()?, status == "OK"))
}

type Pending<T> = Arc<Mutex<HashMap<u64, T>>>;

/// An async client: requests on a few shared connections, each `call`
/// awaiting its own answer.
#[derive(Debug)]
pub(crate) struct Client {
    verb: &'static str,
    conns: Vec<(mpsc::UnboundedSender<String>, Pending<oneshot::Sender<bool>>)>,
    next_tag: AtomicU64,
}

impl Client {
    pub(crate) async fn connect(
        addr: SocketAddr,
        verb: &'static str,
        connections: usize,
    ) -> io::Result<Client> {
        let mut conns = Vec::new();
        for _ in 0..connections.max(1) {
            let (mut read, write) = TcpStream::connect(addr).await?.into_split();
            let pending: Pending<oneshot::Sender<bool>> = Arc::default();
            let (tx, _writer) = writer(write);
            let waiting = pending.clone();
            drop(weft::spawn(async move {
                let mut lines = Lines::default();
                let mut chunk = [0; 4096];
                while let Ok(n @ 1..) = read.read(&mut chunk).await {
                    for (tag, ok) in lines.push(&chunk[..n]).iter().filter_map(|l| answer(l)) {
                        if let Some(reply) = waiting.lock().unwrap().remove(&tag) {
                            let _ = reply.send(ok);
                        }
                    }
                }
                // The connection ended: everyone waiting hears it.
                waiting.lock().unwrap().clear();
            }));
            conns.push((tx, pending));
        }
        Ok(Client {
            verb,
            conns,
            next_tag: AtomicU64::new(0),
        })
    }

    // ANCHOR: client-call
    /// Asks the service to do its work for sign-up `id`.
    pub(crate) async fn call(&self, id: u64, argument: &str) -> Result<(), ServiceError> {
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let (outbox, pending) = &self.conns[tag as usize % self.conns.len()];
        let (reply, answer) = oneshot::channel();
        pending.lock().unwrap().insert(tag, reply);
        if outbox
            .send(format!("{} {tag} {id} {argument}\n", self.verb))
            .is_err()
        {
            pending.lock().unwrap().remove(&tag);
            return Err(ServiceError::Disconnected);
        }
        match answer.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ServiceError::Unavailable),
            Err(_) => Err(ServiceError::Disconnected),
        }
    }
    // ANCHOR_END: client-call
}

type Callback = Box<dyn FnOnce(Result<(), ServiceError>) + Send>;

/// A callback client on `weft::callback::tcp`: `call` takes the function
/// to run with the answer.
pub(crate) struct CallbackClient {
    verb: &'static str,
    conns: Vec<(tcp::Connection, Pending<Callback>)>,
    next_tag: AtomicU64,
}

impl CallbackClient {
    pub(crate) async fn connect(
        addr: SocketAddr,
        verb: &'static str,
        connections: usize,
    ) -> io::Result<CallbackClient> {
        let mut conns = Vec::new();
        for _ in 0..connections.max(1) {
            // Setting up is not the handler's business: a bridge from the
            // callback API to a future keeps it short.
            let conn = weft::callback::from_callback(|done| tcp::connect(addr, done))
                .await
                .map_err(|_| io::Error::other("connect callback dropped"))??;
            let pending: Pending<Callback> = Arc::default();
            let waiting = pending.clone();
            let mut lines = Lines::default();
            conn.on_data(move |data| {
                let Ok(bytes) = data else { return };
                for (tag, ok) in lines.push(bytes).iter().filter_map(|l| answer(l)) {
                    let callback = waiting.lock().unwrap().remove(&tag);
                    if let Some(callback) = callback {
                        callback(if ok {
                            Ok(())
                        } else {
                            Err(ServiceError::Unavailable)
                        });
                    }
                }
            });
            let waiting = pending.clone();
            conn.on_close(move |_| {
                let callbacks: Vec<_> = waiting.lock().unwrap().drain().collect();
                for (_, callback) in callbacks {
                    callback(Err(ServiceError::Disconnected));
                }
            });
            conns.push((conn, pending));
        }
        Ok(CallbackClient {
            verb,
            conns,
            next_tag: AtomicU64::new(0),
        })
    }

    /// Asks the service to do its work for sign-up `id`; `done` gets the
    /// outcome, on a runtime thread.
    pub(crate) fn call(
        &self,
        id: u64,
        argument: &str,
        done: impl FnOnce(Result<(), ServiceError>) + Send + 'static,
    ) {
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let (conn, pending) = &self.conns[tag as usize % self.conns.len()];
        pending.lock().unwrap().insert(tag, Box::new(done));
        let pending = pending.clone();
        conn.write(format!("{} {tag} {id} {argument}\n", self.verb), move |written| {
            if written.is_err()
                && let Some(done) = pending.lock().unwrap().remove(&tag)
            {
                done(Err(ServiceError::Disconnected));
            }
        });
    }
}

impl Drop for CallbackClient {
    fn drop(&mut self) {
        for (conn, _) in &self.conns {
            conn.close();
        }
    }
}

impl std::fmt::Debug for CallbackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackClient")
            .field("verb", &self.verb)
            .finish_non_exhaustive()
    }
}
