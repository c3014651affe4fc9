//! `#[weft::main]`: an `async fn main` on a weft runtime, returning a
//! `Result` so `?` works, with a listener and a client over loopback.
//!
//! Run it with `cargo run --example macro_main --features macros`.

use std::time::Duration;
use weft::net::{TcpListener, TcpStream};

#[weft::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = weft::spawn(async move {
        let (_stream, peer) = listener.accept().await?;
        Ok::<_, std::io::Error>(peer)
    });
    let client = weft::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await??;
    let peer = server.await??;
    assert_eq!(peer, client.local_addr()?);
    println!("accepted a connection on a two-worker runtime");
    Ok(())
}
