//! A TCP echo server written with async/await: one task per connection,
//! each a loop of `read` then `write_all`. Compare with `echo_callbacks`
//! and `echo_promises`, the same server in the other two styles.
//!
//! ```text
//! cargo run --example echo_async
//! cargo run --example echo_async -- --listen 127.0.0.1:7000
//! ```
//!
//! With no argument it starts the server on a free port of 127.0.0.1,
//! sends it three messages from a client and prints what came back. With
//! `--listen ADDR` it serves on `ADDR` until killed, for `nc` or any other
//! client. A failed accept (out of file descriptors, a connection gone
//! before it was accepted) is logged and the server goes on.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;
use weft::net::{TcpListener, TcpStream};

#[path = "common/cli.rs"]
mod cli;
#[path = "common/echo_cli.rs"]
mod echo_cli;
use cli::cannot_listen;

fn main() -> ExitCode {
    echo_cli::main("echo_async", || run(&mut io::stdout().lock()), listen)
}

// ANCHOR: serve
/// Serves every connection, for ever: a failed accept is logged, not the
/// end of the server.
pub(crate) async fn serve(listener: TcpListener) {
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("echo_async: accept failed: {e}");
                // Out of file descriptors, accept fails again at once:
                // back off briefly instead of spinning. A connection gone
                // before it was accepted is no reason to wait.
                if e.kind() != io::ErrorKind::ConnectionAborted {
                    weft::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        drop(weft::spawn(async move {
            let mut buf = [0; 4096];
            // Until the peer closes (0) or the connection fails. Each
            // `write_all` waits for the peer to take the bytes, so a peer
            // that never reads stops this loop from reading more.
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                if stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }));
    }
}
// ANCHOR_END: serve

/// Serves on `addr` until the process is killed.
fn listen(addr: &str) -> io::Result<()> {
    weft::block_on(async {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| cannot_listen(addr, e))?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener).await;
        Ok(())
    })
}

/// Starts the server, echoes three messages through it, prints them.
pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    weft::block_on(async {
        // ANCHOR: client
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = weft::spawn(serve(listener));
        let mut client = TcpStream::connect(addr).await?;
        for message in ["hello", "is anyone there?", "bye"] {
            client.write_all(message.as_bytes()).await?;
            let mut reply = vec![0; message.len()];
            client.read_exact(&mut reply).await?;
            writeln!(
                out,
                "sent {message:?}, got back {:?}",
                String::from_utf8_lossy(&reply)
            )?;
        }
        server.abort();
        // ANCHOR_END: client
        Ok(())
    })
}
