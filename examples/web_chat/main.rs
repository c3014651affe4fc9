//! The chat room of `examples/chat.rs` in a browser: a small HTML page
//! served over HTTP, and websockets (async-tungstenite, straight on
//! weft's `TcpStream` through the futures-io traits) joined through the
//! event bus. Each connection chooses a name no other connection holds;
//! the room hears joins, messages and leaves; a member that falls behind
//! the bus's retention is told how many events it missed and goes on.
//! The page shows what others type as text, never as markup.
//!
//! ```text
//! cargo run --example web_chat                            # a scripted conversation
//! cargo run --example web_chat -- --listen 127.0.0.1:8000 # then open http://127.0.0.1:8000/
//! ```
//!
//! A name is at most [`room::MAX_NAME`] characters, a message at most
//! [`room::MAX_TEXT`] bytes (a longer one is refused and the member goes
//! on), a frame at most [`room::MAX_FRAME`] bytes (a larger one closes
//! the connection). `tests/example_web_chat.rs` drives two headless
//! Chromium sessions through the page.

#[path = "../common/cli.rs"]
mod cli;
pub(crate) mod room;
pub(crate) mod upgrade;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use cli::cannot_listen;
use futures::StreamExt;
use room::{MAX_FRAME, Room};
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use weft::net::{TcpListener, TcpStream};

const USAGE: &str = "\
usage: web_chat [--listen ADDR]

With no argument, starts the web chat server on a free port of 127.0.0.1
and plays a short conversation between two websocket clients through it.
With --listen ADDR (such as 127.0.0.1:8000), serves on ADDR until killed:
open http://ADDR/ in two browser tabs and chat.";

/// How many events the room's bus keeps for members that fall behind.
pub(crate) const RETENTION: usize = 256;

fn main() -> ExitCode {
    cli::main("web_chat", USAGE, || run(&mut io::stdout().lock()), Some(&listen))
}

/// Serves on `addr` until the process is killed.
fn listen(addr: &str) -> io::Result<()> {
    weft::Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| cannot_listen(addr, e))?;
        println!(
            "listening on http://{}/ (open it in a browser; Ctrl-C to stop)",
            listener.local_addr()?
        );
        serve(listener, Room::new(RETENTION)).await;
        Ok(())
    })
}

// ANCHOR: serve
/// Serves the page and the room's websockets on `listener`, numbering
/// the connections.
pub(crate) async fn serve(listener: TcpListener, room: Room) {
    let ids = AtomicU64::new(0);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Chat frames are small and wanted at once.
                let _ = stream.set_nodelay(true);
                let id = ids.fetch_add(1, Ordering::Relaxed);
                let room = room.clone();
                drop(weft::spawn(async move {
                    if let Ok(Some(socket)) = upgrade::answer(stream, MAX_FRAME).await {
                        room::member(socket, room, id).await;
                    }
                }));
            }
            // Out of file descriptors: back off briefly, then go on.
            Err(e) => {
                eprintln!("web_chat: accept failed: {e}");
                if e.kind() != io::ErrorKind::ConnectionAborted {
                    weft::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}
// ANCHOR_END: serve

/// A websocket client for the scripted conversation.
struct Client {
    name: &'static str,
    socket: WebSocketStream<TcpStream>,
}

impl Client {
    /// Connects and upgrades to a websocket, the client half of the
    /// handshake done by async-tungstenite on weft's `TcpStream`.
    async fn connect(addr: std::net::SocketAddr, name: &'static str) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        let (socket, _) = async_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
            .await
            .map_err(room::io_error)?;
        Ok(Client { name, socket })
    }

    async fn say(&mut self, text: &str, out: &mut impl Write) -> io::Result<()> {
        let shown = if text.len() > 40 {
            format!("({} bytes of x)", text.len())
        } else {
            text.to_owned()
        };
        writeln!(out, "{:>5} sends {shown}", self.name)?;
        self.socket
            .send(Message::text(text))
            .await
            .map_err(room::io_error)
    }

    /// Waits for the next frame and prints it, its tabs as ` | `.
    async fn hear(&mut self, out: &mut impl Write) -> io::Result<()> {
        let frame = match self.socket.next().await {
            Some(Ok(Message::Text(text))) => text.as_str().replace('\t', " | "),
            Some(Ok(other)) => format!("({other:?})"),
            Some(Err(e)) => return Err(room::io_error(e)),
            None => "(closed)".into(),
        };
        writeln!(out, "{:>5} hears {frame}", self.name)
    }
}

/// Fetches `/` as a browser would and prints the status line.
async fn get_page(addr: std::net::SocketAddr, out: &mut impl Write) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(b"GET / HTTP/1.1\r\nHost: chat\r\n\r\n").await?;
    let mut response = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        match stream.read(&mut chunk).await? {
            0 => break,
            n => response.extend_from_slice(&chunk[..n]),
        }
    }
    let response = String::from_utf8_lossy(&response);
    let status = response.lines().next().unwrap_or("");
    let has_page = response.ends_with(upgrade::PAGE);
    writeln!(out, "  GET / answers {status}, the page whole: {has_page}")
}

/// A scripted conversation between two websocket clients.
pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = weft::spawn(serve(listener, Room::new(RETENTION)));

        get_page(addr, out).await?;
        let mut ada = Client::connect(addr, "ada").await?;
        ada.say("ada", out).await?;
        ada.hear(out).await?; // welcome | ada
        let mut bob = Client::connect(addr, "bob").await?;
        bob.say("Ada", out).await?;
        bob.hear(out).await?; // error | the name Ada is taken
        bob.say("bob", out).await?;
        bob.hear(out).await?; // welcome | bob
        ada.hear(out).await?; // join | bob
        ada.say("hi bob", out).await?;
        bob.hear(out).await?; // say | ada | hi bob
        bob.say("<img src=x onerror=alert(1)> is text", out).await?;
        ada.hear(out).await?; // say | bob | <img ...> is text
        bob.say(&"x".repeat(room::MAX_TEXT + 1), out).await?;
        bob.hear(out).await?; // error | a message is at most ...
        bob.socket.close(None).await.map_err(room::io_error)?;
        ada.hear(out).await?; // leave | bob
        server.abort();
        Ok(())
    })
}
