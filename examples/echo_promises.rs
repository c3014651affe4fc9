//! A TCP echo server written with promises: each chunk that arrives is
//! echoed by a `write` promise, and the client is one promise chain per
//! message: connect, then listen for the reply, then write, then print.
//! The promises wrap the callback API (`Promise::from_callback`), as
//! JavaScript's promisified Node APIs do. Compare with `echo_async` and
//! `echo_callbacks`.
//!
//! ```text
//! cargo run --example echo_promises
//! cargo run --example echo_promises -- --listen 127.0.0.1:7000
//! ```
//!
//! With no argument it starts the server on a free port of 127.0.0.1,
//! echoes three messages through it and prints them. With `--listen ADDR`
//! it serves on `ADDR` until killed, for `nc` or any other client. A peer
//! that sends and never reads cannot make it buffer without bound: each
//! write goes straight into the connection's queue, and the connection
//! stops reading while that queue is at the high-water mark (64 KiB).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Mutex;
use weft::callback::tcp::{self, Connection};
use weft::promise::Promise;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/echo_cli.rs"]
mod echo_cli;
use cli::cannot_listen;

fn main() -> ExitCode {
    echo_cli::main("echo_promises", || run(&mut io::stdout().lock()), listen)
}

// ANCHOR: helpers
/// A connection, as a promise.
fn connect(addr: SocketAddr) -> Promise<Connection, String> {
    Promise::from_callback(move |done| tcp::connect(addr, move |conn| done(conn.map_err(|e| e.to_string()))))
}

/// A write, as a promise.
fn write(conn: &Connection, bytes: Vec<u8>) -> Promise<(), String> {
    let conn = conn.clone();
    Promise::from_callback(move |done| {
        conn.write(bytes, move |written| done(written.map_err(|e| e.to_string())))
    })
}

/// The first chunk `conn` receives, as a promise.
fn first_chunk(conn: &Connection) -> Promise<Vec<u8>, String> {
    let conn = conn.clone();
    Promise::from_callback(move |done| {
        let done = Mutex::new(Some(done));
        conn.on_data(move |data| {
            if let Some(done) = done.lock().unwrap().take() {
                done(data.map(<[u8]>::to_vec).map_err(|e| e.to_string()));
            }
        });
    })
}
// ANCHOR_END: helpers

// ANCHOR: server
/// Echoes whatever `conn` receives. Each chunk's write starts at once: the
/// connection does its writes in order, and counts the bytes waiting in
/// its queue, stopping reading while they are at the high-water mark. (A
/// chain of `then`s, each write waiting for the one before, would hold the
/// bytes in the chain instead, where nothing counts them: a peer that
/// never reads would make it grow without bound.)
pub(crate) fn echo(conn: Connection) {
    let echo = conn.clone();
    conn.on_data(move |data| {
        let Ok(bytes) = data else { return };
        let closer = echo.clone();
        write(&echo, bytes.to_vec()).on_settled(move |written| {
            if written.is_err() {
                closer.close();
            }
        });
    });
}

/// Listens on `addr` and echoes on every connection.
pub(crate) fn serve(addr: &str) -> io::Result<tcp::Server> {
    let server = tcp::listen(addr, |conn| match conn {
        Ok(conn) => echo(conn),
        // Out of file descriptors, or a connection gone before it was
        // accepted: the listener backs off briefly and goes on.
        Err(e) => eprintln!("echo_promises: accept failed: {e}"),
    });
    server.map_err(|e| cannot_listen(addr, e))
}
// ANCHOR_END: server

/// Serves on `addr` until the process is killed.
fn listen(addr: &str) -> io::Result<()> {
    let rt = weft::Runtime::new()?;
    let _in_runtime = rt.enter();
    let server = serve(addr)?;
    println!("listening on {}", server.local_addr());
    rt.block_on(std::future::pending())
}

/// Starts the server, echoes three messages through it, prints them.
pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    let rt = weft::Runtime::new()?;
    let _in_runtime = rt.enter();
    let server = serve("127.0.0.1:0")?;
    let addr = server.local_addr();

    // ANCHOR: client
    let replies: Vec<Promise<String, String>> = ["hello", "is anyone there?", "bye"]
        .into_iter()
        .map(|message| {
            connect(addr)
                .then(move |conn| {
                    let reply = first_chunk(&conn);
                    write(&conn, message.into()).then(move |()| reply)
                })
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();
    let echoed = rt.block_on(Promise::all(replies)).map_err(io::Error::other)?;
    // ANCHOR_END: client
    for (message, reply) in ["hello", "is anyone there?", "bye"].iter().zip(echoed) {
        writeln!(out, "sent {message:?}, got back {reply:?}")?;
    }
    server.close();
    Ok(())
}
