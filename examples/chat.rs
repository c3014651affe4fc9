//! A TCP chat server on the event bus. Each connection sends its name,
//! then lines of chat; the server publishes `chat.join`, `chat.message`
//! and `chat.leave` events, and every connection has its own subscriber to
//! `chat.*` that writes the others' events back to it. No connection knows
//! the others: the bus is the only thing they share.
//!
//! ```text
//! cargo run --example chat                            # a scripted conversation
//! cargo run --example chat -- --listen 127.0.0.1:7000 # a server; try `nc 127.0.0.1 7000`
//! ```
//!
//! A line is at most [`MAX_LINE`] bytes: past that the member gets an
//! error line and the rest of that line is skipped. A member that falls so
//! far behind that the bus no longer retains what it missed is told how
//! many events it missed, and goes on hearing the room.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use weft::events::{EventBus, RecvError, StartAt, Subscriber};
use weft::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use weft::net::{TcpListener, TcpStream};
use weft::sync::Mutex;

#[path = "common/cli.rs"]
mod cli;
use cli::cannot_listen;

const USAGE: &str = "\
usage: chat [--listen ADDR]

With no argument, starts a chat server on a free port of 127.0.0.1 and
plays a short conversation between two clients through it. With --listen
ADDR (such as 127.0.0.1:7000), serves on ADDR until killed: connect with
`nc 127.0.0.1 7000`; the first line you send is your name.";

fn main() -> ExitCode {
    cli::main("chat", USAGE, || run(&mut io::stdout().lock()), Some(&listen))
}

/// Serves on `addr` until the process is killed.
fn listen(addr: &str) -> io::Result<()> {
    weft::Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| cannot_listen(addr, e))?;
        println!(
            "chat on {}; the first line you send is your name",
            listener.local_addr()?
        );
        serve(listener).await;
        Ok(())
    })
}

/// The longest line a member may send, in bytes, without its newline.
pub(crate) const MAX_LINE: usize = 4096;

/// What happened in the room.
#[derive(Debug, Clone)]
pub(crate) struct Said {
    /// The connection it came from: two members may share a name.
    pub(crate) conn: u64,
    pub(crate) from: String,
    pub(crate) text: String,
}

// ANCHOR: serve
/// Runs the chat server on `listener`, numbering the connections.
pub(crate) async fn serve(listener: TcpListener) {
    let bus: EventBus<Said> = EventBus::new();
    let ids = AtomicU64::new(0);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let id = ids.fetch_add(1, Ordering::Relaxed);
                drop(weft::spawn(member(stream, bus.clone(), id)));
            }
            // Out of file descriptors: back off briefly, then go on.
            Err(e) => {
                eprintln!("chat: accept failed: {e}");
                if e.kind() != io::ErrorKind::ConnectionAborted {
                    weft::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}
// ANCHOR_END: serve

// ANCHOR: member
/// Connection `id`: its name, then its lines out to the bus and the
/// others' events back.
async fn member(stream: TcpStream, bus: EventBus<Said>, id: u64) {
    let (mut read, write) = stream.into_split();
    let write = Arc::new(Mutex::new(write));
    let mut lines = Lines::default();
    let Some(name) = lines.next_text(&mut read, &write).await else {
        return;
    };
    let said = |text: &str| Said {
        conn: id,
        from: name.clone(),
        text: text.to_owned(),
    };
    // Subscribe before joining, so nothing said after the join is missed;
    // join before the welcome, so a member that comes in after the
    // welcome does not hear this one join.
    let room = bus.subscribe("chat.*", StartAt::Latest).expect("a valid pattern");
    let _ = bus.publish("chat.join", said("")).await;
    if send(&write, format!("welcome, {name}\n")).await.is_err() {
        let _ = bus.publish("chat.leave", said("")).await;
        return;
    }
    let to_me = write.clone();
    let writer = weft::spawn(relay(room, id, async move |line| send(&to_me, line).await));
    while let Some(text) = lines.next_text(&mut read, &write).await {
        let _ = bus.publish("chat.message", said(&text)).await;
    }
    let _ = bus.publish("chat.leave", said("")).await;
    writer.abort();
}
// ANCHOR_END: member

// ANCHOR: relay
/// Hands `send` a line for each event of the room not said by connection
/// `me`, until the bus closes or `send` fails. A member that fell behind
/// the bus's retention is told how many events it missed, and goes on.
pub(crate) async fn relay(
    mut room: Subscriber<Said>,
    me: u64,
    mut send: impl AsyncFnMut(String) -> io::Result<()>,
) {
    loop {
        let line = match room.recv().await {
            Ok(event) if event.conn == me => continue,
            Ok(event) => match event.topic() {
                "chat.join" => format!("* {} joined\n", event.from),
                "chat.leave" => format!("* {} left\n", event.from),
                _ => format!("{}: {}\n", event.from, event.text),
            },
            Err(RecvError::Lagged { skipped, .. }) => {
                format!("* you fell behind: {skipped} events of the room were missed\n")
            }
            // Closed (the in-memory bus has no other error for a subscriber).
            Err(_) => break,
        };
        if send(line).await.is_err() {
            break;
        }
    }
}
// ANCHOR_END: relay

/// Writes `line` to a member; the lock keeps lines whole.
async fn send(write: &Mutex<OwnedWriteHalf>, line: String) -> io::Result<()> {
    write.lock().await.write_all(line.as_bytes()).await
}

/// One line read from a socket.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A line, without its newline (or `\r\n`).
    Text(String),
    /// A line longer than [`MAX_LINE`]: it was dropped.
    TooLong,
}

