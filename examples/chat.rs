//! A TCP chat server on the event bus. Each connection sends its name,
//! then lines of chat; the server publishes `chat.join`, `chat.message`
//! and `chat.leave` events, and every connection has its own subscriber to
//! `chat.*` that writes the others' events back to it. No connection knows
//! the others: the bus is the only thing they share.
//!
//! ```text
//! cargo run --example chat                   # a scripted conversation
//! cargo run --example chat -- 127.0.0.1:7000 # a server; try `nc 127.0.0.1 7000`
//! ```

use std::io::{self, Write};
use weft::events::{EventBus, StartAt};
use weft::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    match std::env::args().nth(1) {
        Some(addr) => weft::Runtime::new()?.block_on(async {
            let listener = TcpListener::bind(addr.as_str()).await?;
            writeln!(
                io::stdout(),
                "chat on {}; the first line you send is your name",
                listener.local_addr()?
            )?;
            serve(listener).await;
            Ok(())
        }),
        None => run(&mut io::stdout().lock()),
    }
}

/// What happened in the room.
#[derive(Debug, Clone)]
struct Said {
    from: String,
    text: String,
}

// ANCHOR: serve
/// Runs the chat server on `listener`.
async fn serve(listener: TcpListener) {
    let bus: EventBus<Said> = EventBus::new();
    while let Ok((stream, _)) = listener.accept().await {
        drop(weft::spawn(member(stream, bus.clone())));
    }
}
// ANCHOR_END: serve

// ANCHOR: member
/// One connection: its name, then its lines out to the bus and the
/// others' events back.
async fn member(stream: TcpStream, bus: EventBus<Said>) {
    let (mut read, mut write) = stream.into_split();
    let mut lines = Lines::default();
    let Ok(Some(name)) = lines.next(&mut read).await else {
        return;
    };
    // Subscribe before joining, so nothing said after the join is missed.
    let mut room = bus.subscribe("chat.*", StartAt::Latest).expect("a valid pattern");
    if write
        .write_all(format!("welcome, {name}\n").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let me = name.clone();
    let writer = weft::spawn(async move {
        while let Ok(event) = room.recv().await {
            if event.from == me {
                continue;
            }
            let line = match event.topic() {
                "chat.join" => format!("* {} joined\n", event.from),
                "chat.leave" => format!("* {} left\n", event.from),
                _ => format!("{}: {}\n", event.from, event.text),
            };
            if write.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let said = |text: &str| Said {
        from: name.clone(),
        text: text.to_owned(),
    };
    let _ = bus.publish("chat.join", said("")).await;
    while let Ok(Some(text)) = lines.next(&mut read).await {
        let _ = bus.publish("chat.message", said(&text)).await;
    }
    let _ = bus.publish("chat.leave", said("")).await;
    writer.abort();
}
// ANCHOR_END: member

/// Splits what a socket reads into lines.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
}

impl Lines {
    /// The next line without its newline; `None` at end of stream.
    async fn next(&mut self, read: &mut weft::net::tcp::OwnedReadHalf) -> io::Result<Option<String>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                return Ok(Some(
                    String::from_utf8_lossy(&line[..end])
                        .trim_end_matches('\r')
                        .to_owned(),
                ));
            }
            let mut chunk = [0; 1024];
            match read.read(&mut chunk).await? {
                0 => return Ok(None),
                n => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// A client for the scripted conversation.
struct Client {
    name: &'static str,
    read: weft::net::tcp::OwnedReadHalf,
    write: weft::net::tcp::OwnedWriteHalf,
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
        let line = self
            .lines
            .next(&mut self.read)
            .await?
            .unwrap_or_else(|| "(closed)".into());
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
