//! `#[weft::main]`: an `async fn main` on a weft runtime, returning a
//! `Result` so `?` works, with a listener and a client over loopback.
//!
//! Run it with `cargo run --example macro_main --features macros`
//! (`-- --help` says what it does; it takes no other argument).

use std::time::Duration;
use weft::net::{TcpListener, TcpStream};

const USAGE: &str = "\
usage: macro_main

Runs an async main on a two-worker weft runtime (#[weft::main]): a listener
accepts one connection from a client over loopback. It takes no arguments.";

// ANCHOR: main
#[weft::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return Ok(());
        }
        Some(other) => {
            eprintln!("macro_main: unknown argument {other:?} (see --help)");
            std::process::exit(2);
        }
    }
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
// ANCHOR_END: main