// ANCHOR: lines
/// Splits what a socket reads into lines of at most [`MAX_LINE`] bytes.
/// Each byte is searched for a newline once, however the line arrives,
/// and the buffer never holds more than one line and one read.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    start: usize,
    /// How far `buf` was searched for a newline.
    searched: usize,
    /// Dropping the rest of a line already reported too long.
    skipping: bool,
    /// Bytes searched so far, over the reader's life.
    pub(crate) examined: u64,
}

impl Lines {
    /// Adds bytes read from the socket.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        // Move the unread part to the front once per read, not per line.
        self.buf.drain(..self.start);
        self.searched -= self.start;
        self.start = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole line among the bytes pushed, if there is one.
    pub(crate) fn next_line(&mut self) -> Option<Line> {
        loop {
            let new = &self.buf[self.searched..];
            let Some(at) = new.iter().position(|&b| b == b'\n') else {
                self.examined += new.len() as u64;
                self.searched = self.buf.len();
                if self.skipping {
                    (self.start, self.searched) = (self.buf.len(), self.buf.len());
                } else if self.buf.len() - self.start > MAX_LINE {
                    (self.start, self.searched) = (self.buf.len(), self.buf.len());
                    self.skipping = true;
                    return Some(Line::TooLong);
                }
                return None;
            };
            self.examined += at as u64 + 1;
            let end = self.searched + at;
            let line = &self.buf[self.start..end];
            (self.start, self.searched) = (end + 1, end + 1);
            if std::mem::take(&mut self.skipping) {
                continue; // the end of a line already reported
            }
            if line.len() > MAX_LINE {
                return Some(Line::TooLong);
            }
            let text = String::from_utf8_lossy(line);
            return Some(Line::Text(text.trim_end_matches('\r').to_owned()));
        }
    }

    /// The next line from `read`; `None` at the end of the stream.
    pub(crate) async fn next(&mut self, read: &mut OwnedReadHalf) -> io::Result<Option<Line>> {
        loop {
            if let Some(line) = self.next_line() {
                return Ok(Some(line));
            }
            let mut chunk = [0; 4096];
            match read.read(&mut chunk).await? {
                0 => return Ok(None),
                n => self.push(&chunk[..n]),
            }
        }
    }

    /// The next line of text from `read`, answering a line past the limit
    /// with an error on `write`; `None` at the end of the stream or on an
    /// error.
    async fn next_text(&mut self, read: &mut OwnedReadHalf, write: &Mutex<OwnedWriteHalf>) -> Option<String> {
        loop {
            match self.next(read).await.ok()?? {
                Line::Text(text) => return Some(text),
                Line::TooLong => {
                    let error = format!("error: a line is at most {MAX_LINE} bytes; that one was not sent\n");
                    send(write, error).await.ok()?
                }
            }
        }
    }
}
// ANCHOR_END: lines

/// A client for the scripted conversation.
struct Client {
    name: &'static str,
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    lines: Lines,
}

impl Client {
    /// Connects and waits for the welcome: from then on the server hears
    /// the room for this client.
    async fn join(
        addr: std::net::SocketAddr,
        name: &'static str,
        out: &mut impl Write,
    ) -> io::Result<Client> {
        let (read, mut write) = TcpStream::connect(addr).await?.into_split();
        write.write_all(format!("{name}\n").as_bytes()).await?;
        let mut client = Client {
            name,
            read,
            write,
            lines: Lines::default(),
        };
        client.hear(out).await?;
        Ok(client)
    }

    async fn say(&mut self, text: &str, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "{:>5} says  {text}", self.name)?;
        self.write.write_all(format!("{text}\n").as_bytes()).await
    }

    /// Waits for the next line and prints it.
    async fn hear(&mut self, out: &mut impl Write) -> io::Result<()> {
        let line = match self.lines.next(&mut self.read).await? {
            Some(Line::Text(line)) => line,
            Some(Line::TooLong) => "(a line too long)".into(),
            None => "(closed)".into(),
        };
        writeln!(out, "{:>5} hears {line}", self.name)
    }
}

/// A scripted conversation between two clients.
pub(crate) fn run(out: &mut impl Write) -> io::Result<()> {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = weft::spawn(serve(listener));

        let mut ada = Client::join(addr, "ada", out).await?;
        let mut bob = Client::join(addr, "bob", out).await?;
        ada.hear(out).await?; // * bob joined
        ada.say("hi bob", out).await?;
        bob.hear(out).await?; // ada: hi bob
        bob.say("hi ada, bye ada", out).await?;
        ada.hear(out).await?; // bob: hi ada, bye ada
        drop(bob);
        ada.hear(out).await?; // * bob left
        server.abort();
        Ok(())
    })
}
