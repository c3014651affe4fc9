//! A TCP echo server written with promises: each connection's chunks are
//! echoed by a chain of `write` promises, and the client is one promise
//! chain per message: connect, then listen for the reply, then write, then
//! print. The promises wrap the callback API (`Promise::from_callback`), as
//! JavaScript's promisified Node APIs do. Compare with `echo_async` and
//! `echo_callbacks`.
//!
//! ```text
//! cargo run --example echo_promises
//! ```

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use weft::callback::tcp::{self, Connection};
use weft::promise::Promise;

fn main() -> io::Result<()> {
    run(&mut io::stdout().lock())
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

/// Starts the server, echoes three messages through it, prints them.
pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    let rt = weft::Runtime::new()?;
    let _in_runtime = rt.enter();
    // ANCHOR: server
    let server = tcp::listen("127.0.0.1:0", |conn| {
        let Ok(conn) = conn else { return };
        let echo = conn.clone();
        // Each chunk's write is chained after the previous one's.
        let last = Arc::new(Mutex::new(Promise::<(), String>::resolve(())));
        conn.on_data(move |data| {
            let Ok(bytes) = data else { return };
            let (echo, bytes) = (echo.clone(), bytes.to_vec());
            let mut last = last.lock().unwrap();
            *last = last.clone().then(move |()| write(&echo, bytes));
        });
    })?;
    // ANCHOR_END: server
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
