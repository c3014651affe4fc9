//! A TCP echo server written with callbacks only, in the manner of Node's
//! `net` module: `listen` calls back with each connection, `on_data` with
//! each chunk, and `write` with each write's outcome. No `async`, no
//! `.await`. Compare with `echo_async` and `echo_promises`.
//!
//! ```text
//! cargo run --example echo_callbacks
//! cargo run --example echo_callbacks -- --listen 127.0.0.1:7000
//! ```
//!
//! With no argument it starts the server on a free port of 127.0.0.1,
//! sends it three messages from a client written with callbacks too (the
//! main thread waits for its replies on a std channel) and prints what came
//! back. With `--listen ADDR` it serves on `ADDR` until killed, for `nc`
//! or any other client. A peer that sends and never reads cannot make it
//! buffer without bound: each connection stops reading while its write
//! queue is at the high-water mark (64 KiB).

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;
use weft::callback::tcp::{self, Connection};

#[path = "common/cli.rs"]
mod cli;
#[path = "common/echo_cli.rs"]
mod echo_cli;
use cli::cannot_listen;

fn main() -> ExitCode {
    echo_cli::main("echo_callbacks", || run(&mut io::stdout().lock()), listen)
}

// ANCHOR: server
/// Echoes whatever `conn` receives. Were the peer to send and never read,
/// the connection would stop reading once its write queue reached the
/// high-water mark, so the bytes held here stay bounded.
pub(crate) fn echo(conn: Connection) {
    let echo = conn.clone();
    conn.on_data(move |data| {
        if let Ok(bytes) = data {
            echo.write(bytes.to_vec(), |_written| {});
        }
    });
}

/// Listens on `addr` and echoes on every connection.
pub(crate) fn serve(addr: &str) -> io::Result<tcp::Server> {
    let server = tcp::listen(addr, |conn| match conn {
        Ok(conn) => echo(conn),
        // Out of file descriptors, or a connection gone before it was
        // accepted: the listener backs off briefly and goes on.
        Err(e) => eprintln!("echo_callbacks: accept failed: {e}"),
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

    // ANCHOR: client
    let (replies, received) = mpsc::channel();
    tcp::connect(server.local_addr(), move |conn| {
        let conn = match conn {
            Ok(conn) => conn,
            Err(e) => return drop(replies.send(Err(e))),
        };
        conn.on_data(move |data| drop(replies.send(data.map(<[u8]>::to_vec))));
        for message in ["hello", "is anyone there?", "bye"] {
            conn.write(message, |_written| {});
        }
    });
    // ANCHOR_END: client

    // The replies may arrive in fewer, larger chunks than were sent.
    let expected = "hellois anyone there?bye";
    let mut echoed = Vec::new();
    while echoed.len() < expected.len() {
        let chunk = received
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no echo"))??;
        echoed.extend(chunk);
    }
    writeln!(
        out,
        "sent 3 messages, got back {:?}",
        String::from_utf8_lossy(&echoed)
    )?;
    server.close();
    Ok(())
}
