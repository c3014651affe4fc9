//! The code of the book's "Streams and framing" chapter, run as tests: a
//! `next` written with `poll_fn`, the event bus read as a stream, a stream
//! of lines read from a socket (a line codec), and a length-delimited codec
//! with a bound on the frame size.

use futures_util::stream::Stream;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use weft::events::{EventBus, StartAt};
use weft::net::{TcpListener, TcpStream};

// ANCHOR: next
/// The next item of a stream, or `None` once it has ended: a future made of
/// one call to `poll_next`. (futures-util's `StreamExt::next` is the same.)
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}
// ANCHOR_END: next

// ANCHOR: events-stream
#[test]
fn a_subscriber_is_a_stream_of_events() {
    weft::block_on(async {
        let bus = EventBus::<String>::new();
        for order in ["#1", "#2", "#3"] {
            bus.publish("orders", format!("order {order}")).await.unwrap();
        }
        // Subscribe from the start of the retained window: a replay.
        let mut orders = bus.subscribe("orders", StartAt::Start).unwrap();
        let mut seen = Vec::new();
        // Closing the bus ends every subscriber's stream after what it holds.
        bus.close();
        while let Some(event) = next(&mut orders).await {
            seen.push(event.unwrap().into_payload());
        }
        assert_eq!(seen, ["order #1", "order #2", "order #3"]);
    });
}
// ANCHOR_END: events-stream

// ANCHOR: lines
/// A line codec: the bytes of a socket cut into `\n`-terminated lines.
struct Lines {
    socket: TcpStream,
    /// Bytes read but not yet returned as a line.
    buffer: Vec<u8>,
    /// The peer closed its side.
    eof: bool,
}

/// The longest line accepted: a peer that never sends `\n` must not make
/// the buffer grow without end.
const MAX_LINE: usize = 8 * 1024;

impl Lines {
    fn new(socket: TcpStream) -> Lines {
        Lines {
            socket,
            buffer: Vec::new(),
            eof: false,
        }
    }

    /// A complete line from the buffer, if it holds one.
    fn take_line(&mut self) -> Option<io::Result<String>> {
        let end = self.buffer.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.buffer.drain(..=end).take(end).collect();
        Some(String::from_utf8(line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)))
    }
}

impl Stream for Lines {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Nothing in `Lines` is pinned, so `get_mut` is allowed (Lines: Unpin).
        let this = self.get_mut();
        loop {
            if let Some(line) = this.take_line() {
                return Poll::Ready(Some(line));
            }
            if this.eof {
                // A last line without `\n` still counts; then the stream ends.
                if this.buffer.is_empty() {
                    return Poll::Ready(None);
                }
                let rest = std::mem::take(&mut this.buffer);
                return Poll::Ready(Some(
                    String::from_utf8(rest).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
                ));
            }
            if this.buffer.len() > MAX_LINE {
                return Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "line too long",
                ))));
            }
            let mut chunk = [0; 1024];
            // Pending here means "no bytes yet": the socket has registered our
            // waker, and we return Pending with it.
            match this.socket.poll_read(cx, &mut chunk) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Ok(0)) => this.eof = true,
                Poll::Ready(Ok(n)) => this.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

#[test]
fn a_socket_read_as_a_stream_of_lines() {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = weft::spawn(async move {
            let mut socket = TcpStream::connect(addr).await.unwrap();
            // Lines split and joined across writes, and a last one without `\n`.
            for piece in ["hel", "lo\nwor", "ld\n", "bye"] {
                socket.write_all(piece.as_bytes()).await.unwrap();
            }
        });
        let (socket, _) = listener.accept().await.unwrap();
        let mut lines = Lines::new(socket);
        let mut got = Vec::new();
        while let Some(line) = next(&mut lines).await {
            got.push(line.unwrap());
        }
        assert_eq!(got, ["hello", "world", "bye"]);
        client.await.unwrap();
    });
}
// ANCHOR_END: lines

// ANCHOR: length-delimited
/// The largest frame `read_frame` accepts.
const MAX_FRAME: u32 = 64 * 1024;

/// Writes one frame: its length as 4 big-endian bytes, then the bytes.
async fn write_frame(socket: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&len| len <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    socket.write_all(&len.to_be_bytes()).await?;
    socket.write_all(payload).await
}

/// Reads one frame, or `None` if the peer closed cleanly between frames.
async fn read_frame(socket: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0; 4];
    // The first byte tells a clean end (0 bytes) from a frame that started.
    if socket.read(&mut header[..1]).await? == 0 {
        return Ok(None);
    }
    socket.read_exact(&mut header[1..]).await?;
    let len = u32::from_be_bytes(header);
    if len > MAX_FRAME {
        // Never allocate what a peer asks for without a bound.
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too large"));
    }
    let mut payload = vec![0; len as usize];
    socket.read_exact(&mut payload).await?;
    Ok(Some(payload))
}

#[test]
fn frames_survive_being_split_and_joined_by_tcp() {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sender = weft::spawn(async move {
            let mut socket = TcpStream::connect(addr).await.unwrap();
            for payload in [&b"first"[..], b"", &[7; 10_000]] {
                write_frame(&mut socket, payload).await.unwrap();
            }
            // A header that claims 1 GiB: the reader must refuse it.
            socket.write_all(&(1u32 << 30).to_be_bytes()).await.unwrap();
        });
        let (mut socket, _) = listener.accept().await.unwrap();
        assert_eq!(read_frame(&mut socket).await.unwrap().unwrap(), b"first");
        assert_eq!(read_frame(&mut socket).await.unwrap().unwrap(), b"");
        assert_eq!(read_frame(&mut socket).await.unwrap().unwrap(), [7; 10_000]);
        let too_big = read_frame(&mut socket).await.unwrap_err();
        assert_eq!(too_big.kind(), io::ErrorKind::InvalidData);
        sender.await.unwrap();
    });
}
// ANCHOR_END: length-delimited
