//! A TCP echo server written with callbacks only, in the manner of Node's
//! `net` module: `listen` calls back with each connection, `on_data` with
//! each chunk, and `write` with each write's outcome. No `async`, no
//! `.await`. Compare with `echo_async` and `echo_promises`.
//!
//! ```text
//! cargo run --example echo_callbacks
//! ```
//!
//! The client is written with callbacks too; the main thread waits for its
//! replies on a std channel.

use std::io::{self, Write};
use std::sync::mpsc;
use std::time::Duration;
use weft::callback::tcp;

fn main() -> io::Result<()> {
    run(&mut io::stdout().lock())
}

/// Starts the server, echoes three messages through it, prints them.
pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    let rt = weft::Runtime::new()?;
    let _in_runtime = rt.enter();

    // ANCHOR: server
    let server = tcp::listen("127.0.0.1:0", |conn| {
        let Ok(conn) = conn else { return };
        let echo = conn.clone();
        conn.on_data(move |data| {
            if let Ok(bytes) = data {
                echo.write(bytes.to_vec(), |_written| {});
            }
        });
    })?;
    // ANCHOR_END: server

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
