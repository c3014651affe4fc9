//! A TCP echo server written with async/await: one task per connection,
//! each a loop of `read` then `write_all`. Compare with `echo_callbacks`
//! and `echo_promises`, the same server in the other two styles.
//!
//! ```text
//! cargo run --example echo_async
//! ```
//!
//! It starts the server on a free port of 127.0.0.1, sends it three
//! messages from a client and prints what came back.

use std::io::{self, Write};
use weft::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    run(&mut io::stdout().lock())
}

// ANCHOR: serve
/// Serves every connection until the listener fails.
async fn serve(listener: TcpListener) {
    while let Ok((mut stream, _)) = listener.accept().await {
        drop(weft::spawn(async move {
            let mut buf = [0; 4096];
            // Until the peer closes (0) or the connection fails.
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                if stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }));
    }
}
// ANCHOR_END: serve

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
